"""The reporting queries over the read models the projector wrote from real stream records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.common import bootstrap
from programme.round3 import data as r3
from tests.readmodels.published import Answer, Published, get, published_scenario
from tests.readmodels.scenario import KBV, LST, ROUND_3, ROUND_4, SKV, UHR, UNKNOWN_ROUND, scenario

ROUTES = [
    "/rounds",
    f"/rounds/{ROUND_3}",
    f"/rounds/{ROUND_3}/pairs",
    f"/rounds/{ROUND_4}/plans",
    f"/rounds/{ROUND_3}/events",
    f"/agencies/{SKV}",
    "/reports/participation.csv",
    "/refusals",
    "/health",
]


@pytest.fixture(scope="module")
def published() -> Iterator[Published]:
    with published_scenario() as stack:
        yield stack


@pytest.fixture
def calls(published: Published) -> Iterator[list[tuple[str, str]]]:
    """(operation, table) of every DynamoDB call the queries make during a test."""
    made: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        made.append((model.name, params.get("TableName", "")))

    events = bootstrap.dynamodb_client().meta.events
    events.register("provide-client-params.dynamodb.*", record)
    yield made
    events.unregister("provide-client-params.dynamodb.*", record)


def ok(path: str, query: dict[str, str] | None = None) -> Any:
    answer = get(path, query)
    assert answer.status == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    return answer.json()


def assert_problem(answer: Answer, status: int) -> dict[str, Any]:
    assert answer.status == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    return problem


# Rounds


def test_the_rounds_are_listed_in_round_number_order(published: Published) -> None:
    rounds = ok("/rounds")["rounds"]
    assert [
        (r["round_id"], r["state"], r["applied"], r["admitted"], r["pair_count"]) for r in rounds
    ] == [
        (ROUND_3, "closed", 6, 6, 3),
        (ROUND_4, "running", 4, 2, 1),
    ]
    assert rounds[0]["plan_due_at"] == "2015-10-30T17:00:00Z"


def test_a_round_shows_its_state_dates_capacity_figures_and_pairs(published: Published) -> None:
    round_3 = ok(f"/rounds/{ROUND_3}")
    assert round_3["round_id"] == ROUND_3
    assert (round_3["number"], round_3["title"], round_3["state"]) == (3, r3.TITLE, "closed")
    assert (round_3["capacity"], round_3["applied"], round_3["admitted"]) == (12, 6, 6)
    assert round_3["application_opens_at"] == "2014-10-01T09:00:00Z"
    assert round_3["participants_by_role"] == {"director_general": 6, "leadership_member": 0}
    assert [(p["org_numbers"], p["theme"], p["plan_status"]) for p in round_3["pairs"]] == [
        (list(members), theme, "submitted") for members, theme in r3.PAIRS
    ]


def test_a_rounds_pairs_show_dissolved_ones_and_its_themes(published: Published) -> None:
    pairs = ok(f"/rounds/{ROUND_4}/pairs")
    assert [(p["pair_id"], p["status"], p["plan_status"]) for p in pairs["pairs"]] == [
        ("pair-1", "dissolved", None),
        ("pair-2", "active", "late"),
    ]
    assert pairs["pairs"][1]["agencies"][1] == {
        "org_number": UHR,
        "agency_name": "Universitets- och högskolerådet",
    }
    assert pairs["themes"] == [
        {"theme": "digitalisering", "pair_ids": ["pair-2"]},
        {"theme": "delaktighet", "pair_ids": []},
    ]


def test_a_rounds_plans_show_due_submitted_revision_and_days_late(published: Published) -> None:
    plans = ok(f"/rounds/{ROUND_4}/plans")
    assert plans["deadline_passed"] is True
    (plan,) = plans["plans"]
    assert {
        k: plan[k] for k in ("status", "due_at", "submitted_at", "revision", "late", "days_late")
    } == {
        "status": "late",
        "due_at": "2016-10-28T17:00:00Z",
        "submitted_at": "2016-11-02T09:00:00Z",
        "revision": 2,
        "late": True,
        "days_late": 5,
    }


def test_the_audit_trail_pages_by_version(published: Published) -> None:
    # WHEN the trail is read ten entries at a time
    first = ok(f"/rounds/{ROUND_3}/events", {"limit": "10"})
    second = ok(f"/rounds/{ROUND_3}/events", {"limit": "10", "after": str(first["next_after"])})
    everything = ok(f"/rounds/{ROUND_3}/events")
    # THEN the pages follow each other, and one page holds it all when it can
    assert [e["version"] for e in first["events"]] == list(range(1, 11))
    assert first["next_after"] == 10
    assert [e["version"] for e in second["events"]] == list(range(11, 21))
    assert len(everything["events"]) == len(scenario().stream(f"round-{ROUND_3}"))
    assert everything["next_after"] is None
    assert everything["events"][-1]["type"] == "RoundClosed"
    assert set(everything["events"][0]) == {"version", "type", "occurred_at", "actor"}


# Agencies and refusals


def test_an_agencys_history_holds_its_rounds_and_takes_the_number_without_hyphen(
    published: Published,
) -> None:
    history = ok(f"/agencies/{SKV.replace('-', '')}")
    assert (history["org_number"], history["agency_name"]) == (SKV, "Skatteverket")
    assert [(r["round_id"], r["status"], r["partners"]) for r in history["rounds"]] == [
        (ROUND_3, "admitted", ["202100-0225"]),
        (ROUND_4, "admitted", [UHR]),
    ]
    withdrawn = ok(f"/agencies/{KBV}")
    assert [r["status"] for r in withdrawn["rounds"]] == ["admitted", "withdrawn"]


def test_refusals_are_listed_oldest_first_and_by_round(published: Published) -> None:
    every = ok("/refusals")["refusals"]
    assert [(r["round_id"], r["org_number"], r["rule"]) for r in every] == [
        (ROUND_3, "202100-5026", "ensure_not_organiser"),
        (UNKNOWN_ROUND, "202100-5449", "ensure_round_exists"),
    ]
    only = ok("/refusals", {"round_id": UNKNOWN_ROUND})["refusals"]
    assert [r["agency_name"] for r in only] == ["Myndigheten för digital förvaltning"]
    assert ok("/refusals", {"round_id": ROUND_4})["refusals"] == []


def test_refusals_page_with_the_cursor_they_give(published: Published) -> None:
    first = ok("/refusals", {"limit": "1"})
    second = ok("/refusals", {"limit": "1", "after": first["next_after"]})
    assert [r["round_id"] for r in first["refusals"] + second["refusals"]] == [
        ROUND_3,
        UNKNOWN_ROUND,
    ]
    assert second["next_after"] is None


def test_health_answers_ok(published: Published) -> None:
    assert ok("/health") == {"status": "ok"}


# Errors


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/rounds/2030-9", "2030-9"),
        ("/rounds/2030-9/pairs", "2030-9"),
        ("/rounds/2030-9/plans", "2030-9"),
        ("/rounds/2030-9/events", "2030-9"),
        ("/agencies/2021002999", "202100-2999"),
    ],
)
def test_an_unknown_round_or_agency_is_a_404_problem_naming_it(
    published: Published, path: str, named: str
) -> None:
    problem = assert_problem(get(path), 404)
    assert problem["title"] == "Not Found"
    assert named in problem["detail"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/rounds/Round_3", None),
        ("/rounds/Round_3/pairs", None),
        ("/rounds/Round_3/plans", None),
        ("/rounds/Round_3/events", None),
        ("/agencies/202100-544", None),
        ("/agencies/not-a-number", None),
        (f"/rounds/{ROUND_3}/events", {"limit": "0"}),
        (f"/rounds/{ROUND_3}/events", {"after": "-1"}),
        ("/refusals", {"limit": "1001"}),
        ("/reports/participation.csv", {"delimiter": "tab"}),
    ],
)
def test_a_malformed_parameter_is_a_422_problem_naming_it(
    published: Published, path: str, query: dict[str, str] | None
) -> None:
    problem = assert_problem(get(path, query), 422)
    assert problem["errors"]
    assert problem["errors"][0]["loc"][0] in {"path", "query"}


def test_an_unknown_route_is_a_404_problem(published: Published) -> None:
    assert_problem(get("/rounds/2015-3/secrets"), 404)


# What the queries may and may not touch


def test_no_response_holds_any_personal_data(published: Published) -> None:
    # GIVEN every route's answer, for every round and every agency in the scenario
    paths = [
        *ROUTES,
        *(
            f"/rounds/{r}{s}"
            for r in (ROUND_3, ROUND_4)
            for s in ("", "/pairs", "/plans", "/events")
        ),
        *(f"/agencies/{org}" for org in (SKV, UHR, KBV, LST, *(a.org_number for a in r3.AGENCIES))),
    ]
    answers = [get(path) for path in paths]
    assert {answer.status for answer in answers} == {200}
    # THEN no subject id, ciphertext, name or e-mail address of anyone is in any of them
    text = "\n".join(answer.text for answer in answers)
    leaked = sorted(value for value in scenario().personal if value in text)
    assert leaked == []


def test_the_queries_read_only_the_read_models_one_call_per_request(
    published: Published, calls: list[tuple[str, str]]
) -> None:
    # GIVEN the active generations already looked up once
    for path in ROUTES:
        get(path)
    calls.clear()
    # WHEN every route is asked again
    for path in ROUTES:
        assert get(path).status == 200
    # THEN each was at most one GetItem or Query of the read-model table (none for /health)
    read_models = published.tables["ReadModelTable"]
    assert {table for _, table in calls} == {read_models}
    assert {operation for operation, _ in calls} <= {"GetItem", "Query"}
    assert len(calls) == len(ROUTES) - 1


def test_the_openapi_document_describes_every_query_and_its_models(published: Published) -> None:
    document = ok("/openapi.json")
    assert set(document["paths"]) >= {
        "/rounds",
        "/rounds/{round_id}",
        "/rounds/{round_id}/pairs",
        "/rounds/{round_id}/plans",
        "/rounds/{round_id}/events",
        "/agencies/{org_number}",
        "/reports/participation.csv",
        "/refusals",
        "/health",
    }
    overview = document["paths"]["/rounds/{round_id}"]["get"]["responses"]
    assert overview["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "RoundOverview"
    )
    assert "application/problem+json" in overview["404"]["content"]
    csv_report = document["paths"]["/reports/participation.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv_report["content"]
    schemas = document["components"]["schemas"]
    assert set(schemas["RoundOverview"]["properties"]["state"]["enum"]) == {
        "scheduled",
        "open",
        "selection",
        "running",
        "closed",
        "cancelled",
    }
    # AND no query's response model can carry a person (the erasure command's path may)
    query_paths = {path: item for path, item in document["paths"].items() if "get" in item}
    response_models = {
        ref.rsplit("/", 1)[-1]
        for item in query_paths.values()
        for response in item["get"]["responses"].values()
        for media in response.get("content", {}).values()
        for ref in [media.get("schema", {}).get("$ref", "")]
        if ref
    }
    assert response_models
    for name in response_models:
        assert "subject" not in json.dumps(schemas[name]), name
