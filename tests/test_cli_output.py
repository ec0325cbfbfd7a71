"""What the commands print for people and scripts to read."""

from __future__ import annotations

import io

import msgspec
import pytest

from bulkload.cli import _print_json


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "ascii"])
def test_reconcile_and_rollback_json_is_the_same_json_on_any_terminal(encoding: str) -> None:
    """`bulkload reconcile`/`rollback` print JSON; a terminal that cannot show a name's characters gets JSON's
    escapes for them, not an encoding error (exit 4), and the JSON reads back the same."""
    value = {"found": "Ørsted – tampered ✓ 😀", "n": 1}
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    _print_json(value, out)
    out.flush()
    text = out.buffer.getvalue().decode(encoding)
    assert msgspec.json.decode(text) == value
    assert ("Ø" in text) == (encoding == "utf-8")
