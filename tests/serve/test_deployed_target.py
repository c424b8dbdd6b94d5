"""The end-to-end suite finds a deployed stack by its name and signs its IAM routes (SigV4)."""

from __future__ import annotations

import json

import boto3

from tests.e2e.targets import deployed_target
from tests.support.aws import REGION

TEMPLATE = {
    "Parameters": {
        "TypeformSecretParameter": {"Type": "String", "Default": "/pe/typeform"},
        "FormsWebhookSecretParameter": {"Type": "String", "Default": "/pe/forms"},
    },
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {"ApiUrl": {"Value": "https://abc123.execute-api.eu-north-1.amazonaws.com"}},
}


def test_a_deployed_stack_is_found_by_its_outputs_and_its_secrets_parameters(
    mocked_aws: None,
) -> None:
    # GIVEN a deployed stack and its two secrets in Parameter Store
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/pe/typeform", Value="tf-secret", Type="SecureString")
    ssm.put_parameter(Name="/pe/forms", Value="whsec_dGVzdA==", Type="SecureString")
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="programme", TemplateBody=json.dumps(TEMPLATE))

    # WHEN the suite looks it up by name
    target = deployed_target("programme")

    # THEN it has the API's URL and the secrets, and signs requests for execute-api
    assert target.base_url == "https://abc123.execute-api.eu-north-1.amazonaws.com"
    assert (target.secrets.typeform, target.secrets.forms) == ("tf-secret", "whsec_dGVzdA==")
    assert target.signer is not None
    signed = target.signer("GET", f"{target.base_url}/rounds", None, {})
    assert signed["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert f"/{REGION}/execute-api/aws4_request" in signed["Authorization"]
