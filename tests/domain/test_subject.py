"""Erasing a person's personal data: once, on their subject stream."""

from __future__ import annotations

from domain import ErasePersonalData, decide_erasure, is_erased
from events import PersonalDataErased
from tests.domain.given import sealed

SUBJECT = sealed(7).subject_id
ERASE = ErasePersonalData(subject_id=SUBJECT, retention_decision="Gallring enligt beslut 2016:3")


def test_a_persons_data_is_erased() -> None:
    # GIVEN a subject whose data is still held
    # WHEN staff erase it under a retention decision
    events = decide_erasure(ERASE, already_erased=False)
    # THEN the erasure is recorded
    assert events == [
        PersonalDataErased(subject_id=SUBJECT, retention_decision="Gallring enligt beslut 2016:3")
    ]


def test_a_second_erasure_records_nothing() -> None:
    # GIVEN a subject already erased
    stream = decide_erasure(ERASE, already_erased=False)
    # WHEN erasure is asked again
    # THEN there is nothing left to erase and nothing is recorded
    assert is_erased(stream)
    assert decide_erasure(ERASE, already_erased=is_erased(stream)) == []


def test_an_empty_subject_stream_is_not_erased() -> None:
    # GIVEN no events for the subject
    # WHEN / THEN it is not erased
    assert is_erased([]) is False
