"""The handlers' environment in the local stack: secrets, the template's variables, restored."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from programme.stack.environment import (
    InvalidSecretError,
    ProcessEnvironment,
    template_environment,
    webhook_secrets,
)
from programme.template import load_template


def test_unset_secrets_are_generated_and_say_so() -> None:
    secrets = webhook_secrets({})
    assert secrets.generated == ("TYPEFORM_SECRET", "FORMS_WEBHOOK_SECRET")
    assert len(secrets.typeform) >= 32
    assert secrets.forms.startswith("whsec_")
    Webhook(secrets.forms)  # a valid Standard Webhooks secret
    assert webhook_secrets({}).typeform != secrets.typeform


def test_secrets_from_the_environment_are_used_as_given() -> None:
    given = {"TYPEFORM_SECRET": "tf", "FORMS_WEBHOOK_SECRET": "whsec_dGVzdA=="}
    secrets = webhook_secrets(given)
    assert (secrets.typeform, secrets.forms, secrets.generated) == ("tf", "whsec_dGVzdA==", ())


def test_a_standard_webhooks_secret_that_is_not_base64_is_refused_naming_it() -> None:
    with pytest.raises(InvalidSecretError, match="FORMS_WEBHOOK_SECRET"):
        webhook_secrets({"FORMS_WEBHOOK_SECRET": "whsec_!"})


def test_the_functions_variables_come_from_the_template_with_local_values() -> None:
    resources = {
        "EventStoreTable": "events",
        "ReadModelTable": "views",
        "IdempotencyTable": "keys",
        "SubjectKeysTable": "subjects",
        "PersonalDataKey": "key-1",
        "RoundLifecycleStateMachine": "arn:sm",
    }
    variables = template_environment(load_template(), resources)
    assert variables["EVENT_STORE_TABLE"] == "events"
    assert variables["READ_MODEL_TABLE"] == "views"
    assert variables["PERSONAL_DATA_KEY_ID"] == "key-1"
    assert variables["STATE_MACHINE_ARN"] == "arn:sm"
    assert "TYPEFORM_SECRET_PARAMETER" not in variables  # the stack sets the secrets themselves
    assert "POWERTOOLS_SERVICE_NAME" not in variables  # one per function
    assert "POWERTOOLS_TRACE_DISABLED" not in variables  # a deploy parameter decides it


def test_the_process_environment_is_put_back_as_it_was() -> None:
    environ = {"KEPT": "1", "CHANGED": "before", "AWS_PROFILE": "work"}
    environment = ProcessEnvironment(environ)
    environment.set({"CHANGED": "after", "ADDED": "x"})
    environment.unset(("AWS_PROFILE",))
    assert environ == {"KEPT": "1", "CHANGED": "after", "ADDED": "x"}
    environment.restore()
    assert environ == {"KEPT": "1", "CHANGED": "before", "AWS_PROFILE": "work"}
