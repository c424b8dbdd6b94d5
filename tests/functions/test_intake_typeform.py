"""POST /webhooks/typeform: Typeform's signed deliveries become applications — or recorded
refusals — exactly once, with the people in them sealed before anything is stored."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from domain.streams import LEGACY_REFUSALS_STREAM, refusal_stream_id
from events import AgencyApplied, ApplicationRefused, DeliveryHeld
from functions.common import bootstrap
from infra.vault import application_subject_id
from tests.domain.given import ESV, SKATTEVERKET, VI_KANSLA
from tests.functions.http import (
    CONTACT_EMAIL,
    CONTACT_NAME,
    DG_NAME,
    deliver_typeform,
    standard_headers,
    typeform_payload,
    typeform_signature,
)
from tests.functions.rounds import ROUND_ID, Rounds, form_events
from tests.support.stack import FunctionsEnv

EVENT_ID = "01HZX3K9T2TYPEFORM0000001"


def stored_items(env: FunctionsEnv) -> str:
    """Every item of the event store table, as raw text (snapshots decompressed)."""
    table = env.tables["EventStoreTable"]
    items = bootstrap.dynamodb_client().scan(TableName=table)["Items"]
    snapshots = [
        zlib.decompress(item["snapshot"]["B"]).decode() for item in items if "snapshot" in item
    ]
    assert snapshots, "the round's tip keeps a snapshot"
    events = [item for item in items if "snapshot" not in item]
    return json.dumps([events, snapshots], ensure_ascii=False)


def same_rule(name: str) -> str:
    """A rule's name however an event spells it (`ensure_round_is_open`, `ensureRoundIsOpen`)."""
    return name.replace("_", "").casefold()


def test_a_signed_application_is_recorded_with_its_people_sealed(
    rounds: Rounds, env: FunctionsEnv
) -> None:
    # GIVEN a round open for applications
    rounds.open()

    # WHEN Typeform delivers an application, the org number without its hyphen
    reply = deliver_typeform(typeform_payload(EVENT_ID))

    # THEN it is recorded, with the number normalised and the delivery remembered
    assert reply.status == 202
    assert reply.body == {"status": "recorded", "reason": None, "delivery_id": EVENT_ID}
    applied = rounds.events()[-1]
    assert isinstance(applied, AgencyApplied)
    assert (applied.org_number, applied.source, applied.delivery_id) == (
        SKATTEVERKET,
        "typeform",
        EVENT_ID,
    )
    # AND the people are sealed under subjects derived from the delivery, readable by the vault
    assert applied.director_general.subject_id == application_subject_id(
        "typeform", ROUND_ID, EVENT_ID, "director_general"
    )
    assert applied.contact.subject_id == application_subject_id(
        "typeform", ROUND_ID, EVENT_ID, "contact"
    )
    vault = bootstrap.vault()
    assert vault.open(applied.director_general) == {"name": DG_NAME}
    assert vault.open(applied.contact) == {"name": CONTACT_NAME, "email": CONTACT_EMAIL}
    # AND no clear text of theirs is anywhere in the stored items
    raw = stored_items(env)
    for clear in (DG_NAME, CONTACT_NAME, CONTACT_EMAIL, "kim@"):
        assert clear not in raw


def test_a_retried_delivery_is_a_duplicate_and_records_nothing(rounds: Rounds) -> None:
    # GIVEN a delivery already recorded
    rounds.open()
    assert deliver_typeform(typeform_payload(EVENT_ID)).body["status"] == "recorded"
    before = rounds.events()

    # WHEN Typeform retries it
    reply = deliver_typeform(typeform_payload(EVENT_ID))

    # THEN it is answered as a duplicate and the stream is unchanged
    assert (reply.status, reply.body["status"]) == (202, "duplicate")
    assert rounds.events() == before


def test_a_single_select_theme_counts_as_the_applications_theme(rounds: Rounds) -> None:
    # GIVEN an open round
    rounds.open()

    # WHEN the form's theme question is single-select (`choice.label`, not `choices.labels`)
    reply = deliver_typeform(typeform_payload(single_choice=True, themes=["  VI-KÄNSLA "]))

    # THEN the application carries that theme, in the round's own spelling
    assert reply.body["status"] == "recorded"
    applied = rounds.events()[-1]
    assert isinstance(applied, AgencyApplied)
    assert applied.themes == (VI_KANSLA,)


