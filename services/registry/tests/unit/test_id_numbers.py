from datetime import date

import pytest

from anju_registry.domain import id_numbers
from eventkit.access import mask_id_number


def test_a_published_example_is_valid() -> None:
    assert id_numbers.problem_with("11010519491231002X", date(1949, 12, 31)) is None


@pytest.mark.parametrize(
    ("id_number", "fragment"),
    [
        ("110105194912310021", "check character"),
        ("11010519491231002", "17 digits"),
        ("1101051949123100XX", "17 digits"),
        ("110105194913310029", "check character"),
    ],
)
def test_malformed_numbers_are_rejected(id_number: str, fragment: str) -> None:
    problem = id_numbers.problem_with(id_number, None)
    assert problem is not None
    assert fragment in problem


def test_an_impossible_embedded_date_is_rejected() -> None:
    first17 = "11010519491331002"
    problem = id_numbers.problem_with(first17 + id_numbers.check_char(first17), None)
    assert problem == "the identity number does not embed a valid date of birth"


def test_the_embedded_date_must_match_the_date_of_birth() -> None:
    problem = id_numbers.problem_with("11010519491231002X", date(1950, 1, 1))
    assert problem == "the identity number does not match the date of birth"


def test_mask_keeps_only_the_last_four_characters() -> None:
    assert mask_id_number("11010519491231002X") == "**************002X"
