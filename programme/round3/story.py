"""Round 3 of 2015 walked end to end through the command handler, on any event store.

The specification of the demo's story, without HTTP or a state machine: every step is a real
command through `CommandHandler`, and the scheduled transitions fire when a manual clock
reaches the time `next_transition` names, as the state machine fires them. The lifecycle and
read-model tests build on `RoundDriver` and `walk_round_3`; `programme demo` tells the same
story through the local stack's HTTP API (`programme.round3.loader`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import (
    TRANSITION_COMMANDS,
    ApplyForRound,
    Command,
    DecideApplication,
    DomainError,
    FormPair,
    NominateParticipant,
    RecordPresentation,
    RefuseApplication,
    RoundState,
    SubmitPlan,
    decide,
    evolve,
    fold,
    next_transition,
)
from domain.streams import round_stream_id
from infra.command_handler import CommandHandler, HandleResult
from infra.eventstore import EventStore, RecordedEvent
from infra.vault import InMemoryKeyring, PersonalDataVault, new_subject_id
from programme.round3 import data as r3
from programme.stack.clock import ManualClock


@dataclass(frozen=True, slots=True)
class DemoResult:
    state: RoundState
    history: tuple[RecordedEvent, ...]


class RoundDriver:
    """Issues commands to one round as staff, forms and the scheduler would."""

    def __init__(self, store: EventStore, clock: ManualClock, vault: PersonalDataVault) -> None:
        self.store = store
        self.clock = clock
        self.vault = vault
        self.handler: CommandHandler[Command, RoundState] = CommandHandler(
            store, decide, evolve, clock, lambda: str(uuid.uuid4())
        )
        self.stream_id = round_stream_id(r3.ROUND_ID)

    def run(self, command: Command, actor: str) -> HandleResult:
        return self.handler.handle(
            command, stream_id=self.stream_id, actor=actor, correlation_id=str(uuid.uuid4())
        )

    def state(self) -> RoundState:
        state = fold(recorded.event for recorded in self.store.read(self.stream_id))
        if state is None:
            raise LookupError(f"round {r3.ROUND_ID} has no events")
        return state

    def fire_due_transitions(self, until: datetime) -> None:
        """Fire each scheduled transition that falls due up to `until`, at its due time."""
        while (due := next_transition(self.state())) is not None and due[1] <= until:
            name, at = due
            self.clock.advance_to(max(at, self.clock()))
            self.run(TRANSITION_COMMANDS[name](r3.ROUND_ID), actor="scheduler")

    def apply(self, agency: r3.Agency, at: datetime) -> None:
        """An application from the Typeform form; a rule's refusal is itself recorded."""
        self.clock.advance_to(at)
        delivery_id = f"tf-{agency.org_number}"
        command = ApplyForRound(
            round_id=r3.ROUND_ID,
            org_number=agency.org_number,
            agency_name=agency.name,
            director_general=self.vault.seal(new_subject_id(), {"name": agency.director_general}),
            contact=self.vault.seal(
                new_subject_id(), {"name": agency.contact_name, "email": agency.contact_email}
            ),
            themes=tuple(theme for members, theme in r3.PAIRS if agency.org_number in members)
            or r3.THEMES[:1],
            submitted_at=at,
            source="typeform",
            delivery_id=delivery_id,
        )
        try:
            self.run(command, actor="webhook:typeform")
        except DomainError as refusal:
            self.run(
                RefuseApplication(
                    round_id=r3.ROUND_ID,
                    org_number=agency.org_number,
                    agency_name=agency.name,
                    rule=refusal.rule,
                    reason=str(refusal),
                    source="typeform",
                    delivery_id=delivery_id,
                ),
                actor="webhook:typeform",
            )


def walk_round_3(store: EventStore) -> DemoResult:
    """Drive round 3 of 2015 from scheduling to `closed`; returns its state and history."""
    clock = ManualClock(r3.SCHEDULED_ON)
    driver = RoundDriver(store, clock, PersonalDataVault(InMemoryKeyring()))
    staff = "staff:programme-office"
    driver.run(
        r3.schedule_command(),
        actor=staff,
    )
    driver.fire_due_transitions(until=r3.APPLICATION_OPENS_AT)
    for day, agency in enumerate((*r3.AGENCIES, r3.ORGANISER), start=3):
        driver.apply(agency, r3.APPLICATION_OPENS_AT + timedelta(days=day))
    driver.fire_due_transitions(until=r3.APPLICATION_CLOSES_AT)

    clock.advance(timedelta(days=7))
    for case, agency in enumerate(r3.AGENCIES, start=101):
        driver.run(
            DecideApplication(
                round_id=r3.ROUND_ID,
                org_number=agency.org_number,
                decision="admit",
                case_number=f"ESV 2014/{case}",
            ),
            actor=staff,
        )
        driver.run(
            NominateParticipant(
                round_id=r3.ROUND_ID,
                org_number=agency.org_number,
                role="director_general",
                person=driver.vault.seal(new_subject_id(), {"name": agency.director_general}),
            ),
            actor=staff,
        )
    for members, theme in r3.PAIRS:
        driver.run(FormPair(round_id=r3.ROUND_ID, org_numbers=members, theme=theme), actor=staff)
    driver.fire_due_transitions(until=r3.PLAN_DUE_AT - timedelta(days=3))

    pair_ids = sorted(driver.state().pairs)
    for offset, pair_id in enumerate(pair_ids):
        clock.advance(timedelta(days=1))
        theme = driver.state().pairs[pair_id].theme
        title = r3.PLAN_TITLES[theme]
        driver.run(
            SubmitPlan(
                round_id=r3.ROUND_ID,
                pair_id=pair_id,
                title=title,
                document_url=f"https://programme.example.se/plans/2015-3/{pair_id}.pdf",
                document_sha256=hashlib.sha256(f"{title}:{offset}".encode()).hexdigest(),
            ),
            actor=f"webhook:forms:{pair_id}",
        )
    driver.fire_due_transitions(until=r3.PLAN_DUE_AT)

    for offset, pair_id in enumerate(pair_ids):
        held_at = r3.CLOSES_AT - timedelta(days=7, hours=-offset)
        clock.advance_to(held_at + timedelta(hours=2))
        driver.run(
            RecordPresentation(round_id=r3.ROUND_ID, pair_id=pair_id, held_at=held_at),
            actor=staff,
        )
    driver.fire_due_transitions(until=r3.CLOSES_AT)
    return DemoResult(driver.state(), tuple(store.read(driver.stream_id)))
