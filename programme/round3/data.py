"""Round 3 of 2015, from the programme's public material: six agencies in three pairs.

Organisation numbers are from `../shared/reference/agencies.csv`, except Länsstyrelsen i
Stockholms län, whose number could not be confirmed from a public source here: the demo uses
a Luhn-valid placeholder (SCB's Myndighetsregistret is the authority). The dates, people and
case numbers are illustrative; the agencies, pairs and themes are the public facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from domain import ScheduleRound

ROUND_ID = "2015-3"
NUMBER = 3
TITLE = "Utvecklingsprogrammet för strategisk verksamhetsutveckling, omgång 3"
CAPACITY = 12
THEMES = ("intern samverkan och vi-känsla", "digitalisering", "attraktiv arbetsgivare")


def _utc(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


APPLICATION_OPENS_AT = _utc(2014, 10, 1)
APPLICATION_CLOSES_AT = _utc(2014, 11, 28, 17)
STARTS_AT = _utc(2015, 1, 29)
PLAN_DUE_AT = _utc(2015, 10, 30, 17)
CLOSES_AT = _utc(2015, 12, 10, 17)
SCHEDULED_ON = _utc(2014, 9, 1)


@dataclass(frozen=True, slots=True)
class Agency:
    org_number: str
    name: str
    director_general: str
    contact_name: str
    contact_email: str


AGENCIES = (
    Agency("202100-5448", "Skatteverket", "GD Skatteverket", "Kontakt Ett", "k1@example.se"),
    Agency("202100-0225", "Kriminalvården", "GD Kriminalvården", "Kontakt Två", "k2@example.se"),
    Agency(
        "202100-4870",
        "Fastighetsmäklarinspektionen",
        "GD Fastighetsmäklarinspektionen",
        "Kontakt Tre",
        "k3@example.se",
    ),
    Agency(
        "202100-6487",
        "Universitets- och högskolerådet",
        "GD Universitets- och högskolerådet",
        "Kontakt Fyra",
        "k4@example.se",
    ),
    Agency("202100-3997", "Kustbevakningen", "GD Kustbevakningen", "Kontakt Fem", "k5@example.se"),
    # Placeholder number (Luhn-valid, not verified): see the module docstring.
    Agency(
        "202100-2312",
        "Länsstyrelsen i Stockholms län",
        "Landshövding Stockholms län",
        "Kontakt Sex",
        "k6@example.se",
    ),
)

# The organiser that tries to apply shows a recorded refusal.
ORGANISER = Agency(
    "202100-5026", "Ekonomistyrningsverket", "GD Ekonomistyrningsverket", "Kontakt", "k@example.se"
)

PAIRS = (
    (("202100-5448", "202100-0225"), "intern samverkan och vi-känsla"),
    (("202100-4870", "202100-6487"), "digitalisering"),
    (("202100-3997", "202100-2312"), "attraktiv arbetsgivare"),
)

PLAN_TITLES = {
    "intern samverkan och vi-känsla": "En myndighet, en vi-känsla",
    "digitalisering": "Digitalt först i tillsyn och antagning",
    "attraktiv arbetsgivare": "Attraktiv arbetsgivare i staten",
}


def schedule_command(**changes: object) -> ScheduleRound:
    """The command that schedules round 3 (fields may be replaced, say for another round)."""
    command = ScheduleRound(
        round_id=ROUND_ID,
        number=NUMBER,
        title=TITLE,
        capacity=CAPACITY,
        themes=THEMES,
        application_opens_at=APPLICATION_OPENS_AT,
        application_closes_at=APPLICATION_CLOSES_AT,
        starts_at=STARTS_AT,
        plan_due_at=PLAN_DUE_AT,
        closes_at=CLOSES_AT,
    )
    return replace(command, **changes)  # type: ignore[arg-type]
