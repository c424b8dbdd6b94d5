"""Lambda entry point of the staff commands: `/rounds…` writes, `/subjects/{id}/erasure`, and
`/forms/{id}/…` (a form's mapping, its held deliveries taken up)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.commands import forms
from functions.commands.problems import unsupported_media_type
from functions.commands.requests import parse_json_body
from functions.commands.routes import router
from functions.common import tracing
from functions.common.problems import register_problem_handlers

logger = Logger()
tracer = tracing.tracer()  # X-Ray's only where tracing is on
metrics = Metrics()

app = APIGatewayHttpResolver(
    enable_validation=True,
    response_validation_error_http_code=500,
    json_body_deserializer=parse_json_body,
)
app.include_router(router)
app.include_router(forms.router)
register_problem_handlers(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return unsupported_media_type(event) or app.resolve(event, context)
