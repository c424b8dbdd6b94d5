"""Synthetic API Gateway HTTP API (payload 2.0) events and a Lambda context, for handlers."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


def http_event(
    method: str,
    path: str,
    *,
    body: bytes | str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API v2 event as API Gateway would deliver it (header names lower-cased)."""
    if isinstance(body, dict):
        raw = json.dumps(body).encode()
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = body or b""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    if isinstance(body, dict):
        lowered.setdefault("content-type", "application/json")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": lowered,
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "tests",
            },
            "requestId": "test-request",
            "stage": "$default",
            "routeKey": "$default",
            "accountId": "123456789012",
            "apiId": "test-api",
            "domainName": "api.test",
            "timeEpoch": 1_700_000_000_000,
        },
        "isBase64Encoded": True,
        "body": base64.b64encode(raw).decode(),
    }
    if query:
        event["queryStringParameters"] = dict(query)
    return event


@dataclass
class LambdaContext:
    """Enough of the Lambda context object for Powertools."""

    function_name: str = "programme-engine-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def response_json(response: dict[str, Any]) -> Any:
    """The JSON body of a handler's response (base64-decoded when needed)."""
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)
