"""The rebuild's folds: any view folded through a stream — taken at any points, from any
checkpoint, alone or with the others of its kind — leaves the documents and the state that
applying the stream's events one by one does (what the projector does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from events import Event, PairFormed
from infra.eventstore import RecordedEvent
from infra.readmodels import VIEWS, DocKey, View
from infra.readmodels.documents import decode, encode, iso
from infra.readmodels.view import ApplyFold, Fold, fold_kind
from infra.readmodels.views.audit import entry
from infra.readmodels.views.base import RoundDocumentsView, sheet_of
from infra.readmodels.views.sheet import evolve
from tests.readmodels.given import recorded, stream
from tests.readmodels.scenario import scenario
from tests.support.event_examples import EXAMPLES

Documents = dict[DocKey, str]


def twisted_round() -> list[RecordedEvent]:
    """Every example event in one round stream, and what no domain rule lets happen: a pair
    formed again under its id with other agencies, a plan revised that was never submitted,
    the round scheduled a second time (a new sheet), then the examples once more."""
    examples = [event for name, event in EXAMPLES.items() if name != "RoundScheduled"]
    formed = EXAMPLES["PairFormed"]
    assert isinstance(formed, PairFormed)
    uhr = "202100-6487"
    again = formed.model_copy(update={"org_numbers": (uhr, formed.org_numbers[0])})
    applied_uhr = EXAMPLES["AgencyApplied"].model_copy(update={"org_number": uhr})
    scheduled = EXAMPLES["RoundScheduled"].model_copy(update={"round_id": "2018-7"})
    renumbered = scheduled.model_copy(update={"number": 8, "title": "Omgång 8"})
    events: list[Event] = [
        scheduled,
        *examples,
        applied_uhr,
        EXAMPLES["PairFormed"],
        again,
        EXAMPLES["PlanRevised"],
        renumbered,
        *examples,
    ]
    return stream("round-2018-7", *events)


def streams() -> list[list[RecordedEvent]]:
    return [scenario().stream(s) for s in scenario().stream_ids()] + [twisted_round()]


def applied(view: View, events: Sequence[RecordedEvent]) -> tuple[Documents, str | None]:
    """The documents and state of `view` after `events`, applied one by one."""
    documents: Documents = {}
    state = None
    for event in events:
        result = view.apply(state, event)
        state = result.state
        for key, text in result.writes.items():
            if text is None:
                documents.pop(key, None)
            else:
                documents[key] = text
    return documents, None if state is None else encode(state)


def folded(
    fold: Fold, documents: list[Documents], events: Sequence[RecordedEvent], every: int
) -> list[tuple[Documents, str | None]]:
    """The documents (from `documents`) and state of each view of `fold` after `events`."""
    states: list[str | None] = [None] * len(documents)
    for n, event in enumerate(events, start=1):
        fold.add(event)
        assert fold.version == event.version
        if n % every == 0 or n == len(events):
            for view, taken in enumerate(fold.take()):
                states[view] = taken.state
                for key, text in taken.writes.items():
                    if text is None:
                        documents[view].pop(key, None)
                    else:
                        documents[view][key] = text
    return list(zip(documents, states, strict=True))


def groups() -> list[list[View]]:
    """The views as the rebuild folds them: each kind's together; and each one alone."""
    kinds: dict[int, list[View]] = {}
    for view in VIEWS.values():
        kinds.setdefault(id(fold_kind(view)), []).append(view)
    return [*kinds.values(), *([view] for view in VIEWS.values())]


@pytest.mark.parametrize("every", [1, 4, 1000], ids=["after-each", "every-4", "once"])
@pytest.mark.parametrize("start", ["from-scratch", "from-half-way"])
@pytest.mark.parametrize("through", ["kind", "apply"])
def test_a_fold_equals_applying_the_events_one_by_one(start: str, every: int, through: str) -> None:
    for events in streams():
        half = 0 if start == "from-scratch" else len(events) // 2
        for views in groups():
            # GIVEN the views as a checkpoint left them half way (the projector's work)
            before = [applied(view, events[:half]) for view in views]
            (state,) = {state for _, state in before}  # views of a kind keep the same state
            kind = fold_kind(views[0])
            start_state = None if state is None else decode(state)
            fold: Fold = (
                kind.fold(views, start_state, half)
                if through == "kind" and kind is not None
                else ApplyFold(views, start_state, half)
            )
            # WHEN the rest of the stream is folded, taken now and then
            after = folded(fold, [dict(docs) for docs, _ in before], events[half:], every)
            # THEN each view has the documents and state of the events applied one by one
            for view, result in zip(views, after, strict=True):
                assert result == applied(view, events), (view.name, events[0].stream_id)


def test_a_fold_is_full_before_a_view_gathers_more_documents_than_asked() -> None:
    # GIVEN a round of 20 applications, each touching a row of its own
    applications = [
        EXAMPLES["AgencyApplied"].model_copy(update={"org_number": f"202100-{n:04d}"})
        for n in range(20)
    ]
    events = stream("round-2018-7", EXAMPLES["RoundScheduled"], *applications)
    for views in groups():
        kind = fold_kind(views[0])
        assert kind is not None
        fold = kind.fold(views, None, 0)
        # WHEN events are added until the fold says it is full at 5 documents
        for event in events:
            fold.add(event)
            if fold.full(5, 10**9):
                break
        # THEN no view has gathered more than 5 (so a commit never holds more than asked)
        assert max(len(taken.writes) for taken in fold.take()) <= 5, views


def test_an_audit_entry_is_the_encoded_envelope_facts_whatever_the_actor_writes() -> None:
    for actor in ("staff:programme-office", 'staff:Åsa "Q" Öberg\\n\t\x01', "webhook:typeform"):
        event = replace(recorded("round-2015-3", 7, EXAMPLES["AgencyAdmitted"]), version=12)
        event = replace(event, metadata=event.metadata.model_copy(update={"actor": actor}))
        facts = {
            "version": 12,
            "type": "AgencyAdmitted",
            "occurred_at": iso(event.metadata.occurred_at),
            "actor": actor,
        }
        assert entry(event) == encode(facts)
        assert decode(entry(event)) == facts


def test_a_round_view_reads_the_state_an_earlier_version_kept_as_its_sheet() -> None:
    # GIVEN a round documents view's state as kept before: the sheet and document digests
    events = scenario().stream(scenario().stream_ids()[0])
    sheet = None
    for event in events[:-1]:
        sheet, _ = evolve(sheet, event.event)
    assert sheet is not None
    legacy = {"sheet": decode(encode(sheet)), "written": {"round#x\noverview": "0" * 24}}
    for view in VIEWS.values():
        if isinstance(view, RoundDocumentsView):
            # THEN the view applies the next event to it as to the sheet alone
            assert sheet_of(legacy) == sheet
            from_legacy = view.apply(decode(encode(legacy)), events[-1])
            from_sheet = view.apply(decode(encode(sheet)), events[-1])
            assert from_legacy == from_sheet
