"""Turning an authenticated, well-formed delivery into commands, and their outcome.

Dedupe lives in the event stream, not in an idempotency table: a round remembers every
delivery it recorded (applied or refused) by its source and the sender's id, so a retried
delivery decides nothing, and a concurrent duplicate that loses the append race retries on
fresh state and sees it. An application is screened against the round first: a duplicate or
a refusal is answered before anything is sealed, so neither mints a person's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aws_lambda_powertools import Logger

from domain import (
    ApplyForRound,
    DomainError,
    RefuseApplication,
    RefuseForUnknownRound,
    RoundNotFoundError,
    RoundState,
    SubmitPlan,
    refusal_stream_id,
    round_stream_id,
    screen_application,
)
from events import Source
from functions.common import bootstrap
from functions.intake.payloads import ApplicationForm, SubmittedPlan
from infra.command_handler import HandleResult, Loaded
from infra.vault import SubjectErasedError, application_subject_id

logger = Logger(child=True)

Status = Literal["recorded", "duplicate", "refused"]


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    reason: str | None = None


RECORDED = Outcome("recorded")
DUPLICATE = Outcome("duplicate", "this delivery was received before; nothing new was recorded")


def record_application(
    form: ApplicationForm,
    *,
    delivery_id: str,
    source: Source,
    received_at: datetime,
    loaded: Loaded[RoundState] | None = None,
) -> Outcome:
    """Screen it, seal the people in it, apply; record a refusal when a rule says no.

    `loaded`: the round's stream as just read by the caller, not read again (a conflict with a
    newer append is caught by the append, which then retries on fresh state)."""
    handler = bootstrap.command_handler()
    stream_id = round_stream_id(form.round_id)
    if loaded is None:
        loaded = handler.load(stream_id)
    terms = _Terms(form, source, delivery_id)
    try:
        if screen_application(terms, loaded.state, bootstrap.now()) is None:
            return DUPLICATE
    except RoundNotFoundError as error:
        return _refuse_for_unknown_round(form, error, delivery_id, source)
    except DomainError as error:
        return _refuse(form, error, delivery_id, source)
    # Subject ids fixed by the delivery's identity in its round: a retry seals under the same
    # subjects, and the same sender's id in another round or from another source never does.
    try:
        director_general = bootstrap.vault().seal(
            application_subject_id(source, form.round_id, delivery_id, "director_general"),
            {"name": form.director_general},
        )
        contact_subject = application_subject_id(source, form.round_id, delivery_id, "contact")
        # Free text about the application names people in practice: the contact's to erase.
        given = {"name": form.contact_name, "email": form.contact_email}
        told = (
            [{"motivation": form.motivation}] if form.motivation and form.motivation.strip() else []
        )
        contact, *motivations = bootstrap.vault().seal_each(contact_subject, [given, *told])
        motivation = motivations[0] if motivations else None
    except SubjectErasedError:
        # Only this very delivery, recorded and its people erased since, can meet one.
        return DUPLICATE
    command = ApplyForRound(
        round_id=form.round_id,
        org_number=form.org_number,
        agency_name=form.agency_name,
        director_general=director_general,
        contact=contact,
        themes=form.themes,
        submitted_at=form.submitted_at or received_at,
        source=source,
        preferred_partner=form.preferred_partner,
        motivation=motivation,
        delivery_id=delivery_id,
    )
    try:
        result = handler.handle(
            command,
            stream_id=stream_id,
            actor=_actor(source),
            correlation_id=delivery_id,
            loaded=loaded,
        )
    except DomainError as error:  # the round changed since it was screened
        return _refuse(form, error, delivery_id, source)
    return RECORDED if result.events else DUPLICATE


@dataclass(frozen=True, slots=True)
class _Terms:
    """The form's terms as the rules read them (`domain.ApplicationTerms`)."""

    form: ApplicationForm
    source: Source
    delivery_id: str

    @property
    def round_id(self) -> str:
        return self.form.round_id

    @property
    def org_number(self) -> str:
        return self.form.org_number

    @property
    def agency_name(self) -> str:
        return self.form.agency_name

    @property
    def themes(self) -> tuple[str, ...]:
        return tuple(self.form.themes)

    @property
    def preferred_partner(self) -> str | None:
        return self.form.preferred_partner


def record_plan(plan: SubmittedPlan, *, delivery_id: str, source: Source) -> Outcome:
    """Submit a pair's plan; the same document again is a duplicate."""
    command = SubmitPlan(
        round_id=plan.round_id,
        pair_id=plan.pair_id,
        title=plan.title,
        document_url=plan.document_url,
        document_sha256=plan.document_sha256,
    )
    try:
        result = _handle(command, plan.round_id, delivery_id, source)
    except DomainError as error:
        # No event type holds a refused plan: the log and the 202 answer are its record.
        logger.warning(
            "plan refused",
            extra={"delivery_id": delivery_id, "round_id": plan.round_id, "rule": error.rule},
        )
        return Outcome("refused", str(error))
    return RECORDED if result.events else DUPLICATE


def _refuse(form: ApplicationForm, error: DomainError, delivery_id: str, source: Source) -> Outcome:
    refusal = RefuseApplication(
        round_id=form.round_id,
        org_number=form.org_number,
        agency_name=form.agency_name,
        rule=error.rule,
        reason=str(error),
        source=source,
        delivery_id=delivery_id,
    )
    result = _handle(refusal, form.round_id, delivery_id, source)
    if not result.events:  # a concurrent copy of this delivery got there first
        return DUPLICATE
    return Outcome("refused", str(error))


def _refuse_for_unknown_round(
    form: ApplicationForm, error: RoundNotFoundError, delivery_id: str, source: Source
) -> Outcome:
    refusal = RefuseForUnknownRound(
        requested_round_id=form.round_id,
        org_number=form.org_number,
        agency_name=form.agency_name,
        rule=error.rule,
        reason=str(error),
        source=source,
        delivery_id=delivery_id,
    )
    # No round stream to hold it: a stream of its own, found again by a retried delivery.
    result = bootstrap.refusal_handler().handle(
        refusal,
        stream_id=refusal_stream_id(source, form.round_id, delivery_id),
        actor=_actor(source),
        correlation_id=delivery_id,
    )
    return Outcome("refused", str(error)) if result.events else DUPLICATE


def _handle(
    command: ApplyForRound | RefuseApplication | SubmitPlan,
    round_id: str,
    delivery_id: str,
    source: Source,
) -> HandleResult:
    return bootstrap.command_handler().handle(
        command,
        stream_id=round_stream_id(round_id),
        actor=_actor(source),
        correlation_id=delivery_id,
    )


def _actor(source: Source) -> str:
    return f"webhook:{source}"
