"""Round overview (`GET /rounds/{id}`) and round summaries (`GET /rounds`).

The overview is stored as the round's own document (`overview`: its figures, and whether
the plan deadline passed) and one per active pair beside it (`pair#<n>`, in formation
order), so that an event rewrites the pair it changed, not every pair of the round; the
reader puts them together (`overview_document`), one Query of the round's partition.
"""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import RoundDocumentsView
from infra.readmodels.views.sheet import Sheet, active_pairs, plan_in, resolved_status

NAME: Final = "rounds"
SUMMARIES: Final = "rounds"
"""The partition holding one summary per round, sorted by round number."""


def overview_key(round_id: str) -> DocKey:
    return DocKey(f"round#{round_id}", "overview")


def summary_key(number: int, round_id: str) -> DocKey:
    return DocKey(SUMMARIES, f"{number:06d}#{round_id}")


class RoundsView(RoundDocumentsView):
    name = NAME

    def round_documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        figures = summary(sheet)
        return {
            overview_key(sheet["round_id"]): overview(sheet, figures),
            summary_key(sheet["number"], sheet["round_id"]): figures,
        }

    def pair_partition(self, sheet: Sheet) -> str:
        return overview_key(sheet["round_id"]).partition

    def pair_document(self, sheet: Sheet, pair_id: str, pair: JsonObject) -> JsonObject | None:
        if pair["dissolved"]:
            return None
        return {
            "pair_id": pair_id,
            "org_numbers": pair["org_numbers"],
            "theme": pair["theme"],
            "plan_status": plan_in(pair),
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


def overview(sheet: Sheet, figures: JsonObject | None = None) -> JsonObject:
    """The overview's own document: all of it but its pairs, and the deadline's passing
    (`figures`: the round's summary, if made already)."""
    basics = dict(figures or summary(sheet))
    del basics["pair_count"]
    return {
        **basics,
        "themes": sheet["themes"],
        "participants_by_role": sheet["roles"],
        "deadline_passed": sheet["deadline_passed"],
    }


def overview_document(own: JsonObject, pairs: list[JsonObject]) -> JsonObject:
    """The overview as `GET /rounds/{id}` shows it, from its stored documents."""
    if "pairs" in own:  # stored whole, by an earlier layout
        return own
    deadline_passed = own.pop("deadline_passed")
    for pair in pairs:
        pair["plan_status"] = resolved_status(pair["plan_status"], deadline_passed)
    return {**own, "pairs": pairs}
