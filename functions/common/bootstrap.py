"""The composition root: the only place that knows the concrete adapters.

Every factory builds on first use and is cached for the life of the Lambda container, so
importing a function module does no I/O and reads no environment. Tests call `reset()`
between cases.

Time comes from `clock()`: the wall clock, unless the local stack or a test installs another
with `set_clock` (every handler in the process then reads that one).

Every command handler reports its retries to `concurrency_retried`: the Powertools metric
`ConcurrencyRetries` (one per retry, flushed with the invoked function's metrics) and an INFO
log line naming the stream, the attempt and the versions (never a payload).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from functions.common.settings import clear_caches, settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_stepfunctions import SFNClient

    from domain import (
        Command,
        ErasePersonalData,
        FormCommand,
        FormState,
        RefuseForUnknownRound,
        RoundState,
    )
    from infra.clock import Clock
    from infra.command_handler import (
        CommandHandler,
        CommandT,
        Decide,
        Evolve,
        Retry,
        SnapshotCodec,
        StateT,
    )
    from infra.eventstore import EventStore
    from infra.readmodels import ReadModelStore
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
def stepfunctions_client() -> SFNClient:
    import boto3

    return boto3.client("stepfunctions", region_name=settings().region or None)


@dataclass(slots=True)
class _InstalledClock:
    clock: Clock | None = None


_installed = _InstalledClock()


def clock() -> Clock:
    """The clock decisions read: the wall clock unless `set_clock` installed another."""
    from infra.clock import wall_clock

    return _installed.clock or wall_clock


def set_clock(clock: Clock | None) -> None:
    """Make every handler in this process read `clock` (None: the wall clock again)."""
    _installed.clock = clock


def now() -> datetime:
    return clock()()


@cache
def event_store() -> EventStore:
    from infra.eventstore import DynamoDBEventStore

    return DynamoDBEventStore(dynamodb_client(), settings().require("event_store_table"))


@cache
def command_handler() -> CommandHandler[Command, RoundState]:
    """Decisions on a round's stream (`round-<id>`), its state snapshotted."""
    from domain import decide, evolve
    from infra.snapshots import round_state_snapshots

    return _handler(decide, evolve, snapshots=round_state_snapshots())


@cache
def refusal_handler() -> CommandHandler[RefuseForUnknownRound, bool]:
    """Refusals for rounds that do not exist, each on its own stream (`refusal-<digest>`)."""
    from domain import decide_refusal_for_unknown_round, evolve_refusal

    return _handler(decide_refusal_for_unknown_round, evolve_refusal)


@cache
def erasure_handler() -> CommandHandler[ErasePersonalData, bool]:
    """Decisions on a person's subject stream (`subject-<id>`)."""
    from domain import decide_subject, evolve_subject

    return _handler(decide_subject, evolve_subject)


@cache
def form_handler() -> CommandHandler[FormCommand, FormState]:
    """Decisions on a form's stream (`form-<provider>-<id>`): its mapping, its held deliveries."""
    from domain import decide_form, evolve_form

    return _handler(decide_form, evolve_form)


def _handler(
    decide: Decide[CommandT, StateT],
    evolve: Evolve[StateT],
    *,
    snapshots: SnapshotCodec[StateT] | None = None,
) -> CommandHandler[CommandT, StateT]:
    """Every command handler: the one event store, clock, event ids and retry report."""
    from infra.command_handler import CommandHandler

    return CommandHandler(
        event_store(),
        decide,
        evolve,
        now,
        lambda: str(uuid.uuid4()),
        on_retry=concurrency_retried,
        snapshots=snapshots,
    )


def concurrency_retried(retry: Retry) -> None:
    """A command lost the race for its stream and decides again: count it, log it."""
    from aws_lambda_powertools.metrics import MetricUnit

    logger, metrics = _retry_telemetry()
    metrics.add_metric(name="ConcurrencyRetries", unit=MetricUnit.Count, value=1)
    logger.info(
        "concurrency conflict: deciding again on fresh state",
        extra={
            "stream_id": retry.stream_id,
            "concurrency_retry": retry.attempt - 1,
            "max_attempts": retry.max_attempts,
            "expected_version": retry.expected_version,
            "actual_version": retry.actual_version,
        },
    )


@cache
def _retry_telemetry() -> tuple[Logger, Metrics]:
    """Built on the first retry, not on import: Powertools reads the environment."""
    from aws_lambda_powertools import Logger, Metrics

    return Logger(child=True), Metrics()


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


@cache
def read_models() -> ReadModelStore:
    from infra.readmodels import DynamoDBReadModelStore

    return DynamoDBReadModelStore(dynamodb_client(), settings().require("read_model_table"))


def reset() -> None:
    """Drop every cached adapter and setting, and go back to the wall clock (tests, restarts)."""
    clear_caches()
    set_clock(None)
    for factory in (
        dynamodb_client,
        kms_client,
        stepfunctions_client,
        event_store,
        command_handler,
        refusal_handler,
        erasure_handler,
        form_handler,
        _retry_telemetry,
        vault,
        read_models,
    ):
        factory.cache_clear()
