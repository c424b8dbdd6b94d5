"""The published OpenAPI document: every route of every HTTP function, from their routers.

`python -m functions.openapi` regenerates `functions/openapi.json`, which is checked in (a
test fails when it drifts from the routers) and served by the queries function.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

DOCUMENT_PATH: Final = Path(__file__).with_name("openapi.json")
TITLE: Final = "programme-engine"
VERSION: Final = "1.0.0"
DESCRIPTION: Final = (
    "Registration-form webhooks (signed), staff commands (IAM) and reporting queries (IAM) "
    "of the development programme's event-sourced engine."
)


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
        app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)
    )
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    DOCUMENT_PATH.write_text(build_document(), encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
