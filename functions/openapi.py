"""The published OpenAPI document: every route of every HTTP function, from their routers.

`python -m functions.openapi` regenerates `functions/openapi.json`, which is checked in (a
test fails when it drifts from the routers) and served by the queries function.

Each operation states how it is authenticated. Staff and report routes are IAM-authorised by
API Gateway (`Authorizer: AWS_IAM` in `template.yaml`): OpenAPI has no SigV4 type, so they
name the `apiKey` scheme on the `Authorization` header that API Gateway reads as IAM
(`x-amazon-apigateway-authtype: awsSigv4`). The webhooks are public at the gateway and
authenticated by the intake function from their signature headers, each header a scheme;
a route listed in `PUBLIC` says why it needs none.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme

DOCUMENT_PATH: Final = Path(__file__).with_name("openapi.json")
TITLE: Final = "programme-engine"
VERSION: Final = "1.0.0"
DESCRIPTION: Final = (
    "Registration-form webhooks (signed), staff commands (IAM) and reporting queries (IAM) "
    "of the development programme's event-sourced engine."
)

SecurityRequirements = list[dict[str, list[str]]]

SIGV4: Final = "sigv4"
TYPEFORM_SIGNATURE: Final = "typeformSignature"
WEBHOOK_ID: Final = "standardWebhookId"
WEBHOOK_TIMESTAMP: Final = "standardWebhookTimestamp"
WEBHOOK_SIGNATURE: Final = "standardWebhookSignature"

# Operations that API Gateway passes through without IAM, by path: what authenticates them.
WEBHOOK_SECURITY: Final[dict[str, SecurityRequirements]] = {
    "/webhooks/typeform": [{TYPEFORM_SIGNATURE: []}],
    # One requirement naming all three: a Standard Webhooks delivery needs every one of them.
    "/webhooks/forms": [{WEBHOOK_ID: [], WEBHOOK_TIMESTAMP: [], WEBHOOK_SIGNATURE: []}],
}
# Documented operations that need no authentication at all, and why.
PUBLIC: Final[dict[tuple[str, str], str]] = {
    ("GET", "/health"): "a liveness probe: answers 200 and reads nothing",
}


def security_schemes() -> dict[str, SecurityScheme]:
    """Every scheme an operation names; header names as `functions.intake.signatures` reads."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    return {
        SIGV4: APIKey(
            in_=APIKeyIn.header,
            name="Authorization",
            description=(
                "AWS Signature Version 4 for the `execute-api` service, by an IAM principal "
                "allowed `execute-api:Invoke` on the route; API Gateway checks it before the "
                "function runs (`X-Amz-Date` and, for temporary credentials, "
                "`X-Amz-Security-Token` are signed with it)."
            ),
            openapi_extensions={"x-amazon-apigateway-authtype": "awsSigv4"},
        ),
        TYPEFORM_SIGNATURE: APIKey(
            in_=APIKeyIn.header,
            name="Typeform-Signature",
            description=(
                "`sha256=` and the base64 HMAC-SHA256 of the raw body, keyed with the "
                "webhook's secret; missing or not matching is answered 401."
            ),
        ),
        WEBHOOK_ID: APIKey(
            in_=APIKeyIn.header,
            name="webhook-id",
            description=(
                "Standard Webhooks: the message id, the same on every retry of a message "
                "(the delivery id a redelivery is recognised by); signed with the body."
            ),
        ),
        WEBHOOK_TIMESTAMP: APIKey(
            in_=APIKeyIn.header,
            name="webhook-timestamp",
            description=(
                "Standard Webhooks: Unix seconds when the message was signed; more than five "
                "minutes from the receiver's clock is answered 401."
            ),
        ),
        WEBHOOK_SIGNATURE: APIKey(
            in_=APIKeyIn.header,
            name="webhook-signature",
            description=(
                "Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of "
                "`{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret; several "
                "are separated by spaces, one matching is enough; none is answered 401."
            ),
        ),
    }


def operation_security(method: str, path: str) -> SecurityRequirements | None:
    """What an operation requires: a webhook's signature, nothing when public, else SigV4."""
    if (method, path) in PUBLIC:
        return None
    return WEBHOOK_SECURITY.get(path, [{SIGV4: []}])


def build_document() -> str:
    """The document as JSON text, generated from the intake, commands and queries routers."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from functions.commands.forms import router as forms
    from functions.commands.routes import router as commands
    from functions.intake.routes import router as intake
    from functions.queries.routes import router as queries

    app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
    for router in (intake, commands, forms, queries):
        app.include_router(router)
    document = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes=security_schemes(),
        )
    )
    # The routers' decorators name no security: each operation is given its own here, from
    # one table (tests/test_openapi.py checks it against the template's routes).
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            security = operation_security(method.upper(), path)
            if security is not None:
                operation["security"] = security
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    DOCUMENT_PATH.write_text(build_document(), encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
