"""A client of the HTTP API as its users call it: staff, and the two kinds of signed webhooks.

Plain `urllib`: what the demo does, anyone can do with curl. Deliveries are signed as the
senders sign them: Typeform with `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body>`,
form tools per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from programme.stack.environment import WebhookSecrets


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class UnexpectedReplyError(RuntimeError):
    """The API answered with a status the caller did not expect; the message shows the reply."""


class ApiClient:
    def __init__(self, base_url: str, secrets: WebhookSecrets, *, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.secrets = secrets
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        request = urllib.request.Request(  # noqa: S310 - the API's own http(s) URL
            self.base_url + path, data=body, headers=dict(headers or {}), method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return Reply(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, dict(error.headers.items()), error.read())

    def get(self, path: str) -> Any:
        """The JSON of a 200 answer to `GET path`."""
        return expect(self.request("GET", path), 200, f"GET {path}").json()

    def staff(self, method: str, path: str, body: Mapping[str, Any]) -> Reply:
        """A staff command (locally every caller on loopback is staff; on AWS, IAM-signed)."""
        return self.request(method, path, _json(body), {"content-type": "application/json"})

    def typeform(self, payload: Mapping[str, Any]) -> Reply:
        body = _json(payload)
        digest = hmac.new(self.secrets.typeform.encode(), body, hashlib.sha256).digest()
        signature = "sha256=" + base64.b64encode(digest).decode()
        headers = {"content-type": "application/json", "Typeform-Signature": signature}
        return self.request("POST", "/webhooks/typeform", body, headers)

    def forms(self, payload: Mapping[str, Any], webhook_id: str) -> Reply:
        from standardwebhooks.webhooks import Webhook

        body = _json(payload)
        now = datetime.now(UTC)  # the receiver checks it against its wall clock (±5 min)
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(self.secrets.forms).sign(webhook_id, now, body.decode()),
        }
        return self.request("POST", "/webhooks/forms", body, headers)


def expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise UnexpectedReplyError(f"{what}: {reply.status} {reply.body[:500]!r}")
    return reply


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=_instant).encode("utf-8")


def _instant(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise TypeError(f"not JSON: {type(value).__name__}")
