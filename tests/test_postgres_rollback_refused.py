"""Found by tester t49d: `bulkload rollback` of an e-conomic run whose ledger is in PostgreSQL, where the API refused
a voucher of the run (an account it does not know), stopped with "the ledger's PostgreSQL refused: syntax error …
SELECT id, grp FROM remote WHERE id IN ()" (exit 4, "run rollback again"), and again on every run of it: the look
for what the refused calls stored asked for the groups of no doubles with an empty list, which SQLite takes and
PostgreSQL refuses. The run was never marked rolled back."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import CREDS, economic_job, serving, write_entries
from test_reconcile_refused import held

from bulkload import load
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.undo import rollback


async def test_rollback_with_a_postgresql_ledger_of_a_run_the_api_refused_a_voucher_of(
    tmp_path: Path, postgres_url: str
) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 6)
    unknown = [
        [5, 1, 99, "2026-11-03", amount, "DKK", account, "", "No such account", ""]
        for amount, account in (("10.00", 9999), ("-10.00", 5820))
    ]  # a voucher on an account the API does not know
    data.write_text(data.read_text() + "".join(",".join(map(str, row)) + "\r\n" for row in unknown))
    ledger = f"{postgres_url}?ledger=refused"
    app = create_app(SandboxOptions())
    with anyio.fail_after(60):
        async with serving(app) as origin:
            loaded = await load(economic_job(data, origin, ledger, batch_size=4, concurrency=1), env=CREDS)
            assert loaded.loaded == 12 and loaded.rejected == 2, loaded
            undone = await rollback(ledger, env=CREDS)
    assert undone.status == "complete" and undone.exit_code == 0 and undone.removed == 12, undone
    assert held(app) == {}, held(app)
