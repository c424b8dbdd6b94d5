"""A round's facts as the round-level views need them, kept as plain JSON (the "sheet").

The round overview, pairs, plans, agency history and participation views all fold a round
stream into this same sheet and differ only in the documents they derive from it. It holds
no personal data: nominated people are only counted by role, sealed fields are never read.
It deliberately re-implements no domain rule: it records what the events say happened.

`layout` names how the round documents derived from a sheet are laid out (2: a document
per pair, beside the round's own; before, each view kept one document of every pair). A
sheet without it was kept by code that wrote the whole-round documents: the round views
write all of theirs in this layout at its next event (`upgraded`), and mark it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, Final

from events import (
    AgencyAdmitted,
    AgencyApplied,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationsClosed,
    ApplicationsOpened,
    ApplicationWithdrawn,
    Event,
    PairDissolved,
    PairFormed,
    ParticipantNominated,
    PlanDeadlinePassed,
    PlanRevised,
    PlanSubmitted,
    PresentationRecorded,
    RoundCancelled,
    RoundClosed,
    RoundRescheduled,
    RoundScheduled,
    RoundStarted,
)
from infra.readmodels.documents import JsonObject, iso

Sheet = JsonObject
DATE_FIELDS = (
    "application_opens_at",
    "application_closes_at",
    "starts_at",
    "plan_due_at",
    "closes_at",
)
ROLES = ("director_general", "leadership_member")
LAYOUT: Final = 2
PAIR_EVENTS: Final = frozenset(
    {PairFormed, PairDissolved, PlanSubmitted, PlanRevised, PresentationRecorded}
)
"""The events that change a pair's facts (each names its `pair_id`)."""
_DAY_SECONDS = 86_400
_STATE_AFTER: dict[type[Any], str] = {
    ApplicationsOpened: "open",
    ApplicationsClosed: "selection",
    RoundStarted: "running",
    RoundClosed: "closed",
    RoundCancelled: "cancelled",
}
_DECISIONS: dict[type[Any], str] = {
    ApplicationWithdrawn: "withdrawn",
    AgencyAdmitted: "admitted",
    AgencyRejected: "rejected",
    AgencyWaitlisted: "waitlisted",
}


def evolve(sheet: Sheet | None, event: Event) -> tuple[Sheet | None, Touched]:
    """The sheet after `event` (changed in place) and the agencies whose facts it changed."""
    if isinstance(event, RoundScheduled):
        return _scheduled(event), _NONE
    if sheet is None:  # nothing precedes RoundScheduled in a round stream
        return None, _NONE
    upgraded(sheet)
    step = STEPS.get(type(event))
    return sheet, _NONE if step is None else step(sheet, event)


Touched = AbstractSet[str]
_NONE: Final[Touched] = frozenset()


def upgraded(sheet: Sheet) -> bool:
    """Mark a sheet of an earlier layout with the current one; whether it was of an earlier."""
    if sheet.get("layout") == LAYOUT:
        return False
    sheet["layout"] = LAYOUT
    return True


def pair_of(event: Event) -> str | None:
    """The pair a pair event is about (None: not a pair event)."""
    if isinstance(event, PairFormed | PairDissolved | PlanSubmitted | PlanRevised):
        return event.pair_id
    if isinstance(event, PresentationRecorded):
        return event.pair_id
    return None


def pairs_changed_by(sheet: Sheet, event: Event) -> Touched | None:
    """The pairs whose facts `event` may change, as the round documents show them (None:
    every pair, the sheet being replaced): a pair event's pair; an application's agency
    is named in every pair it is or was in."""
    if (pair_id := pair_of(event)) is not None:
        return {pair_id}
    if isinstance(event, AgencyApplied):
        org = event.org_number
        return {pair_id for pair_id, pair in sheet["pairs"].items() if org in pair["org_numbers"]}
    if isinstance(event, RoundScheduled):
        return None
    return _NONE


def _rescheduled(sheet: Sheet, event: RoundRescheduled) -> Touched:
    sheet["dates"] = {name: iso(getattr(event, name)) for name in DATE_FIELDS}
    return _NONE


def _deadline_passed(sheet: Sheet, event: PlanDeadlinePassed) -> Touched:
    sheet["deadline_passed"] = True
    return _NONE


def _nominated(sheet: Sheet, event: ParticipantNominated) -> Touched:
    sheet["roles"][event.role] = sheet["roles"].get(event.role, 0) + 1
    return _NONE


def _applied(sheet: Sheet, event: AgencyApplied) -> Touched:
    agency = _agency(sheet, event.org_number)
    agency.update(agency_name=event.agency_name, status="applied")
    agency["applied_at"] = iso(event.submitted_at)
    return {event.org_number}


def _decided(
    sheet: Sheet, event: ApplicationWithdrawn | AgencyAdmitted | AgencyRejected | AgencyWaitlisted
) -> Touched:
    agency = _agency(sheet, event.org_number)
    agency["status"] = _DECISIONS[type(event)]
    if not isinstance(event, ApplicationWithdrawn) and event.case_number:
        agency["case_number"] = event.case_number
    return {event.org_number}


def _moved(sheet: Sheet, event: Event) -> Touched:
    sheet["state"] = _STATE_AFTER[type(event)]
    return _NONE


def plan_status(pair: JsonObject, deadline_passed: bool) -> str:
    """pending | overdue (deadline passed, none in) | submitted (on time) | late."""
    return resolved_status(plan_in(pair), deadline_passed)


