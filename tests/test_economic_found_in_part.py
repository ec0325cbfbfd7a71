"""A refused call (the API naming no entry) that stored voucher 4's line 1 before its bad line 2
(SandboxOptions.refusal_stores_before_bad, seed 002 never says a refusal stores nothing): the look before the rest is
sent again finds voucher 4 in part, and the run puts it in doubt ("a look found some of this voucher's lines stored
and not the others"). That entry is the run's, of a call in doubt ("calls in doubt landed"), never "added by others"
(docs/reconciliation.md: others are "entries of vouchers this run never sent"): the part in doubt carries its group
in the ledger (Ledger.split). And rollback names the part as never sent on its own, not by the age of a key it
never sent ("its key is older than the 60 minutes the API keeps one")."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import CREDS, economic_job, serving
from test_reconcile_refused import entries, held

from bulkload import load, rollback
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app


async def test_a_voucher_a_refusal_stored_in_part_is_the_runs_not_another_writers(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    entries(data, 5, (4,))
    app = create_app(SandboxOptions(refusal_stores_before_bad=True, opaque_errors=True))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS)
            assert len(held(app)[4]) == 1 and report.in_doubt == 2, (held(app), report)
            undone = await rollback(job.ledger_path, env=CREDS)
    rec = report.reconcile
    assert rec is not None and rec.others_count == 0, rec  # voucher 4's line 1 is this run's, not another writer's
    assert rec.in_doubt_found_count == 1 and rec.in_doubt_found[0]["group"] == "voucher 4 (journal 1)", rec
    reasons = [u["reason"] for u in undone.unsettled]
    assert not any("older than the 60 minutes" in r for r in reasons), reasons
    assert len(reasons) == 1 and reasons[0].startswith("it was never sent on its own: it is what was left of call 1"), (
        reasons
    )
