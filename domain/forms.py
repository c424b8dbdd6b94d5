"""Decisions on a form's stream: its field mapping, and the deliveries held until it maps.

A form's stream (`domain.streams.form_stream_id`) is small and cold: staff map a form a few
times in its life, and deliveries are held only while it cannot be read. The state is the
mapping and the deliveries still held (their events, which carry the sealed copies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from domain.commands import FormCommand, HoldDelivery, MapForm, RecordTakeUp
from domain.rules import ensure_delivery_is_held, ensure_distinct_field_refs
from events import DeliveryHeld, Event, FormField, FormMapped, HeldDeliveryTakenUp


@dataclass(frozen=True, slots=True)
class FormState:
    """A form as the intake reads it: where each programme field is, and what it holds."""

    fields: Mapping[FormField, str] = field(default_factory=lambda: MappingProxyType({}))
    held: Mapping[str, DeliveryHeld] = field(default_factory=lambda: MappingProxyType({}))
    seen: frozenset[str] = frozenset()
    """Every delivery id ever held: a held delivery sent again is not held twice."""

    def ref_for(self, name: FormField) -> str:
        """The form's field (ref, id or hidden name) for a programme field: as mapped, or the
        programme's own name, which is what forms built for the programme use."""
        return self.fields.get(name, name)


EMPTY_FORM = FormState()


def decide_form(command: FormCommand, state: FormState | None, now: datetime) -> list[Event]:
    """The form stream's decider, in the command handler's shape."""
    form = state or EMPTY_FORM
    match command:
        case MapForm():
            return _map(command, form)
        case HoldDelivery():
            return _hold(command, form)
        case RecordTakeUp():
            return _take_up(command, form)


def _map(command: MapForm, form: FormState) -> list[Event]:
    ensure_distinct_field_refs(command.fields)
    if dict(command.fields) == dict(form.fields):
        return []  # the mapping it already has: nothing to record
    return [
        FormMapped(provider=command.provider, form_id=command.form_id, fields=dict(command.fields))
    ]


def _hold(command: HoldDelivery, form: FormState) -> list[Event]:
    if command.delivery_id in form.seen:
        return []  # held before (or held and taken up): a redelivery changes nothing
    return [
        DeliveryHeld(
            provider=command.provider,
            form_id=command.form_id,
            delivery_id=command.delivery_id,
            received_at=command.received_at,
            missing=command.missing,
            reason=command.reason,
            delivery=command.delivery,
        )
    ]


def _take_up(command: RecordTakeUp, form: FormState) -> list[Event]:
    if command.delivery_id not in form.held and command.delivery_id in form.seen:
        return []  # taken up already: a retried take-up records nothing
    ensure_delivery_is_held(command.form_id, command.delivery_id, form.held)
    return [
        HeldDeliveryTakenUp(
            form_id=command.form_id,
            delivery_id=command.delivery_id,
            outcome=command.outcome,
            round_id=command.round_id,
        )
    ]


def evolve_form(state: FormState | None, event: Event) -> FormState:
    form = state or EMPTY_FORM
    match event:
        case FormMapped():
            return FormState(MappingProxyType(dict(event.fields)), form.held, form.seen)
        case DeliveryHeld():
            held = MappingProxyType({**form.held, event.delivery_id: event})
            return FormState(form.fields, held, form.seen | {event.delivery_id})
        case HeldDeliveryTakenUp():
            rest = {key: value for key, value in form.held.items() if key != event.delivery_id}
            return FormState(form.fields, MappingProxyType(rest), form.seen)
        case _:
            return form
