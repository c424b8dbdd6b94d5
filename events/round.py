"""Events of the round itself: scheduling and the scheduled lifecycle transitions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import (
    Count,
    DomainEvent,
    OrgNumber,
    PairId,
    RoundId,
    ShortText,
    Theme,
    UtcDateTime,
)


class RoundScheduled(DomainEvent):
    type: Literal["RoundScheduled"] = "RoundScheduled"
    schema_version: Literal[1] = 1
    round_id: RoundId
    number: int = Field(ge=1)
    title: ShortText
    capacity: int = Field(ge=2, le=200)
    themes: tuple[Theme, ...] = Field(min_length=1, max_length=20)
    application_opens_at: UtcDateTime
    application_closes_at: UtcDateTime
    starts_at: UtcDateTime
    plan_due_at: UtcDateTime
    closes_at: UtcDateTime


class RoundRescheduled(DomainEvent):
    """The round's full set of dates after the change (not a delta, so replay is trivial)."""

    type: Literal["RoundRescheduled"] = "RoundRescheduled"
    schema_version: Literal[1] = 1
    application_opens_at: UtcDateTime
    application_closes_at: UtcDateTime
    starts_at: UtcDateTime
    plan_due_at: UtcDateTime
    closes_at: UtcDateTime


class RoundCancelled(DomainEvent):
    type: Literal["RoundCancelled"] = "RoundCancelled"
    schema_version: Literal[1] = 1
    reason: ShortText


class ApplicationsOpened(DomainEvent):
    """Scheduled transition scheduled → open; `due_at` is the trigger it fired for."""

    type: Literal["ApplicationsOpened"] = "ApplicationsOpened"
    schema_version: Literal[1] = 1
    due_at: UtcDateTime


class ApplicationsClosed(DomainEvent):
    """Scheduled transition open → selection, with the count of live applications."""

    type: Literal["ApplicationsClosed"] = "ApplicationsClosed"
    schema_version: Literal[1] = 1
    due_at: UtcDateTime
    applications: Count


class RoundStarted(DomainEvent):
    """Scheduled transition selection → running; records admitted agencies still unpaired."""

    type: Literal["RoundStarted"] = "RoundStarted"
    schema_version: Literal[1] = 1
    due_at: UtcDateTime
    admitted: tuple[OrgNumber, ...]
    unpaired: tuple[OrgNumber, ...]


class PlanReminderIssued(DomainEvent):
    """Scheduled reminder before the plan deadline; records the pairs without a plan."""

    type: Literal["PlanReminderIssued"] = "PlanReminderIssued"
    schema_version: Literal[1] = 1
    due_at: UtcDateTime
    plan_due_at: UtcDateTime
    pairs_without_plan: tuple[PairId, ...]


class PlanDeadlinePassed(DomainEvent):
    """Scheduled: the plan deadline passed; later plans are accepted but flagged late."""

    type: Literal["PlanDeadlinePassed"] = "PlanDeadlinePassed"
    schema_version: Literal[1] = 1
    due_at: UtcDateTime
    pairs_without_plan: tuple[PairId, ...]


class RoundClosed(DomainEvent):
    """Scheduled transition running → closed, with the round's outcome figures."""

    type: Literal["RoundClosed"] = "RoundClosed"
    schema_version: Literal[1] = 1
    due_at: UtcDateTime
    admitted: Count
    pairs: Count
    plans_submitted: Count
    plans_late: Count
    presentations: Count
    themes: tuple[Theme, ...] = ()
