"""How staff commands fail: every error a client can cause becomes problem+json, never a 500.

- a broken rule → 409 naming the rule; an unknown round or pair → 404 (also naming it);
- an `Idempotency-Key` reused for another body → 422, or still running → 409;
- a body that is not `application/json` (415), refused before Powertools reads it; one that
  is not UTF-8, not base64 when flagged so, or nested too deeply (422): Powertools parses the
  body before any route runs and lets those escape as plain exceptions;
- losing every retry against concurrent writers → 503 with `Retry-After`.
"""

from __future__ import annotations

import binascii
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from domain import DomainError, PairNotFoundError, RoundNotFoundError
from functions.common.problems import PROBLEM_JSON, Problem, problem, problem_responses
from infra.command_handler import CommandNotAppliedError

logger = Logger(child=True)
metrics = Metrics()

RETRY_AFTER_SECONDS = "2"


def documented(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI entries for the problem statuses a route can answer (503 always)."""
    busy = {"description": "Busy: retry later", "content": {PROBLEM_JSON: {"model": Problem}}}
    return {**problem_responses(*statuses), 503: busy}


def register(router: Router) -> None:
    """Attach the handlers to `router`; an app including it inherits them."""

    @router.exception_handler([RoundNotFoundError, PairNotFoundError])  # type: ignore[untyped-decorator]
    def _unknown(error: DomainError) -> Response[str]:
        return problem(404, "Not Found", str(error), rule=error.rule)

    @router.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _refused(error: DomainError) -> Response[str]:
        metrics.add_metric(name="CommandsRefused", unit=MetricUnit.Count, value=1)
        logger.info("command refused", extra={"rule": error.rule})
        return problem(409, "Conflict", str(error), rule=error.rule)

    @router.exception_handler(IdempotencyValidationError)  # type: ignore[untyped-decorator]
    def _key_reused(_: IdempotencyValidationError) -> Response[str]:
        detail = "this Idempotency-Key was used for a request with another body"
        return problem(422, "Unprocessable Content", detail)

    @router.exception_handler(IdempotencyAlreadyInProgressError)  # type: ignore[untyped-decorator]
    def _key_in_progress(_: IdempotencyAlreadyInProgressError) -> Response[str]:
        return _retry_later(409, "Conflict", "a request with this Idempotency-Key is running")

    @router.exception_handler(CommandNotAppliedError)  # type: ignore[untyped-decorator]
    def _busy(_: CommandNotAppliedError) -> Response[str]:
        return _retry_later(
            503,
            "Service Unavailable",
            "the round is busy or the store did not answer; repeat the request later "
            "with the same Idempotency-Key (it is never applied twice)",
        )

    @router.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _not_json(_: RequestUnsupportedContentType) -> Response[str]:
        return problem(415, "Unsupported Media Type", "request bodies are application/json")

    @router.exception_handler([UnicodeDecodeError, RecursionError, binascii.Error])  # type: ignore[untyped-decorator]
    def _unreadable(_: Exception) -> Response[str]:
        detail = "the body is not JSON in UTF-8, or is nested too deeply"
        errors = [{"loc": ["body"], "type": "json_invalid"}]
        return problem(422, "Unprocessable Content", detail, errors=errors)


def unsupported_media_type(event: dict[str, Any]) -> dict[str, Any] | None:
    """The 415 answer to a request whose body is not `application/json`, or None.

    Decided before Powertools sees the request: it would read a form or a multipart body as
    fields, and a body without a type as JSON, so a browser could change state cross-site
    with a request it sends without asking first. A DELETE's body is never read.
    """
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method")
    if method not in ("POST", "PATCH", "PUT") or not event.get("body"):
        return None
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        # Media types compare case-insensitively (RFC 9110 8.3.1); Powertools compares them as
        # written, so the header it reads is given in lower case.
        event["headers"] = {
            **{
                k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"
            },
            "content-type": media_type,
        }
        return None
    refused = problem(415, "Unsupported Media Type", "request bodies are application/json")
    return {
        "statusCode": refused.status_code,
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": refused.body,
        "isBase64Encoded": False,
    }


def _retry_later(status: int, title: str, detail: str) -> Response[str]:
    response = problem(status, title, detail)
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response
