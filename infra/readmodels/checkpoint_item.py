"""A stream's checkpoints in DynamoDB: one item of every target's version, and its states.

The checkpoint item: pk `cp#<digest of the stream id>`, sk `stream`, and
- `rev` (N): the item's revision. The item is always written whole, on the condition that
  `rev` is still the one read, so a write computed from a read that is no longer true fails
  and is computed again;
- per target, an attribute named `<view>#<generation>`: `<version>`, or `<version> <ref>`
  when the target keeps a state, held once under `<ref>` however many targets keep it (the
  five round views keep the same sheet of a round);
- a small state, whole: `s<ref>` (B), packed (`infra.readmodels.packing`);
- a large state, in parts, so that an event writes only what it changed, not the whole
  round: `h<ref>` (B) its *header*, packed: the state with its collections emptied (a
  collection: a member whose value is an object of objects, as a sheet's agencies and
  pairs), `k<ref>` (S) the names of those collections (a JSON list), and one item per entry
  of them, pk the stream's, sk `stream#<ref>#<n>`, `v` (S) the JSON `[collection, key,
  entry]`. `n` orders the entries of a state (as its objects order their keys); an entry
  that changed is written in place, a new one gets the next `n`.

The parts sort after the checkpoint item, so the one Query that reads a stream's
checkpoints reads the item first: a part read after it is as the item says or newer, and
newer means the item has moved since, so a commit computed from that read fails its
condition and is computed again. Parts no state of the item refers to (its state dropped,
or written by a commit that then failed) are deleted after the next commit.

Before this layout every target had an item of its own (sk `<view>#<generation>`, `version`,
`state`); and states were always whole in the item (`s<ref>`). Both are still read, and the
next commit writes them in this layout.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

from pydantic_core import to_json

from infra.readmodels.documents import JsonObject, decode, encode
from infra.readmodels.packing import pack, unpack
from infra.readmodels.store import Checkpoint, ReadModelError, Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_T = TypeVar("_T")
SORT: Final = "stream"
"""The sort key of a stream's checkpoint item (an old-layout item's is `<view>#<generation>`)."""
PARTS: Final = "stream#"
"""The sort keys of a stream's state parts begin so: they sort after its checkpoint item."""
REVISION: Final = "rev"
MAX_ITEM_BYTES: Final = 390_000
"""DynamoDB's item limit is 400 KB; the keys and names take the rest."""
SPLIT_ABOVE: Final = 8_000
"""A state longer than this (characters of JSON) is kept in parts, if it has collections: a
20-agency sheet (about 7 KB) packs whole into one small item, which an event rewrites for
the price of one of its parts."""
JOIN_BELOW: Final = 4_000
"""A state kept in parts is kept whole again only once it is shorter than this."""

_ABSENT: Final = object()
Item = Mapping[str, Any]
Part = tuple[str, str]
"""An entry of a state's collection: (collection, key)."""


@dataclass
class Stored:
    """One state as the stream's items hold it, under its reference."""

    text: str
    packed: bytes | None = None
    """The state packed whole (`s<ref>`), when it is kept whole."""
    header: str | None = None
    """The state with its collections emptied, when it is kept in parts."""
    packed_header: bytes | None = None
    collections: tuple[str, ...] = ()
    parts: dict[Part, tuple[int, str]] = field(default_factory=dict)
    """Each entry's number and stored text (`[collection, key, entry]`)."""
    entries: dict[Part, Any] = field(default_factory=dict)
    """Each entry, decoded: an entry equal to its former self is not encoded again."""

    @property
    def split(self) -> bool:
        return self.header is not None


@dataclass
class Layout:
    """What one commit writes for a stream's checkpoints: the item and the parts around it."""

    item: dict[str, AttributeValueTypeDef]
    stored: dict[str, Stored]
    puts: dict[str, str] = field(default_factory=dict)
    """Parts to put in the commit's transaction, by sort key: text."""
    deletes: set[str] = field(default_factory=set)
    """Parts to delete in the transaction (by sort key)."""
    before: dict[str, str] = field(default_factory=dict)
    """Parts of new references, put before the transaction (too many to go in it)."""
    after: set[str] = field(default_factory=set)
    """Parts no state refers to once the transaction is in: deleted after it."""

    @property
    def actions(self) -> int:
        return len(self.puts) + len(self.deletes)


