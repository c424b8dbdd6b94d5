"""Personal data end to end: sealed before it enters an event, shown by nothing, erasable.

One story through the real entry points under moto (intake, commands, projector, queries,
the rebuild command): people's names and e-mail addresses arrive in signed deliveries —
recorded, refused, malformed and duplicated — are projected and queried, then two of the
three people are erased and every view is rebuilt. Everything the system emits on the way is
captured and scanned: logs, metrics, what the tracer would send to X-Ray, every HTTP answer,
and every item of every table. The event log is compared before and after the erasure.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from domain import fold
from domain.streams import round_stream_id, subject_stream_id
from events import AgencyApplied, PersonalDataErased
from functions.common import bootstrap
from functions.common.settings import settings
from infra.readmodels.dynamodb import stored_texts
from infra.vault import SubjectErasedError, application_subject_id
from programme.rebuild import rebuild_command
from tests.domain.given import ESV, KRIMINALVARDEN, SKATTEVERKET
from tests.functions.http import Reply, deliver_forms, deliver_typeform, staff, typeform_payload
from tests.functions.http import application as application_fields
from tests.functions.rounds import ROUND_ID, Rounds
from tests.lifecycle.streams import stream_batch
from tests.support.apigw import LambdaContext, http_event
from tests.support.aws import REGION

# Three people, written so that no part of the system could produce them by chance.
ASA: dict[str, Any] = {
    "director_general": "Åsa Hemligsdotter-Öberg",
    "contact_name": "Birger Privatsson",
    "contact_email": "birger.privatsson@exempel.se",
    # Free text names people in practice: sealed under the contact's key, erased with them.
    "motivation": "Ring Motivera Skrivarsson på 070-987 65 43 om ansökan",
}
CEC: dict[str, Any] = {
    "director_general": "Cecilia Konfidentiell",
    "contact_name": "Dag Diskretsson",
    "contact_email": "dag.diskretsson@exempel.se",
}
ORG = {
    "director_general": "Eva Organisatörsson",
    "contact_name": "Frans Förvaltare",
    "contact_email": "frans.forvaltare@exempel.se",
}
MALFORMED_EMAIL = "gustav.gomd(at)exempel.se"
PEOPLE = [*ASA.values(), *CEC.values(), *ORG.values(), MALFORMED_EMAIL]
# Parts that would show a leak even if a value were cut, re-cased or transliterated.
FRAGMENTS = [
    "Hemligsdotter",
    "Privatsson",
    "Diskretsson",
    "Konfidentiell",
    "Organisatörsson",
    "Förvaltare",
    "gustav.gomd",
    "frida.fritext",
    "555 66 77",
    "handlaggare",  # the staff member's IAM user name, in STAFF_ARN
    "Skrivarsson",  # in Åsa's application's motivation
    "987 65 43",
]
# Free-text fields kept in clear (case numbers, reasons, titles) refuse what can be recognised
# as personal data; the attempts below put a person's e-mail and phone number in each.
IN_CLEAR_EMAIL = "Dnr 17, frida.fritext@exempel.se"
IN_CLEAR_PHONE = "Ring Frida på 070-555 66 77"

QUERY_ROUTES = [
    "/rounds",
    f"/rounds/{ROUND_ID}",
    f"/rounds/{ROUND_ID}/pairs",
    f"/rounds/{ROUND_ID}/plans",
    f"/rounds/{ROUND_ID}/events",
    f"/agencies/{SKATTEVERKET.replace('-', '')}",
    f"/agencies/{KRIMINALVARDEN.replace('-', '')}",
    "/reports/participation.csv",
    "/refusals",
]


class Emitted:
    """Everything the functions let out of the process: log lines, metrics, trace data."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.log = io.StringIO()
        self.trace: list[str] = []
        self.answers: list[str] = []
        self._capsys = capsys

    def logs_and_metrics(self) -> str:
        """The log lines, and what was printed: EMF metrics, the rebuild's progress."""
        self.log.write(self._capsys.readouterr().out)
        return self.log.getvalue()

    def add_answer(self, reply: Reply) -> Reply:
        self.answers.append(json.dumps([reply.status, reply.body, reply.headers], default=str))
        return reply


class RecordingSubsegment:
    """What Powertools' Tracer puts on a subsegment: handler responses, errors, annotations."""

    def __init__(self, sink: list[str]) -> None:
        self._sink = sink

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._sink.append(f"{namespace}/{key}: {json.dumps(value, default=repr)}")

    def put_annotation(self, key: str, value: Any) -> None:
        self._sink.append(f"annotation {key}: {value!r}")


class RecordingProvider:
    """Stands in for the X-Ray recorder, keeping what would have been sent."""

    def __init__(self, sink: list[str]) -> None:
        self._sink = sink

    @contextmanager
    def in_subsegment(self, name: str, **_: Any) -> Iterator[RecordingSubsegment]:
        self._sink.append(f"subsegment {name}")
        yield RecordingSubsegment(self._sink)


