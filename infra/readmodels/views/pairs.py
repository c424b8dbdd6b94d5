"""Pairs and themes of a round (`GET /rounds/{id}/pairs`), dissolved pairs included.

Stored as the round's own document (`pairs`: its themes, whether the plan deadline passed)
and one per pair beside it (`pair#<n>`, in formation order); the reader puts them together
(`pairs_document`) and lists each theme's active pairs.
"""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import RoundDocumentsView
from infra.readmodels.views.sheet import Sheet, plan_in, resolved_status

NAME: Final = "pairs"


def pairs_key(round_id: str) -> DocKey:
    return DocKey(f"round#{round_id}", "pairs")


class PairsView(RoundDocumentsView):
    name = NAME

    def round_documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        return {
            pairs_key(sheet["round_id"]): {
                "round_id": sheet["round_id"],
                "themes": sheet["themes"],
                "deadline_passed": sheet["deadline_passed"],
            }
        }

    def pair_partition(self, sheet: Sheet) -> str:
        return pairs_key(sheet["round_id"]).partition

    def pair_document(self, sheet: Sheet, pair_id: str, pair: JsonObject) -> JsonObject:
        agencies = sheet["agencies"]
        return {
            "pair_id": pair_id,
            "org_numbers": pair["org_numbers"],
            "agencies": [
                {"org_number": org, "agency_name": agencies[org]["agency_name"]}
                for org in pair["org_numbers"]
            ],
            "theme": pair["theme"],
            "status": "dissolved" if pair["dissolved"] else "active",
            "dissolved_reason": pair["dissolved_reason"],
            "plan_status": None if pair["dissolved"] else plan_in(pair),
            "plan_title": pair["plan"]["title"] if pair["plan"] else None,
            "plan_revision": pair["plan"]["revision"] if pair["plan"] else None,
            "presented_at": pair["presented_at"],
        }


def pairs_document(own: JsonObject, pairs: list[JsonObject]) -> JsonObject:
    """The pairs and themes as `GET /rounds/{id}/pairs` shows them, from the stored documents."""
    if "pairs" in own:  # stored whole, by an earlier layout
        return own
    for pair in pairs:
        if pair["status"] == "active":
            pair["plan_status"] = resolved_status(pair["plan_status"], own["deadline_passed"])
    themes = list(own["themes"])
    themes += sorted({pair["theme"] for pair in pairs} - set(themes))
    active = [pair for pair in pairs if pair["status"] == "active"]
    by_theme = [
        {"theme": theme, "pair_ids": [p["pair_id"] for p in active if p["theme"] == theme]}
        for theme in themes
    ]
    return {"round_id": own["round_id"], "themes": by_theme, "pairs": pairs}
