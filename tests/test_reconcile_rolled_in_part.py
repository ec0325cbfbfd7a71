"""A run whose rollback stopped part way, reconciled against the real e-conomic sandbox app on loopback through the
real client, after another writer deleted and changed entries the rollback left. Found by a tester: the control
totals of the calls the rollback took some records of were taken from what the walk found of them (expected from
the actual: they always matched), and the count said `- 103 rolled back` where the rollback took 101 and another
writer deleted 2. What is left of such a call is now expected as the input file gives its lines, and what the
rollback took is counted from what it recorded."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from conftest import CREDS, HEADER, economic_job, serving, write_entries
from test_reconcile_lag import Counted, Waits, reconciled, summed

from bulkload import load, rollback
from bulkload.ledger import Ledger
from bulkload.model import Reconciled
from bulkload.report import print_summary


async def stopped_rollback(
    tmp_path: Path,
    sandbox: Counted,
    origin: str,
    ledger_at: str | None = None,
    *,
    data: Path | None = None,
    batch_size: int = 20,
    deletes: int = 24,
    removed: tuple[int, int] = (20, 40),
) -> tuple[str, int]:
    """The ledger (at `ledger_at`, by default a SQLite file in `tmp_path`) of a load of `data` (by default 100
    entries) in calls of `batch_size`, whose rollback the daily quota stopped part way, `deletes` calls in (by
    default about 20 DELETEs: the first call taken out whole, the second in part, the rest left whole), and how many
    it removed (between the bounds `removed`)."""
    if data is None:
        data = tmp_path / "e.csv"
        write_entries(data, 50)
    job = economic_job(data, origin, ledger_at or tmp_path / "run.sqlite", batch_size=batch_size, concurrency=1)
    report = await load(job, env=CREDS)
    assert not report.rejected and report.reconcile is not None and report.reconcile.ok, report
    ledger = Ledger.open(job.ledger_path)
    used = sum(ledger.calls().values())
    ledger.close()
    undone = await rollback(job.ledger_path, env=CREDS, daily_quota=used + deletes, concurrency=1)
    assert undone.status == "stopped" and removed[0] < undone.removed < removed[1], undone
    ledger = Ledger.open(job.ledger_path)
    ledger.set_settings({**ledger.run.settings, "daily_quota": 0})  # as a rollback --daily-quota 0 would
    ledger.close()
    return job.ledger_path, undone.removed


def journal_totals(sandbox: Counted) -> dict[str, dict[str, object]]:
    """What journal 1 of the sandbox holds, as the report's `per_scope` shows control totals."""
    amounts = [entry.amount for n in sandbox.store.entries if (entry := sandbox.store.get(n)) is not None]
    total, debit = sum(amounts, Decimal(0)), sum((a for a in amounts if a > 0), Decimal(0))
    return {"1": {"DKK": {"rows": len(amounts), "amount": f"{total:.2f}", "debit": f"{debit:.2f}"}}}


async def test_what_a_stopped_rollback_left_is_expected_as_the_file_gives_it_not_as_the_api_holds_it(
    tmp_path: Path,
) -> None:
    await left_changed_since(tmp_path)


async def test_what_a_stopped_rollback_left_is_expected_as_the_file_gives_it_in_a_postgresql_ledger(
    tmp_path: Path, postgres_url: str
) -> None:
    await left_changed_since(tmp_path, f"{postgres_url}?ledger=acme")


async def left_changed_since(tmp_path: Path, ledger_at: str | None = None) -> None:
    """A stopped rollback's run, two entries it left deleted and two changed since, reconciled (the ledger at
    `ledger_at`, as `stopped_rollback`): what the rollback left is expected as the file gives it, and counted so."""
    sandbox, waits = Counted(), Waits()
    async with serving(sandbox.app) as origin:
        path, removed = await stopped_rollback(tmp_path, sandbox, origin, ledger_at)
        left = 100 - removed
        as_left = journal_totals(sandbox)  # what the rollback left, untouched: the file's lines
        held = sorted(sandbox.store.entries)
        # another writer deletes two entries of the call the rollback took some of, and changes one of a call it
        # left whole, and one more of the call taken in part
        in_part = [n for n in held if n <= 40]
        assert len(in_part) >= 4, held
        gone = in_part[:2]
        assert all(sandbox.store.delete(n) for n in gone)
        for n in (in_part[2], held[-1]):
            entry = sandbox.store.get(n)
            assert entry is not None
            sandbox.store.replace([msgspec.structs.replace(entry, amount=entry.amount + Decimal("1.00"))])
        rec = await reconciled(path, waits)
    assert rec.rolled_back == {"status": "rolling_back", "records": removed, "left": left}, rec
    assert (rec.missing_count, rec.lines_changed_count) == (2, 2), rec
    assert {item["id"] for item in rec.missing} == set(gone), rec
    # counted as the rollback recorded it: the two deleted since are missing, not rolled back
    assert rec.scopes["1"]["rolled_back"] == removed and rec.remote_count == left - 2, rec
    # what is left of the calls, as the file gives their lines: not what the API holds now
    assert rec.expected_totals["per_scope"] == as_left, rec
    assert rec.remote_totals["per_scope"] == journal_totals(sandbox) != as_left, rec
    assert not rec.ok
    said = io.StringIO()
    report = summed(rec, path)
    print_summary(report, said)
    text = said.getvalue()
    assert f"remote count {left - 2} = 0 there before + 100 loaded - {removed} rolled back - 2 missing" in text, text
    assert re.search(rf"expected / remote count\s*│\s*{left} / {left - 2} │", text), text
    assert report.exit_code == 3


