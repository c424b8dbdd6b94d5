"""Many applications racing into one round, and a delivery that loses every race.

The burst runs the intake's own path below the HTTP resolver (`deliveries.record_application`:
seal the people, then the production command handler) on real threads: Powertools keeps the
current request in class-level state, so its resolvers cannot serve two requests in one
process at once (on Lambda each container serves one). Every racer's first read meets the
others' at a barrier, so the first wave has one winner and everyone else retries; a command
that exhausts its attempts is what the route answers 503, and the test then redelivers it,
as Typeform does after `Retry-After`.

The forced case goes through the real intake function: a rival appends to the round before
each of the delivery's appends, more times than the handler tries, and the answer is 503 with
`Retry-After`; the redelivery is then recorded, exactly once.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import partial

import pytest

from domain import ApplyForRound
from domain.org_number import luhn_check_digit
from domain.streams import round_stream_id
from events import AgencyApplied
from functions.common import bootstrap
from functions.intake import deliveries, payloads
from infra.command_handler import ConcurrencyRetriesExhaustedError
from infra.eventstore import EventStore, LoadedStream, NewEvent, RecordedEvent, Snapshot
from tests.concurrency.races import (
    RacingStore,
    Retries,
    assert_contiguous,
    install,
    retry_log_lines,
    run_in_threads,
)
from tests.domain.given import DIGITALISERING, sealed
from tests.functions.http import deliver_typeform, typeform_payload
from tests.functions.rounds import ROUND_ID, Rounds
from tests.support.new_events import new_event

STREAM = round_stream_id(ROUND_ID)
APPLICATIONS = 40
DUPLICATED = 8  # deliveries sent twice at once
MAX_ATTEMPTS = 4  # the production handler's
REDELIVERIES = 30  # how often the test's sender tries a delivery answered 503


def org_number(n: int) -> str:
    """A distinct, valid organisation number (third digit 2, Luhn check digit) per n."""
    first_nine = f"55{2}{n:06d}"
    return f"{first_nine[:6]}-{first_nine[6:]}{luhn_check_digit(first_nine)}"


def delivery_body(n: int) -> bytes:
    payload = typeform_payload(
        f"tf-burst-{n:03d}", org_number=org_number(n), agency_name=f"Myndighet {n}"
    )
    return json.dumps(payload).encode()


class Sender:
    """One delivery sent as the route would treat it; a 503 is redelivered after a pause."""

    def __init__(self, store: RacingStore, retries: Retries) -> None:
        self.store = store
        self.retries = retries
        self.answers: dict[str, list[str]] = defaultdict(list)
        self.busy: Counter[str] = Counter()
        self.first_sends: list[str] = []  # the label of each racing delivery's first send
        self._lock = threading.Lock()

    def send(self, body: bytes, *, race: bool) -> str:
        delivery, form = payloads.parse_typeform(body)
        delivery_id = delivery.event_id
        if race:
            self.store.arm()
        for sent in range(1, REDELIVERIES + 1):
            label = f"{delivery_id}#{threading.get_ident()}#{sent}"
            self.retries.working_on(label)
            if race and sent == 1:
                with self._lock:
                    self.first_sends.append(label)
            try:
                outcome = deliveries.record_application(
                    form, delivery_id=delivery_id, source="typeform", received_at=datetime.now(UTC)
                )
            except ConcurrencyRetriesExhaustedError:
                with self._lock:
                    self.busy[delivery_id] += 1  # the route's 503 + Retry-After
                time.sleep(random.uniform(0.005, 0.05))  # jitter
                continue
            with self._lock:
                self.answers[delivery_id].append(outcome.status)
            return outcome.status
        raise AssertionError(f"{delivery_id} was still busy after {REDELIVERIES} deliveries")


def test_a_burst_of_applications_records_each_once_whatever_the_races(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a round open for applications, its first reads forced to meet
    rounds.open()
    before = len(rounds.events())
    bodies = [delivery_body(n) for n in range(APPLICATIONS)]
    sends = [(body, True) for body in bodies] + [(body, True) for body in bodies[:DUPLICATED]]
    store = RacingStore(bootstrap.event_store(), racers=len(sends))
    retries = Retries()
    install(monkeypatch, store, retries)
    bootstrap.vault()  # built once, before the threads
    sender = Sender(store, retries)

    # WHEN 40 distinct applications and 8 copies of some of them arrive at once
    random.Random(7).shuffle(sends)
    results = run_in_threads([partial(sender.send, b, race=r) for b, r in sends])
    # AND every duplicated delivery arrives once more, afterwards
    late = [sender.send(body, race=False) for body in bodies[:DUPLICATED]]

    # THEN no sender failed, and all 48 met before anyone appended
    assert not [r for r in results if isinstance(r, Exception)], results
    assert store.met == len(sends)
    # AND exactly the 40 applications are in the stream, each once, versions contiguous
    recorded = assert_contiguous(bootstrap.event_store(), STREAM)
    applied = [r.event for r in recorded if isinstance(r.event, AgencyApplied)]
    assert len(recorded) == before + APPLICATIONS
    assert sorted(a.delivery_id or "" for a in applied) == sorted(
        f"tf-burst-{n:03d}" for n in range(APPLICATIONS)
    )
    assert len({a.org_number for a in applied}) == APPLICATIONS
    # AND each delivery was answered `recorded` exactly once: one sent once, only that; one
    # sent twice at once and again afterwards, `duplicate` for both of its other copies
    assert {delivery_id: sorted(answers) for delivery_id, answers in sender.answers.items()} == {
        f"tf-burst-{n:03d}": ["duplicate", "duplicate", "recorded"]
        if n < DUPLICATED
        else ["recorded"]
        for n in range(APPLICATIONS)
    }
    assert late == ["duplicate"] * DUPLICATED
    # AND the first wave had exactly one winner: each of the other 47 racers lost its first
    # append on the version all 48 read, exactly once, and retried (attempt 2)
    first_wave = [(label, r) for label, r in retries.seen if r.expected_version == before]
    lost = Counter(label for label, _ in first_wave)
    assert len(set(sender.first_sends)) == len(sender.first_sends) == len(sends)
    assert len(lost) == len(sends) - 1, f"{len(sends) - len(lost)} racers won the first wave"
    assert set(lost.values()) == {1}
    assert {r.attempt for _, r in first_wave} == {2}
    assert set(lost) < set(sender.first_sends)
    (winner,) = set(sender.first_sends) - set(lost)
    # AND the winner's application is the first event after the round opened
    first = recorded[before].event
    assert isinstance(first, AgencyApplied)
    assert first.delivery_id == winner.split("#")[0]
    # AND no command retried beyond its budget; one that ran out was answered 503, and its
    # redelivery was then recorded (or found a copy recorded) — never twice
    per_command = retries.by_label()
    assert max(per_command.values()) <= MAX_ATTEMPTS - 1
    for delivery_id in sender.busy:
        assert sender.answers[delivery_id].count("recorded") == 1
    print(
        f"\n{len(sends)} racing deliveries: {retries.total} concurrency retries, "
        f"{sum(sender.busy.values())} answered 503 and redelivered"
    )


class RivalFirst:
    """An event store where another applicant appends to the stream before each of ours."""

    def __init__(self, store: EventStore, rivals: int) -> None:
        self._store = store
        self._rivals = iter(range(rivals))
        self.appends = 0

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        self.appends += 1
        rival = next(self._rivals, None)
        if rival is not None:
            self._store.append(
                stream_id,
                self._store.last_version(stream_id),
                [new_event(rival_applied(rival), 1000 + rival)],
            )
        return self._store.append(stream_id, expected_version, events, snapshot)

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        return self._store.load(stream_id, snapshot_format)

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        return self._store.read(stream_id, after_version)

    def last_version(self, stream_id: str) -> int:
        return self._store.last_version(stream_id)


def rival_applied(n: int) -> AgencyApplied:
    return AgencyApplied(
        org_number=org_number(900 + n),
        agency_name=f"Rival {n}",
        director_general=sealed(1),
        contact=sealed(2),
        themes=(DIGITALISERING,),
        submitted_at=datetime.now(UTC),
        source="forms",
    )


def test_a_delivery_that_loses_every_race_is_503_and_its_redelivery_is_recorded_once(
    rounds: Rounds,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN an open round where a rival appends before each of the next five appends
    rounds.open()
    before = len(rounds.events())
    store = RivalFirst(bootstrap.event_store(), rivals=MAX_ATTEMPTS + 1)
    install(monkeypatch, store)
    capsys.readouterr()
    caplog.set_level("INFO")
    payload = typeform_payload("tf-busy", org_number=org_number(1))

    # WHEN Typeform delivers an application: every one of its attempts loses
    busy = deliver_typeform(payload)

    # THEN it is answered 503 with Retry-After, and nothing of it was recorded
    assert busy.status == 503, busy.body
    assert busy.headers["Content-Type"] == "application/problem+json"
    assert int(busy.headers["Retry-After"]) > 0
    assert store.appends == MAX_ATTEMPTS
    events = [r.event for r in assert_contiguous(bootstrap.event_store(), STREAM)]
    assert len(events) == before + MAX_ATTEMPTS
    assert not [e for e in events if isinstance(e, AgencyApplied) and e.delivery_id == "tf-busy"]
    # AND its three retries were counted and logged, then the exhaustion counted as busy
    out = capsys.readouterr().out
    assert '"ConcurrencyRetries":[1.0,1.0,1.0]' in out
    assert '"DeliveriesBusy":[1.0]' in out
    logged = retry_log_lines(caplog)
    assert [line["concurrency_retry"] for line in logged] == [1, 2, 3]
    assert {line["stream_id"] for line in logged} == {STREAM}

    # WHEN Typeform redelivers it (one more rival, then the stream is quiet), and again
    recorded = deliver_typeform(payload)
    again = deliver_typeform(payload)

    # THEN the redelivery is recorded after one retry, exactly once; the next is a duplicate
    assert (recorded.status, recorded.body["status"]) == (202, "recorded")
    assert (again.status, again.body["status"]) == (202, "duplicate")
    events = [r.event for r in assert_contiguous(bootstrap.event_store(), STREAM)]
    ours = [e for e in events if isinstance(e, AgencyApplied) and e.delivery_id == "tf-busy"]
    assert len(ours) == 1
    assert len(events) == before + MAX_ATTEMPTS + 1 + 1
    assert '"ConcurrencyRetries":[1.0]' in capsys.readouterr().out


def test_the_retry_count_is_on_the_result_and_reported_before_each_retry(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an open round where a rival appends before each of our next two appends
    rounds.open()
    store = RivalFirst(bootstrap.event_store(), rivals=2)
    retries = Retries()
    install(monkeypatch, store, retries)
    before = len(rounds.events())
    _, form = payloads.parse_typeform(delivery_body(5))
    command = ApplyForRound(
        round_id=form.round_id,
        org_number=form.org_number,
        agency_name=form.agency_name,
        director_general=sealed(3),
        contact=sealed(4),
        themes=form.themes,
        submitted_at=datetime.now(UTC),
        source="typeform",
        delivery_id="tf-twice-lost",
    )

    # WHEN the command is handled
    result = bootstrap.command_handler().handle(
        command, stream_id=STREAM, actor="webhook:typeform", correlation_id="tf-twice-lost"
    )

    # THEN it took three attempts, and each retry was reported with the versions it saw
    assert (result.attempts, result.retries) == (3, 2)
    assert [
        (r.stream_id, r.attempt, r.max_attempts, r.expected_version, r.actual_version)
        for _, r in retries.seen
    ] == [
        (STREAM, 2, MAX_ATTEMPTS, before, before + 1),
        (STREAM, 3, MAX_ATTEMPTS, before + 1, before + 2),
    ]
    assert result.version == before + 3
