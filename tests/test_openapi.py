"""The published OpenAPI document: generated from the routers, checked in, and what deploys."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from functions.intake import signatures
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


# Security: what each operation declares is how its route is reached once deployed.

SIGV4 = "sigv4"
# Not IAM-authorised at the gateway; the intake function checks these headers' signature.
SIGNED_WEBHOOKS = {
    ("POST", "/webhooks/typeform"): {"typeformSignature"},
    ("POST", "/webhooks/forms"): {
        "standardWebhookId",
        "standardWebhookTimestamp",
        "standardWebhookSignature",
    },
}
# Not IAM-authorised and not signed, each for a reason.
UNAUTHENTICATED = {
    ("GET", "/health"): "a liveness probe for the stack: answers 200 and reads no data",
    ("GET", "/openapi.json"): "the published contract itself, readable before signing anything",
}


def _documented_security() -> dict[tuple[str, str], list[dict[str, list[str]]] | None]:
    document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return {
        (method.upper(), path): operation.get("security")
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def _schemes() -> dict[str, dict[str, str]]:
    document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    schemes: dict[str, dict[str, str]] = document.get("components", {}).get("securitySchemes", {})
    return schemes


def test_every_route_without_iam_is_a_signed_webhook_or_public_for_a_stated_reason() -> None:
    # GIVEN the routes API Gateway deploys without `Authorizer: AWS_IAM`
    open_at_the_gateway = {
        (r.method, r.path) for r in http_routes(load_template()) if not r.iam_auth
    }
    # THEN each is a webhook that is signed, or listed with the reason it needs nothing
    assert open_at_the_gateway == set(SIGNED_WEBHOOKS) | set(UNAUTHENTICATED)
    assert not set(SIGNED_WEBHOOKS) & set(UNAUTHENTICATED)


def test_every_operation_declares_exactly_the_security_its_route_deploys_with() -> None:
    # GIVEN each documented operation's security and the template's route it documents
    documented = _documented_security()
    document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    # THEN nothing is inherited from a document-wide default: each operation says its own
    assert "security" not in document
    for route in http_routes(load_template()):
        key = (route.method, route.path)
        if key in SERVED_OUTSIDE_THE_DOCUMENT:
            continue
        security = documented[key]
        # AND an IAM route requires SigV4, a webhook every one of its signature headers
        # (one requirement naming them all), and an unauthenticated route nothing
        if route.iam_auth:
            assert security == [{SIGV4: []}], key
        elif key in SIGNED_WEBHOOKS:
            assert security is not None, key
            assert [set(requirement) for requirement in security] == [SIGNED_WEBHOOKS[key]], key
            assert all(scopes == [] for scopes in security[0].values()), key
        else:
            assert key in UNAUTHENTICATED, key
            assert security is None, (key, UNAUTHENTICATED[key])


def test_every_security_scheme_an_operation_names_is_defined_and_none_is_unused() -> None:
    named = {
        scheme
        for security in _documented_security().values()
        for requirement in security or []
        for scheme in requirement
    }
    assert named == set(_schemes()) == {SIGV4}.union(*SIGNED_WEBHOOKS.values())


def test_sigv4_is_declared_as_api_gateway_reads_iam_authorisation() -> None:
    # THEN the scheme is API Gateway's convention for IAM: an apiKey on Authorization marked
    # awsSigv4 (docs.aws.amazon.com/apigateway: x-amazon-apigateway-authtype)
    scheme = _schemes()[SIGV4]
    assert {k: v for k, v in scheme.items() if k != "description"} == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
    assert "Signature Version 4" in scheme["description"]


def test_the_webhook_schemes_name_the_headers_the_intake_checks() -> None:
    # GIVEN the headers the intake's signature checks read
    schemes = _schemes()
    by_route = {
        key: {schemes[name]["name"].lower() for name in names}
        for key, names in SIGNED_WEBHOOKS.items()
    }
    # THEN each webhook's schemes are exactly those headers, each an apiKey in the header
    assert by_route == {
        ("POST", "/webhooks/typeform"): {signatures.TYPEFORM_HEADER},
        ("POST", "/webhooks/forms"): set(signatures.STANDARD_WEBHOOK_HEADERS),
    }
    for names in SIGNED_WEBHOOKS.values():
        for name in names:
            assert (schemes[name]["type"], schemes[name]["in"]) == ("apiKey", "header"), name
            assert schemes[name]["description"], name
