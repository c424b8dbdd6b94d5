"""No read model holds personal data: sealed fields are never copied, nor anything behind them."""

from __future__ import annotations

import boto3

from infra.eventstore import InMemoryEventStore
from infra.readmodels import VIEWS, InMemoryReadModelStore, Target, checkpoint_item
from infra.readmodels.dynamodb import stored_texts
from infra.readmodels.rebuild import KnownStreams, Rebuilder
from tests.readmodels.published import published_scenario
from tests.readmodels.scenario import scenario, seed
from tests.support.aws import REGION

# What sealed data looks like, whatever the subject: its id prefix, its field names.
SEALED_MARKERS = ("subj-", "ciphertext", "AES-256-GCM", "subject_id")


def leaks(texts: list[str]) -> list[str]:
    found = [value for value in scenario().personal if any(value in text for text in texts)]
    found += [marker for marker in SEALED_MARKERS if any(marker in text for text in texts)]
    return sorted(found)


def test_no_item_the_projector_stored_holds_personal_data() -> None:
    # GIVEN every scenario event projected from its real stream record into DynamoDB
    with published_scenario() as published:
        client = boto3.client("dynamodb", region_name=REGION)
        items = client.scan(TableName=published.tables["ReadModelTable"])["Items"]
    # THEN no stored item (documents, checkpoints with their states, unpacked) holds any of it
    texts = [text for item in items for text in stored_texts(item)]
    assert len(items) > 80
    assert leaks(texts) == []
    # (and the scan does see what the events hold: an agency name, say, in a packed state)
    states = [text for item in items for text in checkpoint_item.states(item)]
    assert any("Länsstyrelsen i Stockholms län" in text for text in states)
    assert any("Länsstyrelsen i Stockholms län" in text for text in texts)


def test_a_rebuilt_generation_holds_no_personal_data_either() -> None:
    events = InMemoryEventStore()
    seed(events, scenario().events)
    store = InMemoryReadModelStore()
    rebuilder = Rebuilder(
        list(VIEWS.values()), store, KnownStreams(events, scenario().stream_ids())
    )
    started = rebuilder.start()
    rebuilder.replay(started.generations)
    documents = [
        text
        for name, generation in started.generations.items()
        for _, text in store.items(Target(name, generation))
    ]
    states = [
        checkpoint.state or ""
        for stream_id in scenario().stream_ids()
        for checkpoint in store.checkpoints(stream_id).values()
    ]
    assert leaks(documents + states) == []
    assert len(documents) > 50
