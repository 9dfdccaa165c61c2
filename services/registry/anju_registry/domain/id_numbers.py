"""The 18-character resident identity number (GB 11643): check digit and embedded birth date."""

from __future__ import annotations

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def normalise(id_number: str) -> str:
    return id_number.strip().upper()


def check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_date_of(id_number: str) -> date | None:
    """The date of birth embedded at characters 7–14 (YYYYMMDD), or None if it is no date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def problem_with(id_number: str, date_of_birth: date | None) -> str | None:
    """Why ``id_number`` is not valid (for ``date_of_birth`` when given), or None if it is."""
    if not _SHAPE.match(id_number):
        return "an identity number is 17 digits followed by a digit or X"
    if check_char(id_number[:17]) != id_number[17]:
        return "the check character of the identity number is wrong"
    embedded = birth_date_of(id_number)
    if embedded is None:
        return "the identity number does not embed a valid date of birth"
    if date_of_birth is not None and embedded != date_of_birth:
        return "the identity number does not match the date of birth"
    return None
