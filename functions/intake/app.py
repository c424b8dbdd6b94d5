"""Lambda entry point of the public intake: `POST /webhooks/typeform` and `/webhooks/forms`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.common import tracing
from functions.common.problems import register_problem_handlers
from functions.intake.routes import router

logger = Logger()
tracer = tracing.tracer()  # X-Ray's only where tracing is on
metrics = Metrics()

app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
app.include_router(router)
register_problem_handlers(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
