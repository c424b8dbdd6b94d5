"""Refused applications for staff (`GET /refusals`): from round streams and `intake-refusals`.

Each refusal is stored twice, under every refusal and under its round, so both listings are
one Query in time order. The organisation number is kept as the sender gave it (a refusal may
be *for* an invalid number).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from domain.streams import round_id_of
from events import ApplicationRefused
from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, encode, iso, sortable
from infra.readmodels.view import Applied, ApplyFold, View

NAME: Final = "refusals"
ALL: Final = "refusals"


def round_partition(round_id: str) -> str:
    return f"refusals#{round_id}"


class RefusalsView:
    name = NAME

    @property
    def fold_kind(self) -> RefusalFolds:
        return REFUSALS

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        event = recorded.event
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
        # Time first, then the event's own place: unique, and in the order refusals happened.
        occurred = sortable(recorded.metadata.occurred_at)
        sort = f"{occurred}#{recorded.stream_id}#{recorded.version:010d}"
        text = encode(refusal)
        writes: dict[DocKey, str | None] = {DocKey(ALL, sort): text}
        if round_id is not None:
            writes[DocKey(round_partition(round_id), sort)] = text
        return Applied(state, writes)


class RefusalFolds:
    def fold(self, views: Sequence[View], state: JsonObject | None, version: int) -> RefusalsFold:
        return RefusalsFold(views, state, version)


REFUSALS: Final = RefusalFolds()


class RefusalsFold(ApplyFold):
    """Applies refusals only: every other event leaves the view as it was (see `apply`)."""

    def add(self, recorded: RecordedEvent) -> None:
        if isinstance(recorded.event, ApplicationRefused):
            super().add(recorded)
        else:
            self.version = recorded.version
