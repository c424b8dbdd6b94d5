"""Tables for tests, built from `template.yaml` so the mock cannot drift from what deploys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from programme.template import create_tables, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def create_template_tables(client: DynamoDBClient) -> dict[str, str]:
    """Create every DynamoDB table of the template; returns table name by logical id."""
    return create_tables(client, load_template())
