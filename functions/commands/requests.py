"""Staff request bodies and answers: strict at the edge, so no client input reaches an event
that its model would refuse (that would be a 500). Rules stay in the domain (409)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from domain import (
    CancelRound,
    DecideApplication,
    ErasePersonalData,
    FormPair,
    RecordPresentation,
    RescheduleRound,
    ScheduleRound,
    SubmitPlan,
)
from events.base import ShortText
from functions.common import ijson

EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def _plausible_instant(value: datetime) -> datetime:
    # Bounded so no far-off year reaches an event (0001 cannot even be moved to UTC).
    if not EARLIEST <= value < LATEST:
        raise ValueError("instants lie in the years 2000 to 2099")
    return value.astimezone(UTC)


Instant = Annotated[AwareDatetime, AfterValidator(_plausible_instant)]
"""A timezone-aware instant (naive ones are refused), normalised to UTC."""

RoundId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
PairId = Annotated[str, StringConstraints(min_length=1, max_length=80)]
SubjectId = Annotated[str, StringConstraints(pattern=r"^subj-[0-9a-f]{32}$")]
OrgNumber = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Theme = Annotated[str, StringConstraints(max_length=80)]
Whole = Annotated[int, Field(strict=True)]


def parse_json_body(text: str) -> Any:
    """A request body: one JSON object, as I-JSON (RFC 7493), its members' names unique and
    its numbers finite. A repeated name is ambiguous (which one did the client mean?); NaN,
    Infinity or an integer of thousands of digits are not JSON to most clients; and Powertools
    would take the first item of a list for the object. Each is a `JSONDecodeError`, which
    Powertools answers as it does any invalid JSON (422)."""
    try:
        body = ijson.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # ours, or Python's limit on an integer's digits
        raise json.JSONDecodeError(str(error), text, 0) from None
    if not isinstance(body, dict):
        raise json.JSONDecodeError("a request body is one JSON object", text, 0)
    return body


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleRoundBody(_Body):
    round_id: RoundId
    number: Annotated[int, Field(strict=True, ge=1, le=1000)]
    title: ShortText
    capacity: Whole
    themes: list[Theme] = Field(max_length=20)
    application_opens_at: Instant
    application_closes_at: Instant
    starts_at: Instant
    plan_due_at: Instant
    closes_at: Instant

    def command(self) -> ScheduleRound:
        return ScheduleRound(**{**self.model_dump(), "themes": tuple(self.themes)})


class RescheduleBody(_Body):
    """Any of the five dates; those left out stay as they are."""

    application_opens_at: Instant | None = None
    application_closes_at: Instant | None = None
    starts_at: Instant | None = None
    plan_due_at: Instant | None = None
    closes_at: Instant | None = None

    @model_validator(mode="after")
    def _some_date(self) -> RescheduleBody:
        if not any(value is not None for value in self.model_dump().values()):
            raise ValueError("give at least one of the five dates")
        return self

    def command(self, round_id: str) -> RescheduleRound:
        return RescheduleRound(round_id=round_id, **self.model_dump())


class CancelBody(_Body):
    reason: ShortText

    def command(self, round_id: str) -> CancelRound:
        return CancelRound(round_id=round_id, reason=self.reason)


class DecisionBody(_Body):
    org_number: OrgNumber
    decision: Literal["admit", "reject", "waitlist"]
    case_number: Annotated[str, StringConstraints(max_length=40)] | None = None

    def command(self, round_id: str) -> DecideApplication:
        return DecideApplication(round_id=round_id, **self.model_dump())


class PairBody(_Body):
    org_numbers: list[OrgNumber] = Field(min_length=1, max_length=10)
    theme: Theme

    def command(self, round_id: str) -> FormPair:
        return FormPair(round_id=round_id, org_numbers=tuple(self.org_numbers), theme=self.theme)


class PlanBody(_Body):
    pair_id: PairId
    title: ShortText
    document_url: Annotated[str, StringConstraints(pattern=r"^https://\S{1,2000}$")]
    document_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]

    def command(self, round_id: str) -> SubmitPlan:
        return SubmitPlan(round_id=round_id, **self.model_dump())


class PresentationBody(_Body):
    pair_id: PairId
    held_at: Instant

    def command(self, round_id: str) -> RecordPresentation:
        return RecordPresentation(round_id=round_id, pair_id=self.pair_id, held_at=self.held_at)


class ErasureBody(_Body):
    retention_decision: ShortText

    def command(self, subject_id: str) -> ErasePersonalData:
        return ErasePersonalData(subject_id=subject_id, retention_decision=self.retention_decision)


# Answers


class RoundVersion(BaseModel):
    """The round and its stream's version after the command (unchanged if nothing was new)."""

    round_id: str
    version: int


class PairCreated(RoundVersion):
    pair_id: str


class ErasureAccepted(BaseModel):
    subject_id: str
    status: Literal["erased"] = "erased"
