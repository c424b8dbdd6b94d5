"""The personal-data vault: sealed data opens for its subject only, and never after erasure."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from events import SealedPersonalData
from infra.vault import InMemoryKeyring, PersonalDataVault, SubjectErasedError, new_subject_id

PERSON = {"name": "Åsa Öberg", "email": "asa.oberg@example.se"}


def test_sealed_data_opens_to_the_same_clear_text() -> None:
    # GIVEN a vault and a subject
    vault = PersonalDataVault(InMemoryKeyring())
    subject = new_subject_id()
    # WHEN their data is sealed
    sealed = vault.seal(subject, PERSON)
    # THEN the ciphertext holds no clear text, and opening gives the data back
    assert "Öberg" not in sealed.model_dump_json()
    assert "asa.oberg" not in base64.b64decode(sealed.ciphertext).decode("latin-1")
    assert vault.open(sealed) == PERSON


def test_two_seals_of_the_same_data_differ() -> None:
    vault = PersonalDataVault(InMemoryKeyring())
    subject = new_subject_id()
    assert vault.seal(subject, PERSON).ciphertext != vault.seal(subject, PERSON).ciphertext


def test_erased_subject_can_no_longer_be_read_or_sealed() -> None:
    # GIVEN sealed data
    vault = PersonalDataVault(InMemoryKeyring())
    subject = new_subject_id()
    sealed = vault.seal(subject, PERSON)
    # WHEN the subject is erased
    vault.erase(subject)
    # THEN the ciphertext cannot be opened, and nothing new is sealed for them
    with pytest.raises(SubjectErasedError):
        vault.open(sealed)
    with pytest.raises(SubjectErasedError):
        vault.seal(subject, PERSON)


def test_ciphertext_moved_to_another_subject_does_not_open() -> None:
    vault = PersonalDataVault(InMemoryKeyring())
    first, second = new_subject_id(), new_subject_id()
    vault.seal(second, PERSON)  # second has a key of their own
    moved = SealedPersonalData(subject_id=second, ciphertext=vault.seal(first, PERSON).ciphertext)
    with pytest.raises(InvalidTag):
        vault.open(moved)
