"""Lambda entry point of the reporting queries (`GET /rounds…`, `/agencies…`, `/reports…`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common import tracing
from functions.common.problems import register_problem_handlers
from functions.openapi import DOCUMENT_PATH
from functions.queries.routes import router

logger = Logger()
tracer = tracing.tracer()  # X-Ray's only where tracing is on
metrics = Metrics()

app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
app.include_router(router)
register_problem_handlers(app)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    """The published OpenAPI document of the whole HTTP API (checked in, never regenerated here)."""
    return Response(200, content_types.APPLICATION_JSON, _published_document())


@cache
def _published_document() -> str:
    return DOCUMENT_PATH.read_text(encoding="utf-8")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
