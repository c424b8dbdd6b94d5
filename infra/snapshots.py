"""Snapshot codecs: a state as compressed JSON, through pydantic's schema of its dataclasses.

The format names the state type, the domain's revision of its meaning, and a digest of the
JSON schema pydantic derives from the dataclasses: add, remove or retype a field and the
format changes by itself, so old snapshots are folded anew rather than misread.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from functools import cached_property
from typing import Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from domain.state import RoundState
from infra.command_handler import SnapshotUnreadableError

StateT = TypeVar("StateT")


class JsonSnapshots(Generic[StateT]):
    """A `SnapshotCodec` for a tree of dataclasses; built lazily (cold starts pay on first use)."""

    def __init__(self, state_type: type[StateT], revision: int) -> None:
        self._type = state_type
        self._revision = revision

    @cached_property
    def _adapter(self) -> TypeAdapter[StateT]:
        return TypeAdapter(self._type)

    @cached_property
    def format(self) -> str:
        schema = json.dumps(self._adapter.json_schema(mode="serialization"), sort_keys=True)
        digest = hashlib.sha256(schema.encode()).hexdigest()[:16]
        return f"{self._type.__name__}/r{self._revision}/{digest}/json+zlib"

    def encode(self, state: StateT) -> bytes:
        return zlib.compress(self._adapter.dump_json(state), 6)

    def decode(self, data: bytes) -> StateT:
        try:
            return self._adapter.validate_json(zlib.decompress(data))
        except (zlib.error, ValidationError) as error:
            raise SnapshotUnreadableError(
                f"a {self._type.__name__} snapshot that does not decode: {type(error).__name__}"
            ) from error


def round_state_snapshots() -> JsonSnapshots[RoundState]:
    from domain.state import STATE_REVISION

    return JsonSnapshots(RoundState, STATE_REVISION)
