"""Events of a form tool's form: how its fields map to an application, and deliveries held
until they can be read.

A form built in Typeform's own builder names its fields by generated refs (`ecbb3121-…`) or
ids, not by the programme's names; staff say which field is which (`FormMapped`). A signed
delivery that cannot be read as an application is never dropped: it is kept sealed
(`DeliveryHeld`), shown among the refusals, and read again once the form is mapped
(`HeldDeliveryTakenUp`, after which its sealed copy's key is destroyed).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, get_args

from pydantic import Field, StringConstraints

from events.applications import DeliveryId
from events.base import DomainEvent, SealedDelivery, UtcDateTime

FormProvider = Literal["typeform"]
FormId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,80}$")]
FieldRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,120}$")]
"""A field's ref or id in the form tool, or a hidden field's name: an identifier, never text."""

FormField = Literal[
    "round_id",
    "org_number",
    "agency_name",
    "director_general",
    "contact_name",
    "contact_email",
    "themes",
    "preferred_partner",
    "motivation",
]
"""The programme's names for what an application form holds (`round_id` is a hidden field)."""

FORM_FIELDS: Final[tuple[FormField, ...]] = get_args(FormField)

TakeUpOutcome = Literal["recorded", "duplicate", "refused", "erased"]


class FormMapped(DomainEvent):
    """Staff said which of a form's fields holds which of the programme's; a field they did not
    name is looked for under its programme name, as before any mapping."""

    type: Literal["FormMapped"] = "FormMapped"
    schema_version: Literal[1] = 1
    provider: FormProvider
    form_id: FormId
    fields: dict[FormField, FieldRef] = Field(max_length=len(FORM_FIELDS))


class DeliveryHeld(DomainEvent):
    """A signed delivery of this form that could not be read as an application: kept sealed,
    with what could not be read (`missing`: the programme's field names) and why."""

    type: Literal["DeliveryHeld"] = "DeliveryHeld"
    schema_version: Literal[1] = 1
    provider: FormProvider
    form_id: FormId
    delivery_id: DeliveryId
    received_at: UtcDateTime
    missing: tuple[Annotated[str, StringConstraints(max_length=40)], ...] = Field(max_length=20)
    reason: Annotated[str, StringConstraints(max_length=500)]
    delivery: SealedDelivery


class HeldDeliveryTakenUp(DomainEvent):
    """A held delivery was read with the form's mapping and handed to its round: recorded, a
    duplicate of one recorded, or refused by the round's rules; `erased` when its sealed copy
    could no longer be opened."""

    type: Literal["HeldDeliveryTakenUp"] = "HeldDeliveryTakenUp"
    schema_version: Literal[1] = 1
    form_id: FormId
    delivery_id: DeliveryId
    outcome: TakeUpOutcome
    round_id: Annotated[str, StringConstraints(max_length=80)] | None = None
    """The round it named, as named (a refusal may be *for* a round that does not exist)."""
