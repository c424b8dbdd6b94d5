"""The rules of a round, one named guard each; a guard returns quietly or raises its error.

`decide` calls these before it records anything; `evolve` never does (see `domain.state`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import pairwise
from types import MappingProxyType
from typing import Final

from domain.errors import (
    AgencyAlreadyPairedError,
    AgencyInActivePairError,
    AgencyNotAdmittedError,
    ApplicationNotFoundError,
    ApplicationNotLiveError,
    ApplicationWindowClosedError,
    ApplicationWithdrawnError,
    CapacityExceededError,
    DateAlreadyPassedError,
    DatesNotIncreasingError,
    DeliveryNotHeldError,
    DirectorGeneralAlreadyNominatedError,
    DuplicateApplicationError,
    FieldRefsNotDistinctError,
    InvalidAgencyNameError,
    InvalidCapacityError,
    NoThemesError,
    OrganiserCannotApplyError,
    PairDissolvedError,
    PairHasPlanError,
    PairMembersNotDistinctError,
    PairNotFoundError,
    PairSizeError,
    PersonalDataInFreeTextError,
    PlanNotSubmittedError,
    PreferredPartnerIsApplicantError,
    PresentationInFutureError,
    RoundAlreadyScheduledError,
    RoundCancelledError,
    RoundClosedError,
    RoundNotFoundError,
    RoundNotRunningError,
    SelectionNotStartedError,
    TrioNeedsOddCountError,
    TrioNotAllowedError,
    UnknownThemeError,
)
from domain.names import clean_name
from domain.org_number import could_be_personal_identity_number, normalise_org_number
from domain.state import (
    DATE_FIELDS,
    LIFECYCLE,
    LIVE_APPLICATION,
    Application,
    Dates,
    Pair,
    RoundState,
    RoundStatus,
)
from events import FormField

ORGANISERS: Final[Mapping[str, str]] = MappingProxyType(
    {"202100-5026": "Ekonomistyrningsverket", "202100-3476": "Arbetsgivarverket"}
)
"""The agencies that run the programme, by organisation number; they cannot take part."""

MIN_CAPACITY, MAX_CAPACITY = 2, 200

# The status from which each date's transition has happened (plan_due_at: the deadline flag).
_FROZEN_FROM: Final[Mapping[str, RoundStatus]] = MappingProxyType(
    {
        "application_opens_at": "open",
        "application_closes_at": "selection",
        "starts_at": "running",
        "closes_at": "closed",
    }
)


# The round and its schedule


def ensure_round_exists(state: RoundState | None, round_id: str) -> RoundState:
    if state is None or state.round_id != round_id:
        raise RoundNotFoundError(f"round {round_id!r} does not exist")
    return state


def ensure_round_is_new(state: RoundState | None) -> None:
    if state is not None:
        raise RoundAlreadyScheduledError(f"round {state.round_id!r} is already scheduled")


def ensure_dates_increasing(dates: Dates) -> None:
    named = zip(DATE_FIELDS, dates.in_order(), strict=True)
    for (before, earlier), (after, later) in pairwise(named):
        if not earlier < later:
            raise DatesNotIncreasingError(f"{after} must be later than {before}")


def ensure_capacity_in_range(capacity: int) -> None:
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise InvalidCapacityError(
            f"a round admits between {MIN_CAPACITY} and {MAX_CAPACITY} agencies, not {capacity}"
        )


def ensure_themes_given(themes: Iterable[str]) -> tuple[str, ...]:
    """The themes stripped and without repeats, in the order given; at least one."""
    unique = tuple(dict.fromkeys(t.strip() for t in themes if t.strip()))
    if not unique:
        raise NoThemesError("at least one theme is needed")
    return unique


def ensure_known_themes(state: RoundState, themes: Iterable[str]) -> tuple[str, ...]:
    """The themes in the round's own spelling; forms may differ in case and spacing."""
    spelling = {t.strip().casefold(): t for t in state.themes}
    known = []
    for theme in themes:
        canonical = spelling.get(theme.strip().casefold())
        if canonical is None:
            # Not echoed: free-text answers may hold anything, personal data included.
            raise UnknownThemeError(
                f"a theme given is not among this round's themes ({', '.join(state.themes)})"
            )
        known.append(canonical)
    return tuple(dict.fromkeys(known))


def ensure_date_still_movable(state: RoundState, date_field: str) -> None:
    if date_field == "plan_due_at":
        happened = state.deadline_passed
    else:
        happened = LIFECYCLE.index(state.status) >= LIFECYCLE.index(_FROZEN_FROM[date_field])
    if happened:
        raise DateAlreadyPassedError(
            f"{date_field} of round {state.round_id!r} cannot move: its transition has happened"
        )


