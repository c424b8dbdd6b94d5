"""Swedish organisation numbers: ten digits, a Luhn check digit, stored as NNNNNN-NNNN."""

from __future__ import annotations

import re

from domain.errors import InvalidOrgNumberError

# [0-9], not \d: \d also matches Arabic-Indic and other Unicode digits.
_SHAPE = re.compile(r"([0-9]{6})-?([0-9]{4})")


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit for `digits` (weights 2, 1, 2, … from the left for nine digits)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def normalise_org_number(raw: str) -> str:
    """`raw` as NNNNNN-NNNN, or `InvalidOrgNumberError`.

    The message never repeats the input: a personal identity number given by mistake is
    personal data and must not reach a 409 response or a log.
    """
    match = _SHAPE.fullmatch(raw.strip())
    if match is None:
        raise InvalidOrgNumberError(
            "an organisation number is 10 digits, written NNNNNNNNNN or NNNNNN-NNNN"
        )
    digits = match[1] + match[2]
    if int(digits[2]) < 2:
        raise InvalidOrgNumberError(
            "the third digit of an organisation number is at least 2 (a legal person)"
        )
    if luhn_check_digit(digits[:9]) != int(digits[9]):
        raise InvalidOrgNumberError("the organisation number's check digit does not match")
    return f"{match[1]}-{match[2]}"


def could_be_personal_identity_number(raw: str) -> bool:
    """Whether `raw` has the shape of a personnummer (birth date first), which we never store."""
    digits = re.sub(r"[-+\s]", "", raw)
    if not digits.isascii() or not digits.isdigit():
        return False
    if len(digits) == 12:
        return digits[:2] in {"18", "19", "20"}
    return len(digits) == 10 and int(digits[2]) < 2
