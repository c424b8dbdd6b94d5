"""The template's Lambda functions, run in this process one invocation at a time.

ONE lock for every invocation of every function, not one per function: Powertools keeps
per-invocation state at class level (the resolvers' current event and Lambda context, the
metrics being collected, the logger's appended keys), shared by every function in a process.
On Lambda each container has its own process; here they share one, so two handlers must never
run at once — whether called by the HTTP front, the stream pump, the scheduler or a state
machine task. No handler waits for another's completion (a start of an execution returns at
once), so one lock cannot deadlock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from programme.stack.routes import LambdaHandler, load_handler
from programme.template import Template

INVOCATION_LOCK: Final = threading.RLock()
"""Held for the length of every handler invocation in the local stack."""

DEFAULT_SERVICE: Final = "programme-engine"


@dataclass
class LocalFunction:
    """A function of the template: its handler imported on first use, invoked under the lock."""

    logical_id: str
    handler_path: str
    service: str = DEFAULT_SERVICE
    _handler: LambdaHandler | None = field(default=None, repr=False)

    def load(self) -> LambdaHandler:
        """Import the handler, with the function's own Powertools service name.

        Powertools reads `POWERTOOLS_SERVICE_NAME` when a module creates its `Logger`, so
        importing under the function's name labels its log lines as on AWS.
        """
        with INVOCATION_LOCK:
            if self._handler is None:
                with _environment({"POWERTOOLS_SERVICE_NAME": self.service}):
                    self._handler = load_handler(self.handler_path)
            return self._handler

    def __call__(self, event: Any, context: Any) -> Any:
        with INVOCATION_LOCK:
            return self.load()(event, context)


def template_functions(template: Template) -> dict[str, LocalFunction]:
    """Every `AWS::Serverless::Function` of the template, by logical id."""
    found: dict[str, LocalFunction] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        variables = properties.get("Environment", {}).get("Variables", {})
        service = variables.get("POWERTOOLS_SERVICE_NAME")
        found[logical_id] = LocalFunction(
            logical_id,
            properties["Handler"],
            service if isinstance(service, str) else DEFAULT_SERVICE,
        )
    return found


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
