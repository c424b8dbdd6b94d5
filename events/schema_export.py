"""Generate the checked-in JSON Schema of every current event model.

`python -m events.schema_export` rewrites `events/schemas/<Type>.v<N>.json` for the current
version of each type. Files for older versions stay as they were stored: they are history.

Each file names its dialect (`$schema`: the draft pydantic generates, 2020-12) and carries a
stable `$id`, `urn:programme-engine:event:<Type>:v<N>`, one per file name. The id is a name,
not an address: no host serves these schemas, so a URL would invite a fetch that fails, and
the name stays true wherever the repository or its documents are published.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from pydantic.json_schema import GenerateJsonSchema

from events.catalogue import EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_DIALECT: Final = GenerateJsonSchema.schema_dialect
SCHEMA_ID_PREFIX: Final = "urn:programme-engine:event:"


def schema_file_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def schema_id(event_type: str, version: int) -> str:
    """The `$id` of an event type's schema at one version: a URN, never fetched."""
    return f"{SCHEMA_ID_PREFIX}{event_type}:v{version}"


def identified(schema: dict[str, Any], event_type: str, version: int) -> dict[str, Any]:
    """The schema with its dialect and its id."""
    return {**schema, "$schema": SCHEMA_DIALECT, "$id": schema_id(event_type, version)}


def render_schemas() -> dict[str, str]:
    """File name → JSON text for the current version of every event type."""
    rendered: dict[str, str] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        version: int = model.model_fields["schema_version"].default
        schema = identified(model.model_json_schema(mode="serialization"), event_type, version)
        text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        rendered[schema_file_name(event_type, version)] = text
    return rendered


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in render_schemas().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote events/schemas/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
