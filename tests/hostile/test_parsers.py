"""Properties of the intake's parts, below the handler: whatever bytes and headers arrive.

- `payloads.parse_typeform` / `parse_forms`: any bytes either parse to a form that holds the
  form's promises (and is unambiguous I-JSON), or raise `MalformedPayloadError` naming where
  and what kind, never the value; nothing else is ever raised.
- `signatures`: any headers and body give yes or no, never an exception; a valid signature
  is a yes, and any one byte changed makes it a no.
- `deliveries`: any form that parses is recorded, refused or a duplicate (never an
  exception), and recording it again stores nothing new; a plan gets exactly the answer its
  pair, title and document call for.

`tests/functions/test_intake_fuzz.py` sends JSON through the handler; these go to the parts
with bytes that are not JSON at all, JSON that is not I-JSON, and mutations of real payloads.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events import PlanRevised, PlanSubmitted
from functions.intake import deliveries, payloads, signatures
from functions.intake.payloads import ApplicationForm, MalformedPayloadError, SubmittedPlan
from tests.domain.given import ESV, KRIMINALVARDEN, SKATTEVERKET, THEMES
from tests.functions.http import application, typeform_payload, typeform_signature
from tests.functions.rounds import ROUND_ID, Rounds
from tests.hostile.requests import FORMS_KEY, sign_v1, standard_webhook_headers
from tests.hostile.snapshot import Snapshot, assert_unchanged
from tests.support.stack import WEBHOOK_SECRETS

PURE = settings(max_examples=150, deadline=None)
STORED = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Any text, lone surrogates included (JSON escapes can carry them; so can an event's JSON).
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
EDGE_NUMBERS = st.sampled_from(
    [math.nan, math.inf, -math.inf, 2**64, -(2**63), 1e308, 5e-324, 0.1, 10**400]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | EDGE_NUMBERS | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    """JSON as Python writes it: NaN and Infinity included, surrogates as escapes."""
    return json.dumps(value).encode()


def typeform_bytes() -> bytes:
    return _dumps(typeform_payload(uuid.uuid4().hex))


def forms_bytes() -> bytes:
    return _dumps({"type": "application.submitted", **application()})


def _plan() -> bytes:
    plan = {
        "type": "plan.submitted",
        "round_id": ROUND_ID,
        "pair_id": "pair-1",
        "title": "Plan",
        "document_url": "https://example.org/p.pdf",
        "document_sha256": "a" * 64,
    }
    return _dumps(plan)


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """A valid payload with a few bytes inserted, deleted or changed."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(st.sampled_from(b'{}[]",:\\ \x00\xff\xc3\xa9e0-') | st.integers(0, 255))
        if action == "insert":
            data.insert(at, byte)
        elif at < len(data):
            if action == "delete":
                del data[at]
            else:
                data[at] = byte
    return bytes(data)


@st.composite
def with_member(draw: st.DrawFn, valid: bytes) -> bytes:
    """A valid payload with one more member, or one of its members again, at its top level."""
    body = json.loads(valid)
    name = draw(st.sampled_from([*body, "extra"]) | TEXT)
    raw_value = _dumps(draw(JSON_VALUES))
    return b"{" + _dumps(name) + b": " + raw_value + b", " + valid[1:]


