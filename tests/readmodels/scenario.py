"""What the read-model tests project: round 3 of 2015 as walked, a round 4 with every twist,
a refusal for a round that does not exist, and a person's erasure in their subject stream;
and a round of any number of agencies (`large_round`, which bench/projection_cost.py
projects too).

Built once on the in-memory store; `seed` appends the same events (envelopes included) to any
store, so the DynamoDB tests get them in a handful of writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import groupby

from events import (
    AgencyAdmitted,
    AgencyApplied,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationRefused,
    ApplicationsClosed,
    ApplicationsOpened,
    ApplicationWithdrawn,
    Event,
    EventMetadata,
    PairDissolved,
    PairFormed,
    ParticipantNominated,
    PersonalDataErased,
    PlanDeadlinePassed,
    PlanReminderIssued,
    PlanRevised,
    PlanSubmitted,
    PresentationRecorded,
    RoundClosed,
    RoundScheduled,
    RoundStarted,
    SealedPersonalData,
)
from infra.eventstore import EventStore, InMemoryEventStore, NewEvent, RecordedEvent
from infra.vault import InMemoryKeyring, PersonalDataVault, new_subject_id
from programme.round3 import data as r3
from programme.round3.story import walk_round_3

ROUND_3 = r3.ROUND_ID
ROUND_4 = "2016-4"
SKV, UHR, KBV, LST = "202100-5448", "202100-6487", "202100-3997", "202100-2312"
UNKNOWN_ROUND = "2099-1"
REFUSALS_STREAM = "intake-refusals"
PLAN_DUE_4 = datetime(2016, 10, 28, 17, tzinfo=UTC)
LATE_PLAN_AT = datetime(2016, 11, 2, 9, tzinfo=UTC)  # 4 days 16 hours late: 5 days
SHA = "c" * 64
_CIPHERTEXT = "c2VhbGVkLXBlcnNvbmFsLWRhdGEtb2YtYS1wZXJzb24tYXQtbGVhc3QtYS1mZXctd29yZHMtbG9uZw=="

# People of round 4, sealed before they reach an event; none may show in a read model.
PEOPLE_4 = {
    "dg_skv": {"name": "Katrin Westling Palm"},
    "contact_skv": {"name": "Åsa Kontaktsson", "email": "asa.kontaktsson@skatteverket.se"},
    "dg_uhr": {"name": "Karin Röding"},
    "contact_uhr": {"name": "Örjan Uhrsson", "email": "orjan@uhr.se"},
    "contact_kbv": {"name": "Lotta Kust", "email": "lotta@kustbevakningen.se"},
    "contact_lst": {"name": "Sven Länsson", "email": "sven@lansstyrelsen.se"},
    "member_skv": {"name": "Per Ledning"},
}


@dataclass(frozen=True)
class Scenario:
    events: tuple[RecordedEvent, ...]
    """Every event, stream by stream in the order appended."""
    personal: frozenset[str]
    """Every subject id, ciphertext and clear-text personal value behind the events."""

    def stream(self, stream_id: str) -> list[RecordedEvent]:
        return [r for r in self.events if r.stream_id == stream_id]

    def stream_ids(self) -> list[str]:
        return list(dict.fromkeys(r.stream_id for r in self.events))


@cache
def scenario() -> Scenario:
    store = InMemoryEventStore()
    walk_round_3(store)
    vault = PersonalDataVault(InMemoryKeyring())
    sealed = {role: vault.seal(new_subject_id(), data) for role, data in PEOPLE_4.items()}
    _append(store, f"round-{ROUND_4}", _round_4(sealed))
    _append(store, REFUSALS_STREAM, [_refusal()])
    erased = sealed["dg_skv"].subject_id
    _append(
        store,
        f"subject-{erased}",
        [PersonalDataErased(subject_id=erased, retention_decision="Gallringsbeslut 2017:1")],
    )
    streams = (f"round-{ROUND_3}", f"round-{ROUND_4}", REFUSALS_STREAM, f"subject-{erased}")
    events = tuple(recorded for s in streams for recorded in store.read(s))
    clear_text = {
        value
        for agency in (*r3.AGENCIES, r3.ORGANISER)
        for value in (agency.director_general, agency.contact_name, agency.contact_email)
    } | {value for person in PEOPLE_4.values() for value in person.values()}
    return Scenario(events, frozenset(_sealed_values(events) | clear_text))


def seed(store: EventStore, events: Iterable[RecordedEvent]) -> None:
    """Append recorded events to another store, at the same versions, envelopes and all."""
    for stream_id, group in groupby(events, key=lambda r: r.stream_id):
        batch = list(group)
        for chunk in _chunks(batch, 50):
            store.append(
                stream_id, chunk[0].version - 1, [NewEvent(r.event, r.metadata) for r in chunk]
            )


def _chunks(items: Sequence[RecordedEvent], size: int) -> Iterator[Sequence[RecordedEvent]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _append(store: EventStore, stream_id: str, events: Sequence[Event]) -> None:
    start = datetime(2016, 1, 4, 9, tzinfo=UTC)
    new = [
        NewEvent(
            event,
            EventMetadata(
                event_id=f"{stream_id}-{n}",
                occurred_at=start + timedelta(days=7 * n),
                recorded_at=start + timedelta(days=7 * n, seconds=1),
                correlation_id=f"corr-{stream_id}-{n}",
                causation_id=f"corr-{stream_id}-{n}",
                actor="staff:programme-office" if n % 2 else "scheduler",
            ),
        )
        for n, event in enumerate(events, start=store.last_version(stream_id) + 1)
    ]
    store.append(stream_id, store.last_version(stream_id), new)


def _round_4(sealed: dict[str, SealedPersonalData]) -> list[Event]:
    def applied(org: str, name: str, dg: str, contact: str) -> AgencyApplied:
        return AgencyApplied(
            org_number=org,
            agency_name=name,
            director_general=sealed[dg],
            contact=sealed[contact],
            themes=("digitalisering",),
            submitted_at=datetime(2016, 1, 20, tzinfo=UTC),
            source="forms",
            delivery_id=f"forms-{org}",
        )

    return [
        RoundScheduled(
            round_id=ROUND_4,
            number=4,
            title="Utvecklingsprogrammet, omgång 4",
            capacity=4,
            themes=("digitalisering", "delaktighet"),
            application_opens_at=datetime(2016, 1, 11, 9, tzinfo=UTC),
            application_closes_at=datetime(2016, 2, 12, 17, tzinfo=UTC),
            starts_at=datetime(2016, 3, 1, 9, tzinfo=UTC),
            plan_due_at=PLAN_DUE_4,
            closes_at=datetime(2016, 12, 9, 17, tzinfo=UTC),
        ),
        ApplicationsOpened(due_at=datetime(2016, 1, 11, 9, tzinfo=UTC)),
        applied(SKV, "Skatteverket", "dg_skv", "contact_skv"),
        applied(UHR, "Universitets- och högskolerådet", "dg_uhr", "contact_uhr"),
        applied(KBV, "Kustbevakningen", "dg_uhr", "contact_kbv"),
        applied(LST, "Länsstyrelsen i Stockholms län", "dg_uhr", "contact_lst"),
        ApplicationWithdrawn(org_number=KBV, reason="Omprioritering"),
        ApplicationsClosed(due_at=datetime(2016, 2, 12, 17, tzinfo=UTC), applications=3),
        AgencyAdmitted(org_number=SKV, case_number="ESV 2016/7"),
        AgencyAdmitted(org_number=UHR, case_number="ESV 2016/8"),
        AgencyWaitlisted(org_number=LST),
        ParticipantNominated(org_number=SKV, role="director_general", person=sealed["dg_skv"]),
        ParticipantNominated(org_number=SKV, role="leadership_member", person=sealed["member_skv"]),
        PairFormed(pair_id="pair-1", org_numbers=(SKV, UHR), theme="delaktighet"),
        PairDissolved(pair_id="pair-1", reason="Fel tema"),
        PairFormed(pair_id="pair-2", org_numbers=(SKV, UHR), theme="digitalisering"),
        RoundStarted(due_at=datetime(2016, 3, 1, 9, tzinfo=UTC), admitted=(SKV, UHR), unpaired=()),
        PlanReminderIssued(
            due_at=datetime(2016, 10, 14, tzinfo=UTC),
            plan_due_at=PLAN_DUE_4,
            pairs_without_plan=("pair-2",),
        ),
        PlanDeadlinePassed(due_at=PLAN_DUE_4, pairs_without_plan=("pair-2",)),
        PlanSubmitted(
            pair_id="pair-2",
            title="Digital delaktighet",
            document_url="https://programme.example.se/plans/2016-4/pair-2.pdf",
            document_sha256=SHA,
            submitted_at=LATE_PLAN_AT,
            late=True,
        ),
        PlanRevised(
            pair_id="pair-2",
            revision=2,
            title="Digital delaktighet, reviderad",
            document_url="https://programme.example.se/plans/2016-4/pair-2-r2.pdf",
            document_sha256="d" * 64,
            submitted_at=datetime(2016, 11, 20, tzinfo=UTC),
            late=True,
        ),
    ]


def _refusal() -> ApplicationRefused:
    return ApplicationRefused(
        org_number="202100-5449",
        agency_name="Myndigheten för digital förvaltning",
        requested_round_id=UNKNOWN_ROUND,
        rule="ensure_round_exists",
        reason=f"there is no round {UNKNOWN_ROUND!r}",
        source="forms",
        delivery_id="forms-unknown-round",
    )


LARGE_T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY = timedelta(days=1)
ROUND_EVENTS = 7
"""The round's own: scheduled, opened, closed to applications, started, the plan reminder
and deadline, closed."""
CAPACITY = 200
"""The most a round may admit (`RoundScheduled.capacity`): a larger round has more
applicants, not more participants."""
THEMES = ("digitalisering", "attraktiv arbetsgivare", "delaktighet")


def admitted_of(agencies: int) -> list[int]:
    """Which agencies are admitted: nine in ten, up to the capacity a round may have (200)."""
    admitted: list[int] = []
    for k in range(agencies):
        if k % 10 != 9 and len(admitted) < CAPACITY:
            admitted.append(k)
    return admitted


def event_count(agencies: int) -> int:
    """How many events `round_events` makes for `agencies` agencies."""
    pairs = len(admitted_of(agencies)) // 2
    revisions = len(range(1, pairs, 4))
    return ROUND_EVENTS + 2 * agencies + len(admitted_of(agencies)) + 3 * pairs + revisions


def agencies_for(events: int) -> int:
    """Agencies for a round of about `events` events (at least 4)."""
    agencies = 4
    while event_count(agencies + 1) <= events:
        agencies += 1
    return agencies


def large_round_events(round_id: str, agencies: int) -> Iterator[Event]:
    """One round's events in order, `agencies` agencies applying (nine in ten admitted, up to
    a capacity of 200, and paired; the others rejected or waitlisted); each pair's plan in,
    one in four late, one in four revised; each pair presents; from scheduling to closing."""
    orgs = [f"{202200 + k // 10_000:06d}-{k % 10_000:04d}" for k in range(agencies)]
    chosen = set(admitted_of(agencies))
    admitted = [org for k, org in enumerate(orgs) if k in chosen]
    pairs = [(f"pair-{p + 1}", admitted[2 * p : 2 * p + 2]) for p in range(len(admitted) // 2)]
    if len(admitted) % 2 and pairs:  # a trio takes the odd one
        pair_id, members = pairs[-1]
        pairs[-1] = (pair_id, [*members, admitted[-1]])
    plan_due = LARGE_T0 + 240 * DAY
    yield RoundScheduled(
        round_id=round_id,
        number=1,
        title="Utvecklingsprogrammet, omgång 1",
        capacity=CAPACITY,
        themes=THEMES,
        application_opens_at=LARGE_T0,
        application_closes_at=LARGE_T0 + 31 * DAY,
        starts_at=LARGE_T0 + 59 * DAY,
        plan_due_at=plan_due,
        closes_at=LARGE_T0 + 270 * DAY,
    )
    yield ApplicationsOpened(due_at=LARGE_T0)
    for k, org in enumerate(orgs):
        yield AgencyApplied(
            org_number=org,
            agency_name=f"Myndigheten för strategisk utveckling nr {k}",
            director_general=_sealed(k, 0),
            contact=_sealed(k, 1),
            themes=(THEMES[k % 3],),
            submitted_at=LARGE_T0 + timedelta(minutes=k),
            source="typeform",
            delivery_id=f"tf-{k}",
        )
    yield ApplicationsClosed(due_at=LARGE_T0 + 31 * DAY, applications=agencies)
    for k, org in enumerate(orgs):
        if k in chosen:
            yield AgencyAdmitted(org_number=org, case_number=f"ESV 2026/{k}")
        elif k % 20 in (9, 10, 11, 12):
            yield AgencyRejected(org_number=org, case_number=f"ESV 2026/{k}")
        else:
            yield AgencyWaitlisted(org_number=org, case_number=None)
    for k, org in enumerate(admitted):
        yield ParticipantNominated(org_number=org, role="director_general", person=_sealed(k, 2))
    for p, (pair_id, members) in enumerate(pairs):
        yield PairFormed(pair_id=pair_id, org_numbers=tuple(members), theme=THEMES[p % 3])
    yield RoundStarted(due_at=LARGE_T0 + 59 * DAY, admitted=tuple(admitted), unpaired=())
    yield PlanReminderIssued(
        due_at=plan_due - 14 * DAY, plan_due_at=plan_due, pairs_without_plan=()
    )
    on_time = [(p, pair) for p, pair in enumerate(pairs) if p % 4 != 3]
    late = [(p, pair) for p, pair in enumerate(pairs) if p % 4 == 3]
    for p, (pair_id, _) in on_time:
        yield _plan(round_id, pair_id, p, plan_due - DAY, late=False)
    yield PlanDeadlinePassed(due_at=plan_due, pairs_without_plan=tuple(i for _, (i, _) in late))
    for p, (pair_id, _) in late:
        yield _plan(round_id, pair_id, p, plan_due + 2 * DAY, late=True)
    for p, (pair_id, _) in enumerate(pairs):
        if p % 4 == 1:
            yield PlanRevised(
                pair_id=pair_id,
                revision=2,
                title="Strategisk utvecklingsplan, reviderad",
                document_url=f"https://programme.example.se/plans/{round_id}/{pair_id}-r2.pdf",
                document_sha256=f"{p + 1:064x}",
                submitted_at=plan_due + 10 * DAY,
                late=True,
            )
    for pair_id, _ in pairs:
        yield PresentationRecorded(pair_id=pair_id, held_at=LARGE_T0 + 265 * DAY)
    yield RoundClosed(
        due_at=LARGE_T0 + 270 * DAY,
        admitted=len(admitted),
        pairs=len(pairs),
        plans_submitted=len(pairs),
        plans_late=len(late),
        presentations=len(pairs),
    )


def _plan(round_id: str, pair_id: str, p: int, at: datetime, *, late: bool) -> PlanSubmitted:
    return PlanSubmitted(
        pair_id=pair_id,
        title="Strategisk utvecklingsplan",
        document_url=f"https://programme.example.se/plans/{round_id}/{pair_id}.pdf",
        document_sha256=f"{p:064x}",
        submitted_at=at,
        late=late,
    )


def _sealed(k: int, role: int) -> SealedPersonalData:
    return SealedPersonalData(subject_id=f"subj-{k:016x}{role:016x}", ciphertext=_CIPHERTEXT)


def large_round(round_id: str, agencies: int) -> list[RecordedEvent]:
    """`large_round_events` as the round's stream records them (versions 1..n)."""
    stream_id = f"round-{round_id}"
    events = [
        RecordedEvent(
            stream_id,
            version,
            event,
            EventMetadata(
                event_id=f"{stream_id}-{version}",
                occurred_at=LARGE_T0 + timedelta(minutes=version),
                recorded_at=LARGE_T0 + timedelta(minutes=version),
                correlation_id=f"corr-{version}",
                causation_id=f"corr-{version}",
                actor="scheduler" if version % 2 else "staff:programme-office",
            ),
        )
        for version, event in enumerate(large_round_events(round_id, agencies), start=1)
    ]
    assert len(events) == event_count(agencies), (len(events), event_count(agencies))
    return events


def _sealed_values(events: Iterable[RecordedEvent]) -> set[str]:
    found: set[str] = set()
    for recorded in events:
        for name in type(recorded.event).model_fields:
            value = getattr(recorded.event, name)
            if isinstance(value, SealedPersonalData):
                found |= {value.subject_id, value.ciphertext}
            elif name == "subject_id":
                found.add(value)
    return found
