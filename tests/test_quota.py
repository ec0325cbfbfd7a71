"""The daily quota is the agreement's: every call a run makes counts, in the ledger and in the user's cache, and
the calls of earlier runs against the same agreement count too. Judged by what the sandbox counted."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, Crash, SandboxProcess, crash_at_done, economic_job, serving, write_entries
from test_reconcile_refused import held

from bulkload import Job, load, reconcile, resume
from bulkload.agreement_calls import AgreementCalls, agreement_file
from bulkload.cli import main
from bulkload.errors import LedgerError
from bulkload.ledger import Ledger
from bulkload.meters import DailyQuota
from bulkload.outputs import cache_dir
from bulkload.results import Quota
from bulkload.sandbox import SandboxOptions, running
from bulkload.sandbox.economic import create_app
from bulkload.undo import rollback


def job(tmp_path: Path, data: Path, url: str, name: str, **kw: Any) -> Job:
    return Job(
        target="economic",
        files=[str(data)],
        base_url=url,
        ledger=str(tmp_path / f"{name}.sqlite"),
        rejects=str(tmp_path / f"{name}-rejects.csv"),
        report=str(tmp_path / f"{name}.json"),
        **kw,
    )


async def served(url: str) -> int:
    async with aiohttp.ClientSession() as s, s.get(url.split("/journalsapi")[0] + "/_sandbox/stats") as r:
        return int((await r.json())["requests"])


def stored_calls(ledger: Path) -> int:
    conn = sqlite3.connect(ledger)
    try:
        return int(conn.execute("SELECT COALESCE(SUM(n), 0) FROM calls").fetchone()[0])
    finally:
        conn.close()


async def test_the_ledger_counts_every_call_of_load_reconcile_and_rollback(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 30)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            report = await load(job(tmp_path, data, url, "run", batch_size=20), env=CREDS)
            assert report.exit_code == 0, report.stop_reason
            # setup, the skip-existing look, baselines, the bulk calls and the whole reconciliation
            assert stored_calls(tmp_path / "run.sqlite") == await served(url) == report.requests
            await reconcile(str(tmp_path / "run.sqlite"), env=CREDS)
            assert stored_calls(tmp_path / "run.sqlite") == await served(url)
            undone = await rollback(str(tmp_path / "run.sqlite"), env=CREDS)
            assert undone.removed == 60
            assert stored_calls(tmp_path / "run.sqlite") == await served(url)


async def test_earlier_runs_against_the_same_agreement_count_and_another_agreement_does_not(tmp_path: Path) -> None:
    first, second, third = (tmp_path / f"{n}.csv" for n in ("first", "second", "third"))
    write_entries(first, 10, seed=1)
    write_entries(second, 10, seed=2, first_voucher=100)
    write_entries(third, 10, seed=3, first_voucher=200)
    other = {**CREDS, "ECONOMIC_AGREEMENT_GRANT_TOKEN": "another-agreement"}
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            done = await load(job(tmp_path, first, url, "first", batch_size=10, daily_quota=12), env=CREDS)
            assert done.exit_code == 0, done.stop_reason
            spent = await served(url)
            assert spent < 12
            stopped = await load(
                job(tmp_path, second, url, "second", batch_size=10, daily_quota=12), env=CREDS, raise_on_stop=False
            )
            assert stopped.exit_code == 4
            assert "daily quota of 12 calls reached" in stopped.stop_reason
            assert f"{spent} by earlier or other runs against the same agreement" in stopped.stop_reason
            # the agreement's calls, all runs together, never went past the quota
            assert await served(url) == 12
            assert stored_calls(tmp_path / "second.sqlite") == 12 - spent
            assert stopped.daily_quota == Quota(limit=12, used_by_run=12 - spent, used_by_other_runs=spent)
            elsewhere = await load(job(tmp_path, third, url, "third", batch_size=10, daily_quota=12), env=other)
            assert elsewhere.exit_code == 0, elsewhere.stop_reason
    kept = list((cache_dir() / "quota").glob("*.json"))
    assert len(kept) == 2  # one file per agreement
    for path in kept:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        text = path.read_text()
        assert "test-grant" not in text and "another-agreement" not in text and "test-grant" not in path.name


async def test_a_rollback_the_spent_quota_stops_says_so_and_rollback_finishes_it_once_calls_free_up(
    tmp_path: Path,
) -> None:
    from test_load_economic import HEADERS, remote_entries

    data, ledger = tmp_path / "entries.csv", tmp_path / "run.sqlite"
    write_entries(data, 20)
    day = 24 * 3600 + 120  # the quota's rolling 24 h and the minute its calls are counted in

    def days_later(n: int) -> Callable[[], float]:
        return lambda: time.time() + n * day

    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            quota = job(tmp_path, data, url, "run", batch_size=4, daily_quota=6)
            stopped = await load(quota, env=CREDS, raise_on_stop=False)
            assert stopped.exit_code == 4 and "daily quota of 6 calls reached" in stopped.stop_reason
            created = sorted(e["entryNumber"] for e in await remote_entries(url))
            assert 6 < len(created) < 40, stopped
            # an earlier rollback, cut short after its DELETE of the first record left: gone, `removing` in the ledger
            async with aiohttp.ClientSession(headers=HEADERS) as s, s.delete(f"{url}/draft-entries/{created[0]}") as r:
                assert r.status == 204
            earlier = Ledger.open(ledger)
            try:
                earlier.set_status("rolling_back")
                earlier.mark_removed([(created[0], "", "removing")])
            finally:
                earlier.close()

            first = await rollback(str(ledger), env=CREDS)
            assert (first.status, first.exit_code, first.requests, first.failed) == ("stopped", 4, 0, []), first
            assert (first.removed, first.left) == (0, len(created)), first
            reason = first.stop_reason
            assert isinstance(reason, str) and "daily quota of 6 calls reached" in reason, reason
            assert "calls free up from" in reason and f"`bulkload rollback --ledger {ledger}`" in reason, reason
            assert "give it with `--daily-quota N`" in reason, reason  # the way on a raised quota
            assert "resume" not in reason, reason
            assert len(await remote_entries(url)) == len(created) - 1  # nothing was sent
            with pytest.raises(LedgerError, match=f"finish the rollback \\(`bulkload rollback --ledger {ledger}`\\)"):
                await resume(str(ledger), env=CREDS)

            # each day the quota lets 6 calls through: rollback again, as it says, until it is done
            undone = []
            for n in range(1, 10):
                again = await rollback(str(ledger), env=CREDS, clock=days_later(n))
                undone.append(again)
                assert again.failed == [] and again.unexplained_count == 0, again
                # one page of the journal's walk over the run's numbers first (what they hold: still_ours.py), then
                # a DELETE each, once; the entry the earlier rollback's DELETE removed is not listed: no DELETE again.
                # Where the quota lets it finish, one page more reads the deleted entries back (gone); where the day
                # before deleted the last of them, its walk finds none and there is nothing to read back
                read_back = 1 if again.removed and again.status != "stopped" else 0
                assert again.requests == again.removed + 1 + read_back <= 6, again
                if again.status != "stopped":
                    break
                assert again.exit_code == 4 and f"`bulkload rollback --ledger {ledger}`" in str(again.stop_reason)
                assert again.left == len(created) - sum(u.removed + u.already_removed for u in undone), again
            assert (again.status, again.exit_code) == ("complete", 0), again
            assert await remote_entries(url) == []
            assert sum(u.removed for u in undone) == len(created) - 1, undone
            assert sum(u.already_removed for u in undone) == 1, undone  # the earlier rollback's own DELETE
            done = await rollback(str(ledger), env=CREDS, clock=days_later(len(undone) + 1))
            assert (done.exit_code, done.requests, done.already_removed_before) == (0, 0, len(created)), done


async def test_token_calls_and_lookups_count_too(tmp_path: Path) -> None:
    from test_load_halopsa import ENV, write
    from test_load_halopsa import job as halo_job

    data = write(tmp_path / "xero.csv", 12)
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            report = await load(halo_job(tmp_path, data, url, batch_size=5), env=ENV)
            async with aiohttp.ClientSession() as s, s.get(url + "/_sandbox/stats") as r:
                seen = await r.json()
    assert report.exit_code == 0, report.stop_reason
    assert seen["tokens_issued"] >= 1  # the token call, the listing before and after, 3 writes
    assert stored_calls(tmp_path / "xero.sqlite") == seen["requests"] == report.requests


def test_a_resume_merges_the_ledger_and_the_cache_without_counting_twice(tmp_path: Path) -> None:
    path = agreement_file("economic", "http://api", ["grant"])
    assert path is not None and path == agreement_file("economic", "http://api", ["grant"])
    assert path != agreement_file("economic", "http://api", ["another grant"])
    clock = 60.0 * 1_000_000
    minute = int(clock // 60)
    mine = AgreementCalls(path, "run-a", clock=lambda: clock)
    theirs = AgreementCalls(path, "run-b", clock=lambda: clock)
    assert theirs.exchange({minute: 3}, {minute: 3}) == {}
    # a run killed after the cache kept 5 calls of a minute and the ledger only 4: 5, not 9
    assert mine.exchange({minute: 5}, {minute: 5}) == {minute: 3}
    quota = DailyQuota(10, {minute: 4}, clock=lambda: clock, exchange=mine.exchange)
    for m, n in mine.own().items():
        quota.minutes[m] = max(n, quota.minutes.get(m, 0))
    quota.sync()
    assert quota.used() == 8
    assert json.loads(path.read_text()) == {"run-a": {str(minute): 5}, "run-b": {str(minute): 3}}
    quota.take()
    quota.take()
    with pytest.raises(Exception, match="7 by this run, 3 by earlier or other runs"):
        quota.take()
    # calls older than 24 h are forgotten by every run
    later = AgreementCalls(path, "run-c", clock=lambda: clock + 25 * 3600)
    assert later.exchange({}, {}) == {}
    assert json.loads(path.read_text()) == {}


def test_files_of_agreements_unused_for_a_day_are_forgotten() -> None:
    used = agreement_file("economic", "http://api", ["grant"])
    assert used is not None
    old = used.with_name("0" * 32 + ".json")
    old.write_text("{}")
    used.write_text("{}")
    os.utime(old, (0, 1_000_000))
    agreement_file("economic", "http://another", ["grant"])
    assert not old.exists() and used.exists()


def test_a_rollback_the_spent_quota_stopped_finishes_with_a_raised_quota(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After the agreement's quota was raised, `rollback --daily-quota N` finishes a rollback the old quota stopped,
    as `resume --daily-quota N` would a load, and keeps N for the commands after it; `resume --daily-quota`, which
    refuses a run rolled back in part, names that command."""
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    data, ledger = tmp_path / "entries.csv", str(tmp_path / "run.sqlite")
    write_entries(data, 100)
    loading = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", ledger]
    assert main([*loading, "--daily-quota", "40", "--batch-size", "4", "--no-progress"]) == 4
    assert "daily quota of 40 calls reached" in capsys.readouterr().out

    assert main(["rollback", "--ledger", ledger, "--no-progress"]) == 4
    out = capsys.readouterr().out
    assert "stopped: daily quota of 40 calls reached" in out and f"`bulkload rollback --ledger {ledger}`" in out, out
    assert main(["resume", "--ledger", ledger, "--daily-quota", "100000", "--no-progress"]) == 2
    said = capsys.readouterr().err
    assert f"`bulkload rollback --ledger {ledger} --daily-quota 100000`" in said, said

    assert main(["rollback", "--ledger", ledger, "--daily-quota", "100000", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "bulkload rollback economic: complete" in out, out
    stored = Ledger.open(ledger)
    try:
        assert stored.run.settings["daily_quota"] == 100_000  # the commands after it count with it
    finally:
        stored.close()


async def test_a_call_in_flight_at_a_kill_that_the_spent_quota_keeps_from_its_resend_stays_in_doubt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tester t40c: a call in flight at a kill -9 (carried out, its answer lost: `sending`) whose resend with
    its key the spent quota stopped was put back to `pending`, as if it had never left: the resume said its 2 rows
    "not yet sent" (0 in doubt) while the journal held them, and a day later, the quota free and the key long
    forgotten by the API, the next resume sent it as new, voucher 1 twice in the journal. It stays `sending`: in
    doubt, and settled as a call in flight is (its key while the API keeps it, else a look)."""
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    write_entries(data, 4)
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)  # keys forgotten as soon as answered: as a day later
    with anyio.fail_after(30):
        async with serving(app) as origin:
            loading = economic_job(data, origin, ledger, batch_size=2, concurrency=1)
            with monkeypatch.context() as m:
                crash_at_done(m)  # voucher 1's call carried out, the process killed as its answer came
                try:
                    await load(loading, env=CREDS, raise_on_stop=False)
                except* Crash:
                    pass
            assert held(app) == {1: [1, 2]}, held(app)
            stopped = await resume(str(ledger), env=CREDS, daily_quota=stored_calls(ledger), raise_on_stop=False)
            assert stopped.status == "stopped" and "daily quota" in str(stopped.stop_reason), stopped
            assert stopped.in_doubt == 2 and stopped.rows_not_sent == 6, stopped
            with sqlite3.connect(ledger) as db:  # a day later: the quota's calls free, the key older than trusted
                db.execute("UPDATE chunks SET sent_at = sent_at - 86400 WHERE seq = 1")
            again = await resume(str(ledger), env=CREDS, daily_quota=50_000)
    assert {v: len(numbers) for v, numbers in held(app).items()} == {1: 2, 2: 2, 3: 2, 4: 2}, held(app)
    assert again.loaded == 8 and again.in_doubt == 0, again
    assert again.reconcile is not None and again.reconcile.ok and again.reconcile.duplicates_count == 0, again.reconcile
