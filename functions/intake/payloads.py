"""What the forms send, as pydantic models, and the two parsers that turn raw bytes into them.

Both providers' application forms end up as one flat `ApplicationForm`. A payload that does
not match raises `MalformedPayloadError`, whose `errors` name the fields (location and error
type only): the values are never echoed, since they may hold personal data.

The models' validators are built on first use, not on import (`defer_build`): a Typeform
delivery builds Typeform's, a Standard Webhooks delivery its own, a forged one neither.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from functions.common import ijson

if TYPE_CHECKING:  # the events package is imported by the first delivery read, not cold
    from events import FormField

    FieldRefs = Callable[[FormField], str]
    """Where a form holds each programme field: its ref, id or hidden name (`FormState.ref_for`)."""

T = TypeVar("T")

MAX_BODY_BYTES = 256 * 1024
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


class MalformedPayloadError(Exception):
    """The body is not JSON, or not the form; `errors` say where, never what was sent."""

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class UnreadableAnswersError(MalformedPayloadError):
    """A Typeform delivery whose answers do not make an application under its form's mapping:
    `missing` names the programme's fields that could not be read."""

    @property
    def missing(self) -> tuple[str, ...]:
        names = (str(error["loc"][2]) for error in self.errors if len(error["loc"]) > 2)
        return tuple(dict.fromkeys(names))[:20]


def _programme_names(name: FormField) -> str:
    return name


def _plausible_instant(value: datetime) -> datetime:
    # Bounded so no far-off year reaches an event (0001 cannot even be moved to UTC).
    if not EARLIEST <= value < LATEST:
        raise ValueError("instants lie in the years 2000 to 2099")
    return value.astimezone(UTC)


