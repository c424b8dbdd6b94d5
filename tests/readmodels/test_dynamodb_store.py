"""What only the DynamoDB store does: cache the active generation for readers, briefly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.readmodels import DynamoDBReadModelStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_readers_keep_the_active_generation_they_read_until_it_is_too_old(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a reader that looked up the active generation, and a rebuild's store
    clock = Clock()
    table = template_tables["ReadModelTable"]
    reader = DynamoDBReadModelStore(dynamodb_client, table, pointer_max_age=10, clock=clock)
    rebuild = DynamoDBReadModelStore(dynamodb_client, table)
    assert reader.active_generation("rounds") == 1
    # WHEN the rebuild switches readers to generation 2
    generation, _ = rebuild.start_generation("rounds")
    rebuild.switch_generation("rounds", generation)
    # THEN the reader keeps reading 1 while its lookup is fresh, and 2 once it is not
    clock.now += 9.9
    assert reader.active_generation("rounds") == 1
    clock.now += 0.1
    assert reader.active_generation("rounds") == 2
    # AND the store that switched reads the new generation at once
    assert rebuild.active_generation("rounds") == 2
