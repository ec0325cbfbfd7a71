"""A later load tells a row an earlier load created by the check that load's ledger keeps of the line
(created.line_check): a byte of that check changed since (a failing disk, an edit) must not make the row a new one,
booked twice. The ledger keeps a second copy of each such check with its call (chunks.checks): the two disagreeing,
the load is refused before its first call. Against the Visma Core sandbox on loopback (entries without an order,
each a record of its own)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from test_load_visma_core import ENV, created, job, second_job, write

from bulkload import load
from bulkload.errors import LedgerError
from bulkload.sandbox import SandboxOptions, running

ROWS = [
    [1060, "FEE", "10.00", "a", "", "2026-11-01", ""],
    [1061, "FEE", "20.00", "b", "", "2026-11-02", ""],
    [1062, "FEE", "30.00", "c", "", "2026-11-03", ""],
]


async def test_a_changed_copy_is_refused_where_the_earlier_ledger_keeps_a_damaged_check(tmp_path: Path) -> None:
    # found by tester t70f: one byte of the check kept of line 3 flipped with sqlite3, a changed copy of the file (a
    # row appended) booked line 3's entry a second time beside the new one: loaded 2, skipped 2, exit 0
    first = write(tmp_path / "e.csv", ROWS)
    changed = write(tmp_path / "e-more.csv", [*ROWS, [1063, "FEE", "40.00", "d", "", "2026-11-04", ""]])
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            one = await load(job(tmp_path, first, url), env=ENV)
            assert (one.exit_code, one.loaded) == (0, 3), one
            with sqlite3.connect(one.ledger) as db:
                db.execute("UPDATE created SET line_check = (line_check | 256) - (line_check & 256) WHERE loc = 3")
            with pytest.raises(LedgerError) as refused:
                await load(second_job(tmp_path, changed, url, "two"), env=ENV)
            entries = await created(url)
    assert str(refused.value).startswith(
        f"the ledger {one.ledger} of an earlier load into the same place is damaged: the check it keeps of line 3 "
        f"of {first}, which its run loaded, is not the one its call kept"
    ), refused.value
    assert "nothing was sent" in str(refused.value)
    assert sorted(e["Amount"] for e in entries) == [Decimal("10.00"), Decimal("20.00"), Decimal("30.00")], entries
