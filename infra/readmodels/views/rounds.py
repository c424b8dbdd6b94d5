"""Round overview (`GET /rounds/{id}`) and round summaries (`GET /rounds`)."""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import RoundDocumentsView
from infra.readmodels.views.sheet import Sheet, active_pairs, plan_status

NAME: Final = "rounds"
SUMMARIES: Final = "rounds"
"""The partition holding one summary per round, sorted by round number."""


def overview_key(round_id: str) -> DocKey:
    return DocKey(f"round#{round_id}", "overview")


def summary_key(number: int, round_id: str) -> DocKey:
    return DocKey(SUMMARIES, f"{number:06d}#{round_id}")


class RoundsView(RoundDocumentsView):
    name = NAME

    def documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        return {
            overview_key(sheet["round_id"]): overview(sheet),
            summary_key(sheet["number"], sheet["round_id"]): summary(sheet),
        }


def summary(sheet: Sheet) -> JsonObject:
    return {
        "round_id": sheet["round_id"],
        "number": sheet["number"],
        "title": sheet["title"],
        "state": sheet["state"],
        **sheet["dates"],
        "capacity": sheet["capacity"],
        "applied": len(sheet["agencies"]),
        "admitted": sum(a["status"] == "admitted" for a in sheet["agencies"].values()),
        "pair_count": len(active_pairs(sheet)),
    }


def overview(sheet: Sheet) -> JsonObject:
    basics = summary(sheet)
    del basics["pair_count"]
    return {
        **basics,
        "themes": sheet["themes"],
        "participants_by_role": sheet["roles"],
        "pairs": [
            {
                "pair_id": pair_id,
                "org_numbers": pair["org_numbers"],
                "theme": pair["theme"],
                "plan_status": plan_status(pair, sheet["deadline_passed"]),
            }
            for pair_id, pair in active_pairs(sheet)
        ],
    }
