"""Erasing a person: record the erasure on their subject stream, then destroy their key.

In that order, so a crash between the two leaves a recorded erasure whose retry finds
nothing new to record and destroys the key (destroying is itself idempotent).
"""

from __future__ import annotations

from domain import ErasePersonalData, subject_stream_id
from functions.common import bootstrap
from infra.command_handler import HandleResult


def erase(command: ErasePersonalData, *, actor: str, correlation_id: str) -> HandleResult:
    result = bootstrap.erasure_handler().handle(
        command,
        stream_id=subject_stream_id(command.subject_id),
        actor=actor,
        correlation_id=correlation_id,
    )
    bootstrap.vault().erase(command.subject_id)
    return result
