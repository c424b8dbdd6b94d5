"""Synthetic API Gateway HTTP API (payload 2.0) events for handler tests.

The event itself is built by `programme.stack.apigw`, the same code the local stack serves with,
so tests and the local HTTP API cannot disagree on what API Gateway sends.
"""

from __future__ import annotations

import json
from typing import Any

from programme.stack.apigw import LambdaContext, http_api_event, response_body

__all__ = ["LambdaContext", "http_event", "response_json"]


def http_event(
    method: str,
    path: str,
    *,
    body: bytes | str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API v2 event; a dict body is sent as JSON with its content type."""
    all_headers = dict(headers or {})
    if isinstance(body, dict):
        raw = json.dumps(body).encode()
        if not any(name.lower() == "content-type" for name in all_headers):
            all_headers["content-type"] = "application/json"
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = body or b""
    event = http_api_event(method, path, body=raw, headers=all_headers, query=query)
    event["requestContext"]["requestId"] = "test-request"  # a known correlation id
    return event


def response_json(response: dict[str, Any]) -> Any:
    """The JSON body of a handler's response (base64-decoded when needed)."""
    return json.loads(response_body(response))
