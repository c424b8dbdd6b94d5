"""Refused applications for staff (`GET /refusals`): from round streams, refusal streams, and
the deliveries forms hold because their answers could not be read.

Each refusal is stored twice, under every refusal and under its round, so both listings are
one Query in time order. The organisation number is kept as the sender gave it (a refusal may
be *for* an invalid number). A held delivery has no round, number or name that could be read:
it is listed with its form and delivery id, and when it is taken up its entry says what became
of it (the form stream's view state remembers where each held entry is until then).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from domain.streams import round_id_of
from events import ApplicationRefused, DeliveryHeld, HeldDeliveryTakenUp
from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, encode, iso, sortable
from infra.readmodels.view import Applied, ApplyFold, View

NAME: Final = "refusals"
ALL: Final = "refusals"
HELD_RULE: Final = "ensure_answers_readable"
"""The rule a held delivery is listed under: its answers could not be read as an application."""
_RELEVANT: Final = (ApplicationRefused, DeliveryHeld, HeldDeliveryTakenUp)


def round_partition(round_id: str) -> str:
    return f"refusals#{round_id}"


class RefusalsView:
    name = NAME

    @property
    def fold_kind(self) -> RefusalFolds:
        return REFUSALS

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        event = recorded.event
        if isinstance(event, DeliveryHeld):
            return _held(state, recorded, event)
        if isinstance(event, HeldDeliveryTakenUp):
            return _taken_up(state, event)
        if not isinstance(event, ApplicationRefused):
            return Applied(state)
        round_id = event.requested_round_id or round_id_of(recorded.stream_id)
        refused_at = iso(recorded.metadata.occurred_at)
        refusal = {
            "refused_at": refused_at,
            "round_id": round_id,
            "org_number": event.org_number,
            "agency_name": event.agency_name,
            "rule": event.rule,
            "reason": event.reason,
            "source": event.source,
        }
        sort = _sort_key(recorded)
        text = encode(refusal)
        writes: dict[DocKey, str | None] = {DocKey(ALL, sort): text}
        if round_id is not None:
            writes[DocKey(round_partition(round_id), sort)] = text
        return Applied(state, writes)


def _sort_key(recorded: RecordedEvent) -> str:
    # Time first, then the event's own place: unique, and in the order refusals happened.
    occurred = sortable(recorded.metadata.occurred_at)
    return f"{occurred}#{recorded.stream_id}#{recorded.version:010d}"


def _held(state: JsonObject | None, recorded: RecordedEvent, event: DeliveryHeld) -> Applied:
    refusal: JsonObject = {
        "refused_at": iso(recorded.metadata.occurred_at),
        "round_id": None,
        "org_number": "",
        "agency_name": "",
        "rule": HELD_RULE,
        "reason": event.reason,
        "source": event.provider,
        "form_id": event.form_id,
        "delivery_id": event.delivery_id,
        "taken_up": None,
    }
    sort = _sort_key(recorded)
    held = dict((state or {}).get("held") or {})
    held[event.delivery_id] = {"sort": sort, "refusal": refusal}
    return Applied({**(state or {}), "held": held}, {DocKey(ALL, sort): encode(refusal)})


def _taken_up(state: JsonObject | None, event: HeldDeliveryTakenUp) -> Applied:
    held = dict((state or {}).get("held") or {})
    entry = held.pop(event.delivery_id, None)
    if entry is None:
        return Applied(state)
    refusal = {**entry["refusal"], "taken_up": event.outcome, "round_id": event.round_id}
    return Applied({**(state or {}), "held": held}, {DocKey(ALL, entry["sort"]): encode(refusal)})


class RefusalFolds:
    def fold(self, views: Sequence[View], state: JsonObject | None, version: int) -> RefusalsFold:
        return RefusalsFold(views, state, version)


REFUSALS: Final = RefusalFolds()


class RefusalsFold(ApplyFold):
    """Applies refusals only: every other event leaves the view as it was (see `apply`)."""

    def add(self, recorded: RecordedEvent) -> None:
        if isinstance(recorded.event, _RELEVANT):
            super().add(recorded)
        else:
            self.version = recorded.version
