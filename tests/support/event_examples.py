"""One example of every event type, for round-trip and contract tests."""

from __future__ import annotations

from datetime import UTC, datetime

from events import (
    EVENT_TYPES,
    AgencyAdmitted,
    AgencyApplied,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationRefused,
    ApplicationsClosed,
    ApplicationsOpened,
    ApplicationWithdrawn,
    DeliveryHeld,
    Event,
    FormMapped,
    HeldDeliveryTakenUp,
    PairDissolved,
    PairFormed,
    ParticipantNominated,
    PersonalDataErased,
    PlanDeadlinePassed,
    PlanReminderIssued,
    PlanRevised,
    PlanSubmitted,
    PresentationRecorded,
    RoundCancelled,
    RoundClosed,
    RoundRescheduled,
    RoundScheduled,
    RoundStarted,
    SealedDelivery,
    SealedPersonalData,
)

AT = datetime(2015, 3, 2, 9, 0, tzinfo=UTC)
SKV, KV = "202100-5448", "202100-0225"
SHA = "a" * 64


def sealed(n: int) -> SealedPersonalData:
    """A placeholder ciphertext for subject n (tests never need the clear text here)."""
    return SealedPersonalData(
        subject_id=f"subj-{n:032x}", ciphertext="c2VhbGVkLXBlcnNvbmFsLWRhdGE="
    )


_ALL: tuple[Event, ...] = (
    RoundScheduled(
        round_id="2015-3",
        number=3,
        title="Omgång 3",
        capacity=12,
        themes=("digitalisering", "attraktiv arbetsgivare"),
        application_opens_at=datetime(2015, 1, 12, tzinfo=UTC),
        application_closes_at=datetime(2015, 2, 13, tzinfo=UTC),
        starts_at=datetime(2015, 3, 2, tzinfo=UTC),
        plan_due_at=datetime(2015, 10, 30, tzinfo=UTC),
        closes_at=datetime(2015, 12, 4, tzinfo=UTC),
    ),
    RoundRescheduled(
        application_opens_at=datetime(2015, 1, 12, tzinfo=UTC),
        application_closes_at=datetime(2015, 2, 20, tzinfo=UTC),
        starts_at=datetime(2015, 3, 9, tzinfo=UTC),
        plan_due_at=datetime(2015, 10, 30, tzinfo=UTC),
        closes_at=datetime(2015, 12, 4, tzinfo=UTC),
    ),
    RoundCancelled(reason="Too few applicants"),
    ApplicationsOpened(due_at=AT),
    AgencyApplied(
        org_number=SKV,
        agency_name="Skatteverket",
        director_general=sealed(1),
        contact=sealed(2),
        themes=("digitalisering",),
        preferred_partner=KV,
        motivation=sealed(2),
        submitted_at=AT,
        source="typeform",
        delivery_id="tf-0001",
    ),
    ApplicationRefused(
        org_number="202100-5449",
        agency_name="Felaktig myndighet",
        rule="ensure_valid_org_number",
        reason="the check digit does not match",
        source="forms",
        delivery_id="msg-0002",
    ),
    ApplicationWithdrawn(org_number=SKV, reason="Reorganisation"),
    ApplicationsClosed(due_at=AT, applications=6),
    AgencyAdmitted(org_number=SKV, case_number="ESV 2015/123"),
    AgencyRejected(org_number=KV),
    AgencyWaitlisted(org_number=KV, case_number="ESV 2015/124"),
    ParticipantNominated(org_number=SKV, role="leadership_member", person=sealed(3)),
    PairFormed(pair_id="pair-1", org_numbers=(SKV, KV), theme="digitalisering"),
    PairDissolved(pair_id="pair-1", reason="Agency merged"),
    RoundStarted(due_at=AT, admitted=(SKV, KV), unpaired=()),
    PlanSubmitted(
        pair_id="pair-1",
        title="Vi-känsla i styrningen",
        document_url="https://example.se/plan.pdf",
        document_sha256=SHA,
        submitted_at=AT,
        late=False,
    ),
    PlanRevised(
        pair_id="pair-1",
        revision=2,
        title="Vi-känsla i styrningen, rev.",
        document_url="https://example.se/plan-2.pdf",
        document_sha256="b" * 64,
        submitted_at=AT,
        late=True,
    ),
    PlanReminderIssued(due_at=AT, plan_due_at=AT, pairs_without_plan=("pair-2",)),
    PlanDeadlinePassed(due_at=AT, pairs_without_plan=()),
    PresentationRecorded(pair_id="pair-1", held_at=AT),
    RoundClosed(
        due_at=AT,
        admitted=6,
        pairs=3,
        plans_submitted=3,
        plans_late=1,
        presentations=3,
        themes=("digitalisering",),
    ),
    PersonalDataErased(
        subject_id=sealed(1).subject_id, retention_decision="Gallringsbeslut 2016:4"
    ),
    FormMapped(
        provider="typeform",
        form_id="lT4Z3j",
        fields={"org_number": "ecbb3121-7bd7-4a57-9a1c-2b1c0d9e4f11", "round_id": "omgang"},
    ),
    DeliveryHeld(
        provider="typeform",
        form_id="lT4Z3j",
        delivery_id="01HZX3K9T2HELD0000000001",
        received_at=AT,
        missing=("org_number",),
        reason="the answers could not be read as an application (org_number)",
        delivery=SealedDelivery(subject_id=sealed(9).subject_id, ciphertext="c2VhbGVkLWRlbGl2ZXJ5"),
    ),
    HeldDeliveryTakenUp(
        form_id="lT4Z3j",
        delivery_id="01HZX3K9T2HELD0000000001",
        outcome="recorded",
        round_id="2015-3",
    ),
)

EXAMPLES: dict[str, Event] = {event.type: event for event in _ALL}

if set(EXAMPLES) != set(EVENT_TYPES):  # a new event type must get an example here
    raise RuntimeError(f"missing examples: {sorted(set(EVENT_TYPES) - set(EXAMPLES))}")
