"""Given: round 3 of 2015 as fixtures, event builders, and states folded from event lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain import ApplyForRound, RoundState, fold
from events import (
    AgencyAdmitted,
    AgencyApplied,
    ApplicationsClosed,
    ApplicationsOpened,
    Event,
    PairFormed,
    PlanDeadlinePassed,
    PlanSubmitted,
    RoundClosed,
    RoundScheduled,
    RoundStarted,
    SealedPersonalData,
)


def with_check_digit(first_nine: str) -> str:
    """NNNNNN-NNNN with its Luhn check digit, computed independently of `domain`."""
    doubled = [int(d) * (2 - i % 2) for i, d in enumerate(first_nine)]
    check = -sum(p // 10 + p % 10 for p in doubled) % 10
    return f"{first_nine[:6]}-{first_nine[6:]}{check}"


# Round 3 (2015): six agencies in three learning pairs (reference/agencies.csv).
SKATTEVERKET = "202100-5448"
KRIMINALVARDEN = "202100-0225"
FASTIGHETSMAKLARINSPEKTIONEN = "202100-4870"
UHR = "202100-6487"
KUSTBEVAKNINGEN = "202100-3997"
# Not in agencies.csv (unconfirmed publicly); the check digit is computed, not copied.
LANSSTYRELSEN_STOCKHOLM = with_check_digit("202100234")
ESV = "202100-5026"
ARBETSGIVARVERKET = "202100-3476"
# A seventh applicant for capacity tests; a made-up number with a valid check digit.
EXEMPELVERKET = with_check_digit("202100999")

NAMES = {
    SKATTEVERKET: "Skatteverket",
    KRIMINALVARDEN: "Kriminalvården",
    FASTIGHETSMAKLARINSPEKTIONEN: "Fastighetsmäklarinspektionen",
    UHR: "Universitets- och högskolerådet",
    KUSTBEVAKNINGEN: "Kustbevakningen",
    LANSSTYRELSEN_STOCKHOLM: "Länsstyrelsen i Stockholms län",
    ESV: "Ekonomistyrningsverket",
    ARBETSGIVARVERKET: "Arbetsgivarverket",
    EXEMPELVERKET: "Exempelverket",
}
ROUND_3 = (
    SKATTEVERKET,
    KRIMINALVARDEN,
    FASTIGHETSMAKLARINSPEKTIONEN,
    UHR,
    KUSTBEVAKNINGEN,
    LANSSTYRELSEN_STOCKHOLM,
)
VI_KANSLA, DIGITALISERING, ATTRAKTIV = "vi-känsla", "digitalisering", "attraktiv arbetsgivare"
THEMES = (VI_KANSLA, DIGITALISERING, ATTRAKTIV)
ROUND_3_PAIRS = (
    ((SKATTEVERKET, KRIMINALVARDEN), VI_KANSLA),
    ((FASTIGHETSMAKLARINSPEKTIONEN, UHR), DIGITALISERING),
    ((KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM), ATTRAKTIV),
)

ROUND_ID = "2015-3"
OPENS = datetime(2015, 1, 12, 8, tzinfo=UTC)
CLOSES = datetime(2015, 2, 13, 16, tzinfo=UTC)
STARTS = datetime(2015, 3, 2, 9, tzinfo=UTC)
PLAN_DUE = datetime(2015, 10, 30, 16, tzinfo=UTC)
ROUND_CLOSES = datetime(2015, 12, 4, 16, tzinfo=UTC)

# Instants in each phase, for `now`.
BEFORE_OPENING = datetime(2014, 12, 1, tzinfo=UTC)
DURING_APPLICATIONS = datetime(2015, 2, 2, 10, tzinfo=UTC)
DURING_SELECTION = datetime(2015, 2, 20, 10, tzinfo=UTC)
DURING_ROUND = datetime(2015, 6, 1, 10, tzinfo=UTC)
AFTER_PLAN_DUE = datetime(2015, 11, 5, 10, tzinfo=UTC)
AFTER_CLOSING = datetime(2015, 12, 10, tzinfo=UTC)

SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64
PLAN_URL = "https://example.org/plans/plan.pdf"


def sealed(n: int) -> SealedPersonalData:
    """A placeholder for subject n's personal data; tests never need the clear text."""
    return SealedPersonalData(subject_id=f"subj-{n:032x}", ciphertext="c2VhbGVkLXBlcnNvbg==")


