"""The round lifecycle under moto: the real ASL, its tasks in process, and a clock to move.

Time is program time on a `LocalClock`: a waiting execution re-reads the round about once a
second, so after the clock moves, `until` waits (in real time, briefly) for the state
machine to catch up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from domain import Command, RoundState, fold
from domain.streams import round_stream_id
from events import Event, EventMetadata
from functions.common import bootstrap
from functions.lifecycle.executions import ExecutionName, start_execution
from infra.eventstore import RecordedEvent
from infra.vault import InMemoryKeyring, PersonalDataVault
from programme.round3 import data as r3
from programme.round3.story import RoundDriver
from programme.stack.clock import LocalClock, ManualClock
from programme.stack.lambdas import LocalLambdas

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

E = TypeVar("E", bound=Event)

SETTLE_SECONDS = 15.0
"""Generous: a step takes about one poll (a second); the bound only stops a hung test."""


def until(check: Callable[[], bool], what: str, timeout: float = SETTLE_SECONDS) -> None:
    """Wait (in real time) until `check()` holds; fail naming `what` if it never does."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def round_driver(clock: ManualClock) -> RoundDriver:
    """Staff and forms acting on round 3 of 2015, on this clock and the functions' store."""
    return RoundDriver(bootstrap.event_store(), clock, PersonalDataVault(InMemoryKeyring()))


def run(command: Command, round_id: str, actor: str = "staff:programme-office") -> None:
    """A staff command to any round, through the functions' command handler and clock."""
    bootstrap.command_handler().handle(
        command, stream_id=round_stream_id(round_id), actor=actor, correlation_id="test"
    )


def recorded(round_id: str = r3.ROUND_ID) -> list[RecordedEvent]:
    return list(bootstrap.event_store().read(round_stream_id(round_id)))


def the(kind: type[E], round_id: str = r3.ROUND_ID) -> tuple[E, EventMetadata]:
    """The round's one event of this kind, with its envelope (none, or several, fail)."""
    found = [(r.event, r.metadata) for r in recorded(round_id) if isinstance(r.event, kind)]
    assert len(found) == 1, f"{len(found)} {kind.__name__} events, not one"
    return found[0]


def round_state(round_id: str = r3.ROUND_ID) -> RoundState:
    state = fold(r.event for r in recorded(round_id))
    assert state is not None, f"round {round_id} has no events"
    return state


@dataclass
class Lifecycle:
    client: SFNClient
    state_machine_arn: str
    clock: LocalClock
    lambdas: LocalLambdas

    def driver(self) -> RoundDriver:
        return round_driver(self.clock)

    def start(self, round_id: str = r3.ROUND_ID, schedule_version: int = 1) -> str:
        """Start the round's execution for that schedule, as the starter would."""
        name = ExecutionName(round_id, schedule_version)
        start_execution(self.client, self.state_machine_arn, name)
        return str(name)

    def execution_arn(self, name: str) -> str:
        machine = self.state_machine_arn.replace(":stateMachine:", ":execution:")
        return f"{machine}:{name}"

    def status(self, name: str = r3.ROUND_ID) -> str:
        return self.client.describe_execution(executionArn=self.execution_arn(name))["status"]

    def executions(self) -> dict[str, str]:
        """Status by execution name."""
        listed = self.client.list_executions(stateMachineArn=self.state_machine_arn)
        return {item["name"]: item["status"] for item in listed["executions"]}

    def history(self, name: str = r3.ROUND_ID) -> list[HistoryEventTypeDef]:
        arn = self.execution_arn(name)
        pages = self.client.get_paginator("get_execution_history").paginate(executionArn=arn)
        return [event for page in pages for event in page["events"]]

    def entered_states(self, name: str = r3.ROUND_ID) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(name)
            if event["type"].endswith("StateEntered")
        ]

    def state(self, round_id: str = r3.ROUND_ID) -> RoundState:
        return round_state(round_id)

    def recorded(self, round_id: str = r3.ROUND_ID) -> list[RecordedEvent]:
        return recorded(round_id)

    def event_types(self, round_id: str = r3.ROUND_ID) -> list[str]:
        return [r.event.type for r in recorded(round_id)]

    def advance_to(self, instant: datetime) -> None:
        self.clock.advance_to(max(instant, self.clock()))

    def finished(self, name: str = r3.ROUND_ID) -> bool:
        return self.status(name) != "RUNNING"

    def all_finished(self) -> bool:
        """Some execution ran, and none runs now (a hand-over in flight counts as running)."""
        statuses = self.executions().values()
        return bool(statuses) and all(status != "RUNNING" for status in statuses)

    def stop(self, name: str) -> None:
        # moto cannot stop an execution whose thread has not begun yet
        until(lambda: bool(self.history(name)), f"{name} began")
        self.client.stop_execution(executionArn=self.execution_arn(name))

    def stop_all(self) -> None:
        """Stop every running execution and let a task in flight finish (teardown).

        Looks again after each round of stopping: a hand-over in flight may have started
        the next generation meanwhile, and no execution may outlive its test.
        """
        stopped: set[str] = set()
        while True:
            running = {name for name, status in self.executions().items() if status == "RUNNING"}
            if not running - stopped:
                return
            for name in running - stopped:
                self.stop(name)
            stopped |= running
            self.lambdas.wait_idle()
            time.sleep(0.1)
