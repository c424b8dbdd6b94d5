"""Response models of the queries, as documented in the OpenAPI document.

They mirror the read-model documents; none has a field that could hold personal data
(nominated people are only counted, by role).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

RoundState = Literal["scheduled", "open", "selection", "running", "closed", "cancelled"]
ApplicationStatus = Literal["applied", "withdrawn", "admitted", "rejected", "waitlisted"]
PlanStatus = Literal["pending", "overdue", "submitted", "late"]


class RoundFacts(BaseModel):
    """What the round list and the round overview both say of a round."""

    round_id: str
    number: int
    title: str
    state: RoundState
    application_opens_at: datetime
    application_closes_at: datetime
    starts_at: datetime
    plan_due_at: datetime
    closes_at: datetime
    capacity: int
    applied: int = Field(description="Agencies whose application was recorded (any outcome)")
    admitted: int


class RoundSummary(RoundFacts):
    pair_count: int = Field(description="Pairs not dissolved")


class RoundList(BaseModel):
    rounds: list[RoundSummary]


class PairSummary(BaseModel):
    pair_id: str
    org_numbers: list[str]
    theme: str
    plan_status: PlanStatus


class RoundOverview(RoundFacts):
    themes: list[str]
    participants_by_role: dict[str, int] = Field(
        description="Nominated participants counted by role (people are never listed)"
    )
    pairs: list[PairSummary] = Field(description="Pairs not dissolved, in the order formed")


class PairAgency(BaseModel):
    org_number: str
    agency_name: str


class PairDetail(BaseModel):
    pair_id: str
    org_numbers: list[str]
    agencies: list[PairAgency]
    theme: str
    status: Literal["active", "dissolved"]
    dissolved_reason: str | None
    plan_status: PlanStatus | None = Field(description="None for a dissolved pair")
    plan_title: str | None
    plan_revision: int | None
    presented_at: datetime | None


class ThemePairs(BaseModel):
    theme: str
    pair_ids: list[str] = Field(description="Active pairs working on the theme")


class RoundPairs(BaseModel):
    round_id: str
    themes: list[ThemePairs]
    pairs: list[PairDetail]


class PlanTimeliness(BaseModel):
    pair_id: str
    org_numbers: list[str]
    theme: str
    status: PlanStatus
    due_at: datetime = Field(description="The deadline in force when the plan came in")
    submitted_at: datetime | None = Field(description="The first submission")
    revision: int | None
    revised_at: datetime | None = Field(description="The latest revision, after the first")
    late: bool | None
    days_late: int | None = Field(description="Whole days after the deadline, a part counting")


class RoundPlans(BaseModel):
    round_id: str
    plan_due_at: datetime
    deadline_passed: bool
    plans: list[PlanTimeliness] = Field(description="One per pair not dissolved")


class AuditEntry(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    actor: str


class RoundEvents(BaseModel):
    round_id: str
    events: list[AuditEntry]
    next_after: int | None = Field(description="Pass as `after` for the next page; none: done")


class AgencyRound(BaseModel):
    round_id: str
    round_number: int
    round_title: str
    status: ApplicationStatus
    applied_at: datetime | None
    case_number: str | None
    pair_id: str | None
    partners: list[str]
    theme: str | None
    plan_submitted_at: datetime | None
    plan_late: bool | None
    presented_at: datetime | None


class AgencyHistory(BaseModel):
    org_number: str
    agency_name: str = Field(description="The name given in its latest round")
    rounds: list[AgencyRound]


class Refusal(BaseModel):
    refused_at: datetime
    round_id: str | None
    org_number: str = Field(description="As the sender gave it (it may be why it was refused)")
    agency_name: str
    rule: str
    reason: str
    source: str
    form_id: str | None = Field(
        None, description="A delivery held because its answers could not be read: its form"
    )
    delivery_id: str | None = Field(None, description="The held delivery's id, as its sender gave")
    taken_up: Literal["recorded", "duplicate", "refused", "erased"] | None = Field(
        None,
        description="A held delivery read again once its form was mapped: what became of it "
        "(none: still held)",
    )


class RefusalList(BaseModel):
    refusals: list[Refusal]
    next_after: str | None = Field(description="Pass as `after` for the next page; none: done")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
