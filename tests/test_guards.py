"""What must refuse, and what must undo: configuration errors (one clear line, exit 2, nothing sent), a file
loaded twice, two runs on one ledger, and rollback of exactly what a run created."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, write_entries

from bulkload import Job, load, rollback
from bulkload.cli import main
from bulkload.errors import ConfigError
from bulkload.ledger import Ledger, RunInfo
from bulkload.sandbox import SandboxOptions, running

HALO = {"HALO_CLIENT_ID": "guard-client", "HALO_CLIENT_SECRET": "guard-secret"}


def requests_seen(sandbox: SandboxProcess) -> int:
    import urllib.request

    with urllib.request.urlopen(f"{sandbox.root}/_sandbox/stats", timeout=10) as resp:
        return int(json.loads(resp.read())["requests"])


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI; it must exit 2 with one line of explanation and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bulkload: error:") and "Traceback" not in err and "\n" not in err, err
    return err


@pytest.mark.slow
def test_configuration_errors_are_one_line_and_send_nothing(
    tmp_path: Path, sandbox_process: SandboxProcess, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for k, v in {**CREDS, **HALO, "VISMA_CORE_TOKEN": "t", "PAYORCRM_API_KEY": "k", "PAYORCRM_API_SECRET": "s"}.items():
        monkeypatch.setenv(k, v)
    url = sandbox_process.url
    data = tmp_path / "e.csv"
    write_entries(data, 5)
    missing = tmp_path / "missing.csv"
    unreadable = tmp_path / "locked.csv"
    unreadable.write_text("x")
    unreadable.chmod(0)
    cases = [
        (["load", "economic", str(missing), "--base-url", url], "cannot read"),
        (["load", "halopsa", str(data), "--resource", "NopeDetails", "--base-url", url], "no HaloPSA resource"),
        (["load", "visma-core", str(data), "--base-url", url], "column(s)"),
        (["load", "economic", str(data), "--base-url", url, "--concurrency", "0"], "--concurrency"),
        (["load", "payorcrm", str(data), "--base-url", url], "--kind"),
    ]
    if os.geteuid() != 0:  # root reads any file
        cases.append((["load", "economic", str(unreadable), "--base-url", url], "cannot read"))
    for argv, fragment in cases:
        assert fragment in refused(argv, capsys), argv
    monkeypatch.delenv("ECONOMIC_APP_SECRET_TOKEN")
    assert "ECONOMIC_APP_SECRET_TOKEN" in refused(["load", "economic", str(data), "--base-url", url], capsys)
    with pytest.raises(SystemExit) as exit_:  # argparse: an unknown target is a usage error too
        main(["load", "nope", str(data)])
    assert exit_.value.code == 2
    assert requests_seen(sandbox_process) == 0


@pytest.mark.slow
def test_ledgers_that_are_not_this_runs_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    not_a_ledger = tmp_path / "notes.sqlite"
    not_a_ledger.write_bytes(b"not a database" * 200)
    assert "not a bulkload ledger" in refused(["resume", "--ledger", str(not_a_ledger)], capsys)
    other = tmp_path / "old.sqlite"
    Ledger.create(other, RunInfo(target="economic", base_url="http://127.0.0.1:9", files=[])).close()
    with sqlite3.connect(other) as db:
        db.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    assert "another bulkload version" in refused(["reconcile", "--ledger", str(other)], capsys)
    busy = tmp_path / "busy.sqlite"
    held = Ledger.create(busy, RunInfo(target="economic", base_url="http://127.0.0.1:9", files=[]))
    try:  # a second process on the same ledger, while the first holds it
        done = subprocess.run(bulkload_cmd("resume", "--ledger", str(busy)), env=child_env(CREDS),
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        held.close()
    assert done.returncode == 2 and "in use by another bulkload process" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
async def test_a_file_loaded_once_is_refused_the_second_time(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 20)

    def job(name: str, **kw: Any) -> Job:
        return Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / f"{name}.sqlite"),
                   rejects=str(tmp_path / f"{name}.csv"), **kw)

    async with running("economic", SandboxOptions()) as url:
        first = await load(job("first"), env=CREDS)
        with pytest.raises(Exception, match="already loaded") as info:
            await load(job("second"), env=CREDS)
        assert "first.sqlite" in str(info.value) and "--allow-duplicate-load" in str(info.value)
        assert not (tmp_path / "second.sqlite").exists()
        forced = await load(job("third", allow_duplicate_load=True), env=CREDS)
    assert first["loaded"] == forced["loaded"] == 40


ECONOMIC_HEADERS = {"X-AppSecretToken": "a", "X-AgreementGrantToken": "b"}


async def journal_count(url: str) -> int:
    async with aiohttp.ClientSession(headers=ECONOMIC_HEADERS) as s, s.get(url + "/draft-entries/count") as r:
        return int(await r.json())


async def delete_entry(url: str, number: int) -> None:
    """Someone else removes a draft entry (or books it: it leaves the drafts all the same)."""
    async with aiohttp.ClientSession(headers=ECONOMIC_HEADERS) as s, s.delete(f"{url}/draft-entries/{number}") as r:
        assert r.status == 204


def created_ids(ledger: Path) -> list[int]:
    with sqlite3.connect(ledger) as db:
        return [i for (i,) in db.execute("SELECT id FROM created ORDER BY id")]


@pytest.mark.slow
async def test_rollback_removes_exactly_what_the_run_created_and_can_be_run_again(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 60)
    async with running("economic", SandboxOptions()) as url:
        entry = {"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 9000, "date": "2026-11-01",
                 "amount": 1.0, "currency": "DKK", "accountNumber": 1010}
        async with aiohttp.ClientSession(headers=ECONOMIC_HEADERS) as s, s.post(url + "/draft-entries",
                                                                                 json=entry) as r:
            theirs = (await r.json())["entryNumber"]
        job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"),
                  rejects=str(tmp_path / "rejects.csv"))
        report = await load(job, env=CREDS)
        assert report["loaded"] == 120
        # an interrupted rollback: a third of the entries recorded removed, and the last one's DELETE recorded as
        # sent (and carried out) before the process died
        ids = created_ids(tmp_path / "run.sqlite")
        with sqlite3.connect(tmp_path / "run.sqlite") as db:
            db.executemany("INSERT INTO removed VALUES (?, '', 'removed', 0)", [(i,) for i in ids[:40]])
            db.execute("INSERT INTO removed VALUES (?, '', 'removing', 0)", (ids[-1],))
        await delete_entry(url, ids[-1])
        first = await rollback(str(tmp_path / "run.sqlite"), env=CREDS)
        again = await rollback(str(tmp_path / "run.sqlite"), env=CREDS)
        left = await journal_count(url)
        async with aiohttp.ClientSession(headers=ECONOMIC_HEADERS) as s, s.get(f"{url}/draft-entries/{theirs}") as r:
            assert r.status == 200, "rollback removed an entry this run did not create"
    # the 40 recorded removed were not touched (they are still there: the interruption is pretended); the one whose
    # DELETE had been sent answers 404, which the ledger explains
    assert first["status"] == "complete" and first["exit_code"] == 0, first
    assert (first["removed"], first["already_removed"], first["already_removed_before"]) == (79, 1, 40)
    assert first["unexplained"] == [] and first["unsettled"] == [] and first["failed"] == []
    assert (again["removed"], again["requests"], again["exit_code"]) == (0, 0, 0)
    assert left == 1 + 40  # theirs, and the 40 the pretended earlier rollback "removed"


@pytest.mark.slow
async def test_a_404_on_delete_of_an_entry_never_removed_is_unexplained(tmp_path: Path) -> None:
    # before: any 404 counted as "already gone" and the rollback exited 0, while the entry may have been booked
    data = tmp_path / "e.csv"
    write_entries(data, 10)
    async with running("economic", SandboxOptions()) as url:
        await load(Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"),
                       rejects=str(tmp_path / "rejects.csv")), env=CREDS)
        ids = created_ids(tmp_path / "run.sqlite")
        await delete_entry(url, ids[3])
        first = await rollback(str(tmp_path / "run.sqlite"), env=CREDS)
        again = await rollback(str(tmp_path / "run.sqlite"), env=CREDS)
        left = await journal_count(url)
        # not rolled back: loading the file again is refused while the unexplained entry may be in the books
        with pytest.raises(ConfigError, match="already loaded"):
            await load(Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "two.sqlite"),
                           rejects=str(tmp_path / "two.csv")), env=CREDS)
    assert left == 0
    assert (first["removed"], first["already_removed"], first["exit_code"]) == (19, 0, 3)
    assert first["status"] == "unexplained"
    (item,) = first["unexplained"]
    assert item["id"] == ids[3] and item["line"] == 5 and "possibly booked" in item["reason"]
    # run again, it still says so, and sends nothing
    assert (again["unexplained"], again["exit_code"], again["requests"]) == (first["unexplained"], 3, 0)


@pytest.mark.slow
async def test_a_404_after_our_own_delete_lost_its_answer_is_not_unexplained(tmp_path: Path) -> None:
    # a DELETE carried out whose answer is lost is sent again (by aiohttp itself, on a kept-alive connection, or by
    # the dispatcher): its 404 is our own doing
    data = tmp_path / "e.csv"
    write_entries(data, 30)
    async with running("economic", SandboxOptions(drop_rate=0.3, seed=2)) as url:
        await load(Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"),
                       rejects=str(tmp_path / "rejects.csv")), env=CREDS)
        report = await rollback(str(tmp_path / "run.sqlite"), env=CREDS)
        left = await journal_count(url)
    assert left == 0 and report["exit_code"] == 0 and report["unexplained"] == [], report
    assert report["already_removed"] > 0 and report["removed"] + report["already_removed"] == 60


async def wait_for_stats(root: str, ready: Callable[[dict[str, Any]], bool]) -> None:
    async with aiohttp.ClientSession() as s:
        while True:
            async with s.get(root + "/_sandbox/stats") as r:
                if ready(await r.json()):
                    return
            await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_rollback_after_a_kill_with_calls_in_flight_leaves_nothing_in_the_journal(tmp_path: Path) -> None:
    # before: rollback removed what the ledger confirmed and said "complete" while the calls in flight at the kill
    # (up to concurrency x batch entries) stayed in the journal
    data = tmp_path / "e.csv"
    write_entries(data, 240)
    ledger = tmp_path / "run.sqlite"
    with anyio.fail_after(120):
        async with running("economic", SandboxOptions(latency_ms=80)) as url:
            root = url.split("/journalsapi")[0]
            proc = await asyncio.create_subprocess_exec(
                *bulkload_cmd("load", "economic", str(data), "--base-url", url, "--ledger", str(ledger),
                              "--batch-size", "20", "--concurrency", "4", "--no-progress"),
                env=child_env(CREDS), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )
            # 24 calls, 4 at a time: kill once some have landed while others are in flight
            await wait_for_stats(root, lambda st: st["entries"] >= 100 and st["in_flight"] >= 2)
            assert proc.returncode is None, "the load finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            # the server carries out the calls that were in flight: the journal holds entries the ledger never saw
            await wait_for_stats(root, lambda st: st["in_flight"] == 0)
            with sqlite3.connect(ledger) as db:
                (in_flight,) = db.execute("SELECT COUNT(*) FROM chunks WHERE state = 'sending'").fetchone()
            assert in_flight >= 2 and await journal_count(url) > len(created_ids(ledger))
            report = await rollback(str(ledger), env=CREDS)
            left = await journal_count(url)
    assert left == 0
    assert report["status"] == "complete" and report["exit_code"] == 0, report
    assert report["settled"]["replayed"] == in_flight and report["unsettled"] == []


@pytest.mark.slow
async def test_a_call_whose_key_expired_is_looked_up_by_its_vouchers_or_reported_unsettled(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 150)
    ledger = tmp_path / "run.sqlite"
    async with running("economic", SandboxOptions()) as url:
        await load(Job(target="economic", files=[str(data)], base_url=url, ledger=str(ledger),
                       rejects=str(tmp_path / "rejects.csv"), batch_size=100), env=CREDS)
        # as if the run had been killed two hours ago with its three calls in flight (their answers never came
        # back): their keys are older than the hour the API keeps them, so they cannot be replayed
        with sqlite3.connect(ledger) as db:
            (third,) = db.execute("SELECT MIN(id) FROM created WHERE loc BETWEEN 202 AND 301").fetchone()
            db.execute("UPDATE chunks SET state='sending', sent_at=sent_at-7200 WHERE seq IN (1, 2, 3)")
            db.execute("DELETE FROM created")
        await delete_entry(url, third)  # and someone removed an entry of the third call's vouchers
        report = await rollback(str(ledger), env=CREDS)
        left = await journal_count(url)
    # the first two are found by their vouchers above the run's baseline, line for line, and removed; the third
    # cannot be told from someone else's work: reported, its entries left, exit 1
    assert (left, report["removed"], report["exit_code"]) == (99, 200, 1), report
    assert report["status"] == "unsettled" and report["settled"]["looked_up"] == 2
    (item,) = report["unsettled"]
    assert item["lines"] == "202-301" and "reverse" not in item["reason"]


@pytest.mark.slow
async def test_rollback_says_so_where_the_api_cannot_delete(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    data.write_text("caseId,accountingCostType,amount,description,entryDate\n1001,FEE,10.00,x,2026-11-01\n")
    async with running("visma-core", SandboxOptions()) as url:
        await load(Job(target="visma-core", files=[str(data)], base_url=url, ledger=str(tmp_path / "v.sqlite"),
                       rejects=str(tmp_path / "r.csv")), env={"VISMA_CORE_TOKEN": "t"})
        report = await rollback(str(tmp_path / "v.sqlite"), env={"VISMA_CORE_TOKEN": "t"})
    assert report["status"] == "not_supported" and report["exit_code"] == 2 and report["removed"] == 0
    assert "offers no way to delete" in report["reason"]


@pytest.mark.slow
async def test_halopsa_rollback_spares_the_records_it_only_updated(tmp_path: Path) -> None:
    async with running("halopsa", SandboxOptions(window_limit=0)) as url:
        first_file = tmp_path / "XeroDetails.csv"
        first_file.write_text("name,tenant_id\nExisting one,t-1\nExisting two,t-2\n")
        await load(Job(target="halopsa", files=[str(first_file)], base_url=url, ledger=str(tmp_path / "a.sqlite"),
                       rejects=str(tmp_path / "a.csv"), target_options={"match_on": "name"}), env=HALO)
        second = tmp_path / "more" / "XeroDetails.csv"
        second.parent.mkdir()
        second.write_text("name,tenant_id\nExisting one,t-1b\nBrand new,t-3\n")
        report = await load(Job(target="halopsa", files=[str(second)], base_url=url, ledger=str(tmp_path / "b.sqlite"),
                                rejects=str(tmp_path / "b.csv"), target_options={"match_on": "name"}), env=HALO)
        assert report["loaded"] == 2
        undone = await rollback(str(tmp_path / "b.sqlite"), env=HALO)
        async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/records/XeroDetails") as r:
            names = sorted(rec["name"] for rec in await r.json())
    assert undone["removed"] == 1 and names == ["Existing one", "Existing two"]


@pytest.mark.slow
async def test_halopsa_rollback_looks_up_a_call_in_flight_by_its_match_fields(tmp_path: Path) -> None:
    # before: the records of a call whose answer never came were left behind
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name,tenant_id\n" + "".join(f"Tenant {i},t-{i}\n" for i in range(6)))
    ledger = tmp_path / "run.sqlite"
    async with running("halopsa", SandboxOptions(window_limit=0)) as url:
        await load(Job(target="halopsa", files=[str(data)], base_url=url, ledger=str(ledger), batch_size=3,
                       rejects=str(tmp_path / "r.csv"), target_options={"match_on": "name"}), env=HALO)
        with sqlite3.connect(ledger) as db:  # as if killed while the second call was in flight
            db.execute("UPDATE chunks SET state='sending' WHERE seq = 2")
            db.execute("DELETE FROM created WHERE loc >= 5")
        undone = await rollback(str(ledger), env=HALO)
        async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/records/XeroDetails") as r:
            left = await r.json()
    assert left == [] and undone["exit_code"] == 0, undone
    assert (undone["removed"], undone["settled"]["looked_up"]) == (6, 1)

