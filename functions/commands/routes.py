"""Staff commands on rounds and subjects (IAM-authorised on AWS).

Each route builds a domain command from a validated body and runs it through the one command
handler, once per `Idempotency-Key`. Broken rules are raised and mapped in `problems`:
409 naming the rule, 404 for an unknown round or pair.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from domain import Command, DissolvePair
from domain.streams import round_stream_id
from events import PairFormed
from events.base import ShortText
from functions.commands import erasure, problems
from functions.commands.actors import staff_actor
from functions.commands.idempotency import Answer, Request, once
from functions.commands.requests import (
    CancelBody,
    DecisionBody,
    ErasureAccepted,
    ErasureBody,
    PairBody,
    PairCreated,
    PlanBody,
    PresentationBody,
    RescheduleBody,
    RoundVersion,
    ScheduleRoundBody,
)
from functions.common import bootstrap
from infra.command_handler import HandleResult

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

router = Router()  # type: ignore[no-untyped-call]
problems.register(router)
logger = Logger(child=True)
metrics = Metrics()

RoundIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
PairIdPath = Annotated[str, Path(min_length=1, max_length=80)]
SubjectIdPath = Annotated[str, Path(pattern=r"^subj-[0-9a-f]{32}$")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Repeat a request with the same key to get its first answer, unexecuted",
    ),
]


def _responses(ok: int, model: type[BaseModel], *problems_: int) -> dict[int, OpenAPIResponse]:
    ok_entry = {
        "description": "Done",
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }
    return cast("dict[int, OpenAPIResponse]", {ok: ok_entry, **problems.documented(*problems_)})


@router.post("/rounds", responses=_responses(201, RoundVersion, 409, 415, 422), tags=["commands"])
def schedule_round(
    body: ScheduleRoundBody, idempotency_key: IdempotencyKey = None
) -> Response[RoundVersion]:
    """Schedule a new round with its capacity, themes and five dates."""
    answer = _round_command(body.round_id, body.command(), body, idempotency_key)
    location = {"Location": f"/rounds/{body.round_id}"}
    return Response(201, content_types.APPLICATION_JSON, answer, headers=location)


@router.patch(
    "/rounds/<round_id>/schedule",
    responses=_responses(200, RoundVersion, 404, 409, 415, 422),
    tags=["commands"],
)
def reschedule_round(
    round_id: RoundIdPath, body: RescheduleBody, idempotency_key: IdempotencyKey = None
) -> Response[RoundVersion]:
    """Move any of the round's five dates (those whose transition has not happened)."""
    answer = _round_command(round_id, body.command(round_id), body, idempotency_key)
    return Response(200, content_types.APPLICATION_JSON, answer)


@router.post(
    "/rounds/<round_id>/cancel",
    responses=_responses(200, RoundVersion, 404, 409, 415, 422),
    tags=["commands"],
)
def cancel_round(
    round_id: RoundIdPath, body: CancelBody, idempotency_key: IdempotencyKey = None
) -> Response[RoundVersion]:
    answer = _round_command(round_id, body.command(round_id), body, idempotency_key)
    return Response(200, content_types.APPLICATION_JSON, answer)


@router.post(
    "/rounds/<round_id>/decisions",
    responses=_responses(200, RoundVersion, 404, 409, 415, 422),
    tags=["commands"],
)
def decide_application(
    round_id: RoundIdPath, body: DecisionBody, idempotency_key: IdempotencyKey = None
) -> Response[RoundVersion]:
    """Admit, reject or waitlist an applicant (with an optional case number, diarienummer)."""
    answer = _round_command(round_id, body.command(round_id), body, idempotency_key)
    return Response(200, content_types.APPLICATION_JSON, answer)


@router.post(
    "/rounds/<round_id>/pairs",
    responses=_responses(201, PairCreated, 404, 409, 415, 422),
    tags=["commands"],
)
def form_pair(
    round_id: RoundIdPath, body: PairBody, idempotency_key: IdempotencyKey = None
) -> Response[PairCreated]:
    """Pair two admitted agencies (three when the admitted count is odd) around a theme."""

    def work() -> Answer:
        result = _handle(body.command(round_id), round_id)
        (pair_id,) = (r.event.pair_id for r in result.events if isinstance(r.event, PairFormed))
        return PairCreated(round_id=round_id, pair_id=pair_id, version=result.version).model_dump()

    answer = PairCreated.model_validate(run_once(body, idempotency_key, work))
    location = {"Location": f"/rounds/{round_id}/pairs/{answer.pair_id}"}
    return Response(201, content_types.APPLICATION_JSON, answer, headers=location)


