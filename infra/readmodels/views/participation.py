"""Participation rows for reporting (`GET /reports/participation.csv`): one per round and agency."""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import AgencyRowsView, pair_facts
from infra.readmodels.views.sheet import Sheet

NAME: Final = "participation"
ROWS: Final = "participation"
"""The one partition of every row, sorted by round number, round and organisation number."""
COLUMNS: Final = (
    "round_id",
    "round_number",
    "org_number",
    "agency_name",
    "status",
    "pair_id",
    "theme",
    "plan_submitted_at",
    "plan_late",
    "presented",
)


class ParticipationView(AgencyRowsView):
    name = NAME

    def row(self, sheet: Sheet, org_number: str) -> tuple[DocKey, JsonObject]:
        agency = sheet["agencies"][org_number]
        facts = pair_facts(sheet, org_number)
        key = DocKey(ROWS, f"{sheet['number']:06d}#{sheet['round_id']}#{org_number}")
        return key, {
            "round_id": sheet["round_id"],
            "round_number": sheet["number"],
            "org_number": org_number,
            "agency_name": agency["agency_name"],
            "status": agency["status"],
            "pair_id": facts["pair_id"],
            "theme": facts["theme"],
            "plan_submitted_at": facts["plan_submitted_at"],
            "plan_late": facts["plan_late"],
            "presented": facts["presented_at"] is not None,
        }
