"""The in-memory read-model store: for tests, the bench and the local stack; same semantics."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from infra.readmodels.documents import DocKey
from infra.readmodels.store import (
    Checkpoint,
    Checkpoints,
    Commit,
    GenerationChangedError,
    Generations,
    Target,
    check_commit,
    check_expected,
)


class InMemoryReadModelStore:
    """Keeps documents as JSON text, as DynamoDB does, so nothing is shared by reference."""

    def __init__(self) -> None:
        self._documents: dict[Target, dict[str, dict[str, str]]] = {}
        self._checkpoints: dict[str, dict[Target, Checkpoint]] = {}
        self._generations: dict[str, Generations] = {}
        self._lock = threading.Lock()

    def checkpoints(self, stream_id: str) -> Checkpoints:
        with self._lock:
            return Checkpoints(self._checkpoints.get(stream_id))

    def commit(self, commits: Sequence[Commit]) -> None:
        for commit in commits:
            check_commit(commit)
        for commit in commits:
            with self._lock:
                stream = self._checkpoints.setdefault(commit.stream_id, {})
                check_expected(commit, stream.get(commit.target))
                stream[commit.target] = commit.checkpoint
                documents = self._documents.setdefault(commit.target, {})
                for (partition_key, sort), text in commit.writes.items():
                    partition = documents.get(partition_key)
                    if partition is None:
                        partition = documents[partition_key] = {}
                    if text is None:
                        partition.pop(sort, None)
                    else:
                        partition[sort] = text

    def generations(self) -> dict[str, Generations]:
        with self._lock:
            return dict(self._generations)

    def active_generation(self, view: str) -> int:
        with self._lock:
            return self._generations.get(view, Generations()).active

    def start_generation(self, view: str) -> tuple[int, int | None]:
        with self._lock:
            current = self._generations.get(view, Generations())
            generation = max(current.active, current.building or 0) + 1
            self._generations[view] = Generations(current.active, generation)
            return generation, current.building

    def switch_generation(self, view: str, generation: int) -> int:
        with self._lock:
            current = self._generations.get(view, Generations())
            if current.building != generation:
                raise GenerationChangedError(
                    f"{view}: generation {generation} is not the one building"
                )
            self._generations[view] = Generations(generation)
            return current.active

    def drop_generation(self, view: str, generation: int) -> int:
        target = Target(view, generation)
        with self._lock:
            current = self._generations.get(view, Generations())
            if generation in {current.active, current.building}:
                raise ValueError(f"{view}: generation {generation} is in use")
            dropped = sum(len(p) for p in self._documents.pop(target, {}).values())
            for stream in self._checkpoints.values():
                dropped += stream.pop(target, None) is not None
            return dropped

    def document(self, target: Target, key: DocKey) -> str | None:
        with self._lock:
            return self._documents.get(target, {}).get(key.partition, {}).get(key.sort)

    def documents(
        self, target: Target, partition: str, *, after: str | None = None, limit: int | None = None
    ) -> Iterator[tuple[str, str]]:
        with self._lock:
            found = sorted(self._documents.get(target, {}).get(partition, {}).items())
        if after is not None:
            found = [(sort, text) for sort, text in found if sort > after]
        return iter(found if limit is None else found[:limit])

    def items(self, target: Target) -> Iterator[tuple[DocKey, str]]:
        with self._lock:
            found = [
                (DocKey(partition, sort), text)
                for partition, documents in self._documents.get(target, {}).items()
                for sort, text in documents.items()
            ]
        return iter(found)
