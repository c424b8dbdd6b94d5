"""Requests as a hostile sender makes them: any bytes, any headers, signed or not.

Builds on `tests.functions.http` (API Gateway v2 events, the entry points, Typeform's
signature), adding what it cannot make: Standard Webhooks signatures over bytes that are not
UTF-8 (the reference library signs text only), made here by the specification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from tests.functions.http import Reply, invoke
from tests.support.apigw import http_event
from tests.support.stack import WEBHOOK_SECRETS

Headers = dict[str, str]

FORMS_KEY = base64.b64decode(WEBHOOK_SECRETS["FORMS_WEBHOOK_SECRET"].removeprefix("whsec_"))
"""The bytes a `whsec_…` secret stands for: the HMAC key of Standard Webhooks."""


def sign_v1(
    body: bytes, *, webhook_id: str, key: bytes = FORMS_KEY, at: datetime | None = None
) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, for any bytes and any key."""
    timestamp = str(int((at or datetime.now(UTC)).timestamp()))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def standard_webhook_headers(
    body: bytes, webhook_id: str, *, at: datetime | None = None
) -> Headers:
    """Every Standard Webhooks header, right for `body` whatever its bytes."""
    at = at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": sign_v1(body, webhook_id=webhook_id, at=at),
    }


def deliver(path: str, body: bytes, headers: Headers) -> Reply:
    """POST `body` to a webhook route with exactly `headers` (and a JSON content type)."""
    event = http_event("POST", path, body=body, headers={"content-type": "application/json"})
    event["headers"].update({name.lower(): value for name, value in headers.items()})
    return invoke("intake", event)
