"""What the end-to-end tests talk to, over HTTP only: the local stack, or a deployed one.

A target is a base URL, the webhook secrets, and how to send a request: to the local stack
as is (on loopback every caller is staff), to a deployed stack with staff and report routes
signed with SigV4 for `execute-api`, as API Gateway's IAM authoriser requires. A deployed
stack is found by its name in `AWS_SAM_STACK_NAME`: the API's URL from its `ApiUrl` output,
the secrets from the SSM parameters its parameters name.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from programme.stack.environment import WebhookSecrets
from programme.stack.stack import StackInfo

STACK_VARIABLE = "AWS_SAM_STACK_NAME"
DEPLOYED_REASON = "set AWS_SAM_STACK_NAME to run these against a deployed stack"
PUBLIC_PATHS = ("/webhooks/", "/health", "/openapi.json")
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Signer(Protocol):
    def __call__(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> dict[str, str]: ...


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    secrets: WebhookSecrets
    signer: Signer | None = None  # None: nothing to sign (the local stack)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = self.base_url.rstrip("/") + path
        headers = dict(headers or {})
        if self.signer is not None and not path.startswith(PUBLIC_PATHS):
            headers = self.signer(method, url, body, headers)
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, dict(error.headers.items()), error.read())

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def staff(self, method: str, path: str, body: dict[str, Any]) -> Reply:
        data = json.dumps(body).encode()
        return self.request(method, path, data, {"content-type": "application/json"})


@dataclass(frozen=True)
class LocalRun:
    """The local stack the package started: its target, and where everything is."""

    target: Target
    info: StackInfo


def round_state(target: Target, round_id: str) -> str | None:
    """The round's state in the read model; None while there is no such round."""
    reply = target.get(f"/rounds/{round_id}")
    return str(reply.json()["state"]) if reply.status == 200 else None


def poll_until(check: Callable[[], Any], what: str, *, timeout: float) -> float:
    """Poll `check` until it is truthy; returns the seconds it took, fails naming `what`."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting until {what}")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def deployed_target(stack_name: str) -> Target:
    """The deployed stack's API, its secrets, and SigV4 signing with the caller's credentials."""
    import boto3

    session = boto3.Session()
    stack = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}
    parameters = {
        item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])
    }
    ssm = session.client("ssm")

    def secret(parameter: str, default: str) -> str:
        name = parameters.get(parameter) or default
        return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])

    secrets = WebhookSecrets(
        typeform=secret("TypeformSecretParameter", "/programme-engine/typeform-secret"),
        forms=secret("FormsWebhookSecretParameter", "/programme-engine/forms-webhook-secret"),
    )
    return Target("deployed", outputs["ApiUrl"], secrets, _sigv4(session))


def _sigv4(session: Any) -> Signer:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = session.get_credentials().get_frozen_credentials()
    region = session.region_name

    def sign(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign
