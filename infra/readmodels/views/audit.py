"""The audit trail of a round (`GET /rounds/{id}/events`): what happened, when, and who did it.

Only the envelope's facts: type, version, when it occurred and the actor. Never the payload,
so nothing personal (sealed or not) can reach it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, encode, iso, round_id_of
from infra.readmodels.view import Applied, Taken, View

NAME: Final = "audit"


def audit_partition(round_id: str) -> str:
    return f"audit#{round_id}"


def version_sort(version: int) -> str:
    """Zero-padded, so the sort key orders as the version does (and pages resume from one)."""
    return f"{version:010d}"


_STRINGS: dict[str, str] = {}
"""JSON strings by value: an event's type and actor repeat from event to event."""
_ENCODE_STRING: Final = json.JSONEncoder(ensure_ascii=False).encode


def _string(value: str) -> str:
    """A JSON string as `documents.encode` writes it inside a document."""
    text = _STRINGS.get(value)
    if text is None:
        if len(_STRINGS) >= 1024:
            _STRINGS.clear()
        text = _STRINGS[value] = _ENCODE_STRING(value)
    return text


def entry(recorded: RecordedEvent) -> str:
    """The event's audit entry, encoded: `encode` of {version, type, occurred_at, actor}.

    Written out, because the trail is one document per event: a replay writes as many
    entries as it reads events, and building and encoding a dict for each costs twice this.
    """
    metadata = recorded.metadata
    return (
        f'{{"version":{recorded.version},"type":{_string(recorded.event.type)},'
        f'"occurred_at":"{iso(metadata.occurred_at)}","actor":{_string(metadata.actor)}}}'
    )


class AuditView:
    name = NAME

    @property
    def fold_kind(self) -> AuditFolds:
        return AUDIT

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        round_id = round_id_of(recorded.stream_id)
        if round_id is None:
            return Applied(state)
        key = DocKey(audit_partition(round_id), version_sort(recorded.version))
        return Applied(state, {key: entry(recorded)})


class AuditFolds:
    def fold(self, views: Sequence[View], state: JsonObject | None, version: int) -> AuditFold:
        return AuditFold(len(views), state, version)


AUDIT: Final = AuditFolds()


class AuditFold:
    """A round's trail, an entry per event; the state (none) left as it was."""

    def __init__(self, views: int, state: JsonObject | None, version: int) -> None:
        self.version = version
        self._views = views
        self._state = state
        self._partition: str | None = None
        self._started = False  # the stream's partition is known from its first event
        self._writes: dict[DocKey, str | None] = {}
        self._bytes = 0

    def add(self, recorded: RecordedEvent) -> None:
        self.version = recorded.version
        if not self._started:
            self._started = True
            round_id = round_id_of(recorded.stream_id)
            self._partition = None if round_id is None else audit_partition(round_id)
        if self._partition is not None:
            text = entry(recorded)
            self._writes[DocKey(self._partition, f"{recorded.version:010d}")] = text
            self._bytes += len(text)

    def full(self, items: int, size: int) -> bool:
        return len(self._writes) >= items or self._bytes >= size

    def take(self) -> list[Taken]:
        state = None if self._state is None else encode(self._state)
        taken = [Taken(state, self._writes) for _ in range(self._views)]
        self._writes, self._bytes = {}, 0
        return taken
