"""Plan timeliness of a round (`GET /rounds/{id}/plans`): due, submitted, revision, days late.

Stored as the round's own document (`plans`: the deadline, and whether it passed) and one
per active pair beside it (`pair#<n>`, in formation order); the reader puts them together
(`plans_document`). A pair without a plan stores neither its status nor its due date: both
follow the round's (pending or overdue; the deadline in force), so the deadline passing or
moving rewrites the round's document only.
"""

from __future__ import annotations

from typing import Final

from infra.readmodels.documents import DocKey, JsonObject
from infra.readmodels.views.base import RoundDocumentsView
from infra.readmodels.views.sheet import Sheet, plan_in, resolved_status

NAME: Final = "plans"


def plans_key(round_id: str) -> DocKey:
    return DocKey(f"round#{round_id}", "plans")


class PlansView(RoundDocumentsView):
    name = NAME

    def round_documents(self, sheet: Sheet) -> dict[DocKey, JsonObject]:
        return {
            plans_key(sheet["round_id"]): {
                "round_id": sheet["round_id"],
                "plan_due_at": sheet["dates"]["plan_due_at"],
                "deadline_passed": sheet["deadline_passed"],
            }
        }

    def pair_partition(self, sheet: Sheet) -> str:
        return plans_key(sheet["round_id"]).partition

    def pair_document(self, sheet: Sheet, pair_id: str, pair: JsonObject) -> JsonObject | None:
        if pair["dissolved"]:
            return None
        plan = pair["plan"] or {}
        return {
            "pair_id": pair_id,
            "org_numbers": pair["org_numbers"],
            "theme": pair["theme"],
            "status": plan_in(pair),
            # A plan's deadline is the one in force when it came in; a reschedule after
            # does not make an on-time plan late (nor a late one on time).
            "due_at": plan.get("due_at"),
            "submitted_at": plan.get("submitted_at"),
            "revision": plan.get("revision"),
            "revised_at": plan.get("revised_at"),
            "late": plan.get("late"),
            "days_late": plan.get("days_late"),
        }


def plans_document(own: JsonObject, plans: list[JsonObject]) -> JsonObject:
    """Plan timeliness as `GET /rounds/{id}/plans` shows it, from the stored documents."""
    if "plans" in own:  # stored whole, by an earlier layout
        return own
    for plan in plans:
        plan["status"] = resolved_status(plan["status"], own["deadline_passed"])
        if plan["due_at"] is None:
            plan["due_at"] = own["plan_due_at"]
    return {**own, "plans": plans}
