"""Every read-model view, by name: what the projector applies and `programme rebuild` rebuilds."""

from __future__ import annotations

from typing import Final

from infra.readmodels.view import View
from infra.readmodels.views.agencies import AgenciesView
from infra.readmodels.views.audit import AuditView
from infra.readmodels.views.pairs import PairsView
from infra.readmodels.views.participation import ParticipationView
from infra.readmodels.views.plans import PlansView
from infra.readmodels.views.refusals import RefusalsView
from infra.readmodels.views.rounds import RoundsView

VIEWS: Final[dict[str, View]] = {
    view.name: view
    for view in (
        RoundsView(),
        PairsView(),
        PlansView(),
        AgenciesView(),
        ParticipationView(),
        AuditView(),
        RefusalsView(),
    )
}

__all__ = ["VIEWS"]
