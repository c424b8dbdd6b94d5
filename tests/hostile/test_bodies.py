"""Malformed bodies on every route that takes one: the webhooks and the staff commands.

Each route has a request that would succeed as it is (the first test sends each one and sees
it accepted). Each hostile variant changes only the body, or how the event carries it, and
must be answered 4xx with problem+json, never 5xx, with every table as it was. Deliveries
are signed over the very bytes sent, so the body, not the signature, is what is refused.

What is expected: 400 from the webhooks and 422 from the staff routes for a body that is not
I-JSON (RFC 7493: UTF-8 JSON with unique member names and finite numbers) or not the form;
415 from the staff routes for any media type but `application/json`; 413 past 256 KB on the
webhooks; 401 from `/webhooks/forms` for a body that is not UTF-8 (the Standard Webhooks
check reads the body as text, so it cannot vouch for it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import pytest

from domain import SubmitPlan
from events import PairDissolved
from tests.domain.given import (
    DIGITALISERING,
    FASTIGHETSMAKLARINSPEKTIONEN,
    KRIMINALVARDEN,
    SHA_A,
    SHA_B,
    SKATTEVERKET,
    THEMES,
)
from tests.functions.http import (
    DG_NAME,
    STAFF_ARN,
    Reply,
    application,
    invoke,
    typeform_payload,
    typeform_signature,
)
from tests.functions.rounds import ROUND_ID, Rounds
from tests.hostile.requests import standard_webhook_headers
from tests.hostile.snapshot import Snapshot, assert_unchanged, difference
from tests.support.apigw import http_event
from tests.support.stack import FunctionsEnv

Kind = Literal["staff", "typeform", "forms"]
RUNNING, PAIRING, DECIDING, OPEN = "2026-1", "2026-2", "2026-3", "2026-4"
MAX_DELIVERY = 256 * 1024


@dataclass(frozen=True)
class Route:
    """A request that succeeds as it is, and where its free text goes."""

    name: str
    kind: Kind
    method: str
    path: str
    body: Callable[[World], dict[str, Any]]
    text: Callable[[dict[str, Any], Any], None]  # puts a value where the route takes text


@dataclass
class World:
    """Rounds in the states the routes need: running with a pair, pairing, deciding, open."""

    pair_id: str
    deliveries: int = 0

    def next_delivery(self) -> str:
        self.deliveries += 1
        return f"01HZX3K9T2BODY{self.deliveries:011d}"


def _set(*path: str | int) -> Callable[[dict[str, Any], Any], None]:
    def put(body: dict[str, Any], value: Any) -> None:
        target: Any = body
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return put


def _typeform_answer(ref: str) -> Callable[[dict[str, Any], Any], None]:
    def put(body: dict[str, Any], value: Any) -> None:
        (answer,) = (a for a in body["form_response"]["answers"] if a["field"]["ref"] == ref)
        answer["text"] = value

    return put


def _round(world: World) -> dict[str, Any]:
    now = datetime.now(UTC)
    dates = ("application_opens_at", "application_closes_at", "starts_at")
    return {
        "round_id": "2026-9",
        "number": 9,
        "title": "Omgång 9",
        "capacity": 12,
        "themes": list(THEMES),
        **{name: (now + timedelta(days=n)).isoformat() for n, name in enumerate(dates, 1)},
        "plan_due_at": (now + timedelta(days=60)).isoformat(),
        "closes_at": (now + timedelta(days=90)).isoformat(),
    }


ROUTES = [
    Route("POST /rounds", "staff", "POST", "/rounds", _round, _set("title")),
    Route(
        "PATCH schedule",
        "staff",
        "PATCH",
        f"/rounds/{RUNNING}/schedule",
        lambda w: {"closes_at": (datetime.now(UTC) + timedelta(days=100)).isoformat()},
        _set("closes_at"),
    ),
    Route(
        "POST cancel",
        "staff",
        "POST",
        f"/rounds/{RUNNING}/cancel",
        lambda w: {"reason": "Inga medel"},
        _set("reason"),
    ),
    Route(
        "POST decisions",
        "staff",
        "POST",
        f"/rounds/{DECIDING}/decisions",
        lambda w: {"org_number": SKATTEVERKET, "decision": "admit", "case_number": "Dnr 1"},
        _set("case_number"),
    ),
    Route(
        "POST pairs",
        "staff",
        "POST",
        f"/rounds/{PAIRING}/pairs",
        lambda w: {"org_numbers": [SKATTEVERKET, KRIMINALVARDEN], "theme": DIGITALISERING},
        _set("theme"),
    ),
    Route(
        "POST plans",
        "staff",
        "POST",
        f"/rounds/{RUNNING}/plans",
        lambda w: {
            "pair_id": w.pair_id,
            "title": "Plan",
            "document_url": "https://example.org/plan-2.pdf",
            "document_sha256": SHA_B,
        },
        _set("title"),
    ),
    Route(
        "POST presentations",
        "staff",
        "POST",
        f"/rounds/{RUNNING}/presentations",
        lambda w: {
            "pair_id": w.pair_id,
            "held_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        },
        _set("pair_id"),
    ),
    Route(
        "POST erasure",
        "staff",
        "POST",
        f"/subjects/subj-{'0' * 32}/erasure",
        lambda w: {"retention_decision": "Begäran från den registrerade"},
        _set("retention_decision"),
    ),
    Route(
        "POST /webhooks/typeform",
        "typeform",
        "POST",
        "/webhooks/typeform",
        lambda w: typeform_payload(w.next_delivery(), round_id=OPEN),
        _typeform_answer("agency_name"),
    ),
    Route(
        "POST /webhooks/forms",
        "forms",
        "POST",
        "/webhooks/forms",
        lambda w: {
            "type": "application.submitted",
            **application(round_id=OPEN, org_number=FASTIGHETSMAKLARINSPEKTIONEN),
        },
        _set("agency_name"),
    ),
]


@dataclass(frozen=True)
class Sent:
    """What reaches the handler: the body's bytes, its media type, and how the event holds it."""

    body: bytes
    content_type: str | None = "application/json"
    event_body: str | None = None  # the event's `body` as given, base64 or not
    base64: bool = True


