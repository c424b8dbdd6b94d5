"""Erasing a person: record the erasure on their subject stream, then destroy their key.

In that order, so a crash between the two leaves a recorded erasure whose retry finds
nothing new to record and destroys the key (destroying is itself idempotent).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from domain import ErasePersonalData, decide_erasure
from events import Event, PersonalDataErased
from functions.common import bootstrap
from infra.command_handler import CommandHandler, HandleResult


def subject_stream_id(subject_id: str) -> str:
    return f"subject-{subject_id}"


def erase(command: ErasePersonalData, *, actor: str, correlation_id: str) -> HandleResult:
    handler: CommandHandler[ErasePersonalData, bool] = CommandHandler(
        bootstrap.event_store(),
        _decide,
        _evolve,
        bootstrap.now,
        lambda: str(uuid.uuid4()),
        on_retry=bootstrap.concurrency_retried,
    )
    result = handler.handle(
        command,
        stream_id=subject_stream_id(command.subject_id),
        actor=actor,
        correlation_id=correlation_id,
    )
    bootstrap.vault().erase(command.subject_id)
    return result


def _decide(command: ErasePersonalData, erased: bool | None, now: datetime) -> list[Event]:
    return decide_erasure(command, already_erased=bool(erased))


def _evolve(erased: bool | None, event: Event) -> bool:
    return bool(erased) or isinstance(event, PersonalDataErased)
