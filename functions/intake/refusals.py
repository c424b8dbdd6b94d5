"""Refusals for rounds that do not exist, kept in a stream of their own: `intake-refusals`.

A round's refusals live in the round's stream, but an unknown round has no stream to hold
them. This tiny decider records each such refusal once per delivery id, through the same
command handler (so the same retry on a conflict), on the shared event store.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.refusals import refusal_event
from events import ApplicationRefused, Event, Source
from functions.common import bootstrap
from infra.command_handler import CommandHandler, HandleResult

REFUSALS_STREAM = "intake-refusals"


@dataclass(frozen=True, slots=True)
class RefuseForUnknownRound:
    requested_round_id: str
    org_number: str
    agency_name: str
    rule: str
    reason: str
    source: Source
    delivery_id: str


def decide_refusal(
    command: RefuseForUnknownRound, seen: frozenset[str] | None, now: datetime
) -> Sequence[Event]:
    """One refusal per delivery: a retried delivery decides nothing."""
    if seen is not None and command.delivery_id in seen:
        return []
    return [
        refusal_event(
            org_number=command.org_number,
            agency_name=command.agency_name,
            rule=command.rule,
            reason=command.reason,
            source=command.source,
            delivery_id=command.delivery_id,
            requested_round_id=command.requested_round_id,
        )
    ]


def evolve_refusals(seen: frozenset[str] | None, event: Event) -> frozenset[str]:
    seen = seen or frozenset()
    if isinstance(event, ApplicationRefused) and event.delivery_id is not None:
        return seen | {event.delivery_id}
    return seen


def record_refusal(command: RefuseForUnknownRound, actor: str) -> HandleResult:
    handler: CommandHandler[RefuseForUnknownRound, frozenset[str]] = CommandHandler(
        bootstrap.event_store(),
        decide_refusal,
        evolve_refusals,
        bootstrap.now,
        lambda: str(uuid.uuid4()),
        on_retry=bootstrap.concurrency_retried,
    )
    return handler.handle(
        command, stream_id=REFUSALS_STREAM, actor=actor, correlation_id=command.delivery_id
    )
