"""The handlers' environment in the local stack: moto for AWS, quiet Powertools, the secrets.

The handlers read their configuration from the environment, as on Lambda; here every function
shares this process's, so the stack sets the union of what the template gives each function,
with boto3 pointed at the moto server. `ProcessEnvironment` puts everything back on stop, so a
test can start and stop a stack in the middle of a session.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Final

from programme.template import Template

REGION: Final = "eu-north-1"

FAKE_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}

QUIET_POWERTOOLS: Final = {
    # Warnings and errors only: one JSON line per request would drown the request log.
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_METRICS_NAMESPACE": "ProgrammeEngine",
    # No CloudWatch here: metrics would only print EMF blobs, traces go nowhere.
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
}

UNSET: Final = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE")
"""A profile would win over the fake credentials (or fail when it does not exist)."""

TYPEFORM_SECRET: Final = "TYPEFORM_SECRET"  # noqa: S105 - the variable's name
FORMS_WEBHOOK_SECRET: Final = "FORMS_WEBHOOK_SECRET"  # noqa: S105 - the variable's name
ACTOR_PSEUDONYM_KEY: Final = "ACTOR_PSEUDONYM_KEY"


@dataclass(frozen=True, slots=True)
class WebhookSecrets:
    typeform: str
    forms: str  # whsec_ + base64, as Standard Webhooks secrets are written
    generated: tuple[str, ...] = ()  # the variables that were unset, so generated here
    # The key of the staff actors' pseudonyms (functions/commands/actors.py): new each start,
    # like the stack's data; nobody needs it to send anything, so it is not printed.
    actor_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    kept: tuple[str, ...] = ()  # the variables that were unset, so read from the data folder

    def as_environment(self) -> dict[str, str]:
        """The webhook secrets, as the senders need them (and the console shows them)."""
        return {TYPEFORM_SECRET: self.typeform, FORMS_WEBHOOK_SECRET: self.forms}

    def handler_environment(self) -> dict[str, str]:
        return {**self.as_environment(), ACTOR_PSEUDONYM_KEY: self.actor_key}


class InvalidSecretError(ValueError):
    """A secret from the environment the handlers could not use; the message names it."""


def webhook_secrets(environ: Mapping[str, str] = os.environ) -> WebhookSecrets:
    """The secrets from `TYPEFORM_SECRET` and `FORMS_WEBHOOK_SECRET`, or new ones when unset."""
    generated: list[str] = []
    typeform = environ.get(TYPEFORM_SECRET, "")
    if not typeform:
        typeform = secrets.token_urlsafe(32)
        generated.append(TYPEFORM_SECRET)
    forms = environ.get(FORMS_WEBHOOK_SECRET, "")
    if forms:
        _check_standard_webhooks_secret(forms)
    else:
        forms = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        generated.append(FORMS_WEBHOOK_SECRET)
    return WebhookSecrets(typeform, forms, tuple(generated))


def _check_standard_webhooks_secret(secret: str) -> None:
    from standardwebhooks.webhooks import Webhook

    try:
        Webhook(secret)
    except Exception as error:
        raise InvalidSecretError(
            f"{FORMS_WEBHOOK_SECRET} is not a Standard Webhooks secret (whsec_ + base64): {error}"
        ) from None


def template_environment(template: Template, resources: Mapping[str, str]) -> dict[str, str]:
    """The functions' variables in the template, each `!Ref` to a resource made its local value.

    The union over `Globals` and every function, since here they share a process. Variables
    referring to what the stack does not make (the SSM parameter names of the secrets) are
    left out; so is the service name, which differs per function (see `LocalFunction`).
    """
    found: dict[str, str] = {}
    sources = [template.get("Globals", {}).get("Function", {})] + [
        resource.get("Properties", {})
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]
    for source in sources:
        for name, given in source.get("Environment", {}).get("Variables", {}).items():
            reference = given.get("Ref") if isinstance(given, dict) else None
            if name == "POWERTOOLS_SERVICE_NAME" or (reference and reference not in resources):
                continue
            if isinstance(given, dict) and not reference:
                continue  # a condition on a deploy parameter (tracing): the local defaults hold
            value = resources[reference] if reference else str(given)
            if found.setdefault(name, value) != value:
                raise ValueError(f"{name} differs between the template's functions")
    return found


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """boto3 in this process talks to the moto server, in eu-north-1, with fake credentials."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # botocore >= 1.44 otherwise routes DynamoDB (Streams) calls to account endpoints.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        # moto's Wait state compares a `...Z` timestamp with local naive time.
        "TZ": "UTC",
    }


class ProcessEnvironment:
    """Sets variables in `os.environ` and puts back what was there (TZ included) on `restore`."""

    def __init__(self, environ: MutableMapping[str, str] = os.environ) -> None:
        self._environ = environ
        self._before: dict[str, str | None] = {}

    def set(self, variables: Mapping[str, str]) -> None:
        for name, value in variables.items():
            self._remember(name)
            self._environ[name] = value
        if "TZ" in variables:
            time.tzset()

    def unset(self, names: tuple[str, ...]) -> None:
        for name in names:
            self._remember(name)
            self._environ.pop(name, None)

    def restore(self) -> None:
        for name, value in self._before.items():
            if value is None:
                self._environ.pop(name, None)
            else:
                self._environ[name] = value
        if "TZ" in self._before:
            time.tzset()
        self._before.clear()

    def _remember(self, name: str) -> None:
        if name not in self._before:
            self._before[name] = self._environ.get(name)
