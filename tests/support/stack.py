"""The functions' environment under moto: tables from the template, the KMS key, settings.

`functions_env` gives every Lambda entry point what it would have on AWS — table names and
the key id in its environment — and clears the composition root's caches around each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest

from functions.common import bootstrap
from tests.support.aws import REGION

if TYPE_CHECKING:
    from tests.functions.rounds import Rounds

WEBHOOK_SECRETS = {
    "TYPEFORM_SECRET": "typeform-test-secret",
    "FORMS_WEBHOOK_SECRET": "whsec_dGVzdC1mb3Jtcy13ZWJob29rLXNlY3JldC0zMmI=",
    "ACTOR_PSEUDONYM_KEY": "actor-pseudonym-test-key",
}


@dataclass(frozen=True, slots=True)
class FunctionsEnv:
    tables: dict[str, str]
    personal_data_key_id: str


@pytest.fixture
def functions_env(
    template_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[FunctionsEnv]:
    key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
    environment = {
        "EVENT_STORE_TABLE": template_tables["EventStoreTable"],
        "READ_MODEL_TABLE": template_tables["ReadModelTable"],
        "IDEMPOTENCY_TABLE": template_tables["IdempotencyTable"],
        "SUBJECT_KEYS_TABLE": template_tables["SubjectKeysTable"],
        "PERSONAL_DATA_KEY_ID": key_id,
        "POWERTOOLS_SERVICE_NAME": "programme-engine-test",
        "POWERTOOLS_METRICS_NAMESPACE": "ProgrammeEngineTest",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "AWS_LAMBDA_FUNCTION_NAME": "programme-engine-test",
        **WEBHOOK_SECRETS,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    bootstrap.reset()
    yield FunctionsEnv(dict(template_tables), key_id)
    bootstrap.reset()


@pytest.fixture
def env(functions_env: FunctionsEnv) -> Iterator[FunctionsEnv]:
    """The functions' environment, with the commands' idempotency layer built afresh."""
    from functions.commands import idempotency

    idempotency.reset()
    yield functions_env
    idempotency.reset()


@pytest.fixture
def rounds(env: FunctionsEnv) -> Rounds:
    """A round to act on, in the functions' event store (see tests/functions/rounds.py)."""
    from tests.functions.rounds import Rounds

    return Rounds()


@pytest.fixture
def open_round(rounds: Rounds) -> Rounds:
    rounds.open()
    return rounds
