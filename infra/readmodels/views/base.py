"""The two shapes of sheet-based views: a round's own documents and one per pair, or one
document per agency; either way an event writes only the documents it changed, however
large its round.

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
from infra.readmodels.views.sheet import (
    PAIR_EVENTS,
    STEPS,
    Sheet,
    Touched,
    evolve,
    pair_of,
    pairs_changed_by,
    upgraded,
)


def sheet_of(state: JsonObject | None) -> Sheet | None:
    """The sheet a round view's state holds (before, round documents views kept digests too)."""
    if state is not None and "written" in state and "sheet" in state:
        held: Sheet | None = state["sheet"]
        return held
    return state


PAIR: Final = "pair#"
"""Sort keys of a round's pair documents begin so (then the pair's place, in formation order)."""


def pair_sort(index: int) -> str:
    return f"{PAIR}{index:06d}"


class RoundDocumentsView(ABC):
    """Derives its documents of a round from the sheet: the round's own, and one per pair
    (so that what an event writes does not grow with the round); writes those that changed."""

    name: str

    @property
    def fold_kind(self) -> SheetFolds:
        return SHEET

    @abstractmethod
    def round_documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        """This view's documents of the round itself (a few, small)."""

    @abstractmethod
    def pair_document(self, sheet: Sheet, pair_id: str, pair: JsonObject) -> JsonObject | None:
        """This view's document of one pair (None: the view shows none for it)."""

    @abstractmethod
    def pair_partition(self, sheet: Sheet) -> str:
        """The partition of the round's pair documents (that of its main document)."""

    def documents(self, sheet: Sheet, pair_ids: Touched | None = None) -> dict[DocKey, JsonObject]:
        """The round's documents, and those of `pair_ids` (None: every pair's)."""
        documents = self.round_documents(sheet)
        partition = self.pair_partition(sheet)
        pairs: dict[str, JsonObject] = sheet["pairs"]
        if pair_ids is None:
            chosen = list(enumerate(pairs.items()))
        else:
            places = {pair_id: n for n, pair_id in enumerate(pairs) if pair_id in pair_ids}
            chosen = [(n, (pair_id, pairs[pair_id])) for pair_id, n in places.items()]
        for n, (pair_id, pair) in chosen:
            document = self.pair_document(sheet, pair_id, pair)
            if document is not None:
                documents[DocKey(partition, pair_sort(n))] = document
        return documents

    def pair_keys(self, sheet: Sheet, pair_ids: Touched) -> set[DocKey]:
        """Where the documents of `pair_ids` are (or would be)."""
        partition = self.pair_partition(sheet)
        return {
            DocKey(partition, pair_sort(n))
            for n, pair_id in enumerate(sheet["pairs"])
            if pair_id in pair_ids
        }

    def texts(self, sheet: Sheet | None, pair_ids: Touched | None = None) -> dict[DocKey, str]:
        """The documents of `documents`, encoded (none before the round is scheduled)."""
        if sheet is None:
            return {}
        return {key: encode(document) for key, document in self.documents(sheet, pair_ids).items()}

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        if round_id_of(recorded.stream_id) is None:
            return Applied(state)
        sheet = sheet_of(state)
        event = recorded.event
        # Encoded before the event: the documents share lists and maps with the sheet,
        # which the event changes in place. A sheet of an earlier layout has none of these
        # documents stored (its round's are all written now, over those it had).
        stored = sheet is not None and not upgraded(sheet)
        pair_ids = pairs_changed_by(sheet, event) if stored and sheet is not None else None
        before = self.texts(sheet, pair_ids) if stored else {}
        after, _ = evolve(sheet, event)
        if after is None:
            return Applied(state)
        if after is not sheet and pair_ids is not None:  # a new sheet: every pair, old and new
            pair_ids = None
            before = self.texts(sheet) if stored else {}
        return Applied(after, changed(before, self.texts(after, pair_ids)))


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
        # Pair documents a round documents view may write when taken: of pairs events
        # changed, and of every pair of a sheet replaced or of an earlier layout.
        self._pairs: set[str] = set()
        self._whole = 0
        self._replaced = False
        stored = sheet is not None and not upgraded(sheet)  # else its documents are all due
        if sheet is not None and not stored:
            self._whole = len(sheet["pairs"])
            self._replaced = True
        self._written = [
            view.texts(sheet) if stored and isinstance(view, RoundDocumentsView) else {}
            for view in views
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
            if type(event) in PAIR_EVENTS and (pair_id := pair_of(event)) is not None:
                self._pairs.add(pair_id)
            return
        sheet, touched = evolve(self._sheet, event)
        if sheet is not self._sheet:  # a round scheduled (again): every document anew
            self._replaced = True
            if self._sheet is not None:
                self._whole += len(self._sheet["pairs"])
                if self._touched:
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
        # A round documents view writes its round's few and those of pairs changed; an agency
        # rows view, a row per agency touched (a pair event touches its agencies too).
        rows = len(self._touched) + self._kept
        return rows + len(self._pairs) + self._whole >= items

    def take(self) -> list[Taken]:
        sheet = self._sheet
        state = None if sheet is None else encode(sheet)
        taken: list[Taken] = []
        scope: set[str] | None = None  # the pairs whose documents may have changed
        if sheet is not None and not self._whole and not self._replaced:
            touched = self._touched
            scope = set(self._pairs)
            scope.update(
                pair_id
                for pair_id, pair in sheet["pairs"].items()
                if not touched.isdisjoint(pair["org_numbers"])
            )
        for n, view in enumerate(self._views):
            if isinstance(view, RoundDocumentsView):
                written = self._written[n]
                if sheet is None or scope is None:
                    texts = view.texts(sheet)
                    writes = changed(written, texts)
                    self._written[n] = texts
                else:
                    texts = view.texts(sheet, scope)
                    keys = view.pair_keys(sheet, scope) | texts.keys()  # texts: the round's too
                    writes = changed({k: written[k] for k in keys if k in written}, texts)
                    for key, text in writes.items():
                        if text is None:
                            del written[key]
                        else:
                            written[key] = text
            else:
                writes = self._rows[n]
                if sheet is not None and self._touched:
                    writes.update(view.rows(sheet, self._touched))
                self._rows[n] = {}
            taken.append(Taken(state, writes))
        self._touched = set()
        self._kept = 0
        self._pairs = set()
        self._whole = 0
        self._replaced = False
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
