"""The checked-in JSON Schemas are the public contract: they must match the models."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs locked
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from pydantic.json_schema import GenerateJsonSchema

from events import EVENT_TYPES, current_version, event_to_json
from events.schema_export import SCHEMA_DIR, render_schemas
from events.upcasting import UPCASTERS
from infra.eventstore.records import StoredEvent, encode
from tests.support.event_examples import EXAMPLES
from tests.support.new_events import new_event

SCHEMA_FILE = re.compile(r"^(?P<type>[A-Za-z]+)\.v(?P<version>\d+)\.json$")


@pytest.mark.parametrize(("name", "text"), sorted(render_schemas().items()))
def test_checked_in_schema_matches_its_model(name: str, text: str) -> None:
    # GIVEN the schema generated from the current model
    path = SCHEMA_DIR / name
    # THEN the checked-in file says the same (regenerate: python -m events.schema_export)
    assert path.exists(), f"{name} is not checked in; run python -m events.schema_export"
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} drifted from its model; a stored event type is never changed in place: "
        "add a schema_version and an upcaster"
    )


def test_every_schema_file_is_current_or_reachable_by_upcasting() -> None:
    # GIVEN every schema file ever checked in
    names = sorted(path.name for path in SCHEMA_DIR.glob("*.json"))
    assert names, "no schema files found"
    for name in names:
        match = SCHEMA_FILE.match(name)
        assert match, f"unexpected file name {name}"
        event_type, version = match["type"], int(match["version"])
        # THEN its type still exists, and an old version has an upcaster to the next one
        assert event_type in EVENT_TYPES, f"{name}: event types are never removed"
        target = current_version(event_type)
        assert version <= target
        if version < target:
            assert (event_type, version) in UPCASTERS, f"{name} has no upcaster"


def test_every_event_type_has_a_schema_that_names_its_type() -> None:
    for event_type in EVENT_TYPES:
        path = SCHEMA_DIR / f"{event_type}.v{current_version(event_type)}.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["properties"]["type"]["const"] == event_type


DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.json"))


def _load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return schema


def test_every_schema_file_names_the_draft_pydantic_generates_and_its_own_id() -> None:
    # GIVEN the dialect pydantic writes its schemas in
    assert GenerateJsonSchema.schema_dialect == DRAFT_2020_12
    ids: list[str] = []
    for path in SCHEMA_FILES:
        match = SCHEMA_FILE.match(path.name)
        assert match, path.name
        schema = _load(path.name)
        # THEN each file says so, and is identified by its type and version, as its name is
        assert schema["$schema"] == DRAFT_2020_12, path.name
        assert schema["$id"] == f"urn:programme-engine:event:{match['type']}:v{match['version']}"
        ids.append(schema["$id"])
    # AND no two files share an id
    assert len(ids) == len(set(ids)) == len(SCHEMA_FILES) > len(EVENT_TYPES)


def _stored(payload: dict[str, Any]) -> StoredEvent:
    """An event as the DynamoDB store writes it: the payload is JSON text in its item."""
    current = encode(f"round-{payload['type'].lower()}", 1, new_event(EXAMPLES[payload["type"]]))
    return replace(current, schema_version=payload["schema_version"], payload=json.dumps(payload))


def _stored_events() -> list[StoredEvent]:
    """A stored event of every type at its current version, and AgencyApplied as older
    releases stored it (v1: one `theme`; v2: `themes`, the motivation in clear)."""
    current = [encode(f"round-{t.lower()}", 1, new_event(e)) for t, e in EXAMPLES.items()]
    applied = event_to_json(EXAMPLES["AgencyApplied"])
    v2 = {k: v for k, v in applied.items() if k != "unsealed_motivation"} | {
        "schema_version": 2,
        "motivation": "Vi vill stärka vi-känslan.",
    }
    v1 = {k: v for k, v in v2.items() if k != "themes"} | {
        "schema_version": 1,
        "theme": "digitalisering",
    }
    return [*current, _stored(v2), _stored(v1)]


@pytest.mark.parametrize("stored", _stored_events(), ids=lambda s: f"{s.type}.v{s.schema_version}")
def test_each_schema_in_its_own_dialect_accepts_a_stored_event_of_its_type(
    stored: StoredEvent,
) -> None:
    # GIVEN the schema file for the type and version an event was stored as
    schema = _load(f"{stored.type}.v{stored.schema_version}.json")
    # THEN a validator chosen by its `$schema` alone is draft 2020-12's, the schema is valid
    # in that draft, and it accepts the stored payload (its `$ref`s resolve under its `$id`)
    validator = validator_for(schema, default=None)
    assert validator is Draft202012Validator
    validator.check_schema(schema)
    validator(schema).validate(json.loads(stored.payload))


def test_every_schema_file_has_a_stored_event_it_was_checked_against() -> None:
    checked = {f"{s.type}.v{s.schema_version}.json" for s in _stored_events()}
    assert checked == {path.name for path in SCHEMA_FILES}
