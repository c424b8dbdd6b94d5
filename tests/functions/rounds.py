"""A round to act on: scheduled in the shared event store, moved through its lifecycle by a
clock the test controls (the routes themselves run on the wall clock).

The dates lie around the real present, so what the routes check against the wall clock
(applications open until `application_closes_at`, a presentation is in the past, a plan is
on time) holds, while the scheduled transitions fire when the test says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import (
    ApplyForRound,
    CloseApplications,
    CloseRound,
    Command,
    DecideApplication,
    FormPair,
    IssuePlanReminder,
    OpenApplications,
    PassPlanDeadline,
    RoundState,
    ScheduleRound,
    StartRound,
    decide,
    evolve,
)
from domain.streams import form_stream_id, round_stream_id
from events import Event, PairFormed
from functions.common import bootstrap
from infra.command_handler import CommandHandler
from infra.eventstore import (
    ConcurrencyError,
    EventStore,
    LoadedStream,
    NewEvent,
    RecordedEvent,
    Snapshot,
)
from programme.stack.clock import ManualClock
from tests.domain.given import DIGITALISERING, KRIMINALVARDEN, NAMES, SKATTEVERKET, THEMES, sealed

ROUND_ID = "2026-1"


class Rounds:
    def __init__(self) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        self.dates = {
            "application_opens_at": now - timedelta(hours=1),
            "application_closes_at": now + timedelta(days=7),
            "starts_at": now + timedelta(days=14),
            "plan_due_at": now + timedelta(days=60),
            "closes_at": now + timedelta(days=90),
        }
        self.clock = ManualClock(now)
        self.handler: CommandHandler[Command, RoundState] = CommandHandler(
            bootstrap.event_store(), decide, evolve, self.clock, lambda: str(uuid.uuid4())
        )

    def schedule(self, round_id: str = ROUND_ID, **changes: Any) -> None:
        fields: dict[str, Any] = {
            "round_id": round_id,
            "number": 1,
            "title": "Omgång 2026",
            "capacity": 12,
            "themes": THEMES,
            **self.dates,
            **changes,
        }
        self.run(ScheduleRound(**fields), round_id)

    def open(self, round_id: str = ROUND_ID) -> None:
        """Scheduled and open for applications until a week from now."""
        self.schedule(round_id)
        self.open_applications(round_id)

    def open_applications(self, round_id: str = ROUND_ID) -> None:
        self._fire(OpenApplications(round_id), "application_opens_at")

    def apply(self, *org_numbers: str, round_id: str = ROUND_ID) -> None:
        for org_number in org_numbers:
            application = ApplyForRound(
                round_id=round_id,
                org_number=org_number,
                agency_name=NAMES[org_number],
                director_general=sealed(1),
                contact=sealed(2),
                themes=(DIGITALISERING,),
                submitted_at=self.clock(),
                source="forms",
            )
            self.run(application, round_id)

    def admit(self, *org_numbers: str, round_id: str = ROUND_ID) -> None:
        for org_number in org_numbers:
            self.run(DecideApplication(round_id, org_number, "admit"), round_id)

    def running_with_a_pair(self, round_id: str = ROUND_ID) -> str:
        """Skatteverket and Kriminalvården admitted and paired, the round started: the pair id."""
        self.open(round_id)
        self.apply(SKATTEVERKET, KRIMINALVARDEN, round_id=round_id)
        self.close_applications(round_id)
        self.admit(SKATTEVERKET, KRIMINALVARDEN, round_id=round_id)
        self.run(FormPair(round_id, (SKATTEVERKET, KRIMINALVARDEN), DIGITALISERING), round_id)
        self.start(round_id)
        (pair_id,) = (e.pair_id for e in self.events(round_id) if isinstance(e, PairFormed))
        return pair_id

    def close_applications(self, round_id: str = ROUND_ID) -> None:
        self._fire(CloseApplications(round_id), "application_closes_at")

    def start(self, round_id: str = ROUND_ID) -> None:
        self._fire(StartRound(round_id), "starts_at")

    def finish(self, round_id: str = ROUND_ID) -> None:
        """Remind, pass the plan deadline and close the round, each at its time."""
        self._fire(IssuePlanReminder(round_id), "plan_due_at", timedelta(days=-14))
        self._fire(PassPlanDeadline(round_id), "plan_due_at")
        self._fire(CloseRound(round_id), "closes_at")

    def run(self, command: Command, round_id: str = ROUND_ID) -> None:
        self.handler.handle(
            command, stream_id=round_stream_id(round_id), actor="test", correlation_id="test"
        )

    def events(self, round_id: str = ROUND_ID) -> list[Event]:
        return [r.event for r in bootstrap.event_store().read(round_stream_id(round_id))]

    def _fire(self, command: Command, date: str, offset: timedelta = timedelta()) -> None:
        self.clock.advance_to(max(self.clock(), self.dates[date] + offset))
        round_id: str = command.round_id
        before = len(self.events(round_id))
        self.run(command, round_id)
        assert len(self.events(round_id)) == before + 1, f"{type(command).__name__} did not fire"


class LosingEveryRace:
    """An event store where another writer always appends first."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.appends = 0

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        self.appends += 1
        raise ConcurrencyError(stream_id, expected_version)

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        return self._store.load(stream_id, snapshot_format)

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        return self._store.read(stream_id, after_version)

    def last_version(self, stream_id: str) -> int:
        return self._store.last_version(stream_id)


def always_losing_handler() -> tuple[CommandHandler[Command, RoundState], LosingEveryRace]:
    store = LosingEveryRace(bootstrap.event_store())
    handler: CommandHandler[Command, RoundState] = CommandHandler(
        store, decide, evolve, ManualClock(datetime.now(UTC)), lambda: str(uuid.uuid4())
    )
    return handler, store


def form_events(form_id: str, provider: str = "typeform") -> list[Event]:
    """Every event on a form's stream (its mapping, its held deliveries)."""
    return [r.event for r in bootstrap.event_store().read(form_stream_id(provider, form_id))]
