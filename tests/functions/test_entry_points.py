"""The entry points themselves: importable without an environment, documented in one OpenAPI
document, and what they log and count — never a person's data."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from tests.domain.given import KUSTBEVAKNINGEN
from tests.functions.http import (
    CONTACT_EMAIL,
    CONTACT_NAME,
    DG_NAME,
    deliver_typeform,
    typeform_payload,
)
from tests.functions.rounds import Rounds

ROOT = Path(__file__).resolve().parents[2]


def test_the_entry_points_import_without_environment_or_network() -> None:
    # GIVEN an interpreter with no AWS settings, secrets or table names at all
    bare = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    code = "import functions.intake.app, functions.commands.app"

    # WHEN the entry points are imported
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        env=bare,
        capture_output=True,
        text=True,
    )

    # THEN nothing failed for want of configuration
    assert done.returncode == 0, done.stderr


def test_both_routers_make_one_openapi_document_with_every_write_route(env: object) -> None:
    # GIVEN one resolver including both routers, as the published document is built
    # (imported under `env`: Powertools binds the service name when a module is imported)
    from functions.commands.routes import router as commands_router
    from functions.intake.routes import router as intake_router

    app = APIGatewayHttpResolver(enable_validation=True)
    app.include_router(intake_router)
    app.include_router(commands_router)

    # WHEN its OpenAPI document is generated
    document = json.loads(app.get_openapi_json_schema(title="programme-engine", version="1"))

    # THEN every route is there, with its documented problem responses
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("POST", "/webhooks/typeform"),
        ("POST", "/webhooks/forms"),
        ("POST", "/rounds"),
        ("PATCH", "/rounds/{round_id}/schedule"),
        ("POST", "/rounds/{round_id}/cancel"),
        ("POST", "/rounds/{round_id}/decisions"),
        ("POST", "/rounds/{round_id}/pairs"),
        ("DELETE", "/rounds/{round_id}/pairs/{pair_id}"),
        ("POST", "/rounds/{round_id}/plans"),
        ("POST", "/rounds/{round_id}/presentations"),
        ("POST", "/subjects/{subject_id}/erasure"),
    }
    assert {"202", "400", "401", "413", "503"} <= set(
        operations["POST", "/webhooks/typeform"]["responses"]
    )
    assert {"201", "409", "415", "422", "503"} <= set(operations["POST", "/rounds"]["responses"])
    parameters = {p["name"] for p in operations["POST", "/rounds/{round_id}/cancel"]["parameters"]}
    assert parameters == {"round_id", "idempotency-key"}


def test_a_recorded_delivery_is_logged_and_counted_without_personal_data(
    rounds: Rounds, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an open round, and the functions' log written where the test can read it
    rounds.open()
    deliver_typeform(typeform_payload("tf-first", org_number=KUSTBEVAKNINGEN))
    log = io.StringIO()
    handler = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(log)
    capsys.readouterr()

    # WHEN an application is delivered
    try:
        payload = typeform_payload("tf-logged", motivation="Kontakta Kim på 070-1234567")
        deliver_typeform(payload)
    finally:
        handler.setStream(previous)

    # THEN the log names the delivery and its outcome, and the metric counts it
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    answered = [line for line in lines if line.get("message") == "delivery answered"]
    assert [(a["delivery_id"], a["status"]) for a in answered] == [("tf-logged", "recorded")]
    printed = capsys.readouterr().out
    metrics = [json.loads(line) for line in printed.splitlines() if '"_aws"' in line]
    assert [(m["DeliveriesRecorded"], m["provider"]) for m in metrics] == [([1.0], "typeform")]
    # AND no one's name, address or free text is in any of it
    for clear in (DG_NAME, CONTACT_NAME, CONTACT_EMAIL, "070-1234567", "Kim"):
        assert clear not in log.getvalue() + printed
