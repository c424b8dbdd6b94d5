"""Who sent a delivery: Typeform's signature and Standard Webhooks', checked on the raw bytes.

Each check answers only yes or no. A malformed header is a no, never an error: whatever a
sender puts in a request must end in 401, not in a crash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

TYPEFORM_HEADER = "typeform-signature"
STANDARD_WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def typeform_signature(secret: str, body: bytes) -> str:
    """`sha256=` + base64 HMAC-SHA256 of the raw body, keyed with the secret as UTF-8 text."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def is_signed_by_typeform(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    if any(name in headers for name in STANDARD_WEBHOOK_HEADERS):
        return False  # the other provider's delivery, sent to the wrong door
    given = headers.get(TYPEFORM_HEADER)
    if not given:
        return False
    # Compared as bytes: compare_digest refuses str with non-ASCII characters.
    expected = typeform_signature(secret, body).encode()
    return hmac.compare_digest(expected, given.encode("utf-8", "replace"))


def is_standard_webhook(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """The Standard Webhooks signature (v1, HMAC-SHA256), within ±5 minutes of now."""
    from standardwebhooks.webhooks import Webhook

    if TYPEFORM_HEADER in headers:
        return False
    webhook = Webhook(secret)  # outside the try: a broken secret is our fault, not the sender's
    try:
        webhook.verify(body, dict(headers), json_parse=False)
    # The library raises WebhookVerificationError for a bad signature and stale time, but also
    # ValueError, binascii.Error or UnicodeError on malformed headers and non-UTF-8 bodies.
    except Exception:
        return False
    return True
