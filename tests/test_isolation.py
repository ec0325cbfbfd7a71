"""Isolating refused entries has a budget: an API that refuses every call holding account 9999 without naming the
entry (the sandbox, opaque) makes the run stop with that cause named after a few groups, at a bounded number of
calls counted by the server, and the run loads everything once the account exists."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import aiohttp
import anyio
import pytest
from conftest import CREDS, HEADER, economic_job, serving

from bulkload import load, resume
from bulkload.errors import IsolationSpent
from bulkload.isolation import IsolationBudget
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app


def entries_with_a_missing_account(path: Path, vouchers: int, every: int) -> int:
    """Balanced two-line vouchers; every `every`th books to account 9999, which the agreement lacks. Returns
    how many vouchers do."""
    rnd = random.Random(5)
    bad = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for v in range(1, vouchers + 1):
            account = 9999 if v % every == 0 else 1010
            bad += account == 9999
            amount = f"{rnd.randint(1, 5000)}.00"
            w.writerow([5, 1, v, "2026-11-02", amount, "DKK", account, "", f"Sale {v}", ""])
            w.writerow([5, 1, v, "2026-11-02", "-" + amount, "DKK", 5820, "", f"Sale {v} VAT", ""])
    return bad


async def served(origin: str) -> int:
    async with aiohttp.ClientSession() as s, s.get(origin + "/_sandbox/stats") as r:
        return int((await r.json())["requests"])


async def test_many_refusals_for_one_reason_stop_the_run_with_the_cause_and_a_resume_loads_it_all(
    tmp_path: Path,
) -> None:
    data = tmp_path / "entries.csv"
    bad = entries_with_a_missing_account(data, 400, every=5)  # 80 vouchers book to 9999, 4 in each chunk
    app = create_app(SandboxOptions(opaque_errors=True))  # the answer does not say which entry
    with anyio.fail_after(60):
        async with serving(app) as origin:
            job = economic_job(
                data,
                origin,
                tmp_path / "run.sqlite",
                rejects=str(tmp_path / "rejects.csv"),
                report=str(tmp_path / "report.json"),
                batch_size=40,
                concurrency=1,
            )
            report = await load(job, env=CREDS, raise_on_stop=False)
            spent = await served(origin)
            assert report.exit_code == 4 and report.status == "stopped"
            assert "Account 9999 could not be found" in report.stop_reason
            assert "groups were refused for one reason" in report.stop_reason
            isolation = report.isolation
            assert sum(isolation["refused_groups_by_reason"].values()) == 10
            # 20 chunks planned: without a budget the 80 refusals cost some 700 calls
            assert spent <= 150, spent
            assert isolation["isolating_calls"] <= isolation["budget_calls"]
            assert report.rows_read == report.loaded + report.rejected + report.in_doubt + report.skipped
            assert report.in_doubt == 0
            # the user creates the account; the refused calls go again and load
            rules = app[ECONOMIC_KEY].rules
            rules.accounts = rules.accounts | {9999}
            finished = await resume(str(tmp_path / "run.sqlite"), env=CREDS)
            assert finished.status == "complete", finished.stop_reason
            assert finished.rejected == 20  # the 10 groups isolated before the stop, 2 lines each
            assert finished.loaded == 800 - 20
            assert finished.reconcile.ok
    assert bad == 80


def test_the_budget_counts_calls_per_planned_chunk() -> None:
    budget = IsolationBudget(same_reason=3, floor=10, factor=2)
    for _ in range(5):
        budget.sent("")
    for _ in range(19):
        budget.sent("0")
    budget.refused("E1: one")
    budget.refused("E2: two")
    budget.check("E1: one")  # 19 calls of 20 allowed
    for part in ("a", "0b", "1a"):  # halves of calls too large (413) isolate nothing: no budget spent
        budget.sent(part)
    budget.check("E1: one")
    budget.sent("1")
    with pytest.raises(IsolationSpent, match=r"isolating cost 20 calls .* past the budget of 20 \(10 \+ 2 a chunk\)"):
        budget.check("E3: three")
    assert budget.report()["stopped"] is not None
    same = IsolationBudget(same_reason=2)
    same.refused("E1: one")
    same.check("E1: one")
    same.refused("E1: one")
    with pytest.raises(IsolationSpent, match="2 groups were refused for one reason.*E1: one"):
        same.check("E1: one")
    same.check("E2: another")  # another reason is still isolated
