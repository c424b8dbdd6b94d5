"""Decisions on a person's subject stream: erasing their personal data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.commands import ErasePersonalData
from domain.rules import ensure_no_personal_data_in_free_text
from events import Event, PersonalDataErased


def is_erased(events: Iterable[Event]) -> bool:
    """Whether a subject stream already records the erasure."""
    return any(isinstance(event, PersonalDataErased) for event in events)


def decide_erasure(command: ErasePersonalData, already_erased: bool) -> list[Event]:
    """Erase once; a second request finds nothing left to erase and records nothing."""
    if already_erased:
        return []
    ensure_no_personal_data_in_free_text("retention_decision", command.retention_decision)
    return [
        PersonalDataErased(
            subject_id=command.subject_id, retention_decision=command.retention_decision
        )
    ]


def decide_subject(command: ErasePersonalData, erased: bool | None, now: datetime) -> list[Event]:
    """The subject stream's decider, in the command handler's shape."""
    return decide_erasure(command, already_erased=bool(erased))


def evolve_subject(erased: bool | None, event: Event) -> bool:
    """A subject stream's state: whether the person's data is erased."""
    return bool(erased) or isinstance(event, PersonalDataErased)
