"""The composition root: the only place that knows the concrete adapters.

Every factory builds on first use and is cached for the life of the Lambda container, so
importing a function module does no I/O and reads no environment. Tests call `reset()`
between cases.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import TYPE_CHECKING

from functions.common.settings import clear_caches, settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

    from domain import Command, RoundState
    from infra.command_handler import CommandHandler
    from infra.eventstore import EventStore
    from infra.vault import PersonalDataVault


@cache
def dynamodb_client() -> DynamoDBClient:
    import boto3

    return boto3.client("dynamodb", region_name=settings().region or None)


@cache
def kms_client() -> KMSClient:
    import boto3

    return boto3.client("kms", region_name=settings().region or None)


@cache
def event_store() -> EventStore:
    from infra.eventstore import DynamoDBEventStore

    return DynamoDBEventStore(dynamodb_client(), settings().require("event_store_table"))


@cache
def command_handler() -> CommandHandler[Command, RoundState]:
    from domain import decide, evolve
    from infra.clock import wall_clock
    from infra.command_handler import CommandHandler

    return CommandHandler(event_store(), decide, evolve, wall_clock, lambda: str(uuid.uuid4()))


@cache
def vault() -> PersonalDataVault:
    from infra.keyring_dynamodb import KmsDynamoDBKeyring
    from infra.vault import PersonalDataVault

    keyring = KmsDynamoDBKeyring(
        dynamodb_client(),
        kms_client(),
        settings().require("subject_keys_table"),
        settings().require("personal_data_key_id"),
    )
    return PersonalDataVault(keyring)


def reset() -> None:
    """Drop every cached adapter and setting (tests, and the local stack on restart)."""
    clear_caches()
    for factory in (dynamodb_client, kms_client, event_store, command_handler, vault):
        factory.cache_clear()
