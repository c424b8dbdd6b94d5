"""Calling the entry points as API Gateway would, and signed deliveries from both providers.

Signatures are computed here independently of `functions.intake.signatures` (Typeform) or
with the `standardwebhooks` reference library (Standard Webhooks), so a mistake in the code
under test cannot cancel out in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from tests.domain.given import DIGITALISERING, SKATTEVERKET, VI_KANSLA
from tests.functions.rounds import ROUND_ID
from tests.support.apigw import LambdaContext, http_event
from tests.support.stack import WEBHOOK_SECRETS

STAFF_ARN = "arn:aws:iam::123456789012:user/handlaggare"
DG_NAME, CONTACT_NAME, CONTACT_EMAIL = "Katrin Westling Palm", "Kim Kontakt", "kim@example.se"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, Any]


def invoke(entry_point: str, event: dict[str, Any]) -> Reply:
    """Call `functions.<entry_point>.app.handler`, imported on first use: Powertools reads its
    service name and metrics namespace when the module is imported, as Lambda would."""
    handler = importlib.import_module(f"functions.{entry_point}.app").handler
    response = handler(event, LambdaContext())
    raw = response.get("body") or ""
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return Reply(response["statusCode"], json.loads(raw) if raw else None, response["headers"])


# Staff commands


def staff(
    method: str,
    path: str,
    body: dict[str, Any] | bytes | str | None = None,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    principal: str | None = STAFF_ARN,
) -> Reply:
    all_headers = {"content-type": "application/json", **(headers or {})}
    if key is not None:
        all_headers["Idempotency-Key"] = key
    event = http_event(method, path, body=body, headers=all_headers, query=query)
    if principal is not None:
        event["requestContext"]["authorizer"] = {"iam": {"userArn": principal}}
    return invoke("commands", event)


# Typeform


def application(**changes: Any) -> dict[str, Any]:
    """An application's fields, flat (as the forms route takes them)."""
    return {
        "round_id": ROUND_ID,
        "org_number": SKATTEVERKET.replace("-", ""),
        "agency_name": "Skatteverket",
        "director_general": DG_NAME,
        "contact_name": CONTACT_NAME,
        "contact_email": CONTACT_EMAIL,
        "themes": [DIGITALISERING, VI_KANSLA],
        "preferred_partner": None,
        "motivation": "Vi vill stärka styrningen.",
        **changes,
    }


def typeform_payload(
    event_id: str = "01HZX3K9T2TYPEFORM0000001", *, single_choice: bool = False, **changes: Any
) -> dict[str, Any]:
    """Typeform's delivery of `application(**changes)`; a field set to None is left out."""
    fields = {k: v for k, v in application(**changes).items() if v is not None}
    answers: list[dict[str, Any]] = [
        {"type": "number", "number": 4200, "field": {"id": "f0", "type": "number", "ref": "staff"}}
    ]
    for ref in (
        "org_number",
        "agency_name",
        "director_general",
        "contact_name",
        "preferred_partner",
        "motivation",
    ):
        if ref in fields:
            field = {"id": f"id-{ref}", "type": "short_text", "ref": ref}
            answers.append({"type": "text", "text": fields[ref], "field": field})
    if "contact_email" in fields:
        field = {"id": "id-email", "type": "email", "ref": "contact_email"}
        answers.append({"type": "email", "email": fields["contact_email"], "field": field})
    if "themes" in fields:
        field = {"id": "id-themes", "type": "multiple_choice", "ref": "themes"}
        if single_choice:
            choice = {"id": "c1", "ref": "t1", "label": fields["themes"][0]}
            answers.append({"type": "choice", "choice": choice, "field": field})
        else:
            choices = {"ids": ["c1"], "refs": ["t1"], "labels": fields["themes"]}
            answers.append({"type": "choices", "choices": choices, "field": field})
    hidden = {"round_id": fields["round_id"]} if "round_id" in fields else {}
    return {
        "event_id": event_id,
        "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j",
            "token": "a3a12ec67a1365927098a606107fac15",
            "landed_at": "2026-03-02T09:01:12Z",
            "submitted_at": "2026-03-02T09:07:45Z",
            "hidden": hidden,
            "definition": {"id": "lT4Z3j", "title": "Anmälan", "fields": []},
            "answers": answers,
        },
    }


def typeform_signature(body: bytes, secret: str = WEBHOOK_SECRETS["TYPEFORM_SECRET"]) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def typeform_event(
    payload: dict[str, Any] | bytes, *, signature: str | None = None, **headers: str
) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = typeform_signature(body) if signature is None else signature
    signed = {"Typeform-Signature": signature} if signature else {}
    all_headers = {"content-type": "application/json", **signed, **headers}
    return http_event("POST", "/webhooks/typeform", body=body, headers=all_headers)


def deliver_typeform(payload: dict[str, Any] | bytes, **kwargs: Any) -> Reply:
    return invoke("intake", typeform_event(payload, **kwargs))


# Standard Webhooks


def standard_headers(
    body: bytes, webhook_id: str, *, at: datetime | None = None, secret: str | None = None
) -> dict[str, str]:
    at = at or datetime.now(UTC)
    webhook = Webhook(secret or WEBHOOK_SECRETS["FORMS_WEBHOOK_SECRET"])
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": webhook.sign(webhook_id, at, body.decode()),
    }


def forms_event(
    payload: dict[str, Any] | bytes,
    webhook_id: str = "msg_2Lz1fQjKVPn0p0ZBm0a8pT6ryZQ",
    *,
    at: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    all_headers = {
        "content-type": "application/json",
        **standard_headers(body, webhook_id, at=at),
        **(headers or {}),
    }
    return http_event("POST", "/webhooks/forms", body=body, headers=all_headers)


def deliver_forms(payload: dict[str, Any] | bytes, *args: Any, **kwargs: Any) -> Reply:
    return invoke("intake", forms_event(payload, *args, **kwargs))
