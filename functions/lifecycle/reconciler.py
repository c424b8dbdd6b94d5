"""The daily reconciler: every round that is neither closed nor cancelled has a running execution.

Rounds come from the `rounds` read model's summary partition: one Query, where listing them
from the event store would mean scanning every event. A round the projector has not reached
yet is missed for a day, but its start came from the stream already; a round the read model
still shows open though it just finished gets an execution that reads the round and succeeds
at once. Executions come from one ListExecutions: a round with none running gets the next
generation of the latest schedule it had an execution for (the highest name, see
`executions`), so a failed or timed-out execution is picked up again (after its alarm) and a
second reconciler run the same day finds it started. Should the round have been rescheduled
since, that execution hands the round to the new schedule's on its first loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common import bootstrap
from functions.common.settings import settings
from functions.lifecycle.executions import ExecutionName, executions, start_execution

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger()
metrics = Metrics()

FINISHED = frozenset({"closed", "cancelled"})


class ReconciliationError(Exception):
    """Some rounds could not be given an execution; the others were (the run is retried)."""


@dataclass(slots=True)
class Executions:
    """Per round: whether an execution runs, and the highest name ever started."""

    running: set[str] = field(default_factory=set)
    latest: dict[str, ExecutionName] = field(default_factory=dict)

    @classmethod
    def of(cls, client: SFNClient, state_machine_arn: str) -> Executions:
        found = cls()
        for execution in executions(client, state_machine_arn):
            name = execution.name
            if name.round_id not in found.latest or name > found.latest[name.round_id]:
                found.latest[name.round_id] = name
            if execution.running:
                found.running.add(name.round_id)
        return found

    def missing(self, live_rounds: Iterable[str]) -> list[ExecutionName]:
        """The executions to start: the next after the latest, for each live round none runs for."""
        return [
            latest.next_generation()
            if (latest := self.latest.get(round_id))
            else ExecutionName(round_id)
            for round_id in live_rounds
            if round_id not in self.running
        ]


def live_rounds() -> list[str]:
    """Rounds the read model shows neither closed nor cancelled."""
    from infra.readmodels.reader import ReadModels

    summaries = ReadModels(bootstrap.read_models()).rounds()
    return [str(s["round_id"]) for s in summaries if s.get("state") not in FINISHED]


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    client = bootstrap.stepfunctions_client()
    state_machine_arn = settings().require("state_machine_arn")
    rounds = live_rounds()
    started: list[str] = []
    failed: list[str] = []
    for name in Executions.of(client, state_machine_arn).missing(rounds):
        try:
            if start_execution(client, state_machine_arn, name):
                started.append(str(name))
        except Exception:
            logger.exception("could not start an execution", extra={"execution": str(name)})
            failed.append(str(name))
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=len(started))
    logger.info("reconciled", extra={"live": len(rounds), "started": started, "failed": failed})
    if failed:
        raise ReconciliationError(f"could not start {', '.join(failed)}")
    return {"live": len(rounds), "started": started}
