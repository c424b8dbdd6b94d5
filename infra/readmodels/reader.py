"""What the queries read: each method is one GetItem or one Query of a view's active generation.

The active generation comes from the store's short-lived cache, so in the steady state a
query costs exactly the one call. Documents are returned as stored (JSON objects), but a
round's overview, pairs and plans: each is stored as the round's own document and one per
pair beside it (`infra.readmodels.views.base.RoundDocumentsView`), read with one Query of
the round's partition and put together here. The HTTP layer validates them into its
response models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from infra.readmodels.documents import DocKey, JsonObject, decode
from infra.readmodels.store import ReadModelStore, Target
from infra.readmodels.views import agencies, audit, pairs, participation, plans, refusals, rounds
from infra.readmodels.views.base import PAIR

Assemble = Callable[[JsonObject, list[JsonObject]], JsonObject]


class ReadModels:
    def __init__(self, store: ReadModelStore) -> None:
        self._store = store

    def round(self, round_id: str) -> JsonObject | None:
        return self._round_document(
            rounds.NAME, rounds.overview_key(round_id), rounds.overview_document
        )

    def rounds(self) -> list[JsonObject]:
        return [decode(text) for _, text in self._documents(rounds.NAME, rounds.SUMMARIES)]

    def pairs(self, round_id: str) -> JsonObject | None:
        return self._round_document(pairs.NAME, pairs.pairs_key(round_id), pairs.pairs_document)

    def plans(self, round_id: str) -> JsonObject | None:
        return self._round_document(plans.NAME, plans.plans_key(round_id), plans.plans_document)

    def round_events(self, round_id: str, *, after: int, limit: int) -> list[JsonObject]:
        """The audit trail from version `after + 1`, at most `limit` entries."""
        found = self._documents(
            audit.NAME,
            audit.audit_partition(round_id),
            after=audit.version_sort(after),
            limit=limit,
        )
        return [decode(text) for _, text in found]

    def agency(self, org_number: str) -> list[JsonObject]:
        """The agency's rounds, in round order (empty when it never applied)."""
        partition = agencies.agency_partition(org_number)
        return [decode(text) for _, text in self._documents(agencies.NAME, partition)]

    def participation(self) -> Iterator[JsonObject]:
        """Every participation row, page by page as the store reads them (never all at once)."""
        for _, text in self._documents(participation.NAME, participation.ROWS):
            yield decode(text)

    def refusals(
        self, round_id: str | None, *, after: str | None, limit: int
    ) -> list[tuple[str, JsonObject]]:
        """(cursor, refusal) in time order; resume a listing with the last cursor as `after`."""
        partition = refusals.ALL if round_id is None else refusals.round_partition(round_id)
        found = self._documents(refusals.NAME, partition, after=after, limit=limit)
        return [(sort, decode(text)) for sort, text in found]

    def _target(self, view: str) -> Target:
        return Target(view, self._store.active_generation(view))

    def _round_document(self, view: str, key: DocKey, assemble: Assemble) -> JsonObject | None:
        """A round's document of `view` (`key`), its pairs' put in: one Query of its partition."""
        own: JsonObject | None = None
        pair_documents: list[JsonObject] = []
        for sort, text in self._documents(view, key.partition):
            if sort == key.sort:
                own = decode(text)
            elif sort.startswith(PAIR):
                pair_documents.append(decode(text))
        return None if own is None else assemble(own, pair_documents)

    def _documents(
        self, view: str, partition: str, *, after: str | None = None, limit: int | None = None
    ) -> Iterator[tuple[str, str]]:
        return self._store.documents(self._target(view), partition, after=after, limit=limit)
