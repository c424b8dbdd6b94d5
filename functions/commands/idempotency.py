"""`Idempotency-Key` for staff commands: a repeated request gets the first answer, unexecuted.

Only the command's execution is idempotent, not the HTTP handler: what is stored is the
successful answer. Errors are raised out of the idempotent function, so Powertools deletes
the in-progress record and a corrected request with the same key runs afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from functions.common import bootstrap
from functions.common.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

Answer = dict[str, Any]
KEY_TTL_SECONDS = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class Request:
    """What a key stands for: the same key, method and path with another body is refused."""

    key: str
    method: str
    path: str
    body: dict[str, Any]


def once(request: Request | None, work: Callable[[], Answer], context: LambdaContext) -> Answer:
    """Run `work`, or replay the answer it gave for this request's key."""
    if request is None:
        return work()
    run, config = _idempotent_runner()
    config.register_lambda_context(context)
    answer: Answer = run(
        request={
            "key": request.key,
            "method": request.method,
            "path": request.path,
            "body": request.body,
        },
        work=work,
    )
    return answer


@cache
def _idempotent_runner() -> tuple[Callable[..., Answer], Any]:
    """Built on first use (it needs the table's name); one persistence layer for one function:
    a layer is configured once, by the first function that uses it."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    layer = DynamoDBPersistenceLayer(
        table_name=settings().require("idempotency_table"),
        boto3_client=bootstrap.dynamodb_client(),
    )
    config = IdempotencyConfig(
        event_key_jmespath="[key, method, path]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=KEY_TTL_SECONDS,
    )

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=layer,
        config=config,
        key_prefix="commands.execute",
    )
    def execute(request: dict[str, Any], work: Callable[[], Answer]) -> Answer:
        return work()

    return execute, config


def reset() -> None:
    """Forget the persistence layer (tests, alongside `bootstrap.reset()`)."""
    _idempotent_runner.cache_clear()
