"""The views as specifications: given a round's events, then these documents (in memory)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

from events import (
    AgencyApplied,
    ApplicationsClosed,
    ApplicationsOpened,
    Event,
    RoundCancelled,
    RoundRescheduled,
    RoundScheduled,
    RoundStarted,
)
from infra.eventstore import RecordedEvent
from infra.readmodels import VIEWS, DocKey, InMemoryReadModelStore, JsonObject, Target
from infra.readmodels.documents import decode
from infra.readmodels.views import agencies, audit, pairs, participation, plans, refusals, rounds
from tests.readmodels.given import document, documents, projected, stream
from tests.readmodels.scenario import (
    KBV,
    LST,
    ROUND_3,
    ROUND_4,
    SKV,
    UHR,
    UNKNOWN_ROUND,
    scenario,
)
from tests.support.event_examples import EXAMPLES, sealed


@cache
def everything() -> InMemoryReadModelStore:
    """The whole scenario, projected once (the views are pure: every test may share it)."""
    return projected(scenario().events)


def scheduled(round_id: str = "2017-5", number: int = 5) -> RoundScheduled:
    example = EXAMPLES["RoundScheduled"]
    assert isinstance(example, RoundScheduled)
    return example.model_copy(update={"round_id": round_id, "number": number})


# Round overview and summaries


def test_a_scheduled_round_shows_its_dates_and_capacity_and_nobody_yet() -> None:
    # GIVEN only the scheduling of a round
    store = projected(stream("round-2017-5", scheduled()))
    # THEN its overview is `scheduled`, with the five dates and no figures yet
    overview = document(store, "rounds", rounds.overview_key("2017-5"))
    assert overview is not None
    assert overview["state"] == "scheduled"
    assert overview["plan_due_at"] == "2015-10-30T00:00:00Z"
    assert (overview["capacity"], overview["applied"], overview["admitted"]) == (12, 0, 0)
    assert overview["pairs"] == []
    assert overview["participants_by_role"] == {"director_general": 0, "leadership_member": 0}


def test_the_round_state_follows_each_transition_and_a_cancellation() -> None:
    # GIVEN a round taken through its transitions, one event at a time
    transitions: list[tuple[Event, str]] = [
        (ApplicationsOpened(due_at=datetime(2015, 1, 12, tzinfo=UTC)), "open"),
        (ApplicationsClosed(due_at=datetime(2015, 2, 13, tzinfo=UTC), applications=0), "selection"),
        (
            RoundStarted(due_at=datetime(2015, 3, 2, tzinfo=UTC), admitted=(), unpaired=()),
            "running",
        ),
        (RoundCancelled(reason="Too few applicants"), "cancelled"),
    ]
    events: list[Event] = [scheduled()]
    for event, state in transitions:
        events.append(event)
        store = projected(stream("round-2017-5", *events))
        # THEN the overview and the summary name the state after each
        overview = document(store, "rounds", rounds.overview_key("2017-5"))
        summary = document(store, "rounds", rounds.summary_key(5, "2017-5"))
        assert overview is not None
        assert summary is not None
        assert overview["state"] == summary["state"] == state


def test_a_reschedule_moves_the_dates_the_round_shows() -> None:
    moved = RoundRescheduled(
        **{
            **EXAMPLES["RoundRescheduled"].model_dump(),
            "closes_at": datetime(2016, 1, 8, tzinfo=UTC),
        }
    )
    store = projected(stream("round-2017-5", scheduled(), moved))
    overview = document(store, "rounds", rounds.overview_key("2017-5"))
    assert overview is not None
    assert overview["closes_at"] == "2016-01-08T00:00:00Z"
    assert overview["application_closes_at"] == "2015-02-20T00:00:00Z"


def test_round_3_is_closed_with_six_agencies_admitted_in_three_pairs_with_plans_in_on_time() -> (
    None
):
    overview = document(everything(), "rounds", rounds.overview_key(ROUND_3))
    assert overview is not None
    assert overview["state"] == "closed"
    assert (overview["applied"], overview["admitted"]) == (6, 6)
    assert overview["participants_by_role"] == {"director_general": 6, "leadership_member": 0}
    assert [(p["org_numbers"], p["theme"]) for p in overview["pairs"]] == [
        ([a, b], theme)
        for (a, b), theme in (
            (("202100-5448", "202100-0225"), "intern samverkan och vi-känsla"),
            (("202100-4870", "202100-6487"), "digitalisering"),
            ((KBV, LST), "attraktiv arbetsgivare"),
        )
    ]
    assert {p["plan_status"] for p in overview["pairs"]} == {"submitted"}


def test_applied_counts_every_agency_that_applied_and_admitted_only_those_admitted() -> None:
    # GIVEN round 4: four applied, one withdrew, two admitted, one waitlisted
    overview = document(everything(), "rounds", rounds.overview_key(ROUND_4))
    assert overview is not None
    assert (overview["applied"], overview["admitted"]) == (4, 2)
    # AND nominated people are counted by role, never listed
    assert overview["participants_by_role"] == {"director_general": 1, "leadership_member": 1}
    # AND the dissolved pair is gone from the overview, the late plan shows as late
    assert overview["pairs"] == [
        {
            "pair_id": "pair-2",
            "org_numbers": [SKV, UHR],
            "theme": "digitalisering",
            "plan_status": "late",
        }
    ]


def test_the_round_summaries_are_one_query_in_round_number_order() -> None:
    store = everything()
    found = list(store.documents(Target("rounds", 1), rounds.SUMMARIES))
    numbers = [(summary["number"], summary["pair_count"]) for summary in map(_json, found)]
    assert numbers == [(3, 3), (4, 1)]


# Pairs and themes


def test_pairs_keep_a_dissolved_pair_with_its_reason_and_themes_list_active_pairs() -> None:
    doc = document(everything(), "pairs", pairs.pairs_key(ROUND_4))
    assert doc is not None
    by_id = {pair["pair_id"]: pair for pair in doc["pairs"]}
    assert by_id["pair-1"]["status"] == "dissolved"
    assert by_id["pair-1"]["dissolved_reason"] == "Fel tema"
    assert by_id["pair-1"]["plan_status"] is None
    assert by_id["pair-2"]["agencies"] == [
        {"org_number": SKV, "agency_name": "Skatteverket"},
        {"org_number": UHR, "agency_name": "Universitets- och högskolerådet"},
    ]
    assert (by_id["pair-2"]["plan_title"], by_id["pair-2"]["plan_revision"]) == (
        "Digital delaktighet, reviderad",
        2,
    )
    assert doc["themes"] == [
        {"theme": "digitalisering", "pair_ids": ["pair-2"]},
        {"theme": "delaktighet", "pair_ids": []},
    ]


# Plan timeliness


def test_a_late_plan_counts_whole_days_late_with_a_part_of_a_day_as_one() -> None:
    # GIVEN round 4's plan, due 28 Oct 17:00 and in on 2 Nov 09:00 (4 days 16 hours late)
    doc = document(everything(), "plans", plans.plans_key(ROUND_4))
    assert doc is not None
    (plan,) = doc["plans"]
    assert plan["status"] == "late"
    assert plan["late"] is True
    assert plan["days_late"] == 5
    # AND a revision keeps the first submission's time and lateness
    assert plan["submitted_at"] == "2016-11-02T09:00:00Z"
    assert (plan["revision"], plan["revised_at"]) == (2, "2016-11-20T00:00:00Z")


def test_plans_in_on_time_are_zero_days_late() -> None:
    doc = document(everything(), "plans", plans.plans_key(ROUND_3))
    assert doc is not None
    assert [(p["status"], p["days_late"]) for p in doc["plans"]] == [("submitted", 0)] * 3
    assert doc["deadline_passed"] is True


def test_a_pair_without_a_plan_is_pending_and_overdue_once_the_deadline_passed() -> None:
    # GIVEN round 4 up to its reminder, then up to the deadline passing
    round_4 = scenario().stream(f"round-{ROUND_4}")
    types = [r.event.type for r in round_4]
    before_deadline = round_4[: types.index("PlanDeadlinePassed")]
    after_deadline = round_4[: types.index("PlanDeadlinePassed") + 1]
    # THEN the plan is pending before, and overdue after
    for events, status in ((before_deadline, "pending"), (after_deadline, "overdue")):
        doc = document(projected(events), "plans", plans.plans_key(ROUND_4))
        assert doc is not None
        assert [(p["status"], p["submitted_at"], p["days_late"]) for p in doc["plans"]] == [
            (status, None, None)
        ]


# Agency history and participation


def test_an_agencys_history_holds_every_round_it_applied_to_in_round_order() -> None:
    store = everything()
    history = [_json(text) for _, text in store.documents(Target("agencies", 1), f"agency#{SKV}")]
    assert [(h["round_number"], h["status"], h["pair_id"], h["theme"]) for h in history] == [
        (3, "admitted", "pair-1", "intern samverkan och vi-känsla"),
        (4, "admitted", "pair-2", "digitalisering"),
    ]
    assert history[1]["partners"] == [UHR]
    assert history[1]["case_number"] == "ESV 2016/7"
    assert history[1]["plan_late"] is True


def test_a_withdrawn_or_waitlisted_agency_keeps_its_row_without_a_pair() -> None:
    store = everything()
    rows = {
        doc["org_number"]: doc
        for key, doc in documents(store, "participation").items()
        if doc["round_id"] == ROUND_4
    }
    assert {org: rows[org]["status"] for org in (KBV, LST)} == {
        KBV: "withdrawn",
        LST: "waitlisted",
    }
    assert rows[KBV]["pair_id"] is None
    assert rows[KBV]["presented"] is False


def test_participation_has_one_row_per_round_and_agency_in_round_order() -> None:
    found = list(everything().documents(Target("participation", 1), participation.ROWS))
    keys = [(row["round_number"], row["org_number"]) for row in map(_json, found)]
    assert len(keys) == 6 + 4 == len(set(keys))
    assert keys == sorted(keys)
    round_3 = [row for row in map(_json, found) if row["round_id"] == ROUND_3]
    assert all(row["presented"] and row["plan_late"] is False for row in round_3)


# Audit trail and refusals


def test_the_audit_trail_holds_type_version_time_and_actor_of_each_event_only() -> None:
    trail = [
        _json(text)
        for _, text in everything().documents(Target("audit", 1), audit.audit_partition(ROUND_3))
    ]
    assert [entry["version"] for entry in trail] == list(range(1, len(trail) + 1))
    assert {tuple(entry) for entry in trail} == {("version", "type", "occurred_at", "actor")}
    assert trail[0] == {
        "version": 1,
        "type": "RoundScheduled",
        "occurred_at": "2014-09-01T09:00:00Z",
        "actor": "staff:programme-office",
    }


def test_refusals_are_listed_from_round_streams_and_for_rounds_that_do_not_exist() -> None:
    store = everything()
    every = [_json(t) for _, t in store.documents(Target("refusals", 1), refusals.ALL)]
    assert [(r["round_id"], r["agency_name"], r["rule"]) for r in every] == [
        (ROUND_3, "Ekonomistyrningsverket", "ensure_not_organiser"),
        (UNKNOWN_ROUND, "Myndigheten för digital förvaltning", "ensure_round_exists"),
    ]
    unknown = list(store.documents(Target("refusals", 1), refusals.round_partition(UNKNOWN_ROUND)))
    assert [_json(text)["org_number"] for _, text in unknown] == ["202100-5449"]


# Writing only what changed


def test_an_event_rewrites_only_the_documents_it_changed() -> None:
    # GIVEN round 4 projected up to its plan reminder
    round_4 = scenario().stream(f"round-{ROUND_4}")
    types = [r.event.type for r in round_4]
    at = types.index("PlanReminderIssued")
    store = projected(round_4[:at])
    checkpoints = store.checkpoints(f"round-{ROUND_4}")

    def writes(name: str, event: RecordedEvent) -> set[DocKey]:
        state = checkpoints[Target(name, 1)].state
        return set(VIEWS[name].apply(decode(state) if state else None, event).writes)

    # WHEN the reminder comes (it changes no document), or instead one more nomination
    reminder = round_4[at]
    nomination = replace(round_4[types.index("ParticipantNominated")], version=at + 1)
    # THEN the reminder writes only its audit entry, and a nomination only the overview
    assert {name: keys for name in VIEWS if (keys := writes(name, reminder))} == {
        "audit": {DocKey(audit.audit_partition(ROUND_4), audit.version_sort(at + 1))}
    }
    assert {name: keys for name in VIEWS if (keys := writes(name, nomination))} == {
        "rounds": {rounds.overview_key(ROUND_4)},
        "audit": {DocKey(audit.audit_partition(ROUND_4), audit.version_sort(at + 1))},
    }


# Streams that are not rounds


def test_a_subject_stream_changes_no_document_yet_every_view_checkpoints_it() -> None:
    # GIVEN an erasure in a subject stream, after everything else
    subject_stream = scenario().stream_ids()[-1]
    before = projected(e for e in scenario().events if e.stream_id != subject_stream)
    after = everything()
    # THEN no view's documents changed, and every view has applied the subject stream
    for name in VIEWS:
        assert documents(after, name) == documents(before, name)
    assert {t.view for t in after.checkpoints(subject_stream)} == set(VIEWS)


def test_an_application_to_a_round_never_scheduled_is_ignored_but_checkpointed() -> None:
    # GIVEN a stream whose first event is not RoundScheduled (nothing to attach it to)
    orphan = stream("round-orphan", EXAMPLES["AgencyApplied"])
    store = projected(orphan)
    # THEN only the audit trail shows it, yet every view moved past it
    assert [name for name in VIEWS if documents(store, name)] == ["audit"]
    assert {cp.version for cp in store.checkpoints("round-orphan").values()} == {1}


def test_an_agency_applying_again_keeps_one_row_with_its_latest_name() -> None:
    first = AgencyApplied(
        org_number=SKV,
        agency_name="Skatteverket (gamla)",
        director_general=sealed(1),
        contact=sealed(2),
        themes=("digitalisering",),
        submitted_at=datetime(2015, 1, 20, tzinfo=UTC),
        source="forms",
    )
    second = first.model_copy(
        update={"agency_name": "Skatteverket", "submitted_at": first.submitted_at + timedelta(1)}
    )
    store = projected(stream("round-2017-5", scheduled(), first, second))
    rows = documents(store, "participation")
    assert [row["agency_name"] for row in rows.values()] == ["Skatteverket"]
    assert document(store, "agencies", _agency_key(SKV, 5, "2017-5")) is not None


def _agency_key(org: str, number: int, round_id: str) -> DocKey:
    return DocKey(agencies.agency_partition(org), f"{number:06d}#{round_id}")


def _json(item: tuple[str, str] | str) -> JsonObject:
    """A stored document, from its text or its (sort key, text)."""
    return decode(item[1] if isinstance(item, tuple) else item)
