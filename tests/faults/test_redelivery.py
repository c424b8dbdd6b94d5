"""Fault 3: stream batches delivered twice and out of order (the single-fault cases, with real
stream records, are in `tests/readmodels/test_projector_function.py`; this is the whole of it).

The records are cut into batches of random sizes, and the batches come in a shuffled order,
each delivered twice in a row; what a batch's second delivery still reports failed (events
ahead of their stream) comes back as a batch of its own, later — out of order again. In the
end every event is applied exactly once, and delivering everything again, backwards and then
forwards, changes nothing.
"""

from __future__ import annotations

import random

import pytest

from tests.faults.system import Item, System, assert_exactly_once, some_events
from tests.readmodels.scenario import seed

MAX_DELIVERIES = 200


@pytest.mark.parametrize("shuffle", [7, 2026])
def test_batches_delivered_twice_and_out_of_order_apply_each_event_once(
    system: System, shuffle: int
) -> None:
    # GIVEN the scenario's events in the store, its stream records cut into batches, shuffled
    seed(system.events, some_events())
    records = system.tap.records()
    chance = random.Random(shuffle)
    batches: list[list[Item]] = []
    while len(batches) < 1 or sum(map(len, batches)) < len(records):
        start = sum(map(len, batches))
        batches.append(records[start : start + chance.randint(1, 12)])
    chance.shuffle(batches)

    # WHEN each batch is delivered twice, and what failed comes back after the others
    deliveries = 0
    held_back = 0
    while batches:
        batch = batches.pop(0)
        first = system.deliver(batch)
        second = system.deliver(batch)
        deliveries += 2
        assert second == first  # the first delivery applied all it could: nothing new now
        if second:
            held_back += len(second)
            batches.append([r for r in batch if r["dynamodb"]["SequenceNumber"] in second])
        assert deliveries < MAX_DELIVERIES, "the stream never drained"
    assert held_back > 0  # some records did come ahead of their stream

    # THEN every event was applied exactly once
    assert_exactly_once(system)
    projected = system.read_model_items()

    # WHEN everything is delivered again, backwards (all ahead of nothing: all repeats)
    assert system.deliver(records[::-1]) == []
    assert system.deliver(records) == []

    # THEN not one read-model item changed
    assert system.read_model_items() == projected
