"""Lambda invocations from moto's Step Functions interpreter, run by the real handlers in process.

moto runs a Task state's Lambda call (a function ARN as the Resource, or
`arn:aws:states:::lambda:invoke`) through one function of its interpreter,
`lambda_eval_utils._invoke_lambda_function(parameters, region, state_credentials)`, which
calls moto's own Lambda and so needs Docker. `install` replaces that one function with a
dispatcher that looks the function name up in a `LocalLambdas` and calls its handler with the
JSON payload and a Lambda context, answering as the Invoke API does: the result as `Payload`,
or `FunctionError: Unhandled` with `errorType`/`errorMessage` when the handler raised, which
the interpreter turns into the Task's error name for Retry and Catch. Function names that
are not registered still go to moto's Lambda.

It works in decorator mode (`mock_aws`) and in server mode (`ThreadedMotoServer`) alike,
because both run the interpreter in this process, on an execution thread. Invocations of one
function are serialised, as one Lambda container serves one request at a time (Powertools
keeps per-invocation state on module-level objects).
"""

from __future__ import annotations

import importlib
import json
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

LambdaHandler = Callable[[Any, Any], Any]

ACCOUNT: Final = "123456789012"
REGION: Final = "eu-north-1"
MOTO_INVOKE: Final = "_invoke_lambda_function"


def function_arn(name: str, *, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def function_name(reference: str) -> str:
    """The name in a function reference: a name, `name:alias`, or a (partial) ARN."""
    parts = reference.split(":")
    if reference.startswith("arn:"):
        return parts[6]
    if len(parts) >= 3 and parts[1] == "function":  # 123456789012:function:name
        return parts[2]
    return parts[0]


@dataclass(frozen=True, slots=True)
class LocalLambdaContext:
    """The parts of the Lambda context object the handlers (and Powertools) read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    timeout_millis: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_millis


class LocalLambdas:
    """Functions by name, each a handler imported from its dotted path on first use."""

    def __init__(self, handlers: Mapping[str, str | LambdaHandler]) -> None:
        self._handlers = dict(handlers)
        self._locks = {name: threading.Lock() for name in handlers}

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def invoke(self, name: str, payload: bytes | str | None) -> dict[str, Any]:
        """Run the function as Lambda's Invoke would; returns the response (Payload parsed)."""
        event = json.loads(payload) if payload else {}
        context = LocalLambdaContext(name, function_arn(name))
        with self._locks[name]:
            try:
                result = self._handler(name)(event, context)
            except Exception as error:
                return _function_error(type(error).__name__, error, context.aws_request_id)
        try:
            body = json.loads(json.dumps(result))
        except (TypeError, ValueError) as error:  # Lambda's runtime fails after the handler
            return _function_error("Runtime.MarshalError", error, context.aws_request_id)
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": body}

    def wait_idle(self) -> None:
        """Return once no invocation is running (after the executions were stopped)."""
        for lock in self._locks.values():
            with lock:
                pass

    def _handler(self, name: str) -> LambdaHandler:
        handler = self._handlers[name]
        if isinstance(handler, str):
            module, _, attribute = handler.rpartition(".")
            handler = getattr(importlib.import_module(module), attribute)
            self._handlers[name] = handler
        return handler


def _function_error(error_type: str, error: Exception, request_id: str) -> dict[str, Any]:
    return {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "FunctionError": "Unhandled",
        "Payload": {
            "errorType": error_type,
            "errorMessage": str(error),
            "requestId": request_id,
            "stackTrace": traceback.format_tb(error.__traceback__),
        },
    }


class _Dispatch:
    """What `install` replaced, and the functions it dispatches to."""

    def __init__(self) -> None:
        self.lambdas: LocalLambdas | None = None
        self.original: Callable[..., dict[str, Any]] | None = None

    def __call__(self, parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
        name = function_name(str(parameters["FunctionName"]))
        if self.lambdas is None or name not in self.lambdas:
            if self.original is None:
                raise RuntimeError("the local Lambda dispatch is not installed")
            return self.original(parameters, region, state_credentials)
        return self.lambdas.invoke(name, parameters.get("Payload"))


_dispatch = _Dispatch()


def _moto_lambda_module() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    return lambda_eval_utils


def install(lambdas: LocalLambdas) -> None:
    """Route moto's Step Functions Lambda tasks for these functions to their handlers."""
    module = _moto_lambda_module()
    if _dispatch.original is None:
        _dispatch.original = getattr(module, MOTO_INVOKE)
        setattr(module, MOTO_INVOKE, _dispatch)
    _dispatch.lambdas = lambdas


def uninstall() -> None:
    """Give moto its own Lambda invocation back."""
    if _dispatch.original is not None:
        setattr(_moto_lambda_module(), MOTO_INVOKE, _dispatch.original)
    _dispatch.original = None
    _dispatch.lambdas = None


@contextmanager
def dispatching(lambdas: LocalLambdas) -> Iterator[LocalLambdas]:
    """`install` for the duration of a block (tests)."""
    install(lambdas)
    try:
        yield lambdas
    finally:
        uninstall()