Instant = Annotated[AwareDatetime, AfterValidator(_plausible_instant)]
DeliveryId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
RoundRef = Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
OrgNumberAsGiven = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Email = Annotated[
    str,
    StringConstraints(
        max_length=254, strip_whitespace=True, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
    ),
]
ThemeLabel = Annotated[str, StringConstraints(max_length=80)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://\S{1,2000}$")]


class ApplicationForm(BaseModel):
    """An application, whichever form it came through; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    round_id: RoundRef
    org_number: OrgNumberAsGiven
    agency_name: Text
    director_general: Text
    contact_name: Text
    contact_email: Email
    themes: tuple[ThemeLabel, ...] = Field(min_length=1, max_length=20)
    preferred_partner: Annotated[str, StringConstraints(max_length=40)] | None = None
    motivation: Annotated[str, StringConstraints(max_length=4000)] | None = None
    submitted_at: Instant | None = None


# Typeform's delivery: https://www.typeform.com/developers/webhooks/example-payload/


class _TypeformField(BaseModel, defer_build=True):
    id: str | None = None
    ref: str | None = None


class _TypeformAnswer(BaseModel):
    """`{"type": T, T: value, "field": {"ref": …}}`; the value sits under the key named by T."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    type: str
    field: _TypeformField

    def value(self) -> Any:
        return (self.model_extra or {}).get(self.type)


class _TypeformResponse(BaseModel, defer_build=True):
    form_id: str
    token: str
    submitted_at: Instant
    hidden: dict[str, Any] = Field(default_factory=dict)
    answers: list[_TypeformAnswer] = Field(default_factory=list)


class TypeformDelivery(BaseModel, defer_build=True):
    event_id: DeliveryId
    event_type: Literal["form_response"]
    form_response: _TypeformResponse


# Standard Webhooks deliveries from generic form tools (Power Automate, Apps Script, …)


class SubmittedApplication(ApplicationForm):
    type: Literal["application.submitted"]


class SubmittedPlan(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    type: Literal["plan.submitted"]
    round_id: RoundRef
    pair_id: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    title: Text
    document_url: HttpsUrl
    document_sha256: Sha256


FormsDelivery = Annotated[SubmittedApplication | SubmittedPlan, Field(discriminator="type")]


@cache
def _forms_delivery() -> TypeAdapter[SubmittedApplication | SubmittedPlan]:
    return TypeAdapter(FormsDelivery)


_TEXT_ANSWERS: tuple[FormField, ...] = (
    "org_number",
    "agency_name",
    "director_general",
    "contact_name",
    "contact_email",
    "preferred_partner",
    "motivation",
)


def parse_typeform(
    body: bytes, refs: FieldRefs = _programme_names
) -> tuple[TypeformDelivery, ApplicationForm]:
    """The delivery and the application its answers make up (see `read_typeform`)."""
    delivery = parse_typeform_delivery(body)
    return delivery, read_typeform(delivery, refs)


def parse_typeform_delivery(body: bytes) -> TypeformDelivery:
    """A Typeform `form_response` delivery: its id, its form, its answers, not yet read."""
    delivery = _validate(lambda: TypeformDelivery.model_validate_json(body))
    _require_unambiguous(body)
    return delivery


def read_typeform(
    delivery: TypeformDelivery, refs: FieldRefs = _programme_names
) -> ApplicationForm:
    """The application a delivery's answers make up: each programme field is the answer whose
    `field.ref` or `field.id` is where `refs` says (its own name unless the form is mapped),
    the round a hidden field. Raises `UnreadableAnswersError` naming what could not be read."""
    response = delivery.form_response
    answers: dict[str, _TypeformAnswer] = {}
    for answer in response.answers:
        for key in (answer.field.ref, answer.field.id):
            if key:
                answers.setdefault(key, answer)
    flat: dict[str, Any] = {
        name: answers[refs(name)].value() for name in _TEXT_ANSWERS if refs(name) in answers
    }
    if refs("themes") in answers:
        flat["themes"] = _chosen_labels(answers[refs("themes")])
    if refs("round_id") in response.hidden:
        flat["round_id"] = response.hidden[refs("round_id")]
    flat["submitted_at"] = response.submitted_at
    try:
        return _validate(
            lambda: ApplicationForm.model_validate(flat), prefix=("form_response", "answers")
        )
    except MalformedPayloadError as error:
        raise UnreadableAnswersError(error.detail, error.errors) from None


def parse_forms(body: bytes) -> SubmittedApplication | SubmittedPlan:
    """A Standard Webhooks delivery's body: an application or a plan, by its `type`."""
    delivery = _validate(lambda: _forms_delivery().validate_json(body))
    _require_unambiguous(body)
    return delivery


def _require_unambiguous(body: bytes) -> None:
    """I-JSON (RFC 7493) beyond what pydantic checks: members with unique names, finite numbers.

    pydantic keeps the last of two members with one name and reads NaN and Infinity, even in
    members the form ignores; a signed body that two readers could read differently is refused.
    Called on bodies pydantic has read, so they are UTF-8 and shallow.
    """
    try:
        ijson.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        errors = [{"loc": [], "type": "json_invalid"}]
        detail = "the body is ambiguous JSON: a repeated member name, NaN, or a number out of range"
        raise MalformedPayloadError(detail, errors) from None


def _chosen_labels(answer: _TypeformAnswer) -> Any:
    """`choices.labels` (multiple selection) or `choice.label` (single), with any "other"."""
    value = answer.value()
    if not isinstance(value, dict):
        return value  # the wrong shape: validation names the field
    other = value.get("other")
    if answer.type == "choices":
        labels = value.get("labels") or []
        if not isinstance(labels, list):
            return labels
        return [*labels, other] if other else labels
    if answer.type == "choice":
        label = value.get("label") or other
        return [label] if label else []
    return value


def _validate(parse: Callable[[], T], prefix: tuple[str, ...] = ()) -> T:
    try:
        parsed = parse()
    except ValidationError as error:
        errors = [
            {"loc": [*prefix, *_where(item["loc"], item["type"])], "type": item["type"]}
            for item in error.errors(include_url=False, include_input=False)
        ]
        if any(item["type"] == "json_invalid" for item in errors):
            raise MalformedPayloadError("the body is not valid UTF-8 JSON", errors) from None
        raise MalformedPayloadError("the body does not match the form", errors) from None
    return parsed


def _where(loc: tuple[int | str, ...], error_type: str) -> list[str]:
    if not loc and error_type in ("union_tag_invalid", "union_tag_not_found"):
        return ["type"]  # the discriminator pydantic reports at the top level
    return [str(part) for part in loc]
