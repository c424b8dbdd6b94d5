"""The public webhook routes: size, then signature, then shape, then the business.

Every authenticated, well-formed delivery is answered 202 with what became of it, so a
sender never retries a business refusal; 404 and 410 are never used for business reasons
(Typeform disables a webhook that answers them).

The domain, the events, the vault and the command handler (`deliveries`) are imported by the
first delivery that is authenticated and well formed, not by the cold start: a forged or
malformed one is answered without them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from functions.common import bootstrap
from functions.common.problems import PROBLEM_JSON, Problem, problem, problem_responses
from functions.common.settings import secret
from functions.intake import payloads, signatures
from functions.intake.payloads import MAX_BODY_BYTES, MalformedPayloadError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
    from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

    from events import Source
    from functions.intake.deliveries import Outcome

router = Router()  # type: ignore[no-untyped-call]
logger = Logger(child=True)
metrics = Metrics()

RETRY_AFTER_SECONDS = "5"


class DeliveryAnswer(BaseModel):
    """What became of a delivery; `reason` says why it was a duplicate or refused."""

    status: Literal["recorded", "duplicate", "refused"]
    reason: str | None = None
    delivery_id: str


class PayloadTooLargeError(Exception):
    pass


class UnauthenticatedDeliveryError(Exception):
    pass


class RoundBusyError(Exception):
    """The command handler ran out of retries against concurrent writers."""


_RESPONSES = cast(
    "dict[int, OpenAPIResponse]",
    {
        202: {
            "description": "Received: recorded, a duplicate, or refused by the programme's rules",
            "content": {content_types.APPLICATION_JSON: {"model": DeliveryAnswer}},
        },
        **problem_responses(400, 401, 413),
        503: {
            "description": "Busy: retry after the given delay",
            "content": {PROBLEM_JSON: {"model": Problem}},
        },
    },
)


@router.post("/webhooks/typeform", responses=_RESPONSES, tags=["intake"])
def typeform_delivery() -> Response[DeliveryAnswer]:
    """An application from Typeform (`Typeform-Signature: sha256=…`), read through its form's
    mapping; one whose answers cannot be read is held, sealed, and answered `refused`."""
    body, headers = _received("typeform")
    if not signatures.is_signed_by_typeform(secret("TYPEFORM_SECRET"), body, headers):
        raise UnauthenticatedDeliveryError
    delivery = payloads.parse_typeform_delivery(body)
    from functions.intake import forms

    with _busy_when_out_of_retries():
        outcome, round_id = forms.record_typeform(delivery, body, received_at=bootstrap.now())
    return _answer(outcome, delivery.event_id, round_id)


@router.post("/webhooks/forms", responses=_RESPONSES, tags=["intake"])
def forms_delivery() -> Response[DeliveryAnswer]:
    """An application or a plan from any form tool signing per Standard Webhooks."""
    body, headers = _received("forms")
    if not signatures.is_standard_webhook(secret("FORMS_WEBHOOK_SECRET"), body, headers):
        raise UnauthenticatedDeliveryError
    delivery_id = _webhook_id(headers)
    delivery = payloads.parse_forms(body)
    source: Source = "forms"
    from functions.intake import deliveries

    with _busy_when_out_of_retries():
        if isinstance(delivery, payloads.SubmittedPlan):
            outcome = deliveries.record_plan(delivery, delivery_id=delivery_id, source=source)
        else:
            outcome = deliveries.record_application(
                delivery, delivery_id=delivery_id, source=source, received_at=bootstrap.now()
            )
    return _answer(outcome, delivery_id, delivery.round_id)


@router.exception_handler(PayloadTooLargeError)  # type: ignore[untyped-decorator]
def _too_large(_: PayloadTooLargeError) -> Response[str]:
    _count("DeliveriesTooLarge")
    return problem(413, "Content Too Large", f"a delivery is at most {MAX_BODY_BYTES} bytes")


@router.exception_handler(UnauthenticatedDeliveryError)  # type: ignore[untyped-decorator]
def _unauthenticated(_: UnauthenticatedDeliveryError) -> Response[str]:
    _count("DeliveriesUnauthorised")
    logger.warning("delivery refused: missing, wrong or stale signature")
    return problem(401, "Unauthorized", "missing, wrong or stale signature")


@router.exception_handler(MalformedPayloadError)  # type: ignore[untyped-decorator]
def _malformed(error: MalformedPayloadError) -> Response[str]:
    _count("DeliveriesMalformed")
    logger.warning("delivery malformed", extra={"errors": error.errors})
    return problem(400, "Bad Request", error.detail, errors=error.errors)


@router.exception_handler(RoundBusyError)  # type: ignore[untyped-decorator]
def _busy(_: RoundBusyError) -> Response[str]:
    _count("DeliveriesBusy")
    response = problem(
        503,
        "Service Unavailable",
        "the round is busy or the store did not answer; send the same delivery again later "
        "(it is never recorded twice)",
    )
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


@contextmanager
def _busy_when_out_of_retries() -> Iterator[None]:
    """A command not applied (every retry lost, or the store did not answer) is answered 503."""
    from infra.command_handler import CommandNotAppliedError

    try:
        yield
    except CommandNotAppliedError as busy:
        raise RoundBusyError(str(busy)) from busy


def _received(provider: Literal["typeform", "forms"]) -> tuple[bytes, dict[str, str]]:
    """The raw body (at most 256 KB) and the headers, lower-cased."""
    metrics.add_dimension(name="provider", value=provider)
    event: BaseProxyEvent = router.current_event
    try:
        raw = base64.b64decode(event.body or "") if event.is_base64_encoded else None
    except ValueError:  # binascii.Error, or characters outside ASCII
        raise MalformedPayloadError("the body is not valid base64", []) from None
    if raw is None:
        raw = (event.body or "").encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError
    return raw, {name.lower(): value for name, value in event.headers.items()}


def _webhook_id(headers: dict[str, str]) -> str:
    delivery_id = headers["webhook-id"]  # present: the signature covers it
    if len(delivery_id) > 200:
        raise MalformedPayloadError(
            "webhook-id is at most 200 characters",
            [{"loc": ["header", "webhook-id"], "type": "string_too_long"}],
        )
    return delivery_id


def _answer(outcome: Outcome, delivery_id: str, round_id: str | None) -> Response[DeliveryAnswer]:
    _count(f"Deliveries{outcome.status.capitalize()}")
    logger.info(
        "delivery answered",
        extra={"delivery_id": delivery_id, "round_id": round_id, "status": outcome.status},
    )
    answer = DeliveryAnswer(status=outcome.status, reason=outcome.reason, delivery_id=delivery_id)
    return Response(202, content_types.APPLICATION_JSON, answer)


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
