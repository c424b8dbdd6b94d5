"""Reporting queries (IAM-authorised on AWS): read models only, never the event store.

Every route is one read of a view's active generation (a GetItem or a Query); the CSV pages
through its Query. An unknown round or agency is a 404 problem; a malformed path or query
parameter a 422.

The read models (`infra.readmodels`: its views, projector and the event store's decoder) are
imported by the first query that reads them, not by the cold start.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, cast

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from functions.common import bootstrap
from functions.common.problems import problem, problem_responses
from functions.queries.models import (
    AgencyHistory,
    Health,
    RefusalList,
    RoundEvents,
    RoundList,
    RoundOverview,
    RoundPairs,
    RoundPlans,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

    from infra.readmodels.documents import JsonObject
    from infra.readmodels.reader import ReadModels

router = Router()  # type: ignore[no-untyped-call]
metrics = Metrics()

CSV_CONTENT_TYPE: Final = "text/csv; charset=utf-8"
# Excel reads a file as UTF-8 only with the byte order mark; Power BI accepts it too.
BOM: Final = "\ufeff"
# A cell starting with one of these is a formula to Excel; agency names come from public forms.
# Compared after NFKC (so the fullwidth forms, U+FF1D and the like, count) and after any leading
# invisible or space characters (a byte order mark, a zero-width space) a spreadsheet may drop.
_FORMULA_START: Final = frozenset("=+-@\t\r\n")
CSV_GUARD: Final = (
    "A cell whose first visible character, after Unicode compatibility normalisation (NFKC: "
    "the fullwidth forms count), is =, +, -, @, a tab or a line break is prefixed with an "
    "apostrophe (') so that Excel and LibreOffice show it as text, never run it as a formula."
)
_DELIMITERS: Final = {"comma": ",", "semicolon": ";"}

RoundIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
OrgNumberPath = Annotated[
    str, Path(pattern=r"^\d{6}-?\d{4}$", description="NNNNNN-NNNN, with or without the hyphen")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many entries")]


class UnknownResourceError(LookupError):
    """No such round or agency in the read models."""


@router.exception_handler(UnknownResourceError)  # type: ignore[untyped-decorator]
def _unknown(error: UnknownResourceError) -> Response[str]:
    return problem(404, "Not Found", str(error))


def _documented(model: type[BaseModel] | None, *statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses: the model on 200 (when JSON), and problem+json for `statuses`."""
    answers: dict[int, Any] = problem_responses(*statuses)
    if model is not None:
        ok = {"description": "OK", "content": {content_types.APPLICATION_JSON: {"model": model}}}
        answers = {200: ok, **answers}
    return cast("dict[int, OpenAPIResponse]", answers)


def _read_models() -> ReadModels:
    from infra.readmodels.reader import ReadModels

    return ReadModels(bootstrap.read_models())


@router.get("/rounds", responses=_documented(RoundList), tags=["queries"])
def list_rounds() -> RoundList:
    """Every round, in round-number order."""
    return RoundList.model_validate({"rounds": _read_models().rounds()})


@router.get("/rounds/<round_id>", responses=_documented(RoundOverview, 404, 422), tags=["queries"])
def get_round(round_id: RoundIdPath) -> RoundOverview:
    """A round: its state, dates, capacity, figures and pairs."""
    return RoundOverview.model_validate(_found(_read_models().round(round_id), round_id))


@router.get(
    "/rounds/<round_id>/pairs", responses=_documented(RoundPairs, 404, 422), tags=["queries"]
)
def get_pairs(round_id: RoundIdPath) -> RoundPairs:
    """A round's learning pairs (dissolved ones too) and its themes."""
    return RoundPairs.model_validate(_found(_read_models().pairs(round_id), round_id))


@router.get(
    "/rounds/<round_id>/plans", responses=_documented(RoundPlans, 404, 422), tags=["queries"]
)
def get_plans(round_id: RoundIdPath) -> RoundPlans:
    """Each pair's plan: due, submitted, revision, late and by how many days."""
    return RoundPlans.model_validate(_found(_read_models().plans(round_id), round_id))