async def test_a_stopped_rollback_whose_input_changed_since_says_the_totals_left_are_not_checked(
    tmp_path: Path,
) -> None:
    sandbox, waits = Counted(), Waits()
    async with serving(sandbox.app) as origin:
        path, removed = await stopped_rollback(tmp_path, sandbox, origin)
        data = tmp_path / "e.csv"
        data.write_text(data.read_text(encoding="utf-8").replace("Sale 1,", "Sale 1 (edited),"), encoding="utf-8")
        gone = [n for n in sorted(sandbox.store.entries) if n <= 40][:2]  # of the call the rollback took some of
        assert len(gone) == 2 and all(sandbox.store.delete(n) for n in gone)
        rec = await reconciled(path, waits)
    left = 100 - removed
    unchecked = rec.rolled_back["totals_unchecked"]
    assert f"{data} changed since the run read it" in unchecked, unchecked
    assert rec.rolled_back == {
        "status": "rolling_back",
        "records": removed,
        "left": left,
        "totals_unchecked": unchecked,
    }, rec
    # the count does not rest on the input: the two deleted since are missing, not rolled back
    assert rec.scopes["1"]["rolled_back"] == removed and rec.remote_count == left - 2, rec
    assert rec.missing_count == 2 and not rec.ok, rec
    # the totals of what is left are the walks' (not a check), and the note says so and why
    assert rec.expected_totals["per_scope"] == rec.remote_totals["per_scope"], rec
    assert (
        "the control totals of what is left of the calls it rolled back in part are not checked (taken as the API "
        f"holds them; each of their entries is still checked by its id and its line): {unchecked}"
    ) in rec.note, rec.note


async def input_gone_after_two_journals(tmp_path: Path) -> tuple[Reconciled, dict[str, int], str]:
    """Calls carrying vouchers of two journals (40 lines each: 30 of journal 1, 10 of journal 2), a rollback stopped
    in the first, an entry it left of journal 2 deleted since, the input gone; reconciled: what reconcile said, what
    the rollback took of each journal, and the summary."""
    data = tmp_path / "e.csv"
    lines = [",".join(HEADER)]
    for v in range(1, 101):
        journal = 2 if v % 4 == 0 else 1
        lines += [
            f"5,{journal},{v},2026-11-02,10.00,DKK,1010,,v{v},",
            f"5,{journal},{v},2026-11-02,-10.00,DKK,5820,,w{v},",
        ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sandbox, waits = Counted(), Waits()
    async with serving(sandbox.app) as origin:
        ledger_path, removed = await stopped_rollback(
            tmp_path, sandbox, origin, data=data, batch_size=40, deletes=30, removed=(0, 40)
        )
        held = {n: entry.journalNumber for n in sandbox.store.entries if (entry := sandbox.store.get(n)) is not None}
        # what the rollback took of each journal: the entries of the first call (numbers 1-40) no longer held
        taken = {"1": 0, "2": 0}
        for n in range(1, 41):
            if n not in held:
                taken["2" if (n + 1) // 2 % 4 == 0 else "1"] += 1
        assert sum(taken.values()) == removed and taken["2"] > 0, taken
        gone = min(n for n, journal in held.items() if journal == 2 and n <= 40)  # left of the call taken in part
        assert sandbox.store.delete(gone)
        data.unlink()
        rec = await reconciled(ledger_path, waits)
    said = io.StringIO()
    print_summary(summed(rec, ledger_path), said)
    return rec, taken, said.getvalue()


async def test_an_entry_left_and_deleted_since_whose_journal_the_input_would_tell_is_said_to_be_counted_by_its_call(
    tmp_path: Path,
) -> None:
    """The input gone, an entry left of a call sent to two journals and not listed: its journal cannot be told (the
    ledger keeps no line's journal, and rollback records none for an e-conomic entry it removes), so it is counted in
    the journal its call sent most entries to, and `totals_unchecked` says so (a tester, t66c: the summary named
    journal 1 short where journal 2 was, with nothing to say the figure was a guess). The run is a mismatch (exit 3)
    all the same: the entry is missing."""
    rec, _, _ = await input_gone_after_two_journals(tmp_path)
    assert rec.missing_count == 1 and not rec.ok, rec
    assert (
        "; 1 of the records left not listed were sent in calls to more than one journal, and are counted in the "
        "journal their call sent most records to (the input says which is theirs)"
    ) in rec.rolled_back["totals_unchecked"], rec.rolled_back


@pytest.mark.xfail(
    strict=True,
    reason="the ledger keeps no scope of a line: where the input is gone, a left entry not listed is counted in the "
    "journal its call sent most entries to (rolled_back.what_is_left, _NOT_WALKED), not its own",
)
async def test_an_entry_left_and_deleted_since_counts_in_its_own_journal_where_the_input_is_gone(
    tmp_path: Path,
) -> None:
    """As above: the count of each journal must still be what the rollback took of it. Found by a tester (t66c): the
    entry not listed was counted in the journal its call sent most entries to (journal 1: '150 loaded - 21 rolled
    back', the API holding 128, named short of one) where the rollback took 22 of journal 1 and 6 of journal 2, and
    journal 2 is the one short. Telling a line's journal without the input needs the ledger to keep it."""
    rec, taken, text = await input_gone_after_two_journals(tmp_path)
    assert {scope: rec.scopes[scope]["rolled_back"] for scope in ("1", "2")} == taken, rec.scopes
    assert f"journal 2: expected {50 - taken['2']} entries" in text and "journal 1: expected" not in text, text