@router.delete(
    "/rounds/<round_id>/pairs/<pair_id>",
    responses=_responses(200, RoundVersion, 404, 409, 422),
    tags=["commands"],
)
def dissolve_pair(
    round_id: RoundIdPath,
    pair_id: PairIdPath,
    reason: Annotated[ShortText, Query(description="Why the pair is dissolved")],
    idempotency_key: IdempotencyKey = None,
) -> Response[RoundVersion]:
    """Dissolve a pair that has not submitted its plan."""
    command = DissolvePair(round_id=round_id, pair_id=pair_id, reason=reason)
    answer = _round_command(round_id, command, {"reason": reason}, idempotency_key)
    return Response(200, content_types.APPLICATION_JSON, answer)


@router.post(
    "/rounds/<round_id>/plans",
    responses=_responses(200, RoundVersion, 404, 409, 415, 422),
    tags=["commands"],
)
def submit_plan(
    round_id: RoundIdPath, body: PlanBody, idempotency_key: IdempotencyKey = None
) -> Response[RoundVersion]:
    """Submit a pair's plan; another document later is a revision, the same one changes nothing."""
    answer = _round_command(round_id, body.command(round_id), body, idempotency_key)
    return Response(200, content_types.APPLICATION_JSON, answer)


@router.post(
    "/rounds/<round_id>/presentations",
    responses=_responses(200, RoundVersion, 404, 409, 415, 422),
    tags=["commands"],
)
def record_presentation(
    round_id: RoundIdPath, body: PresentationBody, idempotency_key: IdempotencyKey = None
) -> Response[RoundVersion]:
    answer = _round_command(round_id, body.command(round_id), body, idempotency_key)
    return Response(200, content_types.APPLICATION_JSON, answer)


@router.post(
    "/subjects/<subject_id>/erasure",
    responses=_responses(202, ErasureAccepted, 415, 422),
    tags=["commands"],
)
def erase_subject(
    subject_id: SubjectIdPath, body: ErasureBody, idempotency_key: IdempotencyKey = None
) -> Response[ErasureAccepted]:
    """Erase a person: their data key is destroyed, every ciphertext for them unreadable."""

    def work() -> Answer:
        erasure.erase(body.command(subject_id), actor=request_actor(), correlation_id=request_id())
        logger.info("subject erased", extra={"subject_id": subject_id})
        return ErasureAccepted(subject_id=subject_id).model_dump()

    answer = ErasureAccepted.model_validate(run_once(body, idempotency_key, work))
    return Response(202, content_types.APPLICATION_JSON, answer)


def _round_command(
    round_id: str, command: Command, body: BaseModel | dict[str, Any], key: str | None
) -> RoundVersion:
    def work() -> Answer:
        result = _handle(command, round_id)
        return RoundVersion(round_id=round_id, version=result.version).model_dump()

    return RoundVersion.model_validate(run_once(body, key, work))


def _handle(command: Command, round_id: str) -> HandleResult:
    result = bootstrap.command_handler().handle(
        command,
        stream_id=round_stream_id(round_id),
        actor=request_actor(),
        correlation_id=request_id(),
    )
    metrics.add_metric(name="CommandsApplied", unit=MetricUnit.Count, value=1)
    logger.info(
        "command applied",
        extra={
            "round_id": round_id,
            "command": type(command).__name__,
            "version": result.version,
            "events": [r.event.type for r in result.events],
        },
    )
    return result


def run_once(
    body: BaseModel | dict[str, Any], key: str | None, work: Callable[[], Answer]
) -> Answer:
    event = router.current_event
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    request = None if key is None else Request(key, event.http_method, event.path, payload)
    return once(request, work, router.lambda_context)


def request_actor() -> str:
    """The IAM principal that signed the request (API Gateway verified it), pseudonymised."""
    context = router.current_event.raw_event.get("requestContext") or {}
    iam = (context.get("authorizer") or {}).get("iam") or {}
    return staff_actor(iam.get("userArn"))


def request_id() -> str:
    context = router.current_event.raw_event.get("requestContext") or {}
    found = context.get("requestId")
    return found[:200] if isinstance(found, str) and found else str(uuid.uuid4())
