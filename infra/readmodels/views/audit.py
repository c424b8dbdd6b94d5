"""The audit trail of a round (`GET /rounds/{id}/events`): what happened, when, and who did it.

Only the envelope's facts: type, version, when it occurred and the actor. Never the payload,
so nothing personal (sealed or not) can reach it.
"""

from __future__ import annotations

from typing import Final

from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, encode, iso, round_id_of
from infra.readmodels.view import Applied

NAME: Final = "audit"


def audit_partition(round_id: str) -> str:
    return f"audit#{round_id}"


def version_sort(version: int) -> str:
    """Zero-padded, so the sort key orders as the version does (and pages resume from one)."""
    return f"{version:010d}"


class AuditView:
    name = NAME

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        round_id = round_id_of(recorded.stream_id)
        if round_id is None:
            return Applied(state)
        entry = {
            "version": recorded.version,
            "type": recorded.event.type,
            "occurred_at": iso(recorded.metadata.occurred_at),
            "actor": recorded.metadata.actor,
        }
        key = DocKey(audit_partition(round_id), version_sort(recorded.version))
        return Applied(state, {key: encode(entry)})
