"""`Idempotency-Key`: the same request again gets its first answer without running again;
the key cannot be reused for another body, and a failure is never what gets replayed."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from functions.common import bootstrap
from functions.common.settings import settings
from tests.domain.given import KRIMINALVARDEN, SKATTEVERKET
from tests.functions.http import Reply, staff
from tests.functions.rounds import ROUND_ID, Rounds
from tests.functions.test_commands_lifecycle import round_body


def test_a_repeated_request_with_its_key_gets_the_same_201_without_a_second_event(
    rounds: Rounds,
) -> None:
    # GIVEN a round scheduled under an Idempotency-Key
    first = staff("POST", "/rounds", round_body(rounds), key="sched-2026-1")

    # WHEN the client, unsure it arrived, sends the same request with the same key
    again = staff("POST", "/rounds", round_body(rounds), key="sched-2026-1")

    # THEN it gets the first answer (not a 409 for an existing round), and one event exists
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body == {"round_id": ROUND_ID, "version": 1}
    assert again.headers["Location"] == first.headers["Location"]
    assert [e.type for e in rounds.events()] == ["RoundScheduled"]


def test_without_a_key_the_same_request_runs_again(rounds: Rounds) -> None:
    # GIVEN a round scheduled without a key
    staff("POST", "/rounds", round_body(rounds))

    # WHEN the same request is sent again
    again = staff("POST", "/rounds", round_body(rounds))

    # THEN the domain sees it anew, and refuses a second round of that id
    assert (again.status, again.body["rule"]) == (409, "ensure_round_is_new")


def test_a_key_reused_for_another_body_is_422(rounds: Rounds) -> None:
    # GIVEN a round scheduled under a key
    staff("POST", "/rounds", round_body(rounds), key="k-1")

    # WHEN the key comes again with another body
    reply = staff("POST", "/rounds", round_body(rounds, title="Något annat"), key="k-1")

    # THEN the client is told the key is taken, and nothing more is recorded
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "Idempotency-Key" in reply.body["detail"]
    assert len(rounds.events()) == 1


def test_a_failed_request_is_not_remembered_under_its_key(rounds: Rounds) -> None:
    # GIVEN a decision refused under a key because selection has not begun
    rounds.open()
    rounds.apply(SKATTEVERKET)
    decision = {"org_number": SKATTEVERKET, "decision": "admit"}
    refused = staff("POST", f"/rounds/{ROUND_ID}/decisions", decision, key="d-1")
    assert refused.status == 409

    # WHEN selection begins and the client retries with the same key
    rounds.close_applications()
    retried = staff("POST", f"/rounds/{ROUND_ID}/decisions", decision, key="d-1")

    # THEN the command runs this time
    assert retried.status == 200
    assert rounds.events()[-1].type == "AgencyAdmitted"


def test_the_pair_id_is_replayed_with_the_201(rounds: Rounds) -> None:
    # GIVEN two agencies admitted, and a pair formed under a key
    rounds.open()
    rounds.apply(SKATTEVERKET, KRIMINALVARDEN)
    rounds.close_applications()
    rounds.admit(SKATTEVERKET, KRIMINALVARDEN)
    body = {"org_numbers": [SKATTEVERKET, KRIMINALVARDEN], "theme": "digitalisering"}
    first = staff("POST", f"/rounds/{ROUND_ID}/pairs", body, key="p-1")

    # WHEN the request is repeated with the key
    again = staff("POST", f"/rounds/{ROUND_ID}/pairs", body, key="p-1")

    # THEN the same pair is named, and the round still has one pair
    assert (again.status, again.body) == (201, first.body)
    assert [e.type for e in rounds.events()].count("PairFormed") == 1


def test_the_same_key_on_another_round_is_another_request(rounds: Rounds) -> None:
    # GIVEN two scheduled rounds, one cancelled under a key
    rounds.schedule("2026-1")
    rounds.schedule("2026-2")
    body = {"reason": "Inga medel"}
    staff("POST", "/rounds/2026-1/cancel", body, key="c-1")

    # WHEN the same key is used to cancel the other round
    reply = staff("POST", "/rounds/2026-2/cancel", body, key="c-1")

    # THEN that round is cancelled too (a key is scoped to method and path)
    assert reply.status == 200
    assert rounds.events("2026-2")[-1].type == "RoundCancelled"


def test_an_idempotency_key_longer_than_255_characters_is_422(env: object) -> None:
    reply = staff("POST", "/rounds/2026-1/cancel", {"reason": "x"}, key="k" * 256)
    assert reply.status == 422
    assert ["header", "idempotency-key"] in [e["loc"] for e in reply.body["errors"]]


def test_the_idempotency_record_is_kept_in_the_idempotency_table(rounds: Rounds) -> None:
    # WHEN a round is scheduled under a key
    staff("POST", "/rounds", round_body(rounds), key="sched-2026-1")

    # THEN one completed record, with an expiry, is in the table from the template
    table = settings().idempotency_table
    items = bootstrap.dynamodb_client().scan(TableName=table)["Items"]
    assert [item["status"]["S"] for item in items] == ["COMPLETED"]
    assert items[0]["id"]["S"].startswith("commands.execute#")
    assert int(items[0]["expiration"]["N"]) > 0


def test_a_repeat_arriving_while_the_first_still_runs_is_409_with_retry_after(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a round, and a command handler during whose work the client repeats the request
    rounds.schedule()
    body = {"reason": "Inga medel"}
    real = bootstrap.command_handler()
    repeats: list[Reply] = []

    class RepeatingMeanwhile:
        def handle(self, *args: Any, **kwargs: Any) -> Any:
            repeats.append(staff("POST", f"/rounds/{ROUND_ID}/cancel", body, key="c-1"))
            return real.handle(*args, **kwargs)

    monkeypatch.setattr(bootstrap, "command_handler", cache(RepeatingMeanwhile))

    # WHEN the first request runs under its key
    first = staff("POST", f"/rounds/{ROUND_ID}/cancel", body, key="c-1")

    # THEN the repeat is told the request is in progress, and the first completes once
    assert first.status == 200
    (repeat,) = repeats
    assert (repeat.status, repeat.headers["Retry-After"].isdigit()) == (409, True)
    assert [e.type for e in rounds.events()] == ["RoundScheduled", "RoundCancelled"]
