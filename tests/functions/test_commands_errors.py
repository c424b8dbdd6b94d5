"""How staff commands fail: 409 naming the broken rule, 404 for what does not exist, 422 for
invalid input, 415 for bodies that are not JSON, 503 when the round stays busy — and never a
500 for anything a client can send."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.common import bootstrap
from tests.domain.given import ESV, SHA_A, SKATTEVERKET
from tests.functions.http import staff
from tests.functions.rounds import ROUND_ID, Rounds, always_losing_handler
from tests.functions.test_commands_lifecycle import round_body

PLAN = {
    "pair_id": "pair-1",
    "title": "Plan",
    "document_url": "https://example.org/p.pdf",
    "document_sha256": SHA_A,
}
AN_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
ROUND_ROUTES: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None]] = [
    ("PATCH", "/schedule", {"closes_at": "2030-01-01T00:00:00Z"}, None),
    ("POST", "/cancel", {"reason": "Inga medel"}, None),
    ("POST", "/decisions", {"org_number": SKATTEVERKET, "decision": "admit"}, None),
    ("POST", "/pairs", {"org_numbers": [SKATTEVERKET, ESV], "theme": "digitalisering"}, None),
    ("DELETE", "/pairs/pair-1", None, {"reason": "Omtag"}),
    ("POST", "/plans", PLAN, None),
    ("POST", "/presentations", {"pair_id": "pair-1", "held_at": AN_HOUR_AGO}, None),
]
ROUND_ROUTE_IDS = [f"{method} {suffix}" for method, suffix, _, _ in ROUND_ROUTES]


def assert_problem(reply: Any, status: int) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body["status"] == status


@pytest.mark.parametrize(("method", "suffix", "body", "query"), ROUND_ROUTES, ids=ROUND_ROUTE_IDS)
def test_every_round_route_answers_404_for_an_unknown_round(
    rounds: Rounds,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
    query: dict[str, str] | None,
) -> None:
    # WHEN staff act on a round that was never scheduled
    reply = staff(method, f"/rounds/2031-9{suffix}", body, query=query)

    # THEN the round is not found, and the problem names the rule
    assert_problem(reply, 404)
    assert reply.body["rule"] == "ensure_round_exists"
    assert "2031-9" in reply.body["detail"]


def test_dissolving_a_pair_the_round_does_not_have_is_404(rounds: Rounds) -> None:
    # GIVEN a round in selection, without pairs
    rounds.open()
    rounds.close_applications()

    # WHEN staff dissolve pair-7
    reply = staff("DELETE", f"/rounds/{ROUND_ID}/pairs/pair-7", query={"reason": "Omtag"})

    # THEN it is not found
    assert_problem(reply, 404)
    assert reply.body["rule"] == "ensure_pair_exists"


def test_an_unknown_route_is_404_problem_json(env: object) -> None:
    assert_problem(staff("POST", "/rounds/2026-1/withdrawals", {}), 404)


@pytest.mark.parametrize(
    ("prepare", "method", "suffix", "body", "rule"),
    [
        pytest.param("scheduled", "POST", "", round_body, "ensure_round_is_new", id="round exists"),
        pytest.param(
            None,
            "POST",
            "",
            lambda r: round_body(r, closes_at="2026-01-01T00:00:00Z"),
            "ensure_dates_increasing",
            id="dates out of order",
        ),
        pytest.param(
            None,
            "POST",
            "",
            lambda r: round_body(r, capacity=1),
            "ensure_capacity_in_range",
            id="capacity",
        ),
        pytest.param(
            "open",
            "POST",
            "/decisions",
            lambda r: {"org_number": SKATTEVERKET, "decision": "admit"},
            "ensure_selection_under_way",
            id="decision before selection",
        ),
        pytest.param(
            "open",
            "PATCH",
            "/schedule",
            lambda r: {"application_opens_at": "2030-01-01T00:00:00Z"},
            "ensure_date_still_movable",
            id="moving a date passed",
        ),
        pytest.param(
            "open",
            "POST",
            "/plans",
            lambda r: PLAN,
            "ensure_round_is_running",
            id="plan before the round runs",
        ),
    ],
)
def test_a_broken_rule_is_409_naming_the_rule(
    rounds: Rounds, prepare: str | None, method: str, suffix: str, body: Any, rule: str
) -> None:
    # GIVEN a round in the state the case needs (or none)
    if prepare == "scheduled":
        rounds.schedule()
    elif prepare == "open":
        rounds.open()
    before = rounds.events()

    # WHEN staff ask for what the rules forbid
    path = f"/rounds/{ROUND_ID}{suffix}" if suffix else "/rounds"
    reply = staff(method, path, body(rounds))

    # THEN it is a conflict naming the rule, and nothing is recorded
    assert_problem(reply, 409)
    assert reply.body["rule"] == rule
    assert reply.body["detail"]
    assert rounds.events() == before


def test_a_presentation_in_the_future_is_409(rounds: Rounds) -> None:
    # GIVEN a running round whose pair has submitted its plan
    pair_id = rounds.running_with_a_pair()
    assert staff("POST", f"/rounds/{ROUND_ID}/plans", {**PLAN, "pair_id": pair_id}).status == 200

    # WHEN staff record a presentation for tomorrow
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"pair_id": pair_id, "held_at": tomorrow}
    reply = staff("POST", f"/rounds/{ROUND_ID}/presentations", body)

    # THEN it is refused: a presentation is recorded once held
    assert_problem(reply, 409)
    assert reply.body["rule"] == "ensure_not_in_future"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"capacity": "12"}, "capacity", id="number as text"),
        pytest.param({"capacity": True}, "capacity", id="boolean as number"),
        pytest.param({"themes": "digitalisering"}, "themes", id="text for a list"),
        pytest.param({"starts_at": "2026-09-01T09:00:00"}, "starts_at", id="naive datetime"),
        pytest.param({"starts_at": "0001-01-01T00:00:00+01:00"}, "starts_at", id="year 1"),
        pytest.param({"round_id": "Omgång 3"}, "round_id", id="round id shape"),
        pytest.param({"title": "   "}, "title", id="blank title"),
        pytest.param({"colour": "blue"}, "colour", id="extra field"),
    ],
)
def test_an_invalid_round_is_422_naming_the_field(
    rounds: Rounds, changes: dict[str, Any], field: str
) -> None:
    # WHEN staff schedule a round with a field of the wrong type, shape, or one too many
    reply = staff("POST", "/rounds", round_body(rounds, **changes))

    # THEN it is unprocessable, naming the field, and nothing is recorded
    assert_problem(reply, 422)
    assert ["body", field] in [error["loc"] for error in reply.body["errors"]]
    assert rounds.events() == []


@pytest.mark.parametrize(
    ("method", "path", "body", "query", "loc"),
    [
        pytest.param("PATCH", "/rounds/2026-1/schedule", {}, None, ["body"], id="no date"),
        pytest.param(
            "DELETE", "/rounds/2026-1/pairs/pair-1", None, None, ["query", "reason"], id="reason"
        ),
        pytest.param(
            "POST",
            "/rounds/2026-1/decisions",
            {"org_number": SKATTEVERKET, "decision": "maybe"},
            None,
            ["body", "decision"],
            id="decision",
        ),
        pytest.param(
            "POST",
            "/rounds/2026-1/pairs",
            {"org_numbers": SKATTEVERKET, "theme": "digitalisering"},
            None,
            ["body", "org_numbers"],
            id="org numbers not a list",
        ),
        pytest.param(
            "POST",
            "/rounds/2026-1/presentations",
            {"pair_id": "pair-1", "held_at": "2026-05-01T10:00:00"},
            None,
            ["body", "held_at"],
            id="naive held_at",
        ),
        pytest.param(
            "POST",
            "/subjects/Anna/erasure",
            {"retention_decision": "x"},
            None,
            ["path", "subject_id"],
            id="subject id",
        ),
        pytest.param("POST", "/rounds/2026-1/cancel", None, None, ["body"], id="no body"),
    ],
)
def test_invalid_input_on_every_route_is_422(
    rounds: Rounds,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    query: dict[str, str] | None,
    loc: list[str],
) -> None:
    # GIVEN a scheduled round
    rounds.schedule()

    # WHEN a request does not match its operation
    reply = staff(method, path, body, query=query)

    # THEN it is unprocessable, saying where
    assert_problem(reply, 422)
    assert any(error["loc"][: len(loc)] == loc for error in reply.body["errors"])


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param('{"reason": "x"}', "text/plain", 415, id="text/plain"),
        pytest.param("--x--", "multipart/form-data", 415, id="multipart without boundary"),
        pytest.param(b"\xff\xfe", "application/json", 422, id="not utf-8"),
        pytest.param("[" * 100_000 + "]" * 100_000, "application/json", 422, id="deep"),
        pytest.param('{"reason": ', "application/json", 422, id="truncated"),
    ],
)
def test_a_body_that_is_not_json_is_refused_as_a_problem(
    rounds: Rounds, body: str | bytes, content_type: str, status: int
) -> None:
    # GIVEN a scheduled round
    rounds.schedule()

    # WHEN staff send a body that is not JSON
    reply = staff(
        "POST", f"/rounds/{ROUND_ID}/cancel", body, headers={"content-type": content_type}
    )

    # THEN it is a problem of the client's making, and the round is untouched
    assert_problem(reply, status)
    assert len(rounds.events()) == 1


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "Application/Json; charset=UTF-8", "application/json;charset=utf-8"],
)
def test_the_json_media_type_is_recognised_in_any_case(rounds: Rounds, content_type: str) -> None:
    # GIVEN a scheduled round
    rounds.schedule()
    # WHEN staff cancel it, the media type written in another case (RFC 9110: case-insensitive)
    body = '{"reason": "Inga medel"}'
    reply = staff(
        "POST", f"/rounds/{ROUND_ID}/cancel", body, headers={"content-type": content_type}
    )
    # THEN it is read as JSON, as with "application/json"
    assert reply.status == 200, reply.body
    assert len(rounds.events()) == 2


def test_a_command_that_keeps_losing_races_is_503_with_retry_after(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a round whose stream another writer always changes first
    rounds.schedule()
    handler, store = always_losing_handler()
    monkeypatch.setattr(bootstrap, "command_handler", cache(lambda: handler))

    # WHEN staff cancel it
    reply = staff("POST", f"/rounds/{ROUND_ID}/cancel", {"reason": "Inga medel"})

    # THEN they are asked to retry later, and nothing changed
    assert_problem(reply, 503)
    assert reply.headers["Retry-After"].isdigit()
    assert store.appends == 4
    assert len(rounds.events()) == 1


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
EDGE_VALUES: st.SearchStrategy[object] = st.sampled_from(
    [
        *("", " ", "x" * 81, "x" * 201, "x" * 4001, "ÅÄÖ\u0000", "pair-1", "pair-99"),
        *(SKATTEVERKET, SKATTEVERKET.replace("-", ""), ESV, "19121212-1212", "202100-544"),
        *("2026-05-01T10:00:00Z", "2026-05-01T10:00:00", "9999-12-31T23:59:59-12:00"),
        *("https://x", "http://x", "A" * 64, "digitalisering", "admit", "waitlist"),
        *(0, -1, 1, 3, 2**70, 1.5, True, None, [], {}, ["x" * 81], [SKATTEVERKET] * 3),
        [SKATTEVERKET, "202100-0225"],
    ]
)
SOON = {
    name: (datetime.now(UTC) + timedelta(days=n)).isoformat()
    for n, name in enumerate(
        ("application_opens_at", "application_closes_at", "starts_at", "plan_due_at", "closes_at"),
        start=1,
    )
}
VALID_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        "/rounds",
        {
            **SOON,
            "round_id": "2026-2",
            "number": 2,
            "title": "Omgång 2",
            "capacity": 4,
            "themes": ["digitalisering"],
        },
    ),
    *[
        ("POST" if method == "DELETE" else method, f"/rounds/{ROUND_ID}{suffix}", body or {})
        for method, suffix, body, _ in ROUND_ROUTES
        if method != "DELETE" and suffix != "/cancel"  # keep the round alive
    ],
    ("POST", f"/subjects/subj-{'0' * 32}/erasure", {"retention_decision": "Begäran"}),
]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A valid request with some fields replaced by any JSON, or any JSON as the body."""
    method, path, valid = draw(st.sampled_from(VALID_BODIES))
    if draw(st.booleans()):
        return method, path, draw(JSON_VALUES)
    names = st.sampled_from([*valid, "extra"])
    values = EDGE_VALUES | JSON_VALUES
    return method, path, {**valid, **draw(st.dictionaries(names, values, max_size=1))}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
def test_no_body_a_client_can_send_causes_a_500(
    running_round: Rounds, request: tuple[str, str, Any]
) -> None:
    # GIVEN a running round with a pair  WHEN any JSON reaches any route
    method, path, body = request
    reply = staff(method, path, json.dumps(body))

    # THEN the answer is never a server error
    assert reply.status < 500, (method, path, body, reply.body)


@pytest.fixture
def running_round(rounds: Rounds) -> Rounds:
    rounds.running_with_a_pair()
    return rounds
