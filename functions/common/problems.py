"""RFC 7807 problem responses, and the handlers every HTTP entry point registers."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """The body of every error response (RFC 7807)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    rule: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response[str]:
    body = Problem(title=title, status=status, detail=detail, **extra)
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(body.model_dump(exclude_none=True), ensure_ascii=False),
    )


def problem_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json bodies for `statuses`."""
    titles = {
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        409: "Conflict",
        413: "Content Too Large",
        415: "Unsupported Media Type",
        422: "Unprocessable Content",
    }
    return {
        status: {"description": titles[status], "content": {PROBLEM_JSON: {"model": Problem}}}
        for status in statuses
    }


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: never echo the input back (it may hold personal data).
    return [
        {"loc": [str(part) for part in item.get("loc", ())], "type": item.get("type", "")}
        for item in error.errors()
    ]


def register_problem_handlers(app: APIGatewayHttpResolver) -> None:
    """Map request-validation failures and unknown routes to problem+json."""

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(error: RequestValidationError) -> Response[str]:
        return problem(
            422,
            "Unprocessable Content",
            "the request does not match the operation's schema",
            errors=_validation_errors(error),
        )

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return problem(404, "Not Found", "no such route")
