"""A stream's checkpoints as one DynamoDB item: every target's version, each distinct state once.

The item: pk `cp#<digest of the stream id>`, sk `stream`, and
- `rev` (N): the item's revision. The item is always written whole, on the condition that
  `rev` is still the one read, so a write computed from a read that is no longer true fails
  and is computed again;
- per target, an attribute named `<view>#<generation>`: `<version>`, or `<version> <n>` when
  the target keeps a state, that state being attribute `s<n>`;
- `s<n>` (B): a state, packed (`infra.readmodels.packing`), once however many targets keep
  it. The round-level views all keep the same sheet of a round, so it is stored once, not
  five times, and an event rewrites one small item instead of seven.

Before this layout every target had an item of its own (sk `<view>#<generation>`, `version`,
`state`). Those are still read, and moved into the stream's item by its next commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from infra.readmodels.packing import pack, unpack
from infra.readmodels.store import Checkpoint, Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

SORT: Final = "stream"
"""The sort key of a stream's checkpoint item (an old-layout item's is `<view>#<generation>`)."""
REVISION: Final = "rev"
MAX_ITEM_BYTES: Final = 390_000
"""DynamoDB's item limit is 400 KB; the keys and names take the rest."""

Item = Mapping[str, Any]


@dataclass
class StreamCheckpoints:
    """What a stream's checkpoint items held when read; brought up to date by each write."""

    partition: str
    revision: int = 0
    """0: the stream has no checkpoint item yet."""
    held: dict[Target, Checkpoint] = field(default_factory=dict)
    """The checkpoints the stream's item holds."""
    legacy: dict[Target, tuple[Checkpoint, Item]] = field(default_factory=dict)
    """Checkpoints still in old-layout items, with the item's key."""
    packed: dict[str, bytes] = field(default_factory=dict)
    """Each state held, as packed (an unchanged state is not packed again)."""

    @classmethod
    def read(cls, partition: str, items: Iterable[Item]) -> StreamCheckpoints:
        found = cls(partition)
        for item in items:
            if item["sk"]["S"] == SORT:
                found._read_item(item)
            else:  # an old-layout item: one target's checkpoint
                view, generation = item["sk"]["S"].rsplit("#", 1)
                state = item.get("state")
                checkpoint = Checkpoint(int(item["version"]["N"]), state["S"] if state else None)
                key = {"pk": item["pk"], "sk": item["sk"]}
                found.legacy[Target(view, int(generation))] = (checkpoint, key)
        # A target in both (never after a commit of this code) is where the new item says.
        for target in found.held:
            found.legacy.pop(target, None)
        return found

    def _read_item(self, item: Item) -> None:
        self.revision = int(item[REVISION]["N"])
        states = _states(item)
        texts = {ref: unpack(packed) for ref, packed in states.items()}
        self.packed = {texts[ref]: packed for ref, packed in states.items()}
        for name, value in item.items():
            if "#" not in name:  # not a target's (pk, sk, rev, states)
                continue
            view, generation = name.rsplit("#", 1)
            version, _, ref = value["S"].partition(" ")
            self.held[Target(view, int(generation))] = Checkpoint(
                int(version), texts[ref] if ref else None
            )

    def checkpoints(self) -> dict[Target, Checkpoint]:
        """Every target's checkpoint, wherever it is held."""
        found = {target: checkpoint for target, (checkpoint, _) in self.legacy.items()}
        found.update(self.held)
        return found

    def item(self, checkpoints: Mapping[Target, Checkpoint]) -> dict[str, AttributeValueTypeDef]:
        """The item holding `checkpoints`, at the next revision (states packed as needed)."""
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": self.partition},
            "sk": {"S": SORT},
            REVISION: {"N": str(self.revision + 1)},
        }
        refs: dict[str, str] = {}
        for target, checkpoint in sorted(checkpoints.items()):
            value = str(checkpoint.version)
            if checkpoint.state is not None:
                ref = refs.get(checkpoint.state)
                if ref is None:
                    ref = refs[checkpoint.state] = str(len(refs))
                    packed = self.packed.get(checkpoint.state) or pack(checkpoint.state)
                    item[f"s{ref}"] = {"B": packed}
                value += f" {ref}"
            item[f"{target.view}#{target.generation}"] = {"S": value}
        return item

    def written(self, checkpoints: Mapping[Target, Checkpoint], item: Item) -> None:
        """`item`, made of `checkpoints` by `item()`, is now the stream's item."""
        packed = _states(item)
        self.packed = {
            checkpoint.state: packed[item[f"{t.view}#{t.generation}"]["S"].split(" ")[1]]
            for t, checkpoint in checkpoints.items()
            if checkpoint.state is not None
        }
        self.revision += 1
        self.held = dict(checkpoints)
        self.legacy = {}


def states(item: Item) -> list[str]:
    """The states a checkpoint item holds, unpacked."""
    return [unpack(packed) for packed in _states(item).values()]


def _states(item: Item) -> dict[str, bytes]:
    """The packed states of an item, by their reference (`s<n>`: the `n`)."""
    return {
        name[1:]: bytes(value["B"])
        for name, value in item.items()
        if name[:1] == "s" and name[1:].isdigit()
    }


def item_size(item: Item) -> int:
    """Bytes of an item of strings, numbers and binaries, as DynamoDB counts them (near enough)."""
    size = 0
    for name, value in item.items():
        (kind, raw), *_ = value.items()
        size += len(name.encode()) + (len(raw) if kind == "B" else len(str(raw).encode()))
    return size
