"""Agency history across rounds (`GET /agencies/{org_number}`): a document per round it was in.

Keyed by organisation number, sorted by round number, so an agency's history is one Query. Each
document belongs to one round stream, so projecting two rounds at once never writes the same
item from two places.
"""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import AgencyRowsView, pair_facts
from infra.readmodels.views.sheet import Sheet

NAME: Final = "agencies"


def agency_partition(org_number: str) -> str:
    return f"agency#{org_number}"


class AgenciesView(AgencyRowsView):
    name = NAME

    def row(self, sheet: Sheet, org_number: str) -> tuple[DocKey, JsonObject]:
        agency = sheet["agencies"][org_number]
        key = DocKey(agency_partition(org_number), f"{sheet['number']:06d}#{sheet['round_id']}")
        return key, {
            "org_number": org_number,
            "agency_name": agency["agency_name"],
            "round_id": sheet["round_id"],
            "round_number": sheet["number"],
            "round_title": sheet["title"],
            "status": agency["status"],
            "applied_at": agency["applied_at"],
            "case_number": agency.get("case_number"),
            **pair_facts(sheet, org_number),
        }
