"""Staff routes for forms built in a form tool's own builder: map a form's fields to the
programme's, and take up the deliveries held because they could not be read.

`PUT /forms/{form_id}/mapping` records the mapping (`FormMapped`, on the form's stream); the
intake reads the form's next deliveries with it. `POST /forms/{form_id}/take-up` reads the
held ones again with it and hands each to its round (`functions.intake.forms.take_up`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain import MapForm, form_stream_id
from events import FormField
from functions.commands import problems
from functions.commands.idempotency import Answer
from functions.commands.routes import IdempotencyKey, request_actor, request_id, run_once
from functions.common import bootstrap

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

router = Router()  # type: ignore[no-untyped-call]

FormIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,80}$")]
FieldRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,120}$")]


class MappingBody(BaseModel):
    """Which of the form's fields (by `ref` or `id`; `round_id`: a hidden field's name) holds
    each programme field; a field left out is looked for under its programme name."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[FormField, FieldRef] = Field(min_length=1)


class TakeUpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FormMapping(BaseModel):
    form_id: str
    fields: dict[FormField, str]
    held: int = Field(description="Deliveries held for this form: take them up to read them")
    version: int


class TakenUpDelivery(BaseModel):
    delivery_id: str
    outcome: Literal["recorded", "duplicate", "refused", "erased"] | None = Field(
        description="What became of it in its round; none: still unreadable, still held"
    )
    reason: str | None = None
    round_id: str | None = None


class TakeUpAnswer(BaseModel):
    form_id: str
    taken_up: list[TakenUpDelivery]
    still_held: int = Field(description="Held deliveries left; repeat the request for the next")


def _responses(model: type[BaseModel], *statuses: int) -> dict[int, OpenAPIResponse]:
    ok = {"description": "Done", "content": {content_types.APPLICATION_JSON: {"model": model}}}
    return cast("dict[int, OpenAPIResponse]", {200: ok, **problems.documented(*statuses)})


@router.put(
    "/forms/<form_id>/mapping", responses=_responses(FormMapping, 409, 415, 422), tags=["forms"]
)
def map_form(
    form_id: FormIdPath, body: MappingBody, idempotency_key: IdempotencyKey = None
) -> Response[FormMapping]:
    """Map a Typeform form's fields (refs such as `ecbb3121-…`) to the programme's."""

    def work() -> Answer:
        handler = bootstrap.form_handler()
        stream_id = form_stream_id("typeform", form_id)
        loaded = handler.load(stream_id)
        result = handler.handle(
            MapForm("typeform", form_id, body.fields),
            stream_id=stream_id,
            actor=request_actor(),
            correlation_id=request_id(),
            loaded=loaded,
        )
        # A mapping replaces the form's whole mapping and holds no delivery: the answer is the
        # body's fields and what the form held when it was loaded, with no second read.
        held = 0 if loaded.state is None else len(loaded.state.held)
        return FormMapping(
            form_id=form_id, fields=dict(body.fields), held=held, version=result.version
        ).model_dump()

    answer = FormMapping.model_validate(run_once(body, idempotency_key, work))
    return Response(200, content_types.APPLICATION_JSON, answer)


@router.post(
    "/forms/<form_id>/take-up", responses=_responses(TakeUpAnswer, 415, 422), tags=["forms"]
)
def take_up_held(
    form_id: FormIdPath, body: TakeUpBody, idempotency_key: IdempotencyKey = None
) -> Response[TakeUpAnswer]:
    """Read the form's held deliveries with its mapping and hand each to its round."""
    from functions.intake import forms

    def work() -> Answer:
        report = forms.take_up(form_id, actor=request_actor(), correlation_id=request_id())
        taken = [
            TakenUpDelivery(
                delivery_id=t.delivery_id, outcome=t.outcome, reason=t.reason, round_id=t.round_id
            )
            for t in report.taken_up
        ]
        answer = TakeUpAnswer(form_id=form_id, taken_up=taken, still_held=report.still_held)
        return answer.model_dump()

    answer = TakeUpAnswer.model_validate(run_once(body, idempotency_key, work))
    return Response(200, content_types.APPLICATION_JSON, answer)