@pytest.mark.parametrize(
    ("setup", "changes", "rule"),
    [
        pytest.param("closed", {}, "ensure_round_is_open", id="window closed"),
        pytest.param("open", {"org_number": ESV}, "ensure_not_organiser", id="organiser"),
        pytest.param(
            "open", {"org_number": "202100-5449"}, "ensure_valid_org_number", id="bad check digit"
        ),
    ],
)
def test_an_application_the_rules_refuse_is_answered_and_recorded_as_refused(
    rounds: Rounds, setup: str, changes: dict[str, Any], rule: str
) -> None:
    # GIVEN a round open for applications, or one whose applications have closed
    rounds.open()
    if setup == "closed":
        rounds.close_applications()

    # WHEN Typeform delivers an application the rules refuse
    reply = deliver_typeform(typeform_payload(EVENT_ID, **changes))

    # THEN it is accepted as refused, with the reason
    assert (reply.status, reply.body["status"]) == (202, "refused")
    assert reply.body["reason"]
    # AND the refusal is recorded in the round, where staff see it
    refused = rounds.events()[-1]
    assert isinstance(refused, ApplicationRefused)
    assert (same_rule(refused.rule), refused.delivery_id, refused.source) == (
        same_rule(rule),
        EVENT_ID,
        "typeform",
    )
    assert refused.reason == reply.body["reason"]


def test_a_refused_delivery_retried_is_a_duplicate(rounds: Rounds) -> None:
    # GIVEN a delivery refused because the organiser applied
    rounds.open()
    assert deliver_typeform(typeform_payload(EVENT_ID, org_number=ESV)).body["status"] == "refused"
    before = rounds.events()

    # WHEN it is delivered again
    reply = deliver_typeform(typeform_payload(EVENT_ID, org_number=ESV))

    # THEN nothing new is recorded
    assert reply.body["status"] == "duplicate"
    assert rounds.events() == before


def test_an_application_to_an_unknown_round_is_refused_and_kept_on_its_own_stream(
    env: FunctionsEnv,
) -> None:
    # GIVEN no round "2031-9"
    # WHEN Typeform delivers an application to it, twice
    first = deliver_typeform(typeform_payload(EVENT_ID, round_id="2031-9"))
    second = deliver_typeform(typeform_payload(EVENT_ID, round_id="2031-9"))

    # THEN the first is refused (never 404: Typeform would disable the webhook), the retry is
    # a duplicate, and the refusal is kept once, on the delivery's own refusal stream
    assert (first.status, first.body["status"]) == (202, "refused")
    assert "2031-9" in first.body["reason"]
    assert (second.status, second.body["status"]) == (202, "duplicate")
    kept = [
        r.event
        for r in bootstrap.event_store().read(refusal_stream_id("typeform", "2031-9", EVENT_ID))
    ]
    assert len(kept) == 1
    assert list(bootstrap.event_store().read(LEGACY_REFUSALS_STREAM)) == []
    refusal = kept[0]
    assert isinstance(refusal, ApplicationRefused)
    assert (refusal.requested_round_id, same_rule(refusal.rule), refusal.org_number) == (
        "2031-9",
        same_rule("ensure_round_exists"),
        SKATTEVERKET.replace("-", ""),
    )


def test_refusals_for_unknown_rounds_do_not_share_one_growing_stream(env: FunctionsEnv) -> None:
    # GIVEN no round "2031-9" nor "2031-8"
    # WHEN three deliveries are refused: two ids to one unknown round, one id to another
    deliveries = [(f"{EVENT_ID}a", "2031-9"), (f"{EVENT_ID}b", "2031-9"), (EVENT_ID, "2031-8")]
    replies = [deliver_typeform(typeform_payload(e, round_id=r)) for e, r in deliveries]

    # THEN each is refused and kept alone on a stream of its own: no stream's state grows with
    # the number of refusals, and each one's retry still finds it
    assert [reply.body["status"] for reply in replies] == ["refused"] * 3
    streams = {refusal_stream_id("typeform", r, e) for e, r in deliveries}
    assert len(streams) == 3
    for stream in streams:
        (recorded,) = bootstrap.event_store().read(stream)
        assert isinstance(recorded.event, ApplicationRefused)
    again = deliver_typeform(typeform_payload(f"{EVENT_ID}b", round_id="2031-9"))
    assert again.body["status"] == "duplicate"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"signature": typeform_signature(b"{}", "the-wrong-secret")}, id="wrong"),
        pytest.param({"signature": ""}, id="missing"),
        pytest.param({"signature": "sha256=not base64 at all ✓"}, id="garbage"),
        pytest.param({"signature": "", **standard_headers(b"{}", "msg_1")}, id="standard-webhook"),
    ],
)
def test_a_delivery_without_typeforms_signature_is_unauthorised_and_records_nothing(
    rounds: Rounds, headers: dict[str, str]
) -> None:
    # GIVEN an open round
    rounds.open()
    before = rounds.events()

    # WHEN a delivery comes with a wrong, missing or foreign signature
    reply = deliver_typeform(typeform_payload(EVENT_ID), **headers)

    # THEN it is refused as unauthenticated, as problem+json, and nothing is recorded
    assert reply.status == 401
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert rounds.events() == before