@pytest.fixture
def emitted(
    env: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Emitted]:
    """Captures the functions' logs and metrics, and traces them with a recording provider."""
    out = Emitted(capsys)
    for entry_point in ("intake", "commands", "queries"):
        module = importlib.import_module(f"functions.{entry_point}.app")
        monkeypatch.setattr(module.tracer, "provider", RecordingProvider(out.trace))
    importlib.import_module("functions.projector.app")
    handlers = [
        handler
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    previous = [handler.setStream(out.log) for handler in handlers]
    try:
        yield out
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def submitted(**changes: Any) -> dict[str, Any]:
    return {"type": "application.submitted", **application_fields(**changes)}


def project() -> None:
    projector = importlib.import_module("functions.projector.app")
    batch = stream_batch(settings().require("event_store_table"))
    assert projector.handler(batch, LambdaContext()) == {"batchItemFailures": []}


PAGED_ROUTES = (f"/rounds/{ROUND_ID}/events", "/refusals")


def query_everything(out: Emitted) -> dict[str, tuple[int, str]]:
    """Every query route's answer; the paged ones read one item a page, to their last."""
    queries = importlib.import_module("functions.queries.app")
    answers = {}
    for path in QUERY_ROUTES:
        response = queries.handler(http_event("GET", path), LambdaContext())
        answers[path] = (response["statusCode"], response["body"])
        out.answers.append(json.dumps(response, default=str))
    for path in PAGED_ROUTES:
        query: dict[str, str] = {"limit": "1"}
        for page in range(1, 100):
            event = http_event("GET", path, query=query)
            response = queries.handler(event, LambdaContext())
            assert response["statusCode"] == 200, response
            answers[f"{path} page {page}"] = (response["statusCode"], response["body"])
            out.answers.append(json.dumps(response, default=str))
            after = json.loads(response["body"]).get("next_after")
            if after is None:
                break
            query = {"limit": "1", "after": str(after)}
        assert page > 1, f"{path}: one page only; the scan would not have paged"
    return answers


def every_item(tables: dict[str, str]) -> dict[str, list[str]]:
    """Every item of every table, every page of each scan read."""
    paginator = boto3.client("dynamodb", region_name=REGION).get_paginator("scan")
    return {
        name: [
            readable(item)
            for page in paginator.paginate(TableName=table, PaginationConfig={"PageSize": 25})
            for item in page["Items"]
        ]
        for name, table in tables.items()
    }


def readable(item: dict[str, Any]) -> str:
    """An item as text, with a stream tip's compressed snapshot opened, and a read-model
    item's packed document or states."""
    texts = stored_texts(item)
    if "snapshot" in item:
        item = {**item, "snapshot": zlib.decompress(item["snapshot"]["B"]).decode()}
    return json.dumps({**item, "texts": texts}, default=str)


def leaks(texts: list[str]) -> list[str]:
    """The people's data found in the texts, matched without regard to case."""
    found = [value for value in PEOPLE + FRAGMENTS if any(value in text for text in texts)]
    lowered = [text.lower() for text in texts]
    found += [value for value in PEOPLE if any(value.lower() in text for text in lowered)]
    return sorted(set(found))


def test_personal_data_is_sealed_shown_nowhere_and_erased_for_good(
    rounds: Rounds, emitted: Emitted, env: Any
) -> None:
    # GIVEN an open round, and three people's data arriving in signed deliveries
    rounds.open()
    answer = emitted.add_answer
    recorded = answer(deliver_typeform(typeform_payload("tf-asa", **ASA)))
    again = answer(deliver_typeform(typeform_payload("tf-asa", **ASA)))
    cecilia = submitted(org_number=KRIMINALVARDEN.replace("-", ""), **CEC)
    by_forms = answer(deliver_forms(cecilia, "msg_cecilia"))
    organiser = submitted(org_number=ESV, **ORG)
    refused = answer(deliver_forms(organiser, "msg_organiser"))
    nowhere = submitted(round_id="2031-9", org_number=SKATTEVERKET, **ORG)
    refused_unknown_round = answer(deliver_forms(nowhere, "msg_nowhere"))
    assert refused_unknown_round.body["status"] == "refused"
    malformed = answer(
        deliver_typeform(
            typeform_payload("tf-bad", org_number=SKATTEVERKET, contact_email=MALFORMED_EMAIL)
        )
    )
    assert [r.body.get("status") for r in (recorded, again, by_forms, refused)] == [
        "recorded",
        "duplicate",
        "recorded",
        "refused",
    ]
    # (an unreadable signed delivery is held whole, sealed under a key of its own)
    assert (malformed.status, malformed.body["status"]) == (202, "refused")
    # … staff decide on them, and a command with a bad body is refused
    decision = {"org_number": SKATTEVERKET.replace("-", ""), "decision": "admit"}
    answer(staff("POST", f"/rounds/{ROUND_ID}/decisions", decision, key="decide-1"))
    bad = answer(staff("POST", f"/rounds/{ROUND_ID}/decisions", {"who": CEC["contact_name"]}))
    assert bad.status == 422
    # … and staff try to write a person's contact details into the free text kept in clear
    in_clear = [
        staff(
            "POST",
            f"/rounds/{ROUND_ID}/decisions",
            {"org_number": KRIMINALVARDEN, "decision": "waitlist", "case_number": IN_CLEAR_EMAIL},
        ),
        staff("POST", f"/rounds/{ROUND_ID}/cancel", {"reason": IN_CLEAR_PHONE}),
    ]
    assert [(r.status, r.body.get("rule")) for r in map(answer, in_clear)] == [
        (409, "ensure_no_personal_data_in_free_text")
    ] * 2
    project()
    before = query_everything(emitted)
    stream = round_stream_id(ROUND_ID)
    log_before = list(bootstrap.event_store().read(stream))
    applications = [r.event for r in log_before if isinstance(r.event, AgencyApplied)]
    assert len(applications) == 2
    vault = bootstrap.vault()
    # The events hold the people sealed; only the vault opens them
    assert vault.open(applications[0].contact) == {
        "name": ASA["contact_name"],
        "email": ASA["contact_email"],
    }
    assert vault.open(applications[1].director_general) == {"name": CEC["director_general"]}
    assert applications[0].motivation is not None
    assert applications[0].motivation.subject_id == applications[0].contact.subject_id
    assert vault.open(applications[0].motivation) == {"motivation": ASA["motivation"]}

    # WHEN staff erase Åsa's application's two people and Cecilia's contact
    erased = [
        application_subject_id("typeform", ROUND_ID, "tf-asa", "director_general"),
        application_subject_id("typeform", ROUND_ID, "tf-asa", "contact"),
        applications[1].contact.subject_id,
    ]
    assert erased[:2] == [
        applications[0].director_general.subject_id,
        applications[0].contact.subject_id,
    ]
    for subject_id in erased:
        reply = answer(
            staff("POST", f"/subjects/{subject_id}/erasure", {"retention_decision": "Art. 17"})
        )
        assert reply.status == 202
    # … the projector sees the erasures, and every view is rebuilt from the event log
    project()
    after_erasure = query_everything(emitted)
    rebuilt = rebuild_command(argparse.Namespace(view=None, grace=0.0, keep_old=False))
    after_rebuild = query_everything(emitted)

    # THEN the erased people cannot be read, and the one not erased still can
    for sealed in (
        applications[0].director_general,
        applications[0].contact,
        applications[0].motivation,
        applications[1].contact,
    ):
        with pytest.raises(SubjectErasedError):
            vault.open(sealed)
    assert vault.open(applications[1].director_general) == {"name": CEC["director_general"]}
    # AND the event log is intact and replays: the round's events are exactly as before,
    # and each erasure is one event on its subject's stream
    log_after = list(bootstrap.event_store().read(stream))
    assert log_after == log_before
    state_after = fold([r.event for r in log_after])
    state_before = fold([r.event for r in log_before])
    assert state_after is not None
    assert state_before is not None
    assert state_after.status == state_before.status
    for subject_id in erased:
        (event,) = [r.event for r in bootstrap.event_store().read(subject_stream_id(subject_id))]
        assert isinstance(event, PersonalDataErased)
    # AND the reports are the same before, after the erasure and after a full rebuild
    assert rebuilt == 0
    assert after_erasure == before
    assert after_rebuild == before
    assert before[f"/rounds/{ROUND_ID}"][0] == 200
    # AND none of the people's data is in any answer, log line, metric, trace or table item
    items = every_item(env.tables)
    scanned = {
        "answers": emitted.answers,
        "logs and metrics": [emitted.logs_and_metrics()],
        "traces": emitted.trace,
        **{f"table {name}": texts for name, texts in items.items() if name != "EventStoreTable"},
        # the event store holds them sealed; its items must not hold them in clear
        "event store": items["EventStoreTable"],
    }
    assert {where: leaks(texts) for where, texts in scanned.items()} == {
        where: [] for where in scanned
    }
    # (the scans see what they scan: ids, outcomes and agency names are there)
    assert "delivery answered" in emitted.logs_and_metrics()
    assert '"DeliveriesRecorded"' in emitted.logs_and_metrics()
    assert "Deleted" in emitted.logs_and_metrics()  # the rebuild's report
    assert any("tf-asa" in line for line in emitted.trace)
    assert any("Skatteverket" in text for text in emitted.answers)
    assert any("ciphertext" in item for item in items["EventStoreTable"])
