"""The contract every read-model store passes: in memory and on DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from infra.readmodels import (
    Checkpoint,
    CheckpointMovedError,
    Commit,
    CommitTooLargeError,
    DocKey,
    GenerationChangedError,
    Generations,
    ReadModelStore,
    Target,
)

STREAM = "round-2015-3"
ROUNDS = Target("rounds", 1)


def commit(
    target: Target = ROUNDS,
    *,
    expected: int = 0,
    version: int = 1,
    writes: Mapping[DocKey, str | None] | None = None,
    stream_id: str = STREAM,
    state: str | None = '{"n":1}',
) -> Commit:
    return Commit(target, stream_id, expected, Checkpoint(version, state), writes or {})


def key(sort: str, partition: str = "p") -> DocKey:
    return DocKey(partition, sort)


# Commits and checkpoints


def test_a_commit_writes_its_documents_and_checkpoint_together(read_store: ReadModelStore) -> None:
    # WHEN a first commit of a stream writes two documents
    read_store.commit([commit(writes={key("a"): '{"a":1}', key("b"): '{"b":2}'})])
    # THEN both are there, and the checkpoint holds the version and the state
    assert read_store.document(ROUNDS, key("a")) == '{"a":1}'
    assert read_store.document(ROUNDS, key("b")) == '{"b":2}'
    assert read_store.checkpoints(STREAM) == {ROUNDS: Checkpoint(1, '{"n":1}')}


def test_a_commit_from_a_checkpoint_that_moved_writes_nothing(read_store: ReadModelStore) -> None:
    # GIVEN a stream already at version 1
    read_store.commit([commit(writes={key("a"): '"first"'})])
    # WHEN another commit also computed from version 0 comes in
    with pytest.raises(CheckpointMovedError):
        read_store.commit([commit(writes={key("a"): '"second"', key("c"): '"c"'})])
    # THEN nothing of it was written
    assert read_store.document(ROUNDS, key("a")) == '"first"'
    assert read_store.document(ROUNDS, key("c")) is None
    assert read_store.checkpoints(STREAM)[ROUNDS].version == 1


def test_a_commit_expecting_a_version_not_yet_reached_is_refused(
    read_store: ReadModelStore,
) -> None:
    with pytest.raises(CheckpointMovedError):
        read_store.commit([commit(expected=1, version=2)])
    assert read_store.checkpoints(STREAM) == {}


def test_consecutive_commits_advance_the_checkpoint_and_none_deletes(
    read_store: ReadModelStore,
) -> None:
    read_store.commit([commit(writes={key("a"): '"a"'})])
    read_store.commit([commit(expected=1, version=2, writes={key("a"): None}, state=None)])
    assert read_store.document(ROUNDS, key("a")) is None
    assert read_store.checkpoints(STREAM) == {ROUNDS: Checkpoint(2, None)}


def test_checkpoints_are_per_stream_and_per_target(read_store: ReadModelStore) -> None:
    # GIVEN commits of two targets to one stream, and of one target to another stream
    audit = Target("audit", 1)
    read_store.commit([commit(), commit(audit, version=1, state=None)])
    read_store.commit([commit(stream_id="intake-refusals")])
    # THEN each stream's checkpoints are read together, and nothing leaks across
    assert read_store.checkpoints(STREAM) == {
        ROUNDS: Checkpoint(1, '{"n":1}'),
        audit: Checkpoint(1, None),
    }
    assert set(read_store.checkpoints("intake-refusals")) == {ROUNDS}
    assert read_store.checkpoints("round-none") == {}


def test_documents_are_isolated_by_view_and_generation(read_store: ReadModelStore) -> None:
    read_store.commit([commit(writes={key("a"): '"rounds 1"'})])
    read_store.commit([commit(Target("rounds", 2), writes={key("a"): '"rounds 2"'})])
    assert read_store.document(ROUNDS, key("a")) == '"rounds 1"'
    assert read_store.document(Target("rounds", 2), key("a")) == '"rounds 2"'
    assert read_store.document(Target("pairs", 1), key("a")) is None


def test_a_commit_over_one_transaction_is_refused_before_anything_is_written(
    read_store: ReadModelStore,
) -> None:
    too_many = {key(f"{n:03d}"): "1" for n in range(100)}  # plus the checkpoint: 101 items
    with pytest.raises(CommitTooLargeError):
        read_store.commit(
            [commit(writes={key("first"): "1"}, stream_id="s"), commit(writes=too_many)]
        )
    huge = {key("a"): '"' + "x" * 400_000 + '"'}
    with pytest.raises(CommitTooLargeError):
        read_store.commit([commit(writes=huge)])
    assert read_store.checkpoints("s") == read_store.checkpoints(STREAM) == {}


def test_many_commits_at_once_are_all_written(read_store: ReadModelStore) -> None:
    # WHEN more documents than one transaction holds are committed by many targets at once
    commits = [
        commit(Target(f"view{n}", 1), writes={key(f"{d:02d}"): str(d) for d in range(30)})
        for n in range(5)
    ]
    read_store.commit(commits)
    # THEN every one of them is written
    for n in range(5):
        assert len(list(read_store.items(Target(f"view{n}", 1)))) == 30
        assert read_store.checkpoints(STREAM)[Target(f"view{n}", 1)].version == 1


# Reading documents


def test_a_partition_reads_in_sort_order_after_a_cursor_up_to_a_limit(
    read_store: ReadModelStore,
) -> None:
    # GIVEN ten documents in a partition (more than one page) and one in another
    writes: dict[DocKey, str | None] = {key(f"{n:02d}"): str(n) for n in reversed(range(10))}
    writes[key("00", partition="other")] = "other"
    read_store.commit([commit(writes=writes)])
    # THEN the partition reads whole, in order; after a cursor; and up to a limit
    assert [sort for sort, _ in read_store.documents(ROUNDS, "p")] == [
        f"{n:02d}" for n in range(10)
    ]
    assert [text for _, text in read_store.documents(ROUNDS, "p", after="06")] == ["7", "8", "9"]
    assert [text for _, text in read_store.documents(ROUNDS, "p", after="01", limit=4)] == [
        "2",
        "3",
        "4",
        "5",
    ]
    assert list(read_store.documents(ROUNDS, "missing")) == []
    assert sorted(read_store.items(ROUNDS)) == sorted(
        (k, text) for k, text in writes.items() if text is not None
    )


# Generations


def test_a_view_never_rebuilt_is_read_at_its_first_generation(read_store: ReadModelStore) -> None:
    assert read_store.active_generation("rounds") == 1
    assert read_store.generations() == {}


def test_a_new_generation_builds_beside_the_active_one_until_switched(
    read_store: ReadModelStore,
) -> None:
    # WHEN a rebuild starts a generation
    generation, replaced = read_store.start_generation("rounds")
    # THEN it builds beside the active one, which readers still read
    assert (generation, replaced) == (2, None)
    assert read_store.generations() == {"rounds": Generations(active=1, building=2)}
    assert read_store.active_generation("rounds") == 1
    # WHEN it is switched to
    assert read_store.switch_generation("rounds", 2) == 1
    # THEN readers read it and nothing is building
    assert read_store.generations() == {"rounds": Generations(active=2)}
    assert read_store.active_generation("rounds") == 2


def test_starting_again_replaces_a_building_generation_left_behind(
    read_store: ReadModelStore,
) -> None:
    # GIVEN a rebuild that started and never finished
    read_store.start_generation("rounds")
    # WHEN another starts
    generation, replaced = read_store.start_generation("rounds")
    # THEN it takes a fresh generation and names the abandoned one
    assert (generation, replaced) == (3, 2)
    # AND the abandoned rebuild can no longer switch readers to its generation
    with pytest.raises(GenerationChangedError):
        read_store.switch_generation("rounds", 2)
    assert read_store.generations()["rounds"] == Generations(active=1, building=3)


def test_dropping_a_generation_deletes_its_documents_and_checkpoints_only(
    read_store: ReadModelStore,
) -> None:
    # GIVEN generation 1 and 2 of a view with documents and checkpoints, and another view
    new = Target("rounds", 2)
    read_store.commit([commit(writes={key("a"): "1", key("b", "q"): "1"}), commit(new)])
    read_store.commit([commit(new, expected=1, version=2, writes={key("a"): "2"})])
    read_store.commit([commit(Target("pairs", 1), writes={key("a"): "p"})])
    read_store.start_generation("rounds")
    read_store.switch_generation("rounds", 2)
    # WHEN generation 1 is dropped
    dropped = read_store.drop_generation("rounds", 1)
    # THEN its two documents and one checkpoint are gone; the rest stays
    assert dropped == 3
    assert list(read_store.items(ROUNDS)) == []
    assert set(read_store.checkpoints(STREAM)) == {new, Target("pairs", 1)}
    assert read_store.document(new, key("a")) == "2"
    assert read_store.document(Target("pairs", 1), key("a")) == "p"


def test_a_generation_in_use_cannot_be_dropped(read_store: ReadModelStore) -> None:
    read_store.start_generation("rounds")
    for in_use in (1, 2):
        with pytest.raises(ValueError, match="in use"):
            read_store.drop_generation("rounds", in_use)


def test_a_large_document_reads_back_exactly_as_written(read_store: ReadModelStore) -> None:
    # GIVEN a document of several kilobytes, with non-ASCII text (stores may pack it)
    pairs = ",".join(
        f'{{"pair_id":"pair-{n}","agency":"Länsstyrelsen i Stockholms län"}}' for n in range(80)
    )
    large = f'{{"round_id":"2015-3","pairs":[{pairs}]}}'
    read_store.commit([commit(writes={key("pairs"): large, key("small"): '"s"'})])
    # THEN every way of reading gives the text back as written
    assert read_store.document(ROUNDS, key("pairs")) == large
    assert list(read_store.documents(ROUNDS, "p")) == [("pairs", large), ("small", '"s"')]
    assert sorted(read_store.items(ROUNDS)) == [(key("pairs"), large), (key("small"), '"s"')]