@dataclass
class StreamCheckpoints:
    """What a stream's checkpoint items held when read; brought up to date by each write."""

    partition: str
    revision: int = 0
    """0: the stream has no checkpoint item yet."""
    held: dict[Target, Checkpoint] = field(default_factory=dict)
    """The checkpoints the stream's item holds."""
    refs: dict[Target, str] = field(default_factory=dict)
    """The reference of the state each target of the item keeps."""
    stored: dict[str, Stored] = field(default_factory=dict)
    """Each state the item holds, by reference."""
    legacy: dict[Target, tuple[Checkpoint, Item]] = field(default_factory=dict)
    """Checkpoints still in old-layout items, with the item's key."""
    orphans: set[str] = field(default_factory=set)
    """Sort keys of parts no state of the item refers to."""

    @classmethod
    def read(cls, partition: str, items: Iterable[Item]) -> StreamCheckpoints:
        found = cls(partition)
        parts: dict[str, dict[int, tuple[str, str]]] = {}  # ref -> n -> (sort key, text)
        for item in items:
            sort = item["sk"]["S"]
            if sort == SORT:
                found._read_item(item)
            elif sort.startswith(PARTS):
                ref, _, number = sort[len(PARTS) :].rpartition("#")
                parts.setdefault(ref, {})[int(number)] = (sort, item["v"]["S"])
            else:  # an old-layout item: one target's checkpoint
                view, generation = sort.rsplit("#", 1)
                state = item.get("state")
                checkpoint = Checkpoint(int(item["version"]["N"]), state["S"] if state else None)
                key = {"pk": item["pk"], "sk": item["sk"]}
                found.legacy[Target(view, int(generation))] = (checkpoint, key)
        for ref, stored in found.stored.items():
            if stored.split:
                stored.text = _assemble(stored, parts.pop(ref, {}))
        found.orphans = {sort for held in parts.values() for sort, _ in held.values()}
        for target, ref in found.refs.items():
            found.held[target] = Checkpoint(found.held[target].version, found.stored[ref].text)
        # A target in both (never after a commit of this code) is where the new item says.
        for target in found.held:
            found.legacy.pop(target, None)
        return found

    def _read_item(self, item: Item) -> None:
        self.revision = int(item[REVISION]["N"])
        for name, value in item.items():
            if "#" in name:  # a target's checkpoint
                view, generation = name.rsplit("#", 1)
                version, _, ref = value["S"].partition(" ")
                target = Target(view, int(generation))
                self.held[target] = Checkpoint(int(version))
                if ref:
                    self.refs[target] = ref
            elif name[:1] == "s" and _is_ref(name[1:]):  # a state, whole
                packed = bytes(value["B"])
                self.stored[name[1:]] = Stored(unpack(packed), packed=packed)
            elif name[:1] == "h" and _is_ref(name[1:]):  # a header: its parts are read after
                packed = bytes(value["B"])
                collections = tuple(decode_list(item["k" + name[1:]]["S"]))
                self.stored[name[1:]] = Stored(
                    "", header=unpack(packed), packed_header=packed, collections=collections
                )

    def copy(self) -> StreamCheckpoints:
        """A record of the same read of its own (each commit brings its record up to date)."""
        return StreamCheckpoints(
            self.partition,
            self.revision,
            dict(self.held),
            dict(self.refs),
            dict(self.stored),
            dict(self.legacy),
            set(self.orphans),
        )

    def checkpoints(self) -> dict[Target, Checkpoint]:
        """Every target's checkpoint, wherever it is held."""
        found = {target: checkpoint for target, (checkpoint, _) in self.legacy.items()}
        found.update(self.held)
        return found

    def layout(self, checkpoints: Mapping[Target, Checkpoint], room: int) -> Layout:
        """The item holding `checkpoints`, at the next revision, and the parts to write.

        A state that changed is written where it was (only its changed parts) when no other
        target still keeps it as it was, else under a new reference. At most `room` parts
        go in the transaction; a state needing more is written whole under a new reference
        first, its old parts deleted after.
        """
        layout = self._layout(checkpoints, room, spill=False)
        if layout.actions > room:
            layout = self._layout(checkpoints, room, spill=True)
        return layout

    def _layout(self, checkpoints: Mapping[Target, Checkpoint], room: int, spill: bool) -> Layout:
        by_text: dict[str, list[Target]] = {}
        for target, checkpoint in sorted(checkpoints.items()):
            if checkpoint.state is not None:
                by_text.setdefault(checkpoint.state, []).append(target)
        kept = {stored.text: ref for ref, stored in self.stored.items()}
        refs: dict[str, str] = {text: kept[text] for text in by_text if text in kept}
        taken = set(refs.values())
        for text, targets in by_text.items():
            if text in refs:
                continue
            for target in targets:  # where the state it changed from was, if no one keeps that
                ref = self.refs.get(target)
                if ref is not None and ref not in taken and self.stored[ref].text not in by_text:
                    refs[text] = ref
                    taken.add(ref)
                    break
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": self.partition},
            "sk": {"S": SORT},
            REVISION: {"N": str(self.revision + 1)},
        }
        layout = Layout(item, {})
        # Numbers of parts no state refers to: never given again under the same reference
        # (a writer may be deleting them after its commit), nor is such a reference.
        floors: dict[str, int] = {}
        for sort in self.orphans:
            ref, number = _ref_of(sort), int(sort.rpartition("#")[2])
            floors[ref] = max(floors.get(ref, -1), number)
        used = set(self.stored) | set(floors)
        for text, targets in by_text.items():
            ref = refs.get(text)
            if ref is None:
                ref = _fresh(used)
                used.add(ref)
            previous = self.stored.get(ref)
            stored = _stored(text, previous, floors.get(ref, -1))
            if stored.split and spill and stored is not previous:
                # Too many parts for the transaction: whole under a new reference, before it.
                ref = "x" + secrets.token_hex(4)
                stored = _stored(text, None, -1)
                layout.before.update(_part_writes(ref, None, stored)[0])
            elif stored is not previous:
                puts, deletes = _part_writes(ref, previous, stored)
                layout.puts.update(puts)
                layout.deletes |= deletes
            layout.stored[ref] = stored
            if stored.split:
                item[f"h{ref}"] = {"B": _required(stored.packed_header, "a split state's header")}
                item[f"k{ref}"] = {"S": encode_list(stored.collections)}
            else:
                item[f"s{ref}"] = {"B": _required(stored.packed, "a whole state's packing")}
            for target in targets:
                self._target(item, target, checkpoints[target], ref)
        for target, checkpoint in sorted(checkpoints.items()):
            if checkpoint.state is None:
                self._target(item, target, checkpoint, None)
        for ref, stored in self.stored.items():
            now = layout.stored.get(ref)
            if stored.split and (now is None or not now.split):  # its parts are no one's now
                layout.after |= {_sort(ref, n) for n, _ in stored.parts.values()}
        layout.after |= self.orphans
        layout.after -= layout.puts.keys()
        return layout

    @staticmethod
    def _target(
        item: dict[str, AttributeValueTypeDef],
        target: Target,
        checkpoint: Checkpoint,
        ref: str | None,
    ) -> None:
        value = str(checkpoint.version) if ref is None else f"{checkpoint.version} {ref}"
        item[f"{target.view}#{target.generation}"] = {"S": value}

    def written(self, checkpoints: Mapping[Target, Checkpoint], layout: Layout) -> None:
        """`layout`, made of `checkpoints` by `layout()`, is now the stream's item."""
        self.revision += 1
        self.held = dict(checkpoints)
        by_text = {stored.text: ref for ref, stored in layout.stored.items()}
        self.refs = {
            target: by_text[checkpoint.state]
            for target, checkpoint in checkpoints.items()
            if checkpoint.state is not None
        }
        self.stored = layout.stored
        self.legacy = {}
        self.orphans = set()


