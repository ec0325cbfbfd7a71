"""HaloPSA answers a server written from the API documents gives and the sandbox, left alone, does not: a token
whose `expires_in` is text."""

from __future__ import annotations

from typing import Any

import pytest

from bulkload.targets.halopsa import _seconds

# --- token answers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "seconds"),
    [(3600, 3600.0), ("3600", 3600.0), (" 3600 ", 3600.0), ("1800.5", 1800.5), (0.5, 0.5)],
)
def test_expires_in_is_a_number_or_a_numeric_string(given: Any, seconds: float) -> None:
    assert _seconds(given) == seconds


@pytest.mark.parametrize("given", ["soon", "", "0", "-5", "nan", "inf", True, [3600], {"s": 1}, 0])
def test_expires_in_that_is_no_number_of_seconds_above_0_is_none(given: Any) -> None:
    assert _seconds(given) is None
