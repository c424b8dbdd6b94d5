"""A round's overview, pairs and plans are stored as the round's own document and one per
pair, so that an event writes what it changed; the reader puts them together into exactly
what the whole-round documents said (their derivation from the sheet is kept here, as
the specification), after any event of any stream, and over documents an earlier layout
stored until the round's next event writes them anew."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.eventstore import RecordedEvent
from infra.readmodels import (
    VIEWS,
    Checkpoint,
    Commit,
    DocKey,
    InMemoryReadModelStore,
    JsonObject,
    Projector,
    Target,
)
from infra.readmodels.documents import decode, encode
from infra.readmodels.reader import ReadModels
from infra.readmodels.views import pairs, plans, rounds
from infra.readmodels.views.base import PAIR
from infra.readmodels.views.sheet import Sheet, active_pairs, evolve, plan_status
from tests.readmodels.given import projected
from tests.readmodels.scenario import scenario
from tests.readmodels.test_folds import twisted_round


def whole_overview(sheet: Sheet) -> JsonObject:
    basics = rounds.summary(sheet)
    del basics["pair_count"]
    return {
        **basics,
        "themes": sheet["themes"],
        "participants_by_role": sheet["roles"],
        "pairs": [
            {
                "pair_id": pair_id,
                "org_numbers": pair["org_numbers"],
                "theme": pair["theme"],
                "plan_status": plan_status(pair, sheet["deadline_passed"]),
            }
            for pair_id, pair in active_pairs(sheet)
        ],
    }


def whole_pairs(sheet: Sheet) -> JsonObject:
    agencies = sheet["agencies"]
    deadline_passed = sheet["deadline_passed"]
    listed = [
        {
            "pair_id": pair_id,
            "org_numbers": pair["org_numbers"],
            "agencies": [
                {"org_number": org, "agency_name": agencies[org]["agency_name"]}
                for org in pair["org_numbers"]
            ],
            "theme": pair["theme"],
            "status": "dissolved" if pair["dissolved"] else "active",
            "dissolved_reason": pair["dissolved_reason"],
            "plan_status": None if pair["dissolved"] else plan_status(pair, deadline_passed),
            "plan_title": pair["plan"]["title"] if pair["plan"] else None,
            "plan_revision": pair["plan"]["revision"] if pair["plan"] else None,
            "presented_at": pair["presented_at"],
        }
        for pair_id, pair in sheet["pairs"].items()
    ]
    themes = list(sheet["themes"])
    themes += sorted({pair["theme"] for pair in sheet["pairs"].values()} - set(themes))
    active = active_pairs(sheet)
    by_theme = [
        {"theme": theme, "pair_ids": [pair_id for pair_id, p in active if p["theme"] == theme]}
        for theme in themes
    ]
    return {"round_id": sheet["round_id"], "themes": by_theme, "pairs": listed}


def whole_plans(sheet: Sheet) -> JsonObject:
    due_at = sheet["dates"]["plan_due_at"]
    listed = []
    for pair_id, pair in active_pairs(sheet):
        plan = pair["plan"] or {}
        listed.append(
            {
                "pair_id": pair_id,
                "org_numbers": pair["org_numbers"],
                "theme": pair["theme"],
                "status": plan_status(pair, sheet["deadline_passed"]),
                "due_at": plan.get("due_at", due_at),
                "submitted_at": plan.get("submitted_at"),
                "revision": plan.get("revision"),
                "revised_at": plan.get("revised_at"),
                "late": plan.get("late"),
                "days_late": plan.get("days_late"),
            }
        )
    return {
        "round_id": sheet["round_id"],
        "plan_due_at": due_at,
        "deadline_passed": sheet["deadline_passed"],
        "plans": listed,
    }


WHOLE: dict[str, Callable[[Sheet], JsonObject]] = {
    rounds.NAME: whole_overview,
    pairs.NAME: whole_pairs,
    plans.NAME: whole_plans,
}


def answers(store: InMemoryReadModelStore, round_id: str) -> dict[str, JsonObject | None]:
    reader = ReadModels(store)
    return {
        rounds.NAME: reader.round(round_id),
        pairs.NAME: reader.pairs(round_id),
        plans.NAME: reader.plans(round_id),
    }


def round_streams() -> list[list[RecordedEvent]]:
    found = [scenario().stream(s) for s in scenario().stream_ids() if s.startswith("round-")]
    return [*found, twisted_round()]


def test_the_reader_answers_what_the_whole_round_documents_said_after_every_event() -> None:
    for events in round_streams():
        store = projected([])
        sheet: Sheet | None = None
        for n, event in enumerate(events, start=1):
            # WHEN the stream is projected up to this event
            store = projected(events[:n])
            sheet, _ = evolve(sheet, event.event)
            round_id = sheet["round_id"] if sheet else None
            if sheet is None or round_id is None:
                continue
            # THEN the reader's overview, pairs and plans are the whole documents of the sheet
            expected = {name: decode(encode(whole(sheet))) for name, whole in WHOLE.items()}
            assert answers(store, round_id) == expected, (event.stream_id, n)


def test_an_event_writes_the_document_of_one_pair_at_most() -> None:
    for events in round_streams():
        states: dict[str, JsonObject | None] = dict.fromkeys(WHOLE)
        for event in events[:-1]:
            for name in WHOLE:
                # WHEN each event is applied in turn
                applied = VIEWS[name].apply(states[name], event)
                states[name] = applied.state
                # THEN it wrote the document of one pair at most (a new sheet aside)
                if event.event.type != "RoundScheduled":
                    pair_writes = [key for key in applied.writes if key.sort.startswith(PAIR)]
                    assert len(pair_writes) <= 1, (name, event.version, event.event.type)


@pytest.mark.parametrize("at", [5, 14, 19, -1])
def test_documents_of_the_earlier_layout_are_read_then_written_anew_by_the_next_event(
    at: int,
) -> None:
    # GIVEN round 3 projected up to an event by the code before, which stored the whole
    # documents and a sheet without a layout
    events = scenario().stream(scenario().stream_ids()[0])
    if at < 0:
        at = len(events) - 1
    stream_id = events[0].stream_id
    store, sheet = aged(projected(events[:at]), stream_id, at)
    round_id = sheet["round_id"]
    expected = {name: decode(encode(whole(sheet))) for name, whole in WHOLE.items()}
    # THEN the reader answers what those documents say
    assert answers(store, round_id) == expected
    # AND WHEN the next event comes, the reader answers what a projection from scratch does
    Projector(VIEWS.values(), store).project(events[at])
    fresh = projected(events[: at + 1])
    assert answers(store, round_id) == answers(fresh, round_id)
    for name in VIEWS:
        target = Target(name, 1)
        assert sorted(store.items(target)) == sorted(fresh.items(target)), name
        assert store.checkpoints(stream_id)[target] == fresh.checkpoints(stream_id)[target]


def aged(
    projection: InMemoryReadModelStore, stream_id: str, version: int
) -> tuple[InMemoryReadModelStore, Sheet]:
    """A store of the stream's documents and states as the whole-document layout left them."""
    checkpoints = projection.checkpoints(stream_id)
    state = checkpoints[Target(rounds.NAME, 1)].state
    assert state is not None
    sheet: Sheet = decode(state)
    del sheet["layout"]
    keys = {
        rounds.NAME: rounds.overview_key(sheet["round_id"]),
        pairs.NAME: pairs.pairs_key(sheet["round_id"]),
        plans.NAME: plans.plans_key(sheet["round_id"]),
    }
    store = InMemoryReadModelStore()
    commits = []
    for target, checkpoint in checkpoints.items():
        writes: dict[DocKey, str | None] = {
            key: text
            for key, text in projection.items(target)
            if not (target.view in WHOLE and key.partition == keys[target.view].partition)
        }
        if target.view in WHOLE:
            writes[keys[target.view]] = encode(WHOLE[target.view](sheet))
        kept = None if checkpoint.state is None else encode(sheet)
        commits.append(Commit(target, stream_id, 0, Checkpoint(version, kept), writes))
    store.commit(commits)
    return store, sheet