def scheduled(**changes: Any) -> RoundScheduled:
    fields: dict[str, Any] = {
        "round_id": ROUND_ID,
        "number": 3,
        "title": "Omgång 3",
        "capacity": 6,
        "themes": THEMES,
        "application_opens_at": OPENS,
        "application_closes_at": CLOSES,
        "starts_at": STARTS,
        "plan_due_at": PLAN_DUE,
        "closes_at": ROUND_CLOSES,
    }
    return RoundScheduled(**(fields | changes))


def applied(org_number: str, delivery_id: str | None = None) -> AgencyApplied:
    return AgencyApplied(
        org_number=org_number,
        agency_name=NAMES.get(org_number, "Myndigheten"),
        director_general=sealed(1),
        contact=sealed(2),
        themes=(DIGITALISERING,),
        submitted_at=DURING_APPLICATIONS,
        source="typeform",
        delivery_id=delivery_id,
    )


def apply(org_number: str, **changes: Any) -> ApplyForRound:
    fields: dict[str, Any] = {
        "round_id": ROUND_ID,
        "org_number": org_number,
        "agency_name": NAMES.get(org_number, "Myndigheten"),
        "director_general": sealed(1),
        "contact": sealed(2),
        "themes": (DIGITALISERING,),
        "submitted_at": DURING_APPLICATIONS,
        "source": "typeform",
    }
    return ApplyForRound(**(fields | changes))


def given(*events: Event) -> RoundState:
    """The state of a round after `events` (which begin with RoundScheduled)."""
    state = fold(events)
    assert state is not None
    return state


# Streams up to each phase of round 3; spread them into `given(...)` and add what the test needs.


def open_round(**schedule: Any) -> tuple[Event, ...]:
    return (scheduled(**schedule), ApplicationsOpened(due_at=OPENS))


def in_selection(*applicants: str, **schedule: Any) -> tuple[Event, ...]:
    return (
        *open_round(**schedule),
        *(applied(org) for org in applicants),
        ApplicationsClosed(due_at=CLOSES, applications=len(applicants)),
    )


def with_admitted(*admitted: str, **schedule: Any) -> tuple[Event, ...]:
    """Selection under way with `admitted` applied and admitted, nobody paired yet."""
    return (
        *in_selection(*admitted, **schedule),
        *(AgencyAdmitted(org_number=org) for org in admitted),
    )


def round_3_paired() -> tuple[Event, ...]:
    """Round 3 as it was: six admitted agencies in three pairs, before the round starts."""
    return (
        *with_admitted(*ROUND_3),
        *(
            PairFormed(pair_id=f"pair-{n}", org_numbers=orgs, theme=theme)
            for n, (orgs, theme) in enumerate(ROUND_3_PAIRS, start=1)
        ),
    )


def round_3_running() -> tuple[Event, ...]:
    return (
        *round_3_paired(),
        RoundStarted(due_at=STARTS, admitted=tuple(sorted(ROUND_3)), unpaired=()),
    )


def plan_submitted(pair_id: str, sha256: str = SHA_A, late: bool = False) -> PlanSubmitted:
    return PlanSubmitted(
        pair_id=pair_id,
        title="Strategisk utvecklingsplan",
        document_url=PLAN_URL,
        document_sha256=sha256,
        submitted_at=DURING_ROUND,
        late=late,
    )


def deadline_passed(*pairs_without_plan: str) -> PlanDeadlinePassed:
    return PlanDeadlinePassed(due_at=PLAN_DUE, pairs_without_plan=pairs_without_plan)


def round_3_closed() -> tuple[Event, ...]:
    return (
        *round_3_running(),
        deadline_passed("pair-1", "pair-2", "pair-3"),
        RoundClosed(
            due_at=ROUND_CLOSES,
            admitted=6,
            pairs=3,
            plans_submitted=0,
            plans_late=0,
            presentations=0,
        ),
    )


def pair_formed(number: int, *org_numbers: str, theme: str = ATTRAKTIV) -> PairFormed:
    return PairFormed(pair_id=f"pair-{number}", org_numbers=org_numbers, theme=theme)
