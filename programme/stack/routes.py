"""The HTTP API's routes, read from `template.yaml`: the local front serves exactly what deploys."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from programme.template import Template

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # the template's form: /rounds/{id}/pairs/{pair_id}
    function: str  # logical id of the function
    handler: str  # dotted path: functions.queries.app.handler
    iam_auth: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves the request, else None."""
        if method != self.method:
            return None
        found = _pattern(self.path).fullmatch(path)
        return None if found is None else found.groupdict()


def _pattern(template_path: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template_path)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return re.compile(regex)


def http_routes(template: Template) -> list[Route]:
    """Every HttpApi event of every function in the template."""
    routes: list[Route] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        for event in properties.get("Events", {}).values():
            if event.get("Type") != "HttpApi":
                continue
            spec = event["Properties"]
            auth = spec.get("Auth", {}).get("Authorizer") == "AWS_IAM"
            routes.append(
                Route(spec["Method"].upper(), spec["Path"], logical_id, properties["Handler"], auth)
            )
    return routes


def find_route(routes: Iterable[Route], method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request and its path parameters; LookupError when none serves it."""
    for route in routes:
        parameters = route.match(method, path)
        if parameters is not None:
            return route, parameters
    raise LookupError(f"{method} {path}")


def load_handler(dotted: str) -> LambdaHandler:
    module_name, _, attribute = dotted.rpartition(".")
    handler: LambdaHandler = getattr(importlib.import_module(module_name), attribute)
    return handler