def ensure_round_not_cancelled(state: RoundState) -> None:
    if state.status == "cancelled":
        raise RoundCancelledError(f"round {state.round_id!r} was cancelled")


def ensure_round_not_closed(state: RoundState) -> None:
    if state.status == "closed":
        raise RoundClosedError(f"round {state.round_id!r} is closed")


def ensure_round_is_running(state: RoundState) -> None:
    if state.status != "running":
        raise RoundNotRunningError(
            f"round {state.round_id!r} is {state.status}; plans and presentations need it running"
        )


def ensure_selection_under_way(state: RoundState) -> None:
    if state.status not in ("selection", "running"):
        raise SelectionNotStartedError(
            f"round {state.round_id!r} is {state.status}; selection begins when applications close"
        )


# Applications


def ensure_valid_org_number(raw: str) -> str:
    """`raw` in its stored form NNNNNN-NNNN (see `domain.org_number`)."""
    return normalise_org_number(raw)


def ensure_round_is_open(state: RoundState, now: datetime) -> None:
    """Applications are taken from ApplicationsOpened until application_closes_at."""
    closes_at = state.dates.application_closes_at
    if state.status == "scheduled":
        opens_at = state.dates.application_opens_at
        message = f"applications to round {state.round_id!r} open at {opens_at.isoformat()}"
    elif state.status == "cancelled":
        message = f"round {state.round_id!r} was cancelled"
    elif state.status != "open" or now >= closes_at:
        message = f"applications to round {state.round_id!r} closed at {closes_at.isoformat()}"
    else:
        return
    raise ApplicationWindowClosedError(message)


def ensure_not_organiser(org_number: str) -> None:
    if org_number in ORGANISERS:
        raise OrganiserCannotApplyError(
            f"{ORGANISERS[org_number]} runs the programme and cannot take part in it"
        )


def ensure_first_application(state: RoundState, org_number: str) -> None:
    """One application per agency per round; an agency that withdrew may apply again."""
    existing = state.applications.get(org_number)
    if existing is not None and existing.status != "withdrawn":
        raise DuplicateApplicationError(
            f"{org_number} has already applied to round {state.round_id!r}"
        )


def ensure_partner_is_another_agency(org_number: str, preferred_partner: str) -> None:
    if org_number == preferred_partner:
        raise PreferredPartnerIsApplicantError(
            f"{org_number} cannot name itself as its preferred partner"
        )


def ensure_has_applied(state: RoundState, org_number: str) -> Application:
    application = state.applications.get(org_number)
    if application is None:
        raise ApplicationNotFoundError(f"{org_number} has not applied to round {state.round_id!r}")
    return application


def ensure_application_live(application: Application) -> None:
    if application.status not in LIVE_APPLICATION:
        raise ApplicationNotLiveError(
            f"the application of {application.org_number} is already {application.status}"
        )


def ensure_not_withdrawn(application: Application) -> None:
    if application.status == "withdrawn":
        raise ApplicationWithdrawnError(
            f"{application.org_number} withdrew its application; there is nothing to decide"
        )


def ensure_not_in_active_pair(state: RoundState, org_number: str) -> None:
    pair = state.active_pair_of(org_number)
    if pair is not None:
        raise AgencyInActivePairError(
            f"{org_number} works in {pair.pair_id}; dissolve the pair first"
        )


# Selection and participants


def ensure_capacity_left(state: RoundState) -> None:
    if len(state.admitted()) >= state.capacity:
        raise CapacityExceededError(
            f"round {state.round_id!r} has admitted its capacity of {state.capacity} agencies"
        )


def ensure_trio_keeps_odd_count(state: RoundState) -> None:
    """A trio exists because the admitted count is odd; changing that count needs it gone."""
    trio = next((p for p in state.active_pairs() if p.is_trio), None)
    if trio is not None:
        raise TrioNeedsOddCountError(
            f"{trio.pair_id} is a trio, which needs an odd number of admitted agencies; "
            "dissolve it before changing who is admitted"
        )


def ensure_admitted(state: RoundState, org_number: str) -> None:
    application = state.applications.get(org_number)
    if application is None or application.status != "admitted":
        raise AgencyNotAdmittedError(f"{org_number} is not admitted to round {state.round_id!r}")


def ensure_one_director_general(state: RoundState, org_number: str) -> None:
    if any(p.role == "director_general" for p in state.nominees(org_number)):
        raise DirectorGeneralAlreadyNominatedError(
            f"{org_number} already has its director general nominated"
        )


# Pairs, plans and presentations


