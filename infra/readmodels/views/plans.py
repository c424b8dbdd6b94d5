"""Plan timeliness of a round (`GET /rounds/{id}/plans`): due, submitted, revision, days late."""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import RoundDocumentsView
from infra.readmodels.views.sheet import Sheet, active_pairs, plan_status

NAME: Final = "plans"


def plans_key(round_id: str) -> DocKey:
    return DocKey(f"round#{round_id}", "plans")


class PlansView(RoundDocumentsView):
    name = NAME

    def documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        return {plans_key(sheet["round_id"]): timeliness(sheet)}


def timeliness(sheet: Sheet) -> JsonObject:
    due_at = sheet["dates"]["plan_due_at"]
    plans = []
    for pair_id, pair in active_pairs(sheet):
        plan = pair["plan"] or {}
        plans.append(
            {
                "pair_id": pair_id,
                "org_numbers": pair["org_numbers"],
                "theme": pair["theme"],
                "status": plan_status(pair, sheet["deadline_passed"]),
                # A plan's deadline is the one in force when it came in; a reschedule after
                # does not make an on-time plan late (nor a late one on time).
                "due_at": plan.get("due_at", due_at),
                "submitted_at": plan.get("submitted_at"),
                "revision": plan.get("revision"),
                "revised_at": plan.get("revised_at"),
                "late": plan.get("late"),
                "days_late": plan.get("days_late"),
            }
        )
    return {
        "round_id": sheet["round_id"],
        "plan_due_at": due_at,
        "deadline_passed": sheet["deadline_passed"],
        "plans": plans,
    }
