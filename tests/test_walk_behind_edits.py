"""An entry another writer edits in place (PUT /draft-entries, seed 002: objectVersion, 409) after the walk behind
the load has passed it, while the load goes on (a tester, t23a): the load's reconciliation proves each entry as it was
when the walk listed it, and says so, naming the command that proves them as they are now; `bulkload reconcile` right
after names the entry changed (mismatch, exit 3). Before, the load said "reconciled" without a word of when: the
numbers below the newest an answer gave are final for creates (docs/reconciliation.md, The walk behind the load),
not for edits in place, and a walk that caught such an edit again would walk everything after the last upload, what
the walk behind the load is there to spare (issue 15, item 4)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from conftest import CREDS, serving, write_entries
from test_reconcile_behind import VOUCHERS, job, reconciled, sandbox

from bulkload import load, reconcile
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic_web import PREFIX


async def test_an_edit_behind_the_walk_during_the_load_is_said_unseen_and_reconcile_finds_it(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    totals = write_entries(data, VOUCHERS)
    app, logged, store = sandbox(SandboxOptions(latency_ms=5))
    edited: list[str] = []

    def after_walk(flt: str) -> None:
        # the walk has listed entry 1 (it holds what was sent): now another writer changes its amount, in place
        if not edited and (entry := store.get(1)) is not None:
            entry.amount = entry.amount + Decimal("1000.00")
            entry.text = "changed by another writer"
            store.replace([entry])
            edited.append(flt)

    logged.after_walk = after_walk
    async with serving(app) as origin:
        report = await load(job(tmp_path, data, origin + PREFIX), env=CREDS)
        assert edited and logged.walks_before_last_post() >= 1, logged.log  # edited while the load went on
        after = await reconcile(str(tmp_path / "run.sqlite"), env=CREDS)
    assert report.loaded == totals["rows"]
    # a walk after the load sees entry 1 changed
    assert not reconciled(after)["ok"], reconciled(after)
    # the load's own report says what its walk proves, and how to prove it now
    note = reconciled(report).get("note", "")
    assert "walked behind the load: each record is proved as it was when the walk listed it" in note, note
    assert f"`bulkload reconcile --ledger {(tmp_path / 'run.sqlite').absolute()}`" in note, note
