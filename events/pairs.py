"""Events of the learning pairs: forming, dissolving, plans and presentations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import (
    DomainEvent,
    OrgNumber,
    PairId,
    Sha256Hex,
    ShortText,
    Theme,
    Url,
    UtcDateTime,
)


class PairFormed(DomainEvent):
    """Two agencies (three when the admitted count is odd) paired around a theme."""

    type: Literal["PairFormed"] = "PairFormed"
    schema_version: Literal[1] = 1
    pair_id: PairId
    org_numbers: tuple[OrgNumber, ...] = Field(min_length=2, max_length=3)
    theme: Theme


class PairDissolved(DomainEvent):
    type: Literal["PairDissolved"] = "PairDissolved"
    schema_version: Literal[1] = 1
    pair_id: PairId
    reason: ShortText


class PlanSubmitted(DomainEvent):
    """A pair's strategic development plan; `late` when submitted after `plan_due_at`."""

    type: Literal["PlanSubmitted"] = "PlanSubmitted"
    schema_version: Literal[1] = 1
    pair_id: PairId
    title: ShortText
    document_url: Url
    document_sha256: Sha256Hex
    submitted_at: UtcDateTime
    late: bool


class PlanRevised(DomainEvent):
    """A new revision of an already submitted plan (revision 2, 3, …)."""

    type: Literal["PlanRevised"] = "PlanRevised"
    schema_version: Literal[1] = 1
    pair_id: PairId
    revision: int = Field(ge=2)
    title: ShortText
    document_url: Url
    document_sha256: Sha256Hex
    submitted_at: UtcDateTime
    late: bool


class PresentationRecorded(DomainEvent):
    type: Literal["PresentationRecorded"] = "PresentationRecorded"
    schema_version: Literal[1] = 1
    pair_id: PairId
    held_at: UtcDateTime
