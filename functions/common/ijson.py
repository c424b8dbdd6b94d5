"""I-JSON (RFC 7493): JSON that every reader reads the same way.

Members with unique names (with two, which did the sender mean? Python keeps the last, other
readers the first) and finite numbers (NaN, Infinity and 1e400 are not JSON to most clients).
Both the signed webhooks and the staff bodies are read through `loads`.
"""

from __future__ import annotations

import json
import math
from typing import Any


class AmbiguousJsonError(ValueError):
    """Valid to Python's `json`, but not I-JSON: a repeated member name or a non-finite number."""


def loads(text: str) -> Any:
    """Parse I-JSON; `json.JSONDecodeError` for text that is not JSON at all, `ValueError`
    (incl. `AmbiguousJsonError` and Python's limit on an integer's digits) otherwise."""
    return json.loads(
        text,
        object_pairs_hook=_unique_members,
        parse_constant=_not_a_number,
        parse_float=_finite,
    )


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise AmbiguousJsonError("a member name is repeated")
    return members


def _not_a_number(constant: str) -> Any:
    raise AmbiguousJsonError(f"{constant} is not a JSON number")


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise AmbiguousJsonError("a number is out of range")
    return number
