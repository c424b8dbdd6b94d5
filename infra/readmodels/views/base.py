"""The two shapes of sheet-based views: a few documents per round, or one per agency."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod

from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, encode, round_id_of
from infra.readmodels.view import Applied
from infra.readmodels.views.sheet import Sheet, evolve


class RoundDocumentsView(ABC):
    """Derives its few documents per round whole from the sheet; writes only those that changed.

    Its state is the sheet and a digest of each document as last written, so telling what
    an event changed costs one encoding, not two.
    """

    name: str

    @abstractmethod
    def documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        """Every document of this view for one round."""

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        if round_id_of(recorded.stream_id) is None:
            return Applied(state)
        held = state or {"sheet": None, "written": {}}
        sheet, _ = evolve(held["sheet"], recorded.event)
        if sheet is None:
            return Applied(state)
        texts = {key: encode(doc) for key, doc in self.documents(sheet).items()}
        written = {_name(key): _digest(text) for key, text in texts.items()}
        writes: dict[DocKey, str | None] = {
            key: text
            for key, text in texts.items()
            if held["written"].get(_name(key)) != written[_name(key)]
        }
        writes.update(dict.fromkeys(_key(name) for name in held["written"].keys() - written.keys()))
        return Applied({"sheet": sheet, "written": written}, writes)


def _name(key: DocKey) -> str:
    return f"{key.partition}\n{key.sort}"


def _key(name: str) -> DocKey:
    partition, sort = name.split("\n", 1)
    return DocKey(partition, sort)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class AgencyRowsView(ABC):
    """One document per agency in a round; an event rewrites the rows of the agencies it touched."""

    name: str

    @abstractmethod
    def row(self, sheet: Sheet, org_number: str) -> tuple[DocKey, JsonObject]:
        """The key and document of one agency's row in this round."""

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        if round_id_of(recorded.stream_id) is None:
            return Applied(state)
        sheet, touched = evolve(state, recorded.event)
        if sheet is None:
            return Applied(None)
        rows = (self.row(sheet, org_number) for org_number in sorted(touched))
        return Applied(sheet, {key: encode(doc) for key, doc in rows})


def pair_facts(sheet: Sheet, org_number: str) -> JsonObject:
    """An agency's pair in the round, as the agency-level documents show it."""
    pair_id = sheet["agencies"][org_number].get("pair_id")
    pair = sheet["pairs"][pair_id] if pair_id else None
    if pair is None:
        return {
            "pair_id": None,
            "partners": [],
            "theme": None,
            "plan_submitted_at": None,
            "plan_late": None,
            "presented_at": None,
        }
    plan = pair["plan"]
    return {
        "pair_id": pair_id,
        "partners": [org for org in pair["org_numbers"] if org != org_number],
        "theme": pair["theme"],
        "plan_submitted_at": plan["submitted_at"] if plan else None,
        "plan_late": plan["late"] if plan else None,
        "presented_at": pair["presented_at"],
    }
