"""`GET /reports/participation.csv`: one row per round and agency, for Power BI and Excel."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.queries.routes import CSV_GUARD, participation_csv
from infra.readmodels.views.participation import COLUMNS
from tests.readmodels.published import Published, get, published_scenario
from tests.readmodels.scenario import KBV, LST, ROUND_3, ROUND_4, SKV

OPENAPI = Path(__file__).resolve().parents[2] / "functions" / "openapi.json"

REPORT = "/reports/participation.csv"


@pytest.fixture(scope="module")
def published() -> Iterator[Published]:
    with published_scenario() as stack:
        yield stack


def rows_of(raw: bytes, delimiter: str = ",") -> list[list[str]]:
    """The CSV as Excel or Power BI would read it: UTF-8 after the byte order mark."""
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def test_the_report_is_utf8_with_a_bom_crlf_lines_and_a_header(published: Published) -> None:
    answer = get(REPORT)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="participation.csv"'
    raw = answer.text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.split(b"\r\n")
    assert lines[0] == b"\xef\xbb\xbf" + ",".join(COLUMNS).encode()
    assert lines[-1] == b""  # every line, the last included, ends in CRLF
    assert all(b"\n" not in line for line in lines)


def test_the_report_has_one_row_per_round_and_agency_in_round_order(published: Published) -> None:
    header, *rows = rows_of(get(REPORT).text.encode("utf-8"))
    assert tuple(header) == COLUMNS
    by_key = {(row[0], row[2]): dict(zip(header, row, strict=True)) for row in rows}
    assert len(rows) == len(by_key) == 6 + 4
    assert [row[1] for row in rows] == ["3"] * 6 + ["4"] * 4
    assert by_key[(ROUND_3, SKV)] == {
        "round_id": ROUND_3,
        "round_number": "3",
        "org_number": SKV,
        "agency_name": "Skatteverket",
        "status": "admitted",
        "pair_id": "pair-1",
        "theme": "intern samverkan och vi-känsla",
        "plan_submitted_at": "2015-10-17T17:00:00Z",
        "plan_late": "false",
        "presented": "true",
    }
    assert by_key[(ROUND_4, SKV)]["plan_late"] == "true"
    assert by_key[(ROUND_4, KBV)]["status"] == "withdrawn"
    assert by_key[(ROUND_4, KBV)]["pair_id"] == by_key[(ROUND_4, KBV)]["plan_late"] == ""
    assert by_key[(ROUND_4, LST)]["presented"] == "false"


def test_swedish_names_survive_a_round_trip_through_a_csv_reader(published: Published) -> None:
    # WHEN the report's bytes are read back as UTF-8 (with its BOM) by a CSV reader
    rows = rows_of(get(REPORT).text.encode("utf-8"))
    names = {row[3] for row in rows[1:]}
    # THEN the names are exactly as the agencies wrote them
    assert {
        "Länsstyrelsen i Stockholms län",
        "Fastighetsmäklarinspektionen",
        "Universitets- och högskolerådet",
        "Kriminalvården",
    } <= names
    assert any("vi-känsla" in row[6] for row in rows)


def test_semicolons_on_request_for_excel_in_a_swedish_locale(published: Published) -> None:
    answer = get(REPORT, {"delimiter": "semicolon"})
    assert answer.status == 200
    rows = rows_of(answer.text.encode("utf-8"), delimiter=";")
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 1 + 10


def test_cells_are_quoted_as_rfc_4180_asks_and_formulas_are_defused() -> None:
    # GIVEN names with a comma, a quote, a line break, and one Excel would run as a formula
    rows = [
        {"round_id": "r", "round_number": 1, "org_number": "1", "agency_name": name}
        for name in ('Myndighet, "Test"', "Rad ett\nrad två", '=HYPERLINK("https://x")', "-1+2")
    ]
    # WHEN they are written
    text = participation_csv(rows)
    # THEN quoting keeps every value whole, and no cell starts a formula
    read = rows_of(text.encode("utf-8"))
    assert [row[3] for row in read[1:]] == [
        'Myndighet, "Test"',
        "Rad ett\nrad två",
        '\'=HYPERLINK("https://x")',
        "'-1+2",
    ]
    assert '"Myndighet, ""Test"""' in text
    assert [row[4:] for row in read[1:]] == [[""] * 6] * 4


@pytest.mark.parametrize(
    "name",
    [
        '\uff1dHYPERLINK("https://x")',  # fullwidth equals sign
        "\uff0b1",  # fullwidth plus
        "\uff20SUM(A1)",  # fullwidth commercial at
        "\ufeff=1+1",  # a byte order mark before the formula
        "\u200b=1+1",  # a zero-width space before it
        "  =1+1",  # spaces before it
        "\u00a0@SUM(A1)",  # a no-break space before it
    ],
)
def test_a_formula_behind_a_lookalike_or_an_invisible_character_is_defused(name: str) -> None:
    # GIVEN an agency name that a spreadsheet could still run as a formula
    rows = [{"round_id": "r", "round_number": 1, "org_number": "1", "agency_name": name}]
    # WHEN it is written / THEN its cell starts with the apostrophe that makes it text
    (row,) = rows_of(participation_csv(rows).encode("utf-8"))[1:]
    assert row[3] == f"'{name}"


def test_the_report_says_how_cells_are_guarded() -> None:
    # GIVEN / WHEN the published OpenAPI document / THEN the report's answer describes the guard
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    ok = document["paths"]["/reports/participation.csv"]["get"]["responses"]["200"]
    assert CSV_GUARD in ok["description"]
