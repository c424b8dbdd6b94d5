"""`programme serve --data DIR` keeps what it answered: killed with SIGKILL in the middle of a
burst of signed deliveries, then started again on the same folder.

A real process, a real SIGKILL (no handler runs, no buffer is flushed), a real restart. Then
every delivery answered "recorded" is in the store exactly once and is a duplicate when sent
again; each delivery that was in flight is recorded once when it is sent again; the reports
equal a fresh rebuild of the read models; sealed data opens with the kept key; a person
erased before the kill stays erased. About 40 s on a 2-core machine (15 s of it the rebuild's
grace before it drops the generation it replaced).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from domain.org_number import luhn_check_digit
from domain.streams import round_stream_id
from events import AgencyApplied
from infra.eventstore import DynamoDBEventStore
from infra.keyring_dynamodb import KmsDynamoDBKeyring
from infra.vault import PersonalDataVault, SubjectErasedError, application_subject_id
from programme.client import ApiClient, Reply
from programme.stack.environment import REGION, WebhookSecrets
from tests.e2e.processes import ROOT, Served, start_serve
from tests.e2e.targets import poll_until

SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
MOTO = re.compile(r"moto \(AWS\)\s+(http://127\.0\.0\.1:\d+)")
ROUND = "2027-1"
DELIVERIES = 60
KILL_AFTER = 20  # answers "recorded" before the kill
AWS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": REGION}


@contextmanager
def serving(data: Path) -> Iterator[Served]:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_SECRET")}
    served = start_serve("--port", "0", "--data", str(data), env=environment)
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.send_signal(signal.SIGTERM)
            try:
                served.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                served.process.kill()
                served.process.wait()
        served.reader.join(timeout=5)


def org_number(n: int) -> str:
    digits = f"202101{n:03d}"
    return f"202101-{n:03d}{luhn_check_digit(digits)}"


def delivery(n: int) -> dict[str, Any]:
    refs = {
        "org_number": org_number(n),
        "agency_name": f"Myndighet {n}",
        "director_general": f"Generaldirektör {n}",
        "contact_name": f"Kontakt {n}",
    }
    answers: list[dict[str, Any]] = [
        {"type": "text", "text": value, "field": {"ref": ref}} for ref, value in refs.items()
    ]
    answers.append(
        {"type": "email", "email": f"kontakt{n}@example.se", "field": {"ref": "contact_email"}}
    )
    answers.append(
        {"type": "choices", "choices": {"labels": ["digitalisering"]}, "field": {"ref": "themes"}}
    )
    return {
        "event_id": f"tf-burst-{n:03d}",
        "event_type": "form_response",
        "form_response": {
            "form_id": "burst",
            "token": f"t{n}",
            "submitted_at": "2026-11-28T09:00:00Z",
            "hidden": {"round_id": ROUND},
            "answers": answers,
        },
    }


def schedule(api: ApiClient) -> None:
    body = {
        "round_id": ROUND,
        "number": 4,
        "title": "Omgång 4",
        "capacity": 12,
        "themes": ["digitalisering"],
        "application_opens_at": "2026-01-01T09:00:00Z",
        "application_closes_at": "2099-03-01T17:00:00Z",
        "starts_at": "2099-04-01T09:00:00Z",
        "plan_due_at": "2099-10-01T17:00:00Z",
        "closes_at": "2099-12-01T17:00:00Z",
    }
    assert api.staff("POST", "/rounds", body).status == 201
    poll_until(lambda: _round(api).get("state") == "open", "open", timeout=60)


def _round(api: ApiClient) -> dict[str, Any]:
    reply = api.request("GET", f"/rounds/{ROUND}")
    found: dict[str, Any] = reply.json() if reply.status == 200 else {}
    return found


def send(api: ApiClient, n: int) -> Reply | None:
    try:
        return api.typeform(delivery(n))
    except OSError:  # the server was killed under it: no answer, so nothing was promised
        return None


def kept_secrets(data: Path) -> WebhookSecrets:
    saved = json.loads((data / "secrets.json").read_text())
    return WebhookSecrets(saved["typeform"], saved["forms"])


def test_what_was_answered_survives_a_sigkill_and_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # GIVEN `programme serve --data DIR` with an open round, and one applicant erased
    with serving(data) as first:
        api = ApiClient(first.found(SERVING, "serving", timeout=90), kept_secrets(data))
        schedule(api)
        erased = send(api, 0)
        assert erased is not None
        assert erased.json()["status"] == "recorded"
        contact = application_subject_id("typeform", ROUND, "tf-burst-000", "contact")
        erasure = {"retention_decision": "Gallring enligt beslut 2026:1"}
        assert api.staff("POST", f"/subjects/{contact}/erasure", erasure).status == 202

        # WHEN a burst of signed deliveries is under way and the process is killed (SIGKILL)
        answers: dict[int, str] = {}
        enough = threading.Event()

        def deliver(n: int) -> None:
            reply = send(api, n)
            if reply is not None and reply.status == 202:
                answers[n] = reply.json()["status"]
                if sum(s == "recorded" for s in answers.values()) >= KILL_AFTER:
                    enough.set()

        with ThreadPoolExecutor(max_workers=6) as pool:
            for n in range(1, DELIVERIES + 1):
                pool.submit(deliver, n)
            assert enough.wait(timeout=120), "the burst never got going"
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=30)
        recorded = {n for n, status in answers.items() if status == "recorded"}
        assert len(recorded) >= KILL_AFTER
        assert len(answers) < DELIVERIES, "the kill came after the burst: it proves nothing"

    # AND it is started again on the same folder
    with serving(data) as second:
        api = ApiClient(second.found(SERVING, "serving", timeout=90), kept_secrets(data))
        moto = second.found(MOTO, "moto is up", timeout=90)
        poll_until(lambda: api.request("GET", "/ready").status == 200, "ready", timeout=60)

        # THEN each delivery answered "recorded" is a duplicate now; every other is recorded once
        again = {n: send(api, n) for n in range(0, DELIVERIES + 1)}
        statuses = {n: reply.json()["status"] for n, reply in again.items() if reply is not None}
        assert {n: statuses[n] for n in recorded | {0}} == dict.fromkeys(
            recorded | {0}, "duplicate"
        )
        assert set(statuses.values()) <= {"recorded", "duplicate"}, statuses
        # AND the store holds each delivery's application exactly once
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION
        )
        dynamodb = session.client("dynamodb", endpoint_url=moto)
        kms = session.client("kms", endpoint_url=moto)
        store = DynamoDBEventStore(dynamodb, "EventStoreTable")
        applied = [
            r.event
            for r in store.read(round_stream_id(ROUND))
            if isinstance(r.event, AgencyApplied)
        ]
        per_delivery = Counter(event.delivery_id for event in applied)
        assert per_delivery == Counter(f"tf-burst-{n:03d}" for n in range(0, DELIVERIES + 1))
        # AND sealed data opens with the kept key; the person erased before the kill stays erased
        key_id = json.loads((data / "kms-key.json").read_text())["key_id"]
        vault = PersonalDataVault(KmsDynamoDBKeyring(dynamodb, kms, "SubjectKeysTable", key_id))
        by_delivery = {event.delivery_id: event for event in applied}
        assert vault.open(by_delivery[f"tf-burst-{min(recorded):03d}"].contact)["email"] == (
            f"kontakt{min(recorded)}@example.se"
        )
        with pytest.raises(SubjectErasedError):
            vault.open(by_delivery["tf-burst-000"].contact)
        # AND the open round has its execution again (the starter read the restored stream)
        sfn = session.client("stepfunctions", endpoint_url=moto)
        machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
        poll_until(
            lambda: (
                [
                    e["name"]
                    for e in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")[
                        "executions"
                    ]
                ]
                == [ROUND]
            ),
            "the round's execution runs again",
            timeout=30,
        )
        # AND the reports, once projected, equal a fresh rebuild of every view
        poll_until(
            lambda: _round(api).get("applied") == DELIVERIES + 1,
            "projected",
            timeout=60,
        )
        before = _reports(api)
        rebuilt = subprocess.run(
            # its grace (15 s) outlasts the queries' cached generation pointer (10 s): what is
            # read after it is the rebuilt generation
            [sys.executable, "-m", "programme.cli", "rebuild"],
            check=False,
            cwd=ROOT,
            env={
                **os.environ,
                **AWS,
                "AWS_ENDPOINT_URL": moto,
                "EVENT_STORE_TABLE": "EventStoreTable",
                "READ_MODEL_TABLE": "ReadModelTable",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert _reports(api) == before


def _reports(api: ApiClient) -> tuple[Any, ...]:
    csv = api.request("GET", "/reports/participation.csv")
    return (
        api.get("/rounds"),
        api.get(f"/rounds/{ROUND}"),
        api.get(f"/rounds/{ROUND}/events?limit=500"),
        csv.status,
        csv.body,
    )
