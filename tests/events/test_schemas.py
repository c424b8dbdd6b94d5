"""The checked-in JSON Schemas are the public contract: they must match the models."""

from __future__ import annotations

import json
import re

import pytest

from events import EVENT_TYPES, current_version
from events.schema_export import SCHEMA_DIR, render_schemas
from events.upcasting import UPCASTERS

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