def ensure_pair_size(org_numbers: tuple[str, ...]) -> None:
    if len(org_numbers) not in (2, 3):
        raise PairSizeError(f"a learning pair has 2 agencies (3 in a trio), not {len(org_numbers)}")


def ensure_distinct_agencies(org_numbers: tuple[str, ...]) -> None:
    if len(set(org_numbers)) != len(org_numbers):
        raise PairMembersNotDistinctError("an agency cannot be paired with itself")


def ensure_not_paired(state: RoundState, org_number: str) -> None:
    pair = state.active_pair_of(org_number)
    if pair is not None:
        raise AgencyAlreadyPairedError(f"{org_number} already works in {pair.pair_id}")


def ensure_trio_allowed(state: RoundState, org_numbers: tuple[str, ...]) -> None:
    if len(org_numbers) != 3:
        return
    admitted = len(state.admitted())
    if admitted % 2 == 0:
        raise TrioNotAllowedError(
            f"a trio is only formed when the admitted count is odd; it is {admitted}"
        )
    trio = next((p for p in state.active_pairs() if p.is_trio), None)
    if trio is not None:
        raise TrioNotAllowedError(f"round {state.round_id!r} already has a trio, {trio.pair_id}")


def ensure_pair_exists(state: RoundState, pair_id: str) -> Pair:
    pair = state.pairs.get(pair_id)
    if pair is None:
        raise PairNotFoundError(f"round {state.round_id!r} has no pair {pair_id!r}")
    return pair


def ensure_pair_active(pair: Pair) -> None:
    if pair.dissolved:
        raise PairDissolvedError(f"{pair.pair_id} was dissolved")


def ensure_pair_has_no_plan(pair: Pair) -> None:
    if pair.plan is not None:
        raise PairHasPlanError(f"{pair.pair_id} has submitted its plan and cannot be dissolved")


def ensure_plan_submitted(pair: Pair) -> None:
    if pair.plan is None:
        raise PlanNotSubmittedError(f"{pair.pair_id} has not submitted its plan yet")


def ensure_not_in_future(held_at: datetime, now: datetime) -> None:
    if held_at > now:
        raise PresentationInFutureError(
            f"a presentation is recorded once held; {held_at.isoformat()} is still to come"
        )


# Free text kept in clear. Titles, reasons, case numbers and retention decisions are the
# programme's own words about rounds, pairs and decisions, stored in clear and shown in reports;
# a person's data belongs in sealed fields only. What can be recognised is refused: e-mail
# addresses, phone numbers, personal identity numbers. (A name cannot be told from any other
# word: staff are asked not to write them, and the OpenAPI description says so.)

_EMAIL: Final = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]{2,}")
_PHONE: Final = re.compile(
    r"(?<![\w/.-])(?:(?:\+|00)46[\s-]*(?:\(0\))?[\s-]*|0)[1-9](?:[\s-]*\d){5,8}(?![\w/-])"
)
_DIGIT_RUN: Final = re.compile(r"(?<!\d)\d{6,8}[-+\s]?\d{4}(?!\d)")


def ensure_no_personal_data_in_free_text(field: str, text: str | None) -> None:
    """Refuse free text stored in clear that holds recognisable personal data."""
    if not text:
        return
    if _EMAIL.search(text):
        raise PersonalDataInFreeTextError(f"{field} holds an e-mail address: leave people out")
    if _PHONE.search(text):
        raise PersonalDataInFreeTextError(f"{field} holds a phone number: leave people out")
    if any(could_be_personal_identity_number(m) for m in _DIGIT_RUN.findall(text)):
        raise PersonalDataInFreeTextError(
            f"{field} holds a personal identity number: leave people out"
        )


def ensure_agency_name(raw: str) -> str:
    """The agency's name as stored: invisible characters removed, whitespace folded
    (`domain.names.clean_name`); refused when nothing visible is left."""
    name = clean_name(raw)
    if not name:
        raise InvalidAgencyNameError("the agency's name has no visible characters")
    return name


# Forms


def ensure_distinct_field_refs(fields: Mapping[FormField, str]) -> None:
    """Each of the form's fields holds one programme field at most: a ref named twice would
    read one answer as two things."""
    seen: dict[str, FormField] = {}
    for name, ref in fields.items():
        if ref in seen:
            raise FieldRefsNotDistinctError(
                f"{seen[ref]} and {name} are both mapped to the form's field {ref!r}"
            )
        seen[ref] = name


def ensure_delivery_is_held(form_id: str, delivery_id: str, held: Mapping[str, object]) -> None:
    if delivery_id not in held:
        raise DeliveryNotHeldError(f"form {form_id} holds no delivery of that id")
