"""Events of an agency's application: applying, refusals, withdrawal, the selection decision."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from events.base import (
    DomainEvent,
    LongText,
    OrgNumber,
    SealedPersonalData,
    ShortText,
    Theme,
    UtcDateTime,
)

Source = Literal["typeform", "forms", "staff"]
CaseNumber = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
DeliveryId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AgencyApplied(DomainEvent):
    """An agency applied to a round.

    v2: `themes` is a list (v1 held a single `theme`). v3: `motivation` is sealed under the
    contact person's key (it holds names and phone numbers in practice), so erasing the contact
    erases it; v2 held it in clear, and such events read as v3 with `unsealed_motivation` set
    (the store cannot seal what it already holds in clear: see `events.upcasting`).
    """

    type: Literal["AgencyApplied"] = "AgencyApplied"
    schema_version: Literal[3] = 3
    org_number: OrgNumber
    agency_name: ShortText
    director_general: SealedPersonalData
    contact: SealedPersonalData
    themes: tuple[Theme, ...] = Field(min_length=1, max_length=20)
    preferred_partner: OrgNumber | None = None
    motivation: SealedPersonalData | None = None
    unsealed_motivation: LongText | None = None
    submitted_at: UtcDateTime
    source: Source
    delivery_id: DeliveryId | None = None


# Since 2026-12 a refusal for an unknown round is kept on a stream of its own per delivery
# (`domain.streams.refusal_stream_id`); the docstring below is the v1 contract as published.
class ApplicationRefused(DomainEvent):
    """An application the rules refused, recorded so staff can see it (nothing is dropped).

    `org_number` is what the sender gave, as given: a refusal may be *for* an invalid number.
    `requested_round_id` is set when the named round does not exist: such refusals are kept
    in a stream of their own (`intake-refusals`), since there is no round stream to hold them.
    """

    type: Literal["ApplicationRefused"] = "ApplicationRefused"
    schema_version: Literal[1] = 1
    org_number: Annotated[str, StringConstraints(max_length=40)]
    agency_name: Annotated[str, StringConstraints(max_length=200)]
    requested_round_id: Annotated[str, StringConstraints(max_length=80)] | None = None
    rule: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")]
    reason: Annotated[str, StringConstraints(max_length=500)]
    source: Source
    delivery_id: DeliveryId | None = None


class ApplicationWithdrawn(DomainEvent):
    type: Literal["ApplicationWithdrawn"] = "ApplicationWithdrawn"
    schema_version: Literal[1] = 1
    org_number: OrgNumber
    reason: ShortText | None = None


class AgencyAdmitted(DomainEvent):
    type: Literal["AgencyAdmitted"] = "AgencyAdmitted"
    schema_version: Literal[1] = 1
    org_number: OrgNumber
    case_number: CaseNumber | None = None


class AgencyRejected(DomainEvent):
    type: Literal["AgencyRejected"] = "AgencyRejected"
    schema_version: Literal[1] = 1
    org_number: OrgNumber
    case_number: CaseNumber | None = None


class AgencyWaitlisted(DomainEvent):
    type: Literal["AgencyWaitlisted"] = "AgencyWaitlisted"
    schema_version: Literal[1] = 1
    org_number: OrgNumber
    case_number: CaseNumber | None = None


ParticipantRole = Literal["director_general", "leadership_member"]


class ParticipantNominated(DomainEvent):
    """A person from an admitted agency who takes part (the GD or a leadership-group member)."""

    type: Literal["ParticipantNominated"] = "ParticipantNominated"
    schema_version: Literal[1] = 1
    org_number: OrgNumber
    role: ParticipantRole
    person: SealedPersonalData
