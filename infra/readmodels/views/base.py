"""The two shapes of sheet-based views: a few documents per round, or one per agency.

Both keep the round's sheet as their state, and nothing else: the five round views keep the
same state, which the DynamoDB store then stores once per stream. The rebuild folds them
together (`SHEET`): the sheet is evolved once per event for all five, and their documents
are derived from it when the fold is taken.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Final

from pydantic_core import to_json

from domain.streams import round_id_of
from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, encode
from infra.readmodels.view import Applied, Taken, View
from infra.readmodels.views.sheet import STEPS, Sheet, Touched, evolve


def sheet_of(state: JsonObject | None) -> Sheet | None:
    """The sheet a round view's state holds (before, round documents views kept digests too)."""
    if state is not None and "written" in state and "sheet" in state:
        held: Sheet | None = state["sheet"]
        return held
    return state


class RoundDocumentsView(ABC):
    """Derives its few documents per round whole from the sheet; writes only those that changed."""

    name: str

    @property
    def fold_kind(self) -> SheetFolds:
        return SHEET

    @abstractmethod
    def documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        """Every document of this view for one round."""

    def texts(self, sheet: Sheet | None) -> dict[DocKey, str]:
        """Every document of this view for one round, encoded (none before it is scheduled)."""
        if sheet is None:
            return {}
        return {key: encode(document) for key, document in self.documents(sheet).items()}

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        if round_id_of(recorded.stream_id) is None:
            return Applied(state)
        sheet = sheet_of(state)
        # Encoded before the event: the documents share lists and maps with the sheet,
        # which the event changes in place.
        before = self.texts(sheet)
        sheet, _ = evolve(sheet, recorded.event)
        if sheet is None:
            return Applied(state)
        return Applied(sheet, changed(before, self.texts(sheet)))


def changed(before: dict[DocKey, str], after: dict[DocKey, str]) -> dict[DocKey, str | None]:
    """The writes that turn documents `before` into `after`: new or changed texts, deletions."""
    writes: dict[DocKey, str | None] = {
        key: text for key, text in after.items() if before.get(key) != text
    }
    writes.update(dict.fromkeys(before.keys() - after.keys()))
    return writes


class AgencyRowsView(ABC):
    """One document per agency in a round; an event rewrites the rows of the agencies it touched."""

    name: str

    @property
    def fold_kind(self) -> SheetFolds:
        return SHEET

    @abstractmethod
    def row(self, sheet: Sheet, org_number: str) -> tuple[DocKey, JsonObject]:
        """The key and document of one agency's row in this round."""

    def rows(self, sheet: Sheet, org_numbers: Touched) -> dict[DocKey, str | None]:
        row = self.row
        rows: dict[DocKey, str | None] = {}
        for org_number in sorted(org_numbers):
            key, document = row(sheet, org_number)
            rows[key] = to_json(document).decode()  # `encode`, without its call
        return rows

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        if round_id_of(recorded.stream_id) is None:
            return Applied(state)
        sheet, touched = evolve(state, recorded.event)
        if sheet is None:
            return Applied(None)
        return Applied(sheet, self.rows(sheet, touched))


SheetView = RoundDocumentsView | AgencyRowsView


class SheetFolds:
    """The fold kind of every sheet-based view."""

    def fold(self, views: Sequence[View], state: JsonObject | None, version: int) -> SheetFold:
        sheet_views = [view for view in views if isinstance(view, SheetView)]
        if len(sheet_views) != len(views):
            raise TypeError("only sheet-based views fold as a sheet")
        return SheetFold(sheet_views, sheet_of(state), version)


SHEET: Final = SheetFolds()


class SheetFold:
    """One round's sheet folded once for several views; their documents derived when taken.

    A round documents view writes what differs from its documents when last taken; an agency
    rows view, the rows of every agency an event touched since (as each event would have).
    """

    def __init__(self, views: Sequence[SheetView], sheet: Sheet | None, version: int) -> None:
        self.version = version
        self._views = views
        self._sheet = sheet
        self._round: bool | None = None  # whether the stream is a round's: known at its first event
        self._touched: set[str] = set()
        # Rows of agencies touched before the sheet was replaced (a round scheduled again).
        self._rows: list[dict[DocKey, str | None]] = [{} for _ in views]
        self._kept = 0  # the most rows any view keeps in `_rows`
        self._written = [
            view.texts(sheet) if isinstance(view, RoundDocumentsView) else {} for view in views
        ]

    def add(self, recorded: RecordedEvent) -> None:
        self.version = recorded.version
        if self._round is None:
            self._round = round_id_of(recorded.stream_id) is not None
        if not self._round:
            return
        event = recorded.event
        if self._sheet is not None and (step := STEPS.get(type(event))) is not None:
            # `evolve` inlined, for the events that change the sheet in place (most of them).
            if touched := step(self._sheet, event):
                self._touched |= touched
            return
        sheet, touched = evolve(self._sheet, event)
        if sheet is not self._sheet and self._sheet is not None and self._touched:
            self._keep_rows(self._sheet)
        self._sheet = sheet
        if touched:
            self._touched |= touched

    def _keep_rows(self, sheet: Sheet) -> None:
        """The rows touched so far, from the sheet as it stood (it is being replaced)."""
        for view, rows in zip(self._views, self._rows, strict=True):
            if isinstance(view, AgencyRowsView):
                rows.update(view.rows(sheet, self._touched))
                self._kept = max(self._kept, len(rows))
        self._touched = set()

    def full(self, items: int, size: int) -> bool:
        # A round documents view writes a few documents at most; the rows grow with agencies.
        return len(self._touched) + self._kept >= items

    def take(self) -> list[Taken]:
        sheet = self._sheet
        state = None if sheet is None else encode(sheet)
        taken: list[Taken] = []
        for n, view in enumerate(self._views):
            if isinstance(view, RoundDocumentsView):
                texts = view.texts(sheet)
                writes = changed(self._written[n], texts)
                self._written[n] = texts
            else:
                writes = self._rows[n]
                if sheet is not None and self._touched:
                    writes.update(view.rows(sheet, self._touched))
                self._rows[n] = {}
            taken.append(Taken(state, writes))
        self._touched = set()
        self._kept = 0
        return taken


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
