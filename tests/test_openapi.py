"""The published OpenAPI document: generated from the routers, checked in, and what deploys."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from functions.openapi import DOCUMENT_PATH, build_document
from programme.stack.routes import http_routes
from programme.template import load_template

SERVED_OUTSIDE_THE_DOCUMENT = {("GET", "/openapi.json")}


def test_the_checked_in_document_matches_the_routers() -> None:
    # THEN regenerate with `python -m functions.openapi` when a route or model changes
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == build_document(), (
        "functions/openapi.json drifted from the routers: run python -m functions.openapi"
    )


def test_the_document_is_valid_openapi() -> None:
    validate(json.loads(DOCUMENT_PATH.read_text(encoding="utf-8")))


def test_the_document_and_the_template_have_exactly_the_same_routes() -> None:
    # GIVEN the operations the document describes and the routes API Gateway deploys
    document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    deployed = {(route.method, route.path) for route in http_routes(load_template())}
    # THEN they agree: no undocumented route deploys, no documented one is missing
    assert deployed - SERVED_OUTSIDE_THE_DOCUMENT == documented
    assert not any("{proxy+}" in path or path == "$default" for _, path in deployed)


def test_every_error_a_route_answers_is_documented_as_problem_json() -> None:
    document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith("4") and status != "422":
                    assert "application/problem+json" in response.get("content", {}), (
                        f"{method.upper()} {path} {status}"
                    )
