"""Free text kept in clear holds no recognisable personal data.

Titles, reasons, case numbers and retention decisions are stored in clear and shown in reports;
a person's data belongs in sealed fields only. Each such field refuses an e-mail address, a
phone number or a personal identity number, naming the field and the kind, never the value;
the words the programme uses there (case numbers, dates, organisation numbers) pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from domain import (
    CancelRound,
    Command,
    DecideApplication,
    DissolvePair,
    ErasePersonalData,
    PersonalDataInFreeTextError,
    ScheduleRound,
    SubmitPlan,
    WithdrawApplication,
    decide,
    decide_erasure,
)
from domain.state import RoundState
from events import Event
from tests.domain.given import (
    DURING_APPLICATIONS,
    DURING_ROUND,
    DURING_SELECTION,
    KRIMINALVARDEN,
    ROUND_ID,
    SHA_A,
    SKATTEVERKET,
    THEMES,
    given,
    in_selection,
    open_round,
    round_3_paired,
    round_3_running,
)

PERSONAL = {
    "e-mail address": "kontakta kim.karlsson@exempel.se",
    "phone number": "Ring Kim på 070-123 45 67",
    "personal identity number": "gäller 19121212-1212",
}
PROGRAMME_WORDS = [
    "Dnr 2015/123-45",
    "ESV 2015-0123",
    "Omorganisation per 2015-03-02",
    f"Avser {SKATTEVERKET}",
]


def schedule(title: str) -> ScheduleRound:
    return ScheduleRound(
        round_id="2016-4",
        number=4,
        title=title,
        capacity=6,
        themes=THEMES,
        application_opens_at=datetime(2016, 1, 11, tzinfo=UTC),
        application_closes_at=datetime(2016, 2, 12, tzinfo=UTC),
        starts_at=datetime(2016, 3, 1, tzinfo=UTC),
        plan_due_at=datetime(2016, 10, 28, tzinfo=UTC),
        closes_at=datetime(2016, 12, 2, tzinfo=UTC),
    )


@dataclass(frozen=True)
class Case:
    field: str
    state: Callable[[], RoundState | None]
    now: datetime
    command: Callable[[str], Command]


CASES = {
    "round title": Case("title", lambda: None, DURING_APPLICATIONS, schedule),
    "cancellation reason": Case(
        "reason",
        lambda: given(*open_round()),
        DURING_APPLICATIONS,
        lambda text: CancelRound(ROUND_ID, text),
    ),
    "withdrawal reason": Case(
        "reason",
        lambda: given(*in_selection(SKATTEVERKET)),
        DURING_SELECTION,
        lambda text: WithdrawApplication(ROUND_ID, SKATTEVERKET, text),
    ),
    "case number": Case(
        "case_number",
        lambda: given(*in_selection(KRIMINALVARDEN)),
        DURING_SELECTION,
        lambda text: DecideApplication(ROUND_ID, KRIMINALVARDEN, "admit", text),
    ),
    "dissolution reason": Case(
        "reason",
        lambda: given(*round_3_paired()),
        DURING_SELECTION,
        lambda text: DissolvePair(ROUND_ID, "pair-2", text),
    ),
    "plan title": Case(
        "title",
        lambda: given(*round_3_running()),
        DURING_ROUND,
        lambda text: SubmitPlan(ROUND_ID, "pair-1", text, "https://esv.se/plan.pdf", SHA_A),
    ),
}


def run(case: str, text: str) -> list[Event]:
    chosen = CASES[case]
    return decide(chosen.command(text), chosen.state(), chosen.now)


@pytest.mark.parametrize("kind", sorted(PERSONAL))
@pytest.mark.parametrize("case", sorted(CASES))
def test_free_text_with_personal_data_is_refused_naming_the_field(case: str, kind: str) -> None:
    # GIVEN a command whose free-text field holds a person's e-mail, phone or identity number
    field = CASES[case].field
    # WHEN it is decided / THEN it is refused, naming the field and the kind, not the value
    with pytest.raises(PersonalDataInFreeTextError) as refused:
        run(case, PERSONAL[kind])
    article = "an" if kind.startswith("e") else "a"
    assert str(refused.value) == f"{field} holds {article} {kind}: leave people out"
    assert PERSONAL[kind].split()[-1] not in str(refused.value)


@pytest.mark.parametrize("text", PROGRAMME_WORDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_programmes_own_words_pass(case: str, text: str) -> None:
    # GIVEN / WHEN the same field holds case numbers, dates or organisation numbers
    # THEN the command decides as it would with any other text
    assert run(case, text)


def test_a_retention_decision_holds_no_personal_data() -> None:
    command = ErasePersonalData(
        subject_id="subj-" + "0" * 32, retention_decision="Begäran från 070-1234567"
    )
    with pytest.raises(PersonalDataInFreeTextError, match="retention_decision holds a phone"):
        decide_erasure(command, already_erased=False)
    assert decide_erasure(replace(command, retention_decision="Art. 17"), already_erased=False)