@dataclass(frozen=True)
class Hostile:
    name: str
    make: Callable[[Route, dict[str, Any]], Sent]
    staff: int = 422
    typeform: int = 400
    forms: int = 400
    routes: tuple[Kind, ...] = ("staff", "typeform", "forms")

    def expected(self, kind: Kind) -> int:
        status: int = getattr(self, kind)
        return status


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _bytes(transform: Callable[[bytes], bytes]) -> Callable[[Route, dict[str, Any]], Sent]:
    return lambda route, body: Sent(transform(_json(body)))


def _member(raw: bytes) -> Callable[[Route, dict[str, Any]], Sent]:
    """One more member, written as raw JSON text, before the others."""
    return lambda route, body: Sent(b'{"x": ' + raw + b", " + _json(body)[1:])


def _text(value: Any) -> Callable[[Route, dict[str, Any]], Sent]:
    def make(route: Route, body: dict[str, Any]) -> Sent:
        route.text(body, value)
        return Sent(_json(body))

    return make


def _raw_text(raw: bytes) -> Callable[[Route, dict[str, Any]], Sent]:
    """The route's text, written as raw bytes inside its JSON string."""

    def make(route: Route, body: dict[str, Any]) -> Sent:
        route.text(body, "@@TEXT@@")
        return Sent(_json(body).replace(b"@@TEXT@@", raw))

    return make


def _media(content_type: str | None, encode: Callable[[dict[str, Any]], bytes] = _json) -> Any:
    return lambda route, body: Sent(encode(body), content_type=content_type)


def _event_body(text: str | Callable[[bytes], str]) -> Any:
    """The event's `body` replaced, still flagged base64."""

    def make(route: Route, body: dict[str, Any]) -> Sent:
        raw = _json(body)
        return Sent(raw, event_body=text(raw) if callable(text) else text)

    return make


def _multipart(body: dict[str, Any]) -> bytes:
    parts = [
        f'--XX\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in body.items()
    ]
    return ("".join(parts) + "--XX--\r\n").encode()


def _first_member_twice(*, other_value: bool) -> Callable[[Route, dict[str, Any]], Sent]:
    """The first member written once more before the others, with its value or another."""

    def make(route: Route, body: dict[str, Any]) -> Sent:
        name, value = next(iter(body.items()))
        first = _json({name: "a different value" if other_value else value})
        return Sent(first[:-1] + b", " + _json(body)[1:])

    return make


def _surrogate_in_text(route: Route, body: dict[str, Any]) -> Sent:
    """A text body (not base64) holding a lone surrogate, as the event's JSON can carry one."""
    route.text(body, "Skatte\ud800verket")
    text = json.dumps(body, ensure_ascii=False)
    return Sent(text.encode("utf-8", "surrogatepass"), event_body=text, base64=False)