def plan_in(pair: JsonObject) -> str | None:
    """submitted (on time) | late | None (no plan in): a pair document stores this, so the
    deadline passing changes no pair's document."""
    plan = pair.get("plan")
    if plan is not None:
        return "late" if plan["late"] else "submitted"
    return None


def resolved_status(status: str | None, deadline_passed: bool) -> str:
    """A plan status as shown, from `plan_in` and the round's deadline."""
    if status is not None:
        return status
    return "overdue" if deadline_passed else "pending"


def active_pairs(sheet: Sheet) -> list[tuple[str, JsonObject]]:
    """Pairs not dissolved, in the order they were formed."""
    return [(pair_id, pair) for pair_id, pair in sheet["pairs"].items() if not pair["dissolved"]]


def _scheduled(event: RoundScheduled) -> Sheet:
    return {
        "round_id": event.round_id,
        "number": event.number,
        "title": event.title,
        "state": "scheduled",
        "dates": {name: iso(getattr(event, name)) for name in DATE_FIELDS},
        "capacity": event.capacity,
        "themes": list(event.themes),
        "deadline_passed": False,
        "roles": dict.fromkeys(ROLES, 0),
        "agencies": {},
        "pairs": {},
        "layout": LAYOUT,
    }


def _agency(sheet: Sheet, org_number: str) -> JsonObject:
    # An old stream may decide on an application this code never saw; the fact still stands.
    agencies: dict[str, JsonObject] = sheet["agencies"]
    agency = agencies.get(org_number)
    if agency is None:
        agency = agencies[org_number] = {"agency_name": "", "status": "applied", "applied_at": None}
    return agency


def _form_pair(sheet: Sheet, event: PairFormed) -> Touched:
    # Only a pair's members point at it. A pair id formed again (no domain rule here) is a
    # new pair: agencies of the one it replaces that are not in it leave it.
    replaced = sheet["pairs"].get(event.pair_id)
    touched = set(replaced["org_numbers"]) if replaced else set()
    for org_number in touched.difference(event.org_numbers):
        agency = sheet["agencies"][org_number]
        if agency.get("pair_id") == event.pair_id:
            agency["pair_id"] = None
    sheet["pairs"][event.pair_id] = {
        "org_numbers": list(event.org_numbers),
        "theme": event.theme,
        "dissolved": False,
        "dissolved_reason": None,
        "plan": None,
        "presented_at": None,
    }
    for org_number in event.org_numbers:
        _agency(sheet, org_number)["pair_id"] = event.pair_id
    return touched | set(event.org_numbers)


def _dissolve_pair(sheet: Sheet, event: PairDissolved) -> Touched:
    pair = sheet["pairs"].get(event.pair_id)
    if pair is None:
        return _NONE
    pair.update(dissolved=True, dissolved_reason=event.reason)
    members = {
        org for org in pair["org_numbers"] if sheet["agencies"][org].get("pair_id") == event.pair_id
    }
    for org_number in members:
        sheet["agencies"][org_number]["pair_id"] = None
    return members


def _pair_event(sheet: Sheet, event: PlanSubmitted | PlanRevised | PresentationRecorded) -> Touched:
    pair = sheet["pairs"].get(event.pair_id)
    if pair is None:
        return _NONE
    if isinstance(event, PresentationRecorded):
        pair["presented_at"] = iso(event.held_at)
    elif isinstance(event, PlanSubmitted) or pair["plan"] is None:
        # A revision of a plan this code never saw submitted counts as its first submission.
        pair["plan"] = _first_plan(sheet, event)
    else:
        # A revision keeps the first submission's time and lateness (as the domain does).
        pair["plan"].update(
            title=event.title, revision=event.revision, revised_at=iso(event.submitted_at)
        )
    return set(pair["org_numbers"])  # every agency that shows the pair: only members point at it


def _first_plan(sheet: Sheet, event: PlanSubmitted | PlanRevised) -> JsonObject:
    due_at = sheet["dates"]["plan_due_at"]
    revision = event.revision if isinstance(event, PlanRevised) else 1
    return {
        "title": event.title,
        "revision": revision,
        "submitted_at": iso(event.submitted_at),
        "revised_at": None,
        "late": event.late,
        "due_at": due_at,
        "days_late": _days_late(event.submitted_at, due_at) if event.late else 0,
    }


def _days_late(submitted_at: datetime, due_at: str) -> int:
    """Whole days after the deadline, a part of a day counting as one (a late plan is ≥ 1)."""
    overdue = (submitted_at - datetime.fromisoformat(due_at)).total_seconds()
    return max(1, math.ceil(overdue / _DAY_SECONDS))


# What each event does to the sheet, by its type (events are final classes): one lookup per
# event, where matching class patterns in turn took longer than the step itself.
STEPS: Final[dict[type[Any], Callable[[Sheet, Any], Touched]]] = {
    RoundRescheduled: _rescheduled,
    PlanDeadlinePassed: _deadline_passed,
    ParticipantNominated: _nominated,
    AgencyApplied: _applied,
    **dict.fromkeys(_DECISIONS, _decided),
    PairFormed: _form_pair,
    PairDissolved: _dissolve_pair,
    PlanSubmitted: _pair_event,
    PlanRevised: _pair_event,
    PresentationRecorded: _pair_event,
    **dict.fromkeys(_STATE_AFTER, _moved),
}
