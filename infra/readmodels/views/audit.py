"""The audit trail of a round (`GET /rounds/{id}/events`): what happened, when, and who did it.

Only the envelope's facts: type, version, when it occurred and the actor. Never the payload,
so nothing personal (sealed or not) can reach it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from domain.streams import round_id_of
from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, encode, iso
from infra.readmodels.view import Applied, Taken, View

NAME: Final = "audit"


def audit_partition(round_id: str) -> str:
    return f"audit#{round_id}"


def version_sort(version: int) -> str:
    """Zero-padded, so the sort key orders as the version does (and pages resume from one)."""
    if 0 < version < _SORTS_KEPT:
        sorts = _SORTS
        while len(sorts) <= version:
            sorts.append(str(len(sorts)).zfill(10))
        return sorts[version]
    return str(version).zfill(10)


_SORTS_KEPT: Final = 100_000
_SORTS: list[str] = []
"""Sort keys by version, made once: every stream's trail has versions 1, 2, 3 and on, so a
replay stores the same few keys over and over (one text each, not one per document)."""
_new_key: Final = tuple.__new__
"""`_new_key(DocKey, (partition, sort))`: a `DocKey` without a call of its Python `__new__`."""


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
    return _entry(recorded, recorded.version)


def _entry(recorded: RecordedEvent, version: int) -> str:
    metadata = recorded.metadata
    strings = _STRINGS
    kind, actor = recorded.event.type, metadata.actor
    return (
        f'{{"version":{version},"type":{strings.get(kind) or _string(kind)},'
        f'"occurred_at":"{iso(metadata.occurred_at)}",'
        f'"actor":{strings.get(actor) or _string(actor)}}}'
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
        self.version = version = recorded.version
        if not self._started:
            self._started = True
            round_id = round_id_of(recorded.stream_id)
            self._partition = None if round_id is None else audit_partition(round_id)
        if self._partition is not None:
            text = _entry(recorded, version)
            self._writes[_new_key(DocKey, (self._partition, version_sort(version)))] = text
            self._bytes += len(text)

    def full(self, items: int, size: int) -> bool:
        return len(self._writes) >= items or self._bytes >= size

    def take(self) -> list[Taken]:
        state = None if self._state is None else encode(self._state)
        taken = [Taken(state, self._writes) for _ in range(self._views)]
        self._writes, self._bytes = {}, 0
        return taken
