"""Pairs and themes of a round (`GET /rounds/{id}/pairs`), dissolved pairs included."""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import RoundDocumentsView
from infra.readmodels.views.sheet import Sheet, active_pairs, plan_status

NAME: Final = "pairs"


def pairs_key(round_id: str) -> DocKey:
    return DocKey(f"round#{round_id}", "pairs")


class PairsView(RoundDocumentsView):
    name = NAME

    def documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        return {pairs_key(sheet["round_id"]): pairs_and_themes(sheet)}


def pairs_and_themes(sheet: Sheet) -> JsonObject:
    agencies = sheet["agencies"]
    deadline_passed = sheet["deadline_passed"]
    pairs = [
        {
            "pair_id": pair_id,
            "org_numbers": pair["org_numbers"],
            "agencies": [
                {"org_number": org, "agency_name": agencies[org]["agency_name"]}
                for org in pair["org_numbers"]
            ],
            "theme": pair["theme"],
            "status": "dissolved" if pair["dissolved"] else "active",
            "dissolved_reason": pair["dissolved_reason"],
            "plan_status": None if pair["dissolved"] else plan_status(pair, deadline_passed),
            "plan_title": pair["plan"]["title"] if pair["plan"] else None,
            "plan_revision": pair["plan"]["revision"] if pair["plan"] else None,
            "presented_at": pair["presented_at"],
        }
        for pair_id, pair in sheet["pairs"].items()
    ]
    themes = list(sheet["themes"])
    themes += sorted({pair["theme"] for pair in sheet["pairs"].values()} - set(themes))
    active = active_pairs(sheet)
    by_theme = [
        {"theme": theme, "pair_ids": [pair_id for pair_id, p in active if p["theme"] == theme]}
        for theme in themes
    ]
    return {"round_id": sheet["round_id"], "themes": by_theme, "pairs": pairs}