NESTED_LISTS = b"[" * 100_000 + b"]" * 100_000
ONLY_STAFF: tuple[Kind, ...] = ("staff",)

HOSTILE = [
    # Nesting: no RecursionError may escape
    Hostile("100k nested lists as the body", _bytes(lambda raw: NESTED_LISTS)),
    Hostile("100k nested lists in a member", _member(NESTED_LISTS)),
    Hostile("30k nested objects", _bytes(lambda raw: b'{"a": ' * 30_000 + b"1" + b"}" * 30_000)),
    # Media types: staff bodies are application/json and nothing else (see the webhooks' own
    # test below: a signed delivery is read whatever it is labelled)
    Hostile("text/plain", _media("text/plain"), staff=415, routes=ONLY_STAFF),
    Hostile("no content type", _media(None), staff=415, routes=ONLY_STAFF),
    Hostile("application/jsonx", _media("application/jsonx"), staff=415, routes=ONLY_STAFF),
    Hostile(
        "form-urlencoded fields",
        _media(
            "application/x-www-form-urlencoded",
            lambda body: urlencode({k: json.dumps(v) for k, v in body.items()}).encode(),
        ),
        staff=415,
        routes=ONLY_STAFF,
    ),
    Hostile(
        "multipart fields",
        _media("multipart/form-data; boundary=XX", _multipart),
        staff=415,
        routes=ONLY_STAFF,
    ),
    Hostile(
        "multipart without boundary",
        _media("multipart/form-data", _multipart),
        staff=415,
        routes=ONLY_STAFF,
    ),
    Hostile(
        "multipart, not latin-1, not base64",
        lambda route, body: Sent(
            _multipart(body), "multipart/form-data; boundary=XX", _multipart(body).decode(), False
        ),
        staff=415,
        routes=ONLY_STAFF,
    ),
    # Encodings
    Hostile("invalid UTF-8 in a string", _raw_text(b"Skatteverk\xe9t"), forms=401),
    Hostile("overlong UTF-8", _raw_text(b"\xc0\xaf"), forms=401),
    Hostile("UTF-8 encoded surrogate", _raw_text(b"\xed\xa0\x80"), forms=401),
    Hostile("UTF-16", _bytes(lambda raw: raw.decode().encode("utf-16")), forms=401),
    Hostile("UTF-8 byte order mark", _bytes(lambda raw: b"\xef\xbb\xbf" + raw)),
    # How the event carries the body
    Hostile("base64 flag, body not base64", _event_body("not base64!")),
    Hostile("base64 flag, body plain JSON", _event_body(lambda raw: raw.decode())),
    Hostile("text body with a lone surrogate", _surrogate_in_text, forms=401),
    # I-JSON: unambiguous, finite
    Hostile("a member twice", _first_member_twice(other_value=False)),
    Hostile("a member twice, two values", _first_member_twice(other_value=True)),
    Hostile("NaN", _member(b"NaN")),
    Hostile("Infinity", _member(b"Infinity")),
    Hostile("-Infinity", _member(b"-Infinity")),
    Hostile("a number beyond a double", _member(b"1e400")),
    Hostile("an integer of 5000 digits", _member(b"1" * 5000)),
    # Strings
    # (A signed Typeform delivery whose answer is too long is held, sealed, not refused with a
    # 400 Typeform would not retry: tests/functions/test_intake_typeform.py.)
    Hostile("100k characters of text", _text("x" * 100_000), routes=("staff", "forms")),
    Hostile("a raw NUL byte in a string", _raw_text(b"Skatte\x00verket")),
    Hostile("a raw tab in a string", _raw_text(b"Skatte\tverket")),
    Hostile("a NUL byte after the document", _bytes(lambda raw: raw + b"\x00")),
    Hostile("a lone high surrogate", _raw_text(b"Skatte\\ud800verket")),
    Hostile("a lone low surrogate", _raw_text(b"Skatte\\udc00verket")),
    Hostile("a reversed surrogate pair", _raw_text(b"\\ude00\\ud83d")),
    # Not one JSON object
    Hostile("truncated", _bytes(lambda raw: raw[: len(raw) // 2])),
    Hostile("trailing garbage", _bytes(lambda raw: raw + b" x")),
    Hostile("two documents", _bytes(lambda raw: raw + raw)),
    Hostile("empty", _bytes(lambda raw: b"")),
    Hostile("whitespace", _bytes(lambda raw: b" \n\t ")),
    Hostile("null", _bytes(lambda raw: b"null")),
    Hostile("a list", _bytes(lambda raw: b"[" + raw + b"]")),
    Hostile("a string", _bytes(lambda raw: json.dumps(raw.decode()).encode())),
    Hostile("single quotes", _bytes(lambda raw: raw.replace(b'"', b"'"))),
    Hostile("a comment", _bytes(lambda raw: b"/* x */" + raw)),
]


@pytest.fixture
def world(env: FunctionsEnv) -> World:
    """Each round walked by its own clock, so one's transitions do not move another's."""
    running = Rounds()
    world = World(running.running_with_a_pair(RUNNING))
    plan = SubmitPlan(RUNNING, world.pair_id, "Plan", "https://example.org/plan.pdf", SHA_A)
    running.run(plan, RUNNING)  # so it can be presented, and the plan route's is a revision
    pairing = Rounds()
    pairing.open(PAIRING)
    pairing.apply(SKATTEVERKET, KRIMINALVARDEN, round_id=PAIRING)
    pairing.close_applications(PAIRING)
    pairing.admit(SKATTEVERKET, KRIMINALVARDEN, round_id=PAIRING)
    deciding = Rounds()
    deciding.open(DECIDING)
    deciding.apply(SKATTEVERKET, round_id=DECIDING)
    deciding.close_applications(DECIDING)
    Rounds().open(OPEN)
    return world


def send(route: Route, sent: Sent, world: World) -> Reply:
    """Signed over the bytes sent (webhooks), or with a fresh `Idempotency-Key` (staff): a
    refused request must leave no idempotency record either."""
    headers = {} if sent.content_type is None else {"content-type": sent.content_type}
    if route.kind == "staff":
        headers["idempotency-key"] = f"key-{world.next_delivery()}"
    elif route.kind == "typeform":
        headers["typeform-signature"] = typeform_signature(sent.body)
    elif route.kind == "forms":
        headers.update(standard_webhook_headers(sent.body, world.next_delivery()))
    event = http_event(route.method, route.path, body=sent.body, headers=headers)
    if route.kind == "staff":
        event["requestContext"]["authorizer"] = {"iam": {"userArn": STAFF_ARN}}
    if sent.event_body is not None:
        event["body"] = sent.event_body
    elif not sent.base64:
        event["body"] = sent.body.decode()
    event["isBase64Encoded"] = sent.base64
    return invoke("commands" if route.kind == "staff" else "intake", event)


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_each_routes_request_is_accepted_as_it_is(
    world: World, state: Callable[[], Snapshot], route: Route
) -> None:
    # WHEN a route's request arrives untouched, its body in base64 (as the local front sends)
    before = state()
    reply = send(route, Sent(_json(route.body(world))), world)

    # THEN it succeeds, and changes what is stored: the variants below fail for their change
    assert 200 <= reply.status < 300, reply.body
    assert difference(before, state())

    # AND as text (as API Gateway sends text) it is read the same: decided, if only refused as
    # done already (409), or recorded as a refusal (202)
    again = send(route, Sent(_json(route.body(world)), base64=False), world)
    assert 200 <= again.status < 300 or again.status == 409, again.body


def test_a_malformed_body_is_a_problem_and_stores_nothing(
    world: World, state: Callable[[], Snapshot], subtests: pytest.Subtests
) -> None:
    """One subtest per variant and route, all in one world: each request is refused, so none
    changes it; what is stored is compared after each variant has been sent to every route."""
    # GIVEN rounds where every route's request would succeed, and all that is stored
    before = state()
    for hostile in HOSTILE:
        for route in (route for route in ROUTES if route.kind in hostile.routes):
            with subtests.test(hostile.name, route=route.name):
                # WHEN the route gets its request with the body made hostile
                reply = send(route, hostile.make(route, route.body(world)), world)

                # THEN it is the expected problem, echoing nothing that was sent
                expected = hostile.expected(route.kind)
                assert (reply.status, reply.body.get("status")) == (expected, expected), reply.body
                assert reply.headers["Content-Type"] == "application/problem+json"
                text = json.dumps(reply.body, ensure_ascii=False)
                assert len(text) < 1000
                assert DG_NAME not in text

        # AND nothing at all is stored
        with subtests.test(hostile.name, route="(what is stored)"):
            previous, before = before, state()
            assert_unchanged(previous, before, hostile.name)


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind != "staff"], ids=lambda r: r.name)
def test_a_delivery_of_256_kb_is_read_and_one_byte_more_is_too_large(
    world: World, state: Callable[[], Snapshot], route: Route
) -> None:
    # WHEN a delivery padded to exactly 256 KB arrives, signed
    body = _json(route.body(world))
    reply = send(route, Sent(body + b" " * (MAX_DELIVERY - len(body))), world)

    # THEN it is read, and recorded
    assert (reply.status, reply.body["status"]) == (202, "recorded"), reply.body

    # WHEN another is one byte longer, and not even signed
    before = state()
    event = http_event("POST", route.path, body=b" " * (MAX_DELIVERY + 1))
    reply = invoke("intake", event)

    # THEN it is too large before anything else is looked at, and nothing is stored
    assert (reply.status, reply.body["status"]) == (413, 413)
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert_unchanged(before, state())


def test_a_staff_body_at_api_gateways_limit_is_read(world: World) -> None:
    """API Gateway passes at most 10 MB (the local front too, `test_local_front` shows the
    413 past it); the commands function itself reads whatever reaches it."""
    route = ROUTES[0]  # POST /rounds
    body = _json(route.body(world))
    reply = send(route, Sent(body + b" " * (10 * 1024 * 1024 - len(body))), world)
    assert reply.status == 201, reply.body


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(Sent(NESTED_LISTS), id="100k nested lists"),
        pytest.param(Sent(b"\xff\xfe{", "text/plain"), id="not UTF-8, text/plain"),
        pytest.param(Sent(b'{"reason": NaN, "reason": 1}'), id="not I-JSON"),
        pytest.param(Sent(b"", event_body="not base64!"), id="not base64"),
    ],
)
def test_the_body_of_a_delete_is_never_read(rounds: Rounds, sent: Sent) -> None:
    """A DELETE takes its reason in the query; whatever body comes with it is ignored, as
    HTTP gives a DELETE's content no meaning: the pair is dissolved as without it."""
    # GIVEN a running round with a pair
    pair_id = rounds.running_with_a_pair()
    path = f"/rounds/{ROUND_ID}/pairs/{pair_id}"
    headers = {} if sent.content_type is None else {"content-type": sent.content_type}

    # WHEN staff dissolve it with a hostile body
    event = http_event("DELETE", path, body=sent.body, headers=headers, query={"reason": "Omtag"})
    event["requestContext"]["authorizer"] = {"iam": {"userArn": STAFF_ARN}}
    if sent.event_body is not None:
        event["body"] = sent.event_body
    reply = invoke("commands", event)

    # THEN it is dissolved
    assert reply.status == 200, reply.body
    assert isinstance(rounds.events()[-1], PairDissolved)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_a_signed_delivery_is_read_whatever_its_content_type_says(
    world: World, content_type: str | None
) -> None:
    """The webhooks read the raw bytes the signature vouches for, whatever they are labelled:
    form tools label JSON variously (Apps Script's `UrlFetchApp` sends form-urlencoded unless
    told otherwise), and the label changes nothing a signature does not already cover."""
    for route in (r for r in ROUTES if r.kind != "staff"):
        reply = send(route, Sent(_json(route.body(world)), content_type), world)
        assert (reply.status, reply.body["status"]) == (202, "recorded"), (route.name, reply.body)


@pytest.mark.parametrize(
    ("round_id", "status"),
    [
        pytest.param(RUNNING, 409, id="a broken rule"),
        pytest.param("2031-9", 404, id="an unknown round"),
    ],
)
def test_a_command_refused_under_an_idempotency_key_keeps_no_record_of_it(
    world: World, state: Callable[[], Snapshot], round_id: str, status: int
) -> None:
    """The key's record is written before the command runs; a refusal raised out of it makes
    Powertools delete the record, so a corrected request with the same key runs afresh."""
    # GIVEN a running round whose pair has submitted its plan, and all that is stored
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"pair_id": world.pair_id, "held_at": tomorrow}
    path = f"/rounds/{round_id}/presentations"
    route = Route("POST presentations", "staff", "POST", path, lambda w: body, _set("x"))
    before = state()

    # WHEN staff record tomorrow's presentation (or one in no round at all), with a key
    reply = send(route, Sent(_json(route.body(world))), world)

    # THEN it is refused, and no table changed: no idempotency record either
    assert reply.status == status, reply.body
    assert_unchanged(before, state())