@router.get(
    "/rounds/<round_id>/events", responses=_documented(RoundEvents, 404, 422), tags=["queries"]
)
def get_round_events(
    round_id: RoundIdPath,
    after: Annotated[int, Query(ge=0, description="Entries after this version")] = 0,
    limit: Limit = 500,
) -> RoundEvents:
    """The round's audit trail: type, version, time and actor of each event (no payload)."""
    events = _read_models().round_events(round_id, after=after, limit=limit + 1)
    if not events and after == 0:
        raise UnknownResourceError(f"no round {round_id!r}")
    more = len(events) > limit
    events = events[:limit]
    return RoundEvents.model_validate(
        {
            "round_id": round_id,
            "events": events,
            "next_after": events[-1]["version"] if more else None,
        }
    )


@router.get(
    "/agencies/<org_number>", responses=_documented(AgencyHistory, 404, 422), tags=["queries"]
)
def get_agency(org_number: OrgNumberPath) -> AgencyHistory:
    """An agency's rounds, in round order, by organisation number."""
    stored = org_number if "-" in org_number else f"{org_number[:6]}-{org_number[6:]}"
    rounds = _read_models().agency(stored)
    if not rounds:
        raise UnknownResourceError(f"no agency {stored!r} in any round")
    return AgencyHistory.model_validate(
        {"org_number": stored, "agency_name": rounds[-1]["agency_name"], "rounds": rounds}
    )


@router.get(
    "/reports/participation.csv",
    responses={
        200: {
            "description": (
                "One row per round and agency; UTF-8 with a byte order mark, CRLF. " + CSV_GUARD
            ),
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **_documented(None, 422),
    },
    tags=["reports"],
)
def participation_report(
    delimiter: Annotated[
        Literal["comma", "semicolon"],
        Query(description="semicolon: for Excel set to a Swedish locale"),
    ] = "comma",
) -> Response[str]:
    """Participation of every agency in every round, for Power BI and Excel."""
    rows = 0

    def counted(found: Iterable[JsonObject]) -> Iterable[JsonObject]:
        nonlocal rows
        for row in found:
            rows += 1
            yield row

    body = participation_csv(counted(_read_models().participation()), _DELIMITERS[delimiter])
    metrics.add_metric(name="ParticipationRows", unit=MetricUnit.Count, value=rows)
    disposition = 'attachment; filename="participation.csv"'
    return Response(200, CSV_CONTENT_TYPE, body, headers={"Content-Disposition": disposition})


@router.get("/refusals", responses=_documented(RefusalList, 422), tags=["queries"])
def list_refusals(
    round_id: Annotated[
        str | None, Query(min_length=1, max_length=80, description="Only this round's")
    ] = None,
    after: Annotated[str | None, Query(max_length=200, description="A `next_after`")] = None,
    limit: Limit = 500,
) -> RefusalList:
    """Refused applications, oldest first, including those naming a round that does not exist."""
    found = _read_models().refusals(round_id, after=after, limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return RefusalList.model_validate(
        {
            "refusals": [refusal for _, refusal in found],
            "next_after": found[-1][0] if more else None,
        }
    )


@router.get("/health", responses=_documented(Health), tags=["health"])
def health() -> Health:
    """Liveness: the function answers (it reads nothing)."""
    return Health()


def participation_csv(rows: Iterable[JsonObject], delimiter: str = ",") -> str:
    """RFC 4180 CSV (CRLF, quoted where needed) after a UTF-8 byte order mark."""
    from infra.readmodels.views.participation import COLUMNS

    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f"'{text}" if _starts_a_formula(text) else text


def _starts_a_formula(text: str) -> bool:
    for char in text:
        if char in _FORMULA_START:
            return True
        if char.isspace() or unicodedata.category(char) in {"Cf", "Cc", "Zs"}:
            continue  # invisible or blank: look at what follows
        return any(c in _FORMULA_START for c in unicodedata.normalize("NFKC", char)[:1])
    return False


def _found(document: JsonObject | None, round_id: str) -> JsonObject:
    if document is None:
        raise UnknownResourceError(f"no round {round_id!r}")
    return document