def bodies(valid: Callable[[], bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        JSON_VALUES.map(_dumps),
        st.builds(valid).flatmap(mutated),
        st.builds(valid).flatmap(with_member),
    )


def assert_refused_without_values(error: MalformedPayloadError) -> None:
    """The error names where and what kind: every item is exactly a location and a type."""
    assert error.detail
    for item in error.errors:
        assert set(item) == {"loc", "type"}, item
        assert all(isinstance(part, str) for part in item["loc"])
        assert isinstance(item["type"], str)


def assert_unambiguous(body: bytes) -> None:
    """What parsed is I-JSON: UTF-8, one value per name, finite numbers."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        assert len({name for name, _ in pairs}) == len(pairs)
        return dict(pairs)

    def finite(literal: str) -> float:
        assert math.isfinite(float(literal))
        return float(literal)

    def refuse(constant: str) -> None:
        raise AssertionError(constant)

    json.loads(body.decode(), object_pairs_hook=unique, parse_float=finite, parse_constant=refuse)


def assert_a_valid_form(form: ApplicationForm) -> None:
    assert type(form).model_validate(form.model_dump()) == form
    assert form.round_id == form.round_id.strip() != ""
    assert 1 <= len(form.themes) <= 20
    if form.submitted_at is not None:
        assert form.submitted_at.tzinfo == UTC
        assert payloads.EARLIEST <= form.submitted_at < payloads.LATEST


@PURE
@given(body=bodies(typeform_bytes))
@example(body=b'{"event_id": "x", "event_id": "y"}')
@example(body=typeform_bytes().replace(b'"form_response"', b'"x": NaN, "form_response"', 1))
def test_any_bytes_are_a_typeform_application_or_a_malformed_payload(body: bytes) -> None:
    try:
        delivery, form = payloads.parse_typeform(body)
    except MalformedPayloadError as error:
        event(f"malformed: {error.detail}")
        assert_refused_without_values(error)
        return
    event("parsed")
    assert_unambiguous(body)
    assert 1 <= len(delivery.event_id) <= 200
    assert_a_valid_form(form)


@PURE
@given(body=bodies(forms_bytes) | bodies(_plan))
@example(body=forms_bytes().replace(b'"type"', b'"x": Infinity, "type"', 1))
@example(body=forms_bytes().replace(b'"type"', b'"x": 1e400, "type"', 1))
def test_any_bytes_are_a_forms_delivery_or_a_malformed_payload(body: bytes) -> None:
    try:
        delivery = payloads.parse_forms(body)
    except MalformedPayloadError as error:
        event(f"malformed: {error.detail}")
        assert_refused_without_values(error)
        return
    event(f"parsed: {type(delivery).__name__}")
    assert_unambiguous(body)
    if isinstance(delivery, SubmittedPlan):
        assert delivery.document_url.startswith("https://")
        assert len(delivery.document_sha256) == 64
    else:
        assert_a_valid_form(delivery)


HEADER_NAMES = st.sampled_from(
    ["typeform-signature", "webhook-id", "webhook-timestamp", "webhook-signature", "x"]
)
HEADERS = st.dictionaries(HEADER_NAMES | TEXT, TEXT | st.sampled_from(["v1,", "sha256=", ""]))


@PURE
@given(body=st.binary(max_size=200), headers=HEADERS)
def test_any_headers_are_a_yes_or_a_no_never_an_error(body: bytes, headers: dict[str, str]) -> None:
    typeform = signatures.is_signed_by_typeform(WEBHOOK_SECRETS["TYPEFORM_SECRET"], body, headers)
    forms = signatures.is_standard_webhook(WEBHOOK_SECRETS["FORMS_WEBHOOK_SECRET"], body, headers)
    assert typeform is False
    assert forms is False


@PURE
@given(body=st.binary(max_size=200), data=st.data())
def test_a_typeform_signature_holds_for_its_body_and_no_other(
    body: bytes, data: st.DataObject
) -> None:
    secret = WEBHOOK_SECRETS["TYPEFORM_SECRET"]
    headers = {"typeform-signature": typeform_signature(body, secret)}
    assert signatures.is_signed_by_typeform(secret, body, headers)

    changed = data.draw(mutated(body))
    assume(changed != body)
    assert not signatures.is_signed_by_typeform(secret, changed, headers)


@PURE
@given(body=st.binary(max_size=200), data=st.data())
def test_a_standard_webhook_signature_holds_for_its_utf8_body_and_no_other(
    body: bytes, data: st.DataObject
) -> None:
    secret = WEBHOOK_SECRETS["FORMS_WEBHOOK_SECRET"]
    headers = standard_webhook_headers(body, "msg_1")
    utf8 = _is_utf8(body)
    assert signatures.is_standard_webhook(secret, body, headers) is utf8  # text only, by spec

    changed = data.draw(mutated(body))
    assume(changed != body)
    assert not signatures.is_standard_webhook(secret, changed, headers)
    forged = {**headers, "webhook-signature": sign_v1(body, webhook_id="msg_2", key=FORMS_KEY)}
    assert not signatures.is_standard_webhook(secret, body, forged)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


# Deliveries: any form that parses, recorded against a real round in moto

NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=210)
ORG_NUMBERS = st.sampled_from(
    [
        SKATTEVERKET,
        KRIMINALVARDEN,
        ESV,
        SKATTEVERKET.replace("-", ""),
        "202100-5449",
        "\uff12\uff10\uff12\uff11",
    ]
) | st.text(min_size=1, max_size=41)


@st.composite
def forms(draw: st.DrawFn) -> ApplicationForm:
    fields = {
        "round_id": draw(st.sampled_from([ROUND_ID, "2031-9", " 2026-1 "])),
        "org_number": draw(ORG_NUMBERS),
        "agency_name": draw(NAMES),
        "director_general": draw(NAMES),
        "contact_name": draw(NAMES),
        "contact_email": draw(st.sampled_from(["kim@example.se", "ÅSA@exempel.se", "a@b.c"])),
        "themes": draw(
            st.lists(st.sampled_from([*THEMES, " VI-KÄNSLA ", "okänt", ""]) | NAMES, max_size=21)
        ),
        "preferred_partner": draw(st.none() | ORG_NUMBERS | st.just("")),
        "motivation": draw(st.none() | st.text(max_size=4001)),
        "submitted_at": draw(
            st.none()
            | st.datetimes(
                min_value=datetime(1999, 12, 31),
                max_value=datetime(2100, 1, 2),
                timezones=st.just(UTC),
            )
        ),
    }
    try:
        return ApplicationForm.model_validate(fields)
    except ValidationError:
        assume(False)
        raise


@pytest.fixture
def open_round_with_pair(rounds: Rounds) -> str:
    """Round 2026-1 running with a pair (plans can be submitted); the pair's id."""
    return rounds.running_with_a_pair()


@STORED
@given(form=forms())
def test_any_parsed_application_is_recorded_refused_or_a_duplicate(
    open_round: Rounds, state: Callable[[], Snapshot], form: ApplicationForm
) -> None:
    delivery_id = uuid.uuid4().hex
    first = state()
    outcome = deliveries.record_application(
        form, delivery_id=delivery_id, source="forms", received_at=datetime.now(UTC)
    )
    event(outcome.status)
    # THEN the answer is what was stored: recorded, one application and its two people's keys;
    # refused, one refusal under this delivery's id with the reason answered, and no key
    appended = _appended(first, state())
    minted = state().items["SubjectKeysTable"] - first.items["SubjectKeysTable"]
    if outcome.status == "recorded":
        assert ([e["type"] for e in appended], len(minted)) == (["AgencyApplied"], 2)
    else:
        assert outcome.status == "refused", outcome
        assert ([e["type"] for e in appended], len(minted)) == (["ApplicationRefused"], 0)
        assert (appended[0]["delivery_id"], appended[0]["reason"]) == (
            delivery_id,
            outcome.reason,
        )

    # AND the same delivery again stores nothing new
    before = state()
    again = deliveries.record_application(
        form, delivery_id=delivery_id, source="forms", received_at=datetime.now(UTC)
    )
    assert again.status == "duplicate"
    assert_unchanged(before, state())


def _appended(before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    """The payloads (with their type) of the events that appeared, the streams' tips aside."""
    found: list[dict[str, Any]] = []
    for text in after.items["EventStoreTable"] - before.items["EventStoreTable"]:
        item = json.loads(text)
        if "type" in item:
            found.append({"type": item["type"]["S"], **json.loads(item["payload"]["S"])})
    return found


PAIR = "pair-1"  # the one pair `running_with_a_pair` forms
# Titles that cannot hold personal data (no digit in any script, no @) and titles that do,
# each with the refusal it meets, whatever the pair: the rule is checked first.
NO_DIGIT_NOR_AT = st.characters(codec="utf-8", exclude_categories=["Nd"], exclude_characters="@")
PLAN_TITLES = st.text(NO_DIGIT_NOR_AT, min_size=1, max_size=210) | st.sampled_from(
    ["Plan 2026", "Version 2.0"]
)
PERSONAL_TITLES = {
    "Frågor till kim@example.se": "title holds an e-mail address: leave people out",
    "Ring 070-123 45 67": "title holds a phone number: leave people out",
    "Tolvan 19121212-1212": "title holds a personal identity number: leave people out",
}


def _plans_of(rounds: Rounds, pair_id: str) -> list[PlanSubmitted | PlanRevised]:
    return [
        e
        for e in rounds.events()
        if isinstance(e, PlanSubmitted | PlanRevised) and e.pair_id == pair_id
    ]


@STORED
@given(
    pair_id=st.just(PAIR) | st.sampled_from([PAIR, "pair-2"]) | st.text(min_size=1, max_size=80),
    title=PLAN_TITLES | st.sampled_from(sorted(PERSONAL_TITLES)),
    sha=st.sampled_from(["a" * 64, "B" * 64, "0123456789abcdef" * 4]),
)
@example(pair_id=PAIR, title="Plan", sha="a" * 64)
@example(pair_id=PAIR, title="Plan", sha="A" * 64)
@example(pair_id=PAIR, title="Plan, reviderad", sha="0123456789abcdef" * 4)
@example(pair_id="pair-2", title="Plan", sha="a" * 64)
@example(pair_id=PAIR, title="Ring 070-123 45 67", sha="b" * 64)
def test_any_parsed_plan_is_recorded_once_a_duplicate_after_or_refused_by_its_rule(
    rounds: Rounds,
    open_round_with_pair: str,
    state: Callable[[], Snapshot],
    pair_id: str,
    title: str,
    sha: str,
) -> None:
    assert open_round_with_pair == PAIR
    try:
        plan = SubmittedPlan(
            type="plan.submitted",
            round_id=ROUND_ID,
            pair_id=pair_id,
            title=title,
            document_url="https://example.org/p.pdf",
            document_sha256=sha,
        )
    except ValidationError:
        assume(False)
        raise
    # GIVEN the pair's plans so far (the examples share one round), and what the code promises
    # for this plan: refused for personal data or an unknown pair, a duplicate of the document
    # the pair has in, recorded otherwise
    plans = _plans_of(rounds, PAIR)
    if plan.title in PERSONAL_TITLES:
        expected = deliveries.Outcome("refused", PERSONAL_TITLES[plan.title])
    elif pair_id != PAIR:
        expected = deliveries.Outcome("refused", f"round {ROUND_ID!r} has no pair {pair_id!r}")
    elif plans and plans[-1].document_sha256 == sha.lower():
        expected = deliveries.DUPLICATE
    else:
        expected = deliveries.RECORDED
    before = len(rounds.events())

    # WHEN it is delivered
    delivery_id = uuid.uuid4().hex
    outcome = deliveries.record_plan(plan, delivery_id=delivery_id, source="forms")

    # THEN it is answered exactly that, and only a recorded plan appended, one event
    event(f"{outcome.status}: {'revision' if plans else 'first'}")
    assert outcome == expected
    appended = rounds.events()[before:]
    if expected == deliveries.RECORDED:
        assert appended == _plans_of(rounds, PAIR)[len(plans) :]
        (recorded,) = appended
        assert isinstance(recorded, PlanRevised if plans else PlanSubmitted)
        assert (recorded.title, recorded.document_sha256) == (plan.title, sha.lower())
        if isinstance(recorded, PlanRevised):
            assert recorded.revision == len(plans) + 1
    else:
        assert appended == []

    # AND the same delivery again, and the same plan on another delivery, store nothing new:
    # a duplicate of what was recorded, or the same refusal
    again = deliveries.DUPLICATE if expected.status != "refused" else expected
    snapshot = state()
    for redelivery_id in (delivery_id, uuid.uuid4().hex):
        assert deliveries.record_plan(plan, delivery_id=redelivery_id, source="forms") == again
    assert_unchanged(snapshot, state())
