"""The round-lifecycle state machine on moto: its ASL as deployed, its tasks run in process.

    use_utc()                                    # both modes: see `use_utc`
    with mock_aws(config=MOTO_CONFIG):           # server mode: configure_moto_server(url)
        arn = create_round_lifecycle(boto3.client("stepfunctions"))
        install(lifecycle_lambdas())
        bootstrap.set_clock(LocalClock(start))   # then move it: clock.advance_to(...)

Create the state machine with the Step Functions API after execution is switched on (moto
keeps executable state machines apart from the others). Every task is a Lambda task, so the
one dispatch shim (`programme.stack.lambdas`) is all the interpreter needs: moto's optimized
`states:startExecution` integration drops its parameters (it passes `StateMachineArn` where
botocore expects `stateMachineArn`), which is one reason `HandOver` is a Lambda task too.
Creating it also makes moto stop executions as AWS does (`stop_cleanly`): the starter stops
a round's execution when its schedule changes.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.request
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from programme.stack.lambdas import ACCOUNT, LocalLambdas, function_arn

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

STATE_MACHINES: Final = Path(__file__).resolve().parents[2] / "infra" / "statemachines"
ROUND_LIFECYCLE_ASL: Final = STATE_MACHINES / "round_lifecycle.asl.json"
STATE_MACHINE_NAME: Final = "round-lifecycle"
ROLE_ARN: Final = f"arn:aws:iam::{ACCOUNT}:role/round-lifecycle"

MOTO_CONFIG: Final[dict[str, Any]] = {"stepfunctions": {"execute_state_machine": True}}
"""moto only interprets ASL with this set: `mock_aws(config=…)`, or `configure_moto_server`."""

LIFECYCLE_FUNCTIONS: Final = {
    "NextTransitionFunction": "functions.lifecycle.next_transition.handler",
    "ApplyTransitionFunction": "functions.lifecycle.apply_transition.handler",
    "HandOverFunction": "functions.lifecycle.hand_over.handler",
    "RecordFailureFunction": "functions.lifecycle.record_failure.handler",
    "LifecycleStarterFunction": "functions.lifecycle.starter.handler",
    "LifecycleReconcilerFunction": "functions.lifecycle.reconciler.handler",
}
"""The lifecycle's functions by their logical ids in `template.yaml`, with their handlers: the
state machine's tasks, and the starter and reconciler the local stack feeds and fires."""

_PLACEHOLDER: Final = re.compile(r"\$\{(\w+)\}")


def substitute(definition: str, substitutions: Mapping[str, str]) -> str:
    """`${Name}` replaced as CloudFormation's DefinitionSubstitutions do; a missing one fails."""

    def value(match: re.Match[str]) -> str:
        if match[1] not in substitutions:
            raise KeyError(f"no substitution for ${{{match[1]}}}")
        return substitutions[match[1]]

    return _PLACEHOLDER.sub(value, definition)


def local_substitutions() -> dict[str, str]:
    """`${NextTransitionFunctionArn}` and the others: the local functions' ARNs."""
    return {f"{logical_id}Arn": function_arn(logical_id) for logical_id in LIFECYCLE_FUNCTIONS}


def lifecycle_lambdas() -> LocalLambdas:
    return LocalLambdas(LIFECYCLE_FUNCTIONS)


def create_round_lifecycle(client: SFNClient, *, name: str = STATE_MACHINE_NAME) -> str:
    """Create the round-lifecycle state machine from its ASL file; returns its ARN."""
    stop_cleanly()
    definition = substitute(ROUND_LIFECYCLE_ASL.read_text(encoding="utf-8"), local_substitutions())
    created = client.create_state_machine(
        name=name, definition=definition, roleArn=ROLE_ARN, type="STANDARD"
    )
    return created["stateMachineArn"]


STOP_WAIT_SECONDS: Final = 30.0
"""How long a local stop waits for the execution to reach a point where it can stop cleanly."""


def stop_cleanly() -> None:
    """Make moto stop an execution as AWS does: at once if it waits, after the state it runs.

    moto carries out a stop by marking the execution stopped, which every part of the state
    being evaluated then skips: a stop in the middle of a Task state leaves its evaluation
    half done, the state fails with `States.Runtime`, and the failure overwrites the stop
    (FAILED, not ABORTED). And a stop before the execution's thread has begun meets no
    environment at all. Patched once per process: a state other than a Wait is evaluated
    under its execution's lock, which a stop takes, so a stop lands between states or in a
    Wait (which it interrupts); and a stop waits, briefly, for the thread to have begun.
    Both waits are bounded (`STOP_WAIT_SECONDS`): a stop is never lost. (The lock is
    re-entrant: a stop from within the execution's own task cannot wait for that task.)
    """
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.asl.component.state.wait.state_wait import StateWait
    from moto.stepfunctions.parser.backend.execution import Execution

    if getattr(Execution.stop, "stops_cleanly", False):
        return
    stop = Execution.stop
    evaluate = CommonStateField.eval
    locks: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
    guard = threading.Lock()

    def lock_of(env: Any) -> threading.RLock:
        with guard:
            return locks.setdefault(env, threading.RLock())

    def evaluate_state(self: Any, env: Any) -> None:
        if isinstance(self, StateWait) or env.is_frame():
            evaluate(self, env)
            return
        with lock_of(env):
            evaluate(self, env)

    def stop_between_states(self: Any, *args: Any, **kwargs: Any) -> None:
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        worker = self.exec_worker
        while worker is not None and worker.env is None and time.monotonic() < deadline:
            time.sleep(0.01)
        env = worker.env if worker is not None else None
        if env is None:
            stop(self, *args, **kwargs)
            return
        lock = lock_of(env)
        locked = lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
        try:
            stop(self, *args, **kwargs)
        finally:
            if locked:
                lock.release()

    stop_between_states.stops_cleanly = True  # type: ignore[attr-defined]
    CommonStateField.eval = evaluate_state  # type: ignore[method-assign]
    Execution.stop = stop_between_states  # type: ignore[method-assign]


def use_utc() -> None:
    """Run this process in UTC: moto's Wait compares a `…Z` timestamp with local naive time."""
    os.environ["TZ"] = "UTC"
    time.tzset()


def configure_moto_server(endpoint_url: str) -> None:
    """Switch ASL execution on in a running moto server (`POST /moto-api/config`)."""
    request = urllib.request.Request(  # noqa: S310 - the local moto server's own URL
        f"{endpoint_url.rstrip('/')}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