def _stored(text: str, previous: Stored | None, floor: int) -> Stored:
    """How `text` is kept: whole or in parts (as `previous` kept it, unless it outgrew that),
    a new part numbered above `floor` and every part `previous` has."""
    if previous is not None and previous.text == text:
        return previous
    split = len(text) >= JOIN_BELOW if previous is not None and previous.split else None
    if split is None:
        split = len(text) > SPLIT_ABOVE
    state = decode(text) if split else None
    collections = tuple(
        name
        for name, value in (state or {}).items()
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values())
    )
    if state is None or not collections:
        return Stored(text, packed=pack(text))
    header: JsonObject = {name: {} if name in collections else v for name, v in state.items()}
    header_text = encode(header)
    packed_header = (
        previous.packed_header
        if previous is not None and previous.header == header_text
        else pack(header_text)
    )
    old = previous.parts if previous is not None else {}
    old_entries = previous.entries if previous is not None else {}
    parts: dict[Part, tuple[int, str]] = {}
    entries: dict[Part, Any] = {}
    last = -1
    following = max(floor, max((n for n, _ in old.values()), default=-1)) + 1
    for name in collections:
        for key, entry in state[name].items():
            part = (name, key)
            held = old.get(part)
            if held is not None and held[0] > last:
                number = held[0]
            else:  # new, or out of the order kept: next in line
                number, following = following, following + 1
            if held is not None and old_entries.get(part, _ABSENT) == entry:
                parts[part] = (number, held[1])
            else:
                parts[part] = (number, encode_list([name, key, entry]))
            entries[part] = entry
            last = number
    return Stored(
        text,
        header=header_text,
        packed_header=packed_header,
        collections=collections,
        parts=parts,
        entries=entries,
    )


