"""Decisions on a person's subject stream: erasing their personal data."""

from __future__ import annotations

from collections.abc import Iterable

from domain.commands import ErasePersonalData
from events import Event, PersonalDataErased


def is_erased(events: Iterable[Event]) -> bool:
    """Whether a subject stream already records the erasure."""
    return any(isinstance(event, PersonalDataErased) for event in events)


def decide_erasure(command: ErasePersonalData, already_erased: bool) -> list[Event]:
    """Erase once; a second request finds nothing left to erase and records nothing."""
    if already_erased:
        return []
    return [
        PersonalDataErased(
            subject_id=command.subject_id, retention_decision=command.retention_decision
        )
    ]
