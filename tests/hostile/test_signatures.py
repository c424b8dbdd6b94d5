"""Forged, stale and malformed signatures on both webhook routes, as one table per provider.

Every attack is answered 401 with the same problem+json body, which names the signature as
the cause and echoes nothing (no secret, no signature, no body), and leaves every table as it
was: the event store, the read models, the subject keys and the idempotency records.

The attacks start from a delivery that would be recorded as it is (the first test of each
provider shows it): what makes it fail is the attack alone. Signatures are made here, not by
`functions.intake.signatures`: Typeform's with `hmac`, Standard Webhooks' with its reference
library or, where that library cannot, with `hmac` by its specification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events import AgencyApplied
from functions.common import bootstrap
from infra.vault import SubjectErasedError, application_subject_id
from tests.functions.http import (
    Reply,
    application,
    staff,
    standard_headers,
    typeform_payload,
    typeform_signature,
)
from tests.functions.rounds import ROUND_ID, Rounds
from tests.hostile.requests import Headers, deliver, sign_v1, standard_webhook_headers
from tests.hostile.snapshot import Snapshot, assert_unchanged
from tests.support.stack import WEBHOOK_SECRETS

TYPEFORM_SECRET = WEBHOOK_SECRETS["TYPEFORM_SECRET"]
FORMS_SECRET = WEBHOOK_SECRETS["FORMS_WEBHOOK_SECRET"]
OTHER_FORMS_SECRET = "whsec_" + base64.b64encode(b"another sender's secret, 32 byte").decode()
SECRETS = (TYPEFORM_SECRET, FORMS_SECRET, FORMS_SECRET.removeprefix("whsec_"))

EVENT_ID = "01HZX3K9T2HOSTILE00000001"
WEBHOOK_ID = "msg_2Lz1fQjKVPn0p0ZBm0hostile"
UNAUTHORISED = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "missing, wrong or stale signature",
}

Attack = Callable[[bytes], tuple[bytes, Headers]]


def typeform_body(event_id: str = EVENT_ID, **changes: Any) -> bytes:
    return json.dumps(typeform_payload(event_id, **changes)).encode()


def forms_body(**changes: Any) -> bytes:
    return json.dumps({"type": "application.submitted", **application(**changes)}).encode()


def assert_unauthorised(reply: Reply, *sent: str) -> None:
    """401 problem+json naming the signature, and nothing of what was sent or is secret."""
    assert reply.status == 401, reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body == UNAUTHORISED
    text = json.dumps(reply.body)
    for value in (*SECRETS, *sent):
        assert not value or value not in text


# Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>`, nothing else.


def _typeform(signature: str) -> Headers:
    return {"Typeform-Signature": signature}


def _signed(body: bytes) -> str:
    return typeform_signature(body, TYPEFORM_SECRET)


def _tampered(body: bytes) -> bytes:
    return body.replace(b"Skatteverket", b"Skatteverkex")


TYPEFORM_ATTACKS: list[Any] = [
    pytest.param(lambda body: (body, {}), id="no signature header"),
    pytest.param(lambda body: (body, _typeform("")), id="empty signature"),
    pytest.param(lambda body: (body, _typeform("sha256=")), id="prefix only"),
    pytest.param(
        lambda body: (body, _typeform(typeform_signature(body, "the-wrong-secret"))),
        id="wrong secret",
    ),
    pytest.param(
        lambda body: (body, _typeform(typeform_signature(body, FORMS_SECRET))),
        id="signed with the forms secret",
    ),
    pytest.param(lambda body: (body, _typeform(typeform_signature(body, ""))), id="empty secret"),
    pytest.param(lambda body: (_tampered(body), _typeform(_signed(body))), id="tampered body"),
    pytest.param(
        lambda body: (body, _typeform(_signed(typeform_body("01HZX3K9T2ANOTHER00000001")))),
        id="signature of another delivery",
    ),
    pytest.param(lambda body: (body, _typeform(_signed(b""))), id="signature of an empty body"),
    pytest.param(lambda body: (body, _typeform(_signed(body)[:-4])), id="truncated signature"),
    pytest.param(
        lambda body: (body, _typeform(_signed(body).removeprefix("sha256="))), id="no sha256="
    ),
    pytest.param(
        lambda body: (body, _typeform("SHA256=" + _signed(body).removeprefix("sha256="))),
        id="SHA256= in capitals",
    ),
    pytest.param(
        lambda body: (
            body,
            _typeform(
                "sha256=" + hmac.new(TYPEFORM_SECRET.encode(), body, hashlib.sha256).hexdigest()
            ),
        ),
        id="hex digest",
    ),
    pytest.param(
        lambda body: (
            body,
            _typeform(
                "sha1="
                + base64.b64encode(
                    hmac.new(TYPEFORM_SECRET.encode(), body, hashlib.sha1).digest()
                ).decode()
            ),
        ),
        id="sha1 HMAC",
    ),
    pytest.param(
        lambda body: (body, _typeform(f"sha256=AAAA,{_signed(body)}")),
        id="two signatures comma-joined, one valid",
    ),
    pytest.param(
        lambda body: (body, _typeform(f"{_signed(body)} sha256=AAAA")),
        id="two signatures space-separated, one valid",
    ),
    pytest.param(lambda body: (body, _typeform("sha256=not base64 at all ✓")), id="non-ASCII"),
    pytest.param(
        lambda body: (body, standard_headers(body, WEBHOOK_ID)),
        id="Standard Webhooks headers instead",
    ),
    pytest.param(
        lambda body: (body, {**_typeform(_signed(body)), **standard_headers(body, WEBHOOK_ID)}),
        id="valid, beside Standard Webhooks headers",
    ),
]


def test_the_untouched_typeform_delivery_is_recorded(open_round: Rounds) -> None:
    # WHEN the delivery every attack starts from arrives as Typeform signs it
    body = typeform_body()
    reply = deliver("/webhooks/typeform", body, _typeform(_signed(body)))

    # THEN it is recorded: the attacks below fail for what they change, nothing else
    assert (reply.status, reply.body["status"]) == (202, "recorded")


@pytest.mark.parametrize("attack", TYPEFORM_ATTACKS)
def test_a_forged_typeform_delivery_is_unauthorised_and_stores_nothing(
    open_round: Rounds, state: Callable[[], Snapshot], attack: Attack
) -> None:
    # GIVEN an open round, and everything stored so far
    body = typeform_body()
    sent, headers = attack(body)
    before = state()

    # WHEN a delivery arrives with a missing, forged or malformed signature
    reply = deliver("/webhooks/typeform", sent, headers)

    # THEN it is unauthorised, naming the signature and echoing nothing, and nothing is stored
    assert_unauthorised(reply, _signed(body), _signed(sent), *headers.values())
    assert_unchanged(before, state())


def test_a_replayed_typeform_delivery_is_a_duplicate_and_stores_nothing(
    open_round: Rounds, state: Callable[[], Snapshot]
) -> None:
    """Typeform signs the body only: no timestamp, no nonce. A captured delivery verifies for
    ever, so a replay cannot be refused as stale (401) the way a Standard Webhooks one is; what
    stops it is the delivery id the round remembers (`event_id`), whenever it comes back."""
    # GIVEN a delivery recorded, and everything stored since
    body = typeform_body()
    headers = _typeform(_signed(body))
    assert deliver("/webhooks/typeform", body, headers).body["status"] == "recorded"
    before = state()

    # WHEN an eavesdropper replays it, byte for byte
    reply = deliver("/webhooks/typeform", body, headers)

    # THEN it is authentic, so answered 202, but a duplicate: no table changes
    assert reply.status == 202
    assert reply.body["status"] == "duplicate"
    assert_unchanged(before, state())


def test_a_typeform_delivery_replayed_after_erasure_brings_no_one_back(
    open_round: Rounds, state: Callable[[], Snapshot]
) -> None:
    # GIVEN a recorded delivery whose contact person has since been erased
    body = typeform_body()
    headers = _typeform(_signed(body))
    assert deliver("/webhooks/typeform", body, headers).body["status"] == "recorded"
    contact = application_subject_id("typeform", ROUND_ID, EVENT_ID, "contact")
    erased = staff("POST", f"/subjects/{contact}/erasure", {"retention_decision": "Begäran"})
    assert erased.status == 202
    before = state()

    # WHEN the delivery is replayed
    reply = deliver("/webhooks/typeform", body, headers)

    # THEN it is a duplicate: no new key, no new ciphertext, the person stays erased
    assert (reply.status, reply.body["status"]) == (202, "duplicate")
    assert_unchanged(before, state())
    (applied,) = (e for e in open_round.events() if isinstance(e, AgencyApplied))
    with pytest.raises(SubjectErasedError):
        bootstrap.vault().open(applied.contact)


# Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`,
# HMAC-SHA256 of `id.timestamp.body` keyed with the secret's base64-decoded bytes, ±5 minutes.


def _forms(body: bytes, *, at: datetime | None = None, **changes: str | None) -> Headers:
    """Standard Webhooks headers for `body`, then with `changes` (None: the header left out)."""
    headers = standard_headers(body, WEBHOOK_ID, at=at)
    for name, value in changes.items():
        header = name.replace("_", "-")
        if value is None:
            del headers[header]
        else:
            headers[header] = value
    return headers


def _signed_by_the_specification(body: bytes) -> tuple[bytes, Headers]:
    """`body` with every header right, signed by hand: the library signs text only."""
    return body, standard_webhook_headers(body, WEBHOOK_ID)


def _valid(body: bytes) -> str:
    return _forms(body)["webhook-signature"]


def _ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


FORMS_ATTACKS: list[Any] = [
    pytest.param(lambda body: (body, {}), id="no headers at all"),
    pytest.param(lambda body: (body, _forms(body, webhook_signature=None)), id="no signature"),
    pytest.param(lambda body: (body, _forms(body, webhook_id=None)), id="no webhook-id"),
    pytest.param(lambda body: (body, _forms(body, webhook_timestamp=None)), id="no timestamp"),
    pytest.param(lambda body: (body, _forms(body, webhook_signature="")), id="empty signature"),
    pytest.param(lambda body: (body, _forms(body, webhook_id="")), id="empty webhook-id"),
    pytest.param(
        lambda body: (
            body,
            {
                **_forms(body),
                "webhook-signature": standard_headers(body, WEBHOOK_ID, secret=OTHER_FORMS_SECRET)[
                    "webhook-signature"
                ],
            },
        ),
        id="wrong secret",
    ),
    pytest.param(
        lambda body: (
            body,
            _forms(
                body,
                webhook_signature=sign_v1(
                    body, webhook_id=WEBHOOK_ID, key=TYPEFORM_SECRET.encode()
                ),
            ),
        ),
        id="signed with the Typeform secret",
    ),
    pytest.param(lambda body: (_tampered(body), _forms(body)), id="tampered body"),
    pytest.param(
        lambda body: (body, _forms(body, webhook_signature=_valid(forms_body(motivation="x")))),
        id="signature of another body",
    ),
    pytest.param(
        lambda body: (body, {**_forms(body), "webhook-id": "msg_another"}),
        id="signed for another webhook-id",
    ),
    pytest.param(
        lambda body: (
            body,
            {**_forms(body), "webhook-timestamp": str(int(datetime.now(UTC).timestamp()) + 1)},
        ),
        id="timestamp moved after signing",
    ),
    pytest.param(
        lambda body: (body, _forms(body, at=_ago(minutes=5, seconds=30))),
        id="replayed 5.5 minutes later",
    ),
    pytest.param(lambda body: (body, _forms(body, at=_ago(days=1))), id="replayed a day later"),
    pytest.param(
        lambda body: (body, _forms(body, at=_ago(minutes=-10))), id="signed 10 minutes ahead"
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_timestamp="yesterday")),
        id="timestamp not a number",
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_timestamp="1" + "0" * 30)), id="timestamp huge"
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_timestamp="-1")), id="timestamp negative"
    ),
    pytest.param(lambda body: (body, _forms(body, webhook_timestamp="nan")), id="timestamp NaN"),
    pytest.param(
        lambda body: (
            body,
            _forms(body, webhook_timestamp=str(int(datetime.now(UTC).timestamp() * 1000))),
        ),
        id="timestamp in milliseconds",
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_signature=_valid(body)[:-4])),
        id="truncated signature",
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_signature=_valid(body).removeprefix("v1,"))),
        id="no v1,",
    ),
    pytest.param(lambda body: (body, _forms(body, webhook_signature="v1")), id="v1 alone"),
    pytest.param(
        lambda body: (body, _forms(body, webhook_signature="v2," + _valid(body)[3:])),
        id="unknown version",
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_signature="v1a," + _valid(body)[3:])),
        id="asymmetric version",
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_signature="v1,c2lnbmF0dXJl v1,AAAA")),
        id="two signatures, neither valid",
    ),
    pytest.param(
        lambda body: (body, _forms(body, webhook_signature="v1,%%%not-base64")), id="not base64"
    ),
    pytest.param(
        lambda body: (body, _typeform(typeform_signature(body, TYPEFORM_SECRET))),
        id="Typeform's signature instead",
    ),
    pytest.param(
        lambda body: (body, {**_forms(body), **_typeform(_signed(body))}),
        id="valid, beside Typeform's header",
    ),
    pytest.param(
        lambda body: _signed_by_the_specification(
            body.replace(b"Skatteverket", b"Skatteverk\xe9t")
        ),
        id="correctly signed, body not UTF-8",
    ),
]


def test_the_untouched_standard_webhook_is_recorded(open_round: Rounds) -> None:
    # WHEN the delivery every attack starts from arrives as its sender signs it
    body = forms_body()
    reply = deliver("/webhooks/forms", body, _forms(body))

    # THEN it is recorded: the attacks below fail for what they change, nothing else
    assert (reply.status, reply.body["status"]) == (202, "recorded")


@pytest.mark.parametrize("attack", FORMS_ATTACKS)
def test_a_forged_standard_webhook_is_unauthorised_and_stores_nothing(
    open_round: Rounds, state: Callable[[], Snapshot], attack: Attack
) -> None:
    # GIVEN an open round, and everything stored so far
    body = forms_body()
    sent, headers = attack(body)
    before = state()

    # WHEN a delivery arrives with missing, forged, stale or malformed signature headers
    reply = deliver("/webhooks/forms", sent, headers)

    # THEN it is unauthorised, naming the signature and echoing nothing, and nothing is stored
    assert_unauthorised(reply, _valid(body), *headers.values())
    assert_unchanged(before, state())


@pytest.mark.parametrize(
    "signatures",
    [
        pytest.param(lambda valid: f"v1,c2lnbmF0dXJl {valid}", id="valid one last"),
        pytest.param(lambda valid: f"{valid} v1,c2lnbmF0dXJl", id="valid one first"),
        pytest.param(lambda valid: f"v2,c2lnbmF0dXJl v1a,AAAA {valid}", id="beside other versions"),
    ],
)
def test_several_signatures_pass_when_one_of_them_is_valid(
    open_round: Rounds, signatures: Callable[[str], str]
) -> None:
    """Standard Webhooks lets a sender sign with several secrets while it rotates them."""
    # WHEN a delivery carries several signatures, one of them made with the right secret
    body = forms_body()
    reply = deliver(
        "/webhooks/forms", body, _forms(body, webhook_signature=signatures(_valid(body)))
    )

    # THEN it is authentic, and recorded once
    assert (reply.status, reply.body["status"]) == (202, "recorded")
    assert len(open_round.events()) == 3


def test_a_delivery_signed_four_minutes_ago_is_within_the_tolerance(open_round: Rounds) -> None:
    body = forms_body()
    reply = deliver("/webhooks/forms", body, _forms(body, at=_ago(minutes=4)))
    assert (reply.status, reply.body["status"]) == (202, "recorded")


def test_a_standard_webhook_replayed_within_the_tolerance_is_a_duplicate(
    open_round: Rounds, state: Callable[[], Snapshot]
) -> None:
    """Within the five minutes a replay is authentic; its `webhook-id` makes it a duplicate.
    After them it is stale (401, in the table above)."""
    # GIVEN a delivery recorded
    body = forms_body()
    headers = _forms(body)
    assert deliver("/webhooks/forms", body, headers).body["status"] == "recorded"
    before = state()

    # WHEN it is replayed a moment later, headers and all
    reply = deliver("/webhooks/forms", body, headers)

    # THEN it is a duplicate and nothing is stored
    assert (reply.status, reply.body["status"]) == (202, "duplicate")
    assert_unchanged(before, state())


def test_the_signature_made_by_hand_is_the_librarys() -> None:
    # The rows signed by hand above fail for what they sign, not for how
    at = datetime.now(UTC)
    body = forms_body()
    assert standard_webhook_headers(body, WEBHOOK_ID, at=at) == standard_headers(
        body, WEBHOOK_ID, at=at
    )