def _part_writes(
    ref: str, previous: Stored | None, stored: Stored
) -> tuple[dict[str, str], set[str]]:
    """The part puts and deletes that turn `previous`'s parts into `stored`'s, under `ref`
    (a state kept whole now leaves its parts to be deleted after the commit)."""
    if not stored.split:
        return {}, set()
    old = {
        _sort(ref, n): text for n, text in (previous.parts.values() if previous is not None else ())
    }
    new = {_sort(ref, n): text for n, text in stored.parts.values()}
    puts = {sort: text for sort, text in new.items() if old.get(sort) != text}
    return puts, old.keys() - new.keys()


def _assemble(stored: Stored, parts: Mapping[int, tuple[str, str]]) -> str:
    """A state kept in parts, whole again: its header, each collection refilled in order."""
    state = decode(_required(stored.header, "a split state's header"))
    for number in sorted(parts):
        name, key, entry = decode_list(parts[number][1])
        state[name][key] = entry
        stored.parts[(name, key)] = (number, parts[number][1])
        stored.entries[(name, key)] = entry  # the state is encoded, then dropped
    return encode(state)


def _sort(ref: str, number: int) -> str:
    return f"{PARTS}{ref}#{number}"


def _ref_of(sort: str) -> str:
    return sort[len(PARTS) :].rpartition("#")[0]


def _fresh(used: set[str]) -> str:
    n = 0
    while str(n) in used:
        n += 1
    return str(n)


def encode_list(value: list[Any] | tuple[Any, ...]) -> str:
    """Compact JSON of a list, as `documents.encode` writes an object."""
    return to_json(list(value)).decode()


def decode_list(text: str) -> list[Any]:
    found = json.loads(text)
    if not isinstance(found, list):
        raise TypeError(f"a JSON list, got {type(found).__name__}")
    return found


def states(item: Item) -> list[str]:
    """The states (or, of a state in parts, its header) a checkpoint item holds, unpacked."""
    return [
        unpack(bytes(value["B"]))
        for name, value in item.items()
        if name[:1] in ("s", "h") and _is_ref(name[1:])
    ]


def _is_ref(name: str) -> bool:
    """A state's reference: a number, or `x` and hex digits (one written before its commit)."""
    return name.isdigit() or (name[:1] == "x" and len(name) > 1 and name[1:].isalnum())


def item_size(item: Item) -> int:
    """Bytes of an item of strings, numbers and binaries, as DynamoDB counts them (near enough)."""
    size = 0
    for name, value in item.items():
        (kind, raw), *_ = value.items()
        size += len(name.encode()) + (len(raw) if kind == "B" else len(str(raw).encode()))
    return size


def _required(value: _T | None, what: str) -> _T:
    """`value`, which the state's layout promises; a missing one is a corrupt checkpoint."""
    if value is None:
        raise ReadModelError(f"checkpoint item without {what}")
    return value
