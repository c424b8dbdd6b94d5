"""A round's executions, named after the round and the schedule they follow: starts are idempotent.

An execution follows one *schedule* of its round: the round's dates as the event at that
stream version set them (`RoundScheduled` is version 1; each `RoundRescheduled` a later one).
Within a schedule, executions are numbered in *generations*: the next one is started when an
execution hands over (see `policy`) or failed (the reconciler). The name says all three:

    2015-3            schedule 1 (RoundScheduled), generation 1: the round's first execution
    2015-3.gen2       schedule 1, generation 2: after a hand-over, or a failure
    2015-3.v7         schedule 7 (the RoundRescheduled at version 7), generation 1
    2015-3.v7.gen2    ... and its next generation

A round id never holds a dot, so a name always tells its round. Each name is derived from
facts, never from a counter kept elsewhere: the starter names the execution for a
reschedule after the event's stream version, so the same stream record delivered twice, or
an execution and the starter both reacting to one reschedule, start it once
(`ExecutionAlreadyExists`, or Step Functions' idempotent start of a running execution with
the same name and input). Ordered by (schedule, generation), the highest name of a round is
its latest lineage, and the one after it is free.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

_NAME: Final = re.compile(
    r"^(?P<round_id>[a-z0-9][a-z0-9-]*)"
    r"(?:\.v(?P<schedule>[1-9][0-9]*))?"
    r"(?:\.gen(?P<generation>[1-9][0-9]*))?$"
)


@dataclass(frozen=True, slots=True, order=True)
class ExecutionName:
    round_id: str
    schedule_version: int = 1
    """The stream version of the round's event whose dates this execution follows."""
    generation: int = 1

    def __str__(self) -> str:
        name = self.round_id
        if self.schedule_version != 1:
            name += f".v{self.schedule_version}"
        if self.generation != 1:
            name += f".gen{self.generation}"
        return name

    @classmethod
    def parse(cls, name: str) -> ExecutionName | None:
        """The round, schedule and generation a name stands for; None for another shape."""
        found = _NAME.fullmatch(name)
        if found is None:
            return None
        parsed = cls(found["round_id"], int(found["schedule"] or 1), int(found["generation"] or 1))
        return parsed if str(parsed) == name else None  # `.v1`, `.gen1` are never names we give

    def next_generation(self) -> ExecutionName:
        """The execution that carries this one's schedule on after it."""
        return ExecutionName(self.round_id, self.schedule_version, self.generation + 1)


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution of the round-lifecycle state machine, as ListExecutions shows it."""

    name: ExecutionName
    arn: str
    status: str

    @property
    def running(self) -> bool:
        return self.status == "RUNNING"


def executions(
    client: SFNClient, state_machine_arn: str, round_id: str | None = None
) -> list[Execution]:
    """The state machine's executions named as above (of one round, if given), any status."""
    found: list[Execution] = []
    pages = client.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
    for page in pages:
        for item in page["executions"]:
            name = ExecutionName.parse(item["name"])
            if name is None or (round_id is not None and name.round_id != round_id):
                continue
            found.append(Execution(name, item["executionArn"], item["status"]))
    return found


def start_execution(client: SFNClient, state_machine_arn: str, name: ExecutionName) -> bool:
    """Start the execution of that name; False if it already exists."""
    execution_input = {
        "round_id": name.round_id,
        "schedule_version": name.schedule_version,
        "generation": name.generation,
    }
    try:
        client.start_execution(
            stateMachineArn=state_machine_arn,
            name=str(name),
            input=json.dumps(execution_input, separators=(",", ":")),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return False
        raise
    return True


def stop_execution(client: SFNClient, execution: Execution, cause: str) -> None:
    """Stop a running execution (ABORTED, no alarm); one that ended meanwhile is left as it is."""
    try:
        client.stop_execution(
            executionArn=execution.arn, error="ScheduleChanged", cause=cause[:32_768]
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
            raise
