"""API Gateway HTTP API (payload format 2.0) events, as API Gateway builds them for Lambda."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


def http_api_event(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    route_key: str = "$default",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event API Gateway hands a Lambda for one request (header names lower-cased)."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": lowered,
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "stage": "$default",
            "routeKey": route_key,
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "timeEpoch": int(time.time() * 1000),
        },
        # Always base64: API Gateway does so for bodies it cannot vouch are text, and the
        # signature checks need the exact bytes.
        "isBase64Encoded": True,
        "body": base64.b64encode(body).decode(),
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event


@dataclass
class LambdaContext:
    """Enough of the Lambda context object for Powertools."""

    function_name: str = "programme-engine-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def response_body(response: Mapping[str, Any]) -> bytes:
    """The body bytes of a Lambda proxy response (base64-decoded when flagged)."""
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()
