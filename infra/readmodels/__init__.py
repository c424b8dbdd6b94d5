"""Read models: views of the event store for reporting, projected and rebuilt in generations."""

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.dynamodb import DynamoDBReadModelStore
from infra.readmodels.memory import InMemoryReadModelStore
from infra.readmodels.projector import (
    Outcome,
    ProjectionTarget,
    Projector,
    StreamGapError,
    ViewFailedError,
)
from infra.readmodels.store import (
    Checkpoint,
    CheckpointMovedError,
    Checkpoints,
    Commit,
    CommitTooLargeError,
    GenerationChangedError,
    Generations,
    ReadModelError,
    ReadModelStore,
    Target,
)
from infra.readmodels.view import Applied, View
from infra.readmodels.views import VIEWS

__all__ = [
    "VIEWS",
    "Applied",
    "Checkpoint",
    "CheckpointMovedError",
    "Checkpoints",
    "Commit",
    "CommitTooLargeError",
    "DocKey",
    "DynamoDBReadModelStore",
    "GenerationChangedError",
    "Generations",
    "InMemoryReadModelStore",
    "JsonObject",
    "Outcome",
    "ProjectionTarget",
    "Projector",
    "ReadModelError",
    "ReadModelStore",
    "StreamGapError",
    "Target",
    "View",
    "ViewFailedError",
]
