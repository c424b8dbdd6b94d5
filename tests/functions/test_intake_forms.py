"""POST /webhooks/forms: Standard Webhooks deliveries — applications and plans — from any form
tool, deduplicated on `webhook-id` and refused (never crashed) on anything malformed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from events import AgencyApplied, PlanSubmitted
from functions.common import bootstrap
from tests.domain.given import ESV, KRIMINALVARDEN, SHA_A
from tests.functions.http import application, deliver_forms, forms_event, invoke
from tests.functions.rounds import ROUND_ID, Rounds, always_losing_handler
from tests.support.stack import FunctionsEnv

WEBHOOK_ID = "msg_2Lz1fQjKVPn0p0ZBm0a8pT6ryZQ"


def submitted_application(**changes: object) -> dict[str, object]:
    return {"type": "application.submitted", **application(**changes)}


def submitted_plan(pair_id: str, **changes: object) -> dict[str, object]:
    return {
        "type": "plan.submitted",
        "round_id": ROUND_ID,
        "pair_id": pair_id,
        "title": "En myndighet, en vi-känsla",
        "document_url": "https://example.org/plans/vi-kansla.pdf",
        "document_sha256": SHA_A.upper(),
        **changes,
    }


def test_an_application_is_recorded_under_its_webhook_id(rounds: Rounds) -> None:
    # GIVEN an open round
    rounds.open()

    # WHEN a form tool delivers an application with a hyphenated org number, its own time
    # of submission and fields of its own
    submitted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    payload = submitted_application(
        org_number=KRIMINALVARDEN, submitted_at=submitted_at.isoformat(), flow_run="abc-123"
    )
    reply = deliver_forms(payload, WEBHOOK_ID)

    # THEN it is recorded with the webhook id as the delivery id; the extra field is ignored
    assert reply.status == 202
    assert reply.body == {"status": "recorded", "reason": None, "delivery_id": WEBHOOK_ID}
    applied = rounds.events()[-1]
    assert isinstance(applied, AgencyApplied)
    assert (applied.org_number, applied.source, applied.delivery_id, applied.submitted_at) == (
        KRIMINALVARDEN,
        "forms",
        WEBHOOK_ID,
        submitted_at,
    )


def test_the_same_webhook_id_again_is_a_duplicate(rounds: Rounds) -> None:
    # GIVEN an application recorded from a delivery
    rounds.open()
    assert deliver_forms(submitted_application(), WEBHOOK_ID).body["status"] == "recorded"
    before = rounds.events()

    # WHEN the sender retries it (re-signed, a moment later)
    reply = deliver_forms(submitted_application(), WEBHOOK_ID)

    # THEN nothing new is recorded
    assert reply.body["status"] == "duplicate"
    assert rounds.events() == before


def test_an_application_from_the_organiser_is_refused_and_recorded(rounds: Rounds) -> None:
    # GIVEN an open round
    rounds.open()

    # WHEN Ekonomistyrningsverket, an organiser, applies
    reply = deliver_forms(submitted_application(org_number=ESV), WEBHOOK_ID)

    # THEN it is refused, and the refusal is in the round's stream
    assert (reply.status, reply.body["status"]) == (202, "refused")
    assert rounds.events()[-1].type == "ApplicationRefused"


def test_a_plan_is_submitted_for_its_pair_and_the_same_document_again_is_a_duplicate(
    rounds: Rounds,
) -> None:
    # GIVEN a running round with a pair
    pair_id = rounds.running_with_a_pair()

    # WHEN its plan is delivered, then the same document under another webhook id
    first = deliver_forms(submitted_plan(pair_id), "msg_plan_1")
    again = deliver_forms(submitted_plan(pair_id), "msg_plan_2")

    # THEN the plan is recorded once, its checksum in the stored form
    assert (first.status, first.body["status"]) == (202, "recorded")
    assert again.body["status"] == "duplicate"
    plans = [e for e in rounds.events() if isinstance(e, PlanSubmitted)]
    assert [(p.pair_id, p.document_sha256, p.late) for p in plans] == [(pair_id, SHA_A, False)]


def test_a_plan_the_rules_refuse_is_answered_refused_without_an_event(rounds: Rounds) -> None:
    # GIVEN a running round with one pair
    rounds.running_with_a_pair()
    before = rounds.events()

    # WHEN a plan arrives for a pair the round does not have
    reply = deliver_forms(submitted_plan("pair-99"), WEBHOOK_ID)

    # THEN it is refused with the reason (no refusal event type exists for plans)
    assert (reply.status, reply.body["status"]) == (202, "refused")
    assert "pair-99" in reply.body["reason"]
    assert rounds.events() == before


@pytest.mark.parametrize(
    "when", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["stale", "from the future"]
)
def test_a_delivery_signed_more_than_five_minutes_off_is_unauthorised(
    rounds: Rounds, when: timedelta
) -> None:
    # GIVEN an open round
    rounds.open()

    # WHEN a delivery is correctly signed, but for a time six minutes off
    reply = deliver_forms(submitted_application(), WEBHOOK_ID, at=datetime.now(UTC) + when)

    # THEN it is refused as unauthenticated and nothing is recorded
    assert reply.status == 401
    assert len(rounds.events()) == 2


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"webhook-signature": "v1,c2lnbmF0dXJl"}, id="wrong signature"),
        pytest.param({"webhook-signature": "v1"}, id="no comma"),
        pytest.param({"webhook-signature": "v1,%%%not-base64"}, id="not base64"),
        pytest.param({"webhook-timestamp": "yesterday"}, id="timestamp not a number"),
        pytest.param({"webhook-id": ""}, id="empty id"),
        pytest.param({"typeform-signature": "sha256=AAAA"}, id="typeform header too"),
    ],
)
def test_malformed_or_foreign_signature_headers_are_unauthorised(
    rounds: Rounds, headers: dict[str, str]
) -> None:
    # GIVEN an open round
    rounds.open()

    # WHEN a delivery comes with a signature header that is wrong or malformed
    reply = deliver_forms(submitted_application(), WEBHOOK_ID, headers=headers)

    # THEN it is unauthenticated, not a crash, and nothing is recorded
    assert reply.status == 401
    assert len(rounds.events()) == 2


def test_a_body_that_is_not_utf8_cannot_be_verified_and_is_unauthorised(
    env: FunctionsEnv,
) -> None:
    # GIVEN a body that is not UTF-8 (the Standard Webhooks library signs text only)
    event = forms_event(b"{}")
    event["body"] = "/w=="  # base64 of b"\xff"

    # WHEN it arrives
    reply = invoke("intake", event)

    # THEN it is refused as unverifiable
    assert reply.status == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"type": "application.withdrawn"}, "type", id="unknown type"),
        pytest.param({"round_id": ROUND_ID}, "type", id="no type"),
        pytest.param(submitted_application(org_number=None), "org_number", id="no org number"),
        pytest.param(submitted_application(themes="digitalisering"), "themes", id="themes text"),
        pytest.param(
            submitted_plan("pair-1", document_url="http://example.org/p.pdf"),
            "document_url",
            id="plan over http",
        ),
        pytest.param(submitted_plan("pair-1", document_sha256="abc"), "document_sha256", id="sha"),
    ],
)
def test_a_signed_payload_not_matching_a_form_is_a_bad_request_naming_the_field(
    env: FunctionsEnv, payload: dict[str, object], field: str
) -> None:
    # WHEN a correctly signed delivery does not match either form
    reply = deliver_forms({k: v for k, v in payload.items() if v is not None}, WEBHOOK_ID)

    # THEN it is a bad request naming the field
    assert reply.status == 400
    assert field in {loc for error in reply.body["errors"] for loc in error["loc"]}


def test_a_webhook_id_longer_than_a_delivery_id_may_be_is_a_bad_request(
    env: FunctionsEnv,
) -> None:
    # WHEN a correctly signed delivery has a 201-character webhook id
    reply = deliver_forms(submitted_application(), "m" * 201)

    # THEN it is refused as malformed, naming the header
    assert reply.status == 400
    assert reply.body["errors"] == [{"loc": ["header", "webhook-id"], "type": "string_too_long"}]


def test_a_delivery_that_keeps_losing_races_is_answered_503_with_retry_after(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an open round whose stream another writer always changes first
    rounds.open()
    handler, store = always_losing_handler()
    monkeypatch.setattr(bootstrap, "command_handler", cache(lambda: handler))

    # WHEN an application arrives
    reply = deliver_forms(submitted_application(), WEBHOOK_ID)

    # THEN the sender is told to retry later (Typeform and others retry a 503)
    assert reply.status == 503
    assert reply.headers["Retry-After"].isdigit()
    assert store.appends == 4
    assert len(rounds.events()) == 2


def test_a_body_over_256_kb_is_too_large(env: FunctionsEnv) -> None:
    # WHEN a signed delivery is one byte over 256 KB
    body = json.dumps(submitted_application(motivation="x" * (256 * 1024))).encode()

    # THEN it is refused for its size
    assert deliver_forms(body[: 256 * 1024 + 1], WEBHOOK_ID).status == 413
