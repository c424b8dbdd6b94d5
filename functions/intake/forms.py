"""Typeform deliveries read through their form's mapping; those that cannot be read are held.

A form built in Typeform's builder names its fields by generated refs, so its deliveries are
read where the form's mapping (`domain.forms`) says. One that still cannot be read is signed
and was meant for the programme: it is held, sealed whole under a key of its own, and shown
among the refusals. Once staff map the form, `take_up` reads each held delivery again and
hands it to its round as if it had just arrived (same delivery id, so it is recorded once),
records what became of it, then destroys the sealed copy's key: the application's people
are sealed under their own keys from then on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from aws_lambda_powertools import Logger

from domain import (
    EMPTY_FORM,
    FormState,
    HoldDelivery,
    RecordTakeUp,
    delivery_key,
    form_stream_id,
    round_stream_id,
)
from events import DeliveryHeld, FormProvider, TakeUpOutcome
from functions.common import bootstrap
from functions.intake import payloads
from functions.intake.deliveries import DUPLICATE, Outcome, record_application
from functions.intake.payloads import TypeformDelivery, UnreadableAnswersError
from infra.command_handler import Loaded
from infra.vault import SubjectErasedError, held_delivery_subject_id

logger = Logger(child=True)

PROVIDER: Final[FormProvider] = "typeform"
_ROUND_ID: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # events.base.RoundId
TAKE_UP_BATCH: Final = 25
"""Held deliveries taken up per request: each is a round's command, and API Gateway waits 30 s."""


def form_state(form_id: str) -> FormState:
    loaded = bootstrap.form_handler().load(form_stream_id(PROVIDER, form_id))
    return loaded.state or EMPTY_FORM


def record_typeform(
    delivery: TypeformDelivery, body: bytes, *, received_at: datetime
) -> tuple[Outcome, str | None]:
    """What became of a delivery, and the round it named (None when it could not be read).

    A redelivery is the common repeat, and its round remembers it: when the delivery names
    its round in the hidden field of the programme's own name, that round is read first, and
    a delivery it has recorded is answered duplicate on that one read (the round is then
    reused to record a new one). A form mapped to another hidden field is read as mapped.
    """
    named = _named_round(delivery)
    first = bootstrap.command_handler().load(round_stream_id(named)) if named else None
    seen = first.state.deliveries if first is not None and first.state is not None else ()
    if delivery_key(PROVIDER, delivery.event_id) in seen:
        return DUPLICATE, named
    loaded = bootstrap.form_handler().load(form_stream_id(PROVIDER, delivery.form_response.form_id))
    try:
        form = payloads.read_typeform(delivery, (loaded.state or EMPTY_FORM).ref_for)
    except UnreadableAnswersError as error:
        return hold(delivery, body, error, loaded, received_at=received_at), None
    outcome = record_application(
        form,
        delivery_id=delivery.event_id,
        source="typeform",
        received_at=received_at,
        loaded=first if form.round_id == named else None,
    )
    return outcome, form.round_id


def _named_round(delivery: TypeformDelivery) -> str | None:
    """The round the hidden field of the programme's name gives, if it is a round's id."""
    given = delivery.form_response.hidden.get("round_id")
    if not isinstance(given, str):
        return None
    round_id = given.strip()
    return round_id if _ROUND_ID.fullmatch(round_id) else None


def hold(
    delivery: TypeformDelivery,
    body: bytes,
    error: UnreadableAnswersError,
    loaded: Loaded[FormState],
    *,
    received_at: datetime,
) -> Outcome:
    """Keep the delivery sealed on its form's stream (`loaded`), with what could not be read."""
    form_id = delivery.form_response.form_id
    missing = error.missing
    reason = (
        f"the answers could not be read as an application ({', '.join(missing) or 'the form'}); "
        f"the delivery is kept sealed and read again once staff map form {form_id} "
        f"(PUT /forms/{form_id}/mapping, then POST /forms/{form_id}/take-up)"
    )[:500]
    handler = bootstrap.form_handler()
    stream_id = form_stream_id(PROVIDER, form_id)
    if delivery.event_id in (loaded.state or EMPTY_FORM).seen:  # before sealing: no new key
        return Outcome("duplicate", "this delivery was received before; it is held")
    subject = held_delivery_subject_id(PROVIDER, form_id, delivery.event_id)
    command = HoldDelivery(
        provider=PROVIDER,
        form_id=form_id,
        delivery_id=delivery.event_id,
        received_at=received_at,
        missing=missing,
        reason=reason,
        delivery=bootstrap.vault().seal_delivery(subject, body),
    )
    result = handler.handle(
        command,
        stream_id=stream_id,
        actor=f"webhook:{PROVIDER}",
        correlation_id=delivery.event_id,
        loaded=loaded,
    )
    logger.warning(
        "delivery held: its answers do not make an application",
        extra={"form_id": form_id, "delivery_id": delivery.event_id, "missing": missing},
    )
    if not result.events:
        return Outcome("duplicate", "this delivery was received before; it is held")
    return Outcome("refused", reason)


@dataclass(frozen=True, slots=True)
class TakenUp:
    delivery_id: str
    outcome: TakeUpOutcome | None
    """None: still unreadable under the form's mapping, and still held."""
    reason: str | None = None
    round_id: str | None = None


@dataclass(frozen=True, slots=True)
class TakeUpReport:
    taken_up: tuple[TakenUp, ...]
    still_held: int


def take_up(form_id: str, *, actor: str, correlation_id: str) -> TakeUpReport:
    """Read up to `TAKE_UP_BATCH` held deliveries with the form's mapping and hand each to its
    round. Each step can be repeated: the round knows the delivery by its id, the take-up is
    recorded once, and destroying a key twice is harmless."""
    form = form_state(form_id)
    results: list[TakenUp] = []
    unreadable = 0
    for held in list(form.held.values())[:TAKE_UP_BATCH]:
        taken = _take_up_one(form, held, actor=actor, correlation_id=correlation_id)
        results.append(taken)
        unreadable += taken.outcome is None
    remaining = len(form.held) - len(results) + unreadable
    return TakeUpReport(tuple(results), remaining)


def _take_up_one(
    form: FormState, held: DeliveryHeld, *, actor: str, correlation_id: str
) -> TakenUp:
    vault = bootstrap.vault()
    outcome: TakeUpOutcome
    round_id: str | None = None
    reason: str | None = None
    try:
        body = vault.open_delivery(held.delivery)
    except SubjectErasedError:
        outcome = "erased"  # erased by staff, or after an interrupted take-up recorded it
    else:
        delivery = payloads.parse_typeform_delivery(body)
        try:
            application = payloads.read_typeform(delivery, form.ref_for)
        except UnreadableAnswersError as error:
            return TakenUp(held.delivery_id, None, f"still unreadable: {', '.join(error.missing)}")
        answered = record_application(
            application, delivery_id=held.delivery_id, source=PROVIDER, received_at=held.received_at
        )
        outcome, reason, round_id = answered.status, answered.reason, application.round_id
        vault.erase(held.delivery.subject_id)  # its people are sealed in the round now
    bootstrap.form_handler().handle(
        RecordTakeUp(held.form_id, held.delivery_id, outcome, round_id),
        stream_id=form_stream_id(PROVIDER, held.form_id),
        actor=actor,
        correlation_id=correlation_id,
    )
    return TakenUp(held.delivery_id, outcome, reason, round_id)
