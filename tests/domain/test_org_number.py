"""Organisation numbers: ten digits, third digit >= 2, a Luhn check digit; stored NNNNNN-NNNN."""

from __future__ import annotations

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from domain import InvalidOrgNumberError, normalise_org_number
from domain.org_number import could_be_personal_identity_number
from tests.domain.given import LANSSTYRELSEN_STOCKHOLM, NAMES, with_check_digit

REAL_NUMBERS = sorted(NAMES.keys() - {LANSSTYRELSEN_STOCKHOLM, with_check_digit("202100999")})


@pytest.mark.parametrize("org_number", REAL_NUMBERS)
def test_accepts_every_real_agency_number_with_or_without_the_hyphen(org_number: str) -> None:
    # GIVEN a real agency's number, as stored and as typed without the hyphen
    bare = org_number.replace("-", "")
    # WHEN it is normalised
    # THEN both forms give the stored form
    assert normalise_org_number(org_number) == org_number
    assert normalise_org_number(bare) == org_number


def test_lansstyrelsen_i_stockholms_lan_gets_a_computed_valid_number() -> None:
    # GIVEN the first nine digits the county board is known by
    # WHEN the check digit is computed
    # THEN it is 202100-2346 and passes the domain's own check
    assert LANSSTYRELSEN_STOCKHOLM == "202100-2346"
    assert normalise_org_number("2021002346") == "202100-2346"


@pytest.mark.parametrize("org_number", REAL_NUMBERS)
def test_rejects_a_real_number_with_its_check_digit_off_by_one(org_number: str) -> None:
    # GIVEN a near miss: a real number whose last digit is one off
    near_miss = org_number[:-1] + str((int(org_number[-1]) + 1) % 10)
    # WHEN / THEN it is refused for its check digit
    with pytest.raises(InvalidOrgNumberError, match="check digit"):
        normalise_org_number(near_miss)


@pytest.mark.parametrize(
    "near_miss",
    [
        "202100-5484",  # Skatteverket with the last two digits swapped
        "202010-5448",  # Skatteverket with two middle digits swapped
        "202100-5438",  # one digit mistyped
    ],
)
def test_rejects_typical_typing_mistakes(near_miss: str) -> None:
    # GIVEN a real number typed wrongly
    # WHEN / THEN the check digit catches it
    with pytest.raises(InvalidOrgNumberError):
        normalise_org_number(near_miss)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "20210054",  # too short
        "202100-544",  # nine digits
        "202100-54480",  # eleven digits
        "16202100-5448",  # the 12-digit form with the "16" prefix is not accepted
        "2021-00-5448",  # hyphen in the wrong place
        "202100--5448",
        "202100 5448",
        "20210O-5448",  # letter O for zero
        "٢٠٢١٠٠-٥٤٤٨",  # Arabic-Indic digits are digits to Python's \d, not to us
    ],
)
def test_rejects_wrong_length_or_characters(raw: str) -> None:
    # GIVEN input that is not ten ASCII digits with an optional hyphen after six
    # WHEN / THEN it is refused for its shape
    with pytest.raises(InvalidOrgNumberError, match="10 digits"):
        normalise_org_number(raw)


def test_rejects_a_third_digit_below_two_even_with_a_valid_check_digit() -> None:
    # GIVEN a personal identity number's shape (born 1981-12-18) with a correct check digit
    personal = with_check_digit("811218987")
    # WHEN / THEN it is refused: organisation numbers of legal persons have third digit >= 2
    with pytest.raises(InvalidOrgNumberError, match="third digit"):
        normalise_org_number(personal)


def test_the_error_never_repeats_the_input() -> None:
    # GIVEN a personal identity number typed in by mistake
    personal = with_check_digit("811218987")
    # WHEN it is refused
    with pytest.raises(InvalidOrgNumberError) as refused:
        normalise_org_number(personal)
    # THEN the message (bound for a 409 response) does not carry it
    assert personal not in refused.value.message
    assert personal.replace("-", "") not in refused.value.message


def test_surrounding_whitespace_from_forms_is_ignored() -> None:
    # GIVEN a number pasted with spaces around it
    # WHEN / THEN it is accepted
    assert normalise_org_number("  202100-5448\n") == "202100-5448"


nine_digits = st.from_regex(r"[0-9]{2}[2-9][0-9]{6}", fullmatch=True)


@for_all(nine_digits)
def test_any_nine_digits_with_their_check_digit_are_valid(first_nine: str) -> None:
    # GIVEN nine digits (third at least 2) and their Luhn check digit
    org_number = with_check_digit(first_nine)
    # WHEN / THEN the number is accepted in both forms
    assert normalise_org_number(org_number.replace("-", "")) == org_number


@for_all(nine_digits, st.integers(min_value=1, max_value=9))
def test_any_other_check_digit_is_refused(first_nine: str, offset: int) -> None:
    # GIVEN a valid number with its check digit changed
    valid = with_check_digit(first_nine)
    wrong = valid[:-1] + str((int(valid[-1]) + offset) % 10)
    # WHEN / THEN it is refused
    with pytest.raises(InvalidOrgNumberError):
        normalise_org_number(wrong)


@pytest.mark.parametrize(
    ("raw", "personal"),
    [
        ("811218-9876", True),
        ("8112189876", True),
        ("198112189876", True),
        ("19811218-9876", True),
        ("202100-5448", False),
        ("ABC", False),
        ("12", False),
    ],
)
def test_recognises_the_shape_of_a_personal_identity_number(raw: str, personal: bool) -> None:
    # GIVEN something typed as an organisation number
    # WHEN / THEN we can tell whether it might be a person's identity number
    assert could_be_personal_identity_number(raw) is personal