def test_a_tampered_body_is_unauthorised(rounds: Rounds) -> None:
    # GIVEN a delivery signed by Typeform, then altered on the way
    rounds.open()
    signed = json.dumps(typeform_payload(EVENT_ID)).encode()
    tampered = signed.replace(b"Skatteverket", b"Skatteverkex")

    # WHEN it arrives
    reply = deliver_typeform(tampered, signature=typeform_signature(signed))

    # THEN it is refused and nothing is recorded
    assert reply.status == 401
    assert len(rounds.events()) == 2


def test_a_valid_signature_beside_standard_webhook_headers_is_unauthorised(
    rounds: Rounds,
) -> None:
    # GIVEN a correctly signed Typeform delivery that also carries Standard Webhooks headers
    rounds.open()
    body = json.dumps(typeform_payload(EVENT_ID)).encode()

    # WHEN it arrives on the Typeform route
    reply = deliver_typeform(body, **standard_headers(body, "msg_1"))

    # THEN the mixed provenance is refused
    assert reply.status == 401


def test_a_body_over_256_kb_is_too_large_before_its_signature_is_looked_at(
    env: FunctionsEnv,
) -> None:
    # GIVEN a body one byte over 256 KB, with no signature at all
    body = b" " * (256 * 1024 + 1)

    # WHEN it arrives
    reply = deliver_typeform(body, signature="")

    # THEN it is refused for its size
    assert reply.status == 413
    assert reply.body["status"] == 413


def test_a_body_of_exactly_256_kb_is_read(rounds: Rounds) -> None:
    # GIVEN a valid delivery padded with whitespace to exactly 256 KB
    rounds.open()
    body = json.dumps(typeform_payload(EVENT_ID)).encode()
    body += b" " * (256 * 1024 - len(body))

    # WHEN it arrives
    reply = deliver_typeform(body)

    # THEN it is recorded
    assert (reply.status, reply.body["status"]) == (202, "recorded")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"event_id": "x",', id="truncated"),
        pytest.param(b"\xff\xfe{}", id="not utf-8"),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="deeply nested"),
        pytest.param(b'["a list"]', id="not an object"),
    ],
)
def test_a_signed_body_that_is_not_a_json_object_is_a_bad_request(
    env: FunctionsEnv, body: bytes
) -> None:
    # WHEN a correctly signed delivery is not a JSON object
    reply = deliver_typeform(body)

    # THEN it is a bad request, as problem+json
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body["title"] == "Bad Request"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"contact_email": None}, "contact_email", id="missing answer"),
        pytest.param({"round_id": None}, "round_id", id="missing hidden round"),
        pytest.param({"contact_email": "not-an-address"}, "contact_email", id="bad email"),
        pytest.param({"agency_name": 42}, "agency_name", id="wrong type"),
    ],
)
def test_a_signed_delivery_whose_answers_cannot_be_read_is_held_sealed_naming_the_field(
    rounds: Rounds, changes: dict[str, Any], field: str
) -> None:
    # GIVEN an open round
    rounds.open()

    # WHEN the delivery lacks a required answer or has one of the wrong shape
    reply = deliver_typeform(typeform_payload(EVENT_ID, **changes))

    # THEN it is answered refused (Typeform does not retry a 400: the application would be
    # lost), naming the field but never the value; the round is untouched and the form holds
    # the delivery, sealed
    assert (reply.status, reply.body["status"]) == (202, "refused"), reply.body
    assert field in reply.body["reason"]
    assert "not-an-address" not in json.dumps(reply.body)
    assert len(rounds.events()) == 2
    held = [e for e in form_events("lT4Z3j") if isinstance(e, DeliveryHeld)]
    assert [(e.delivery_id, e.missing) for e in held] == [(EVENT_ID, (field,))]
    assert b"not-an-address" not in held[0].delivery.model_dump_json().encode()
