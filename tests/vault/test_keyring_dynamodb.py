"""The KMS + DynamoDB keyring: keys survive the process, erasure is final."""

from __future__ import annotations

import boto3
import pytest

from infra.keyring_dynamodb import KmsDynamoDBKeyring
from infra.vault import PersonalDataVault, SubjectErasedError, derived_subject_id
from tests.support.aws import REGION
from tests.support.stack import FunctionsEnv

PERSON = {"name": "Örjan Ågren", "email": "orjan@example.se"}


def keyring(env: FunctionsEnv) -> KmsDynamoDBKeyring:
    # A fresh client pair each time: nothing is shared but the table and the KMS key.
    return KmsDynamoDBKeyring(
        boto3.client("dynamodb", region_name=REGION),
        boto3.client("kms", region_name=REGION),
        env.tables["SubjectKeysTable"],
        env.personal_data_key_id,
    )


def test_data_sealed_in_one_process_opens_in_another(functions_env: FunctionsEnv) -> None:
    # GIVEN data sealed through one keyring
    subject = derived_subject_id("delivery-1", "contact")
    sealed = PersonalDataVault(keyring(functions_env)).seal(subject, PERSON)
    # WHEN another keyring (another Lambda container) opens it
    opened = PersonalDataVault(keyring(functions_env)).open(sealed)
    # THEN the data is the same, and the table holds only a KMS-wrapped key
    assert opened == PERSON
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=functions_env.tables["SubjectKeysTable"], Key={"subject_id": {"S": subject}}
    )["Item"]
    assert set(item) == {"subject_id", "wrapped_key", "created_at"}


def test_an_erased_subject_stays_erased_for_every_container(functions_env: FunctionsEnv) -> None:
    subject = derived_subject_id("delivery-2", "director_general")
    sealed = PersonalDataVault(keyring(functions_env)).seal(subject, PERSON)
    # WHEN the subject is erased in one container
    PersonalDataVault(keyring(functions_env)).erase(subject)
    # THEN no container can open their data or give them a fresh key
    other = PersonalDataVault(keyring(functions_env))
    with pytest.raises(SubjectErasedError):
        other.open(sealed)
    with pytest.raises(SubjectErasedError):
        other.seal(subject, PERSON)


def test_derived_subject_ids_are_stable_and_distinct() -> None:
    assert derived_subject_id("d-1", "contact") == derived_subject_id("d-1", "contact")
    assert derived_subject_id("d-1", "contact") != derived_subject_id("d-1", "director_general")


def test_a_key_minted_in_a_race_with_the_erasure_never_replaces_the_tombstone(
    functions_env: FunctionsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a subject erased after a container read that they had no key yet
    subject = derived_subject_id("delivery-3", "contact")
    racing = keyring(functions_env)
    PersonalDataVault(keyring(functions_env)).erase(subject)
    real_item = racing._item
    reads: list[str] = []

    def stale_first(subject_id: str) -> bytes | None:
        reads.append(subject_id)
        return None if len(reads) == 1 else real_item(subject_id)

    monkeypatch.setattr(racing, "_item", stale_first)
    # WHEN that container mints their key (IAM cannot require the condition; the code does)
    with pytest.raises(SubjectErasedError):
        racing.key_for(subject)
    # THEN the tombstone stands
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=functions_env.tables["SubjectKeysTable"], Key={"subject_id": {"S": subject}}
    )["Item"]
    assert set(item) == {"subject_id", "erased_at"}
