"""Generate the checked-in JSON Schema of every current event model.

`python -m events.schema_export` rewrites `events/schemas/<Type>.v<N>.json` for the current
version of each type. Files for older versions stay as they were stored: they are history.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from events.catalogue import EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_file_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def render_schemas() -> dict[str, str]:
    """File name → JSON text for the current version of every event type."""
    rendered: dict[str, str] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        version: int = model.model_fields["schema_version"].default
        schema = model.model_json_schema(mode="serialization")
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
