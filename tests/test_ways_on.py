"""Every refusal names a way on that works, and a legitimate load is not refused (a tester's dead ends): a voucher
corrected in the journal or deleted there by hand, a rollback that met drafts gone some other way, PayorCRM's
customers given again beside their invoices, Visma Core costs set again, a manifest job's duplicate load, a dry
run's buckets. Against the real sandboxes on 127.0.0.1, judged by what they hold."""

from __future__ import annotations

import csv
import json
import os
import shlex
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _pytest.capture import CaptureFixture
from conftest import CREDS, Crash, SandboxProcess, crash_at_done, spawn_sandbox, write_entries

from bulkload import Job, dry_run, load, resume, rollback
from bulkload.cli import main
from bulkload.doubt import way_on
from bulkload.errors import ConfigError, LedgerError
from bulkload.fleet import run_manifest
from bulkload.ledger import Ledger
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

#: every test here is a few dozen calls on loopback
BOUND_S = 60
HEADERS = {"X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "X-AgreementGrantToken": "test-grant"}
ENTRIES = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n"


def voucher(number: int, amount: str) -> str:
    return f"5,1,{number},2026-10-31,{amount},DKK,1010,a\n5,1,{number},2026-10-31,-{amount},DKK,5600,a\n"


VISMA_HEADER = ["caseId", "accountingCostType", "amount", "description", "note", "entryDate", "orderId"]


def write_rows(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def entries_job(data: Path, url: str, ledger: str, **kw: Any) -> Job:
    return Job(target="economic", files=[str(data)], base_url=url, ledger=ledger, **kw)


def reasons(path: str | None) -> list[str]:
    assert path is not None
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["reason"] for row in csv.DictReader(fh)]


async def drafts(url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession(headers=HEADERS) as s, s.get(url + "/draft-entries") as r:
        items: list[dict[str, Any]] = (await r.json())["items"]
        return items


async def amounts(url: str) -> dict[int, list[Decimal]]:
    out: dict[int, list[Decimal]] = {}
    for item in await drafts(url):
        out.setdefault(item["voucherNumber"], []).append(Decimal(str(item["amount"])))
    return {v: sorted(a) for v, a in out.items()}


async def corrected_setup(tmp_path: Path, url: str) -> Path:
    """a.csv (voucher 100 at 100) loaded; b.csv (voucher 100 at 120, voucher 101 new) loaded after it: 100 is
    rejected (the journal holds a.csv's version), 101 loads. Returns b.csv's rejects file."""
    a = write(tmp_path / "a.csv", ENTRIES + voucher(100, "100.00"))
    b = write(tmp_path / "b.csv", ENTRIES + voucher(100, "120.00") + voucher(101, "5.00"))
    first = await load(entries_job(a, url, str(tmp_path / "a.sqlite")), env=CREDS)
    assert first.exit_code == 0
    second = await load(entries_job(b, url, str(tmp_path / "b.sqlite")), env=CREDS)
    assert (second.loaded, second.rejected, second.exit_code) == (2, 2, 1), second
    said = reasons(second.rejects_file)[0]
    assert "correct those drafts in e-conomic to this file's lines" in said, said
    return Path(str(second.rejects_file))


async def test_a_voucher_corrected_in_the_journal_to_the_files_version_counts_as_loaded(tmp_path: Path) -> None:
    # before: the earlier ledger's word (another version) won over what the journal holds: rejected for ever
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            rejects = await corrected_setup(tmp_path, url)
            items = [i for i in await drafts(url) if i["voucherNumber"] == 100]
            for item in items:  # "correct it in the API": the drafts made b.csv's version
                item["amount"] = 120 if item["amount"] > 0 else -120
            async with aiohttp.ClientSession(headers=HEADERS) as s, s.put(url + "/draft-entries/bulk", json=items) as r:
                assert r.status == 200
            # the voucher's lines again (b.csv itself is on record as loaded: it created voucher 101)
            again = await load(entries_job(rejects, url, str(tmp_path / "again.sqlite")), env=CREDS)
            held = await amounts(url)
    assert (again.skipped, again.rejected, again.loaded, again.exit_code) == (2, 0, 0, 0), again
    assert "voucher 100 (journal 1) was loaded by an earlier run" in again.groups.skipped_reasons[0]
    assert held == {100: [Decimal(-120), Decimal(120)], 101: [Decimal(-5), Decimal(5)]}


async def test_drafts_deleted_by_hand_are_refused_as_possibly_booked_with_a_way_on_that_works(tmp_path: Path) -> None:
    # before: every suggested command led to another (the rejected voucher again; a rollback exiting 3 and staying
    # rolling back for ever; then `load` and `resume` refused as "not finished")
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            await corrected_setup(tmp_path, url)
            async with aiohttp.ClientSession(headers=HEADERS) as s:
                for item in await drafts(url):
                    if item["voucherNumber"] == 100:
                        async with s.delete(f"{url}/draft-entries/{item['entryNumber']}") as r:
                            assert r.status == 204
            # the journal no longer holds voucher 100: booked, or deleted: never created again without the user's word
            c = write(tmp_path / "c.csv", ENTRIES + voucher(100, "120.00"))
            refused = await load(entries_job(c, url, str(tmp_path / "c.sqlite")), env=CREDS)
            undone = await rollback(str(tmp_path / "a.sqlite"), env=CREDS)
            again = await rollback(str(tmp_path / "a.sqlite"), env=CREDS)
            with pytest.raises(LedgerError, match="was rolled back: .* load the files again as a new run"):
                await resume(str(tmp_path / "a.sqlite"), env=CREDS)
            # rolled back: its voucher whose drafts were gone may be in the books, and is still not created again
            after = await load(entries_job(c, url, str(tmp_path / "c2.sqlite")), env=CREDS)
            held_before = await amounts(url)
            # the way on both name: the rejects file, with --reload-gone
            fixed = await load(entries_job(Path(str(after.rejects_file)), url, "", reload_gone=True), env=CREDS)
            held = await amounts(url)
    for report in (refused, after):
        assert (report.rejected, report.loaded, report.exit_code) == (2, 0, 1), report
        said = reasons(report.rejects_file)[0]
        assert "and the API no longer holds it: possibly booked" in said, said
        assert "load this run's rejects file (its lines) with --reload-gone" in said, said
    assert (undone.status, undone.exit_code, undone.unexplained_count) == ("unexplained", 3, 2), undone
    assert "rolled back: everything the run created that the API still held is removed" in str(undone.reason)
    assert "possibly booked" in str(undone.reason) and "--reload-gone" in str(undone.reason)
    assert (again.exit_code, again.requests) == (3, 0), again  # the same said again, nothing sent
    opened = Ledger.open(str(tmp_path / "a.sqlite"))
    try:
        assert opened.run.status == "rolled_back"
    finally:
        opened.close()
    assert held_before == {101: [Decimal(-5), Decimal(5)]}
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (2, 0, 0), fixed
    assert held == {100: [Decimal(-120), Decimal(120)], 101: [Decimal(-5), Decimal(5)]}


async def test_a_rolled_back_run_still_counts_for_its_vouchers_that_were_gone(tmp_path: Path) -> None:
    # a rollback that found drafts gone (possibly booked) finishes; the same file loaded again creates what the
    # rollback removed, and not what may be in the books
    data = write(tmp_path / "a.csv", ENTRIES + voucher(1, "10.00") + voucher(2, "20.00"))
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            await load(entries_job(data, url, str(tmp_path / "a.sqlite")), env=CREDS)
            async with aiohttp.ClientSession(headers=HEADERS) as s:
                for item in await drafts(url):
                    if item["voucherNumber"] == 2:
                        async with s.delete(f"{url}/draft-entries/{item['entryNumber']}") as r:
                            assert r.status == 204
            undone = await rollback(str(tmp_path / "a.sqlite"), env=CREDS)
            again = await load(entries_job(data, url, str(tmp_path / "again.sqlite")), env=CREDS)
            held = await amounts(url)
    assert (undone.removed, undone.unexplained_count, undone.exit_code) == (2, 2, 3), undone
    assert (again.loaded, again.skipped, again.exit_code) == (2, 2, 0), again
    assert "voucher 2 (journal 1) was loaded by an earlier run" in again.groups.skipped_reasons[0]
    assert held == {1: [Decimal(-10), Decimal(10)]}


async def test_reload_gone_is_refused_where_the_api_is_not_read_back(tmp_path: Path) -> None:
    data = write(tmp_path / "c.csv", "customerno,emailaddress1\nC-1,a@example.com\n")
    job = Job(
        target="payorcrm",
        files=[str(data)],
        base_url="http://127.0.0.1:9",
        target_options={"kind": "customers"},
        reload_gone=True,
    )
    with pytest.raises(ConfigError, match="--reload-gone: bulkload cannot read back what payorcrm holds"):
        await load(job, env={"PAYORCRM_API_KEY": "test-key", "PAYORCRM_API_SECRET": "test-secret"})


# --- PayorCRM ------------------------------------------------------------------------------------------------------

PAYORCRM = {"PAYORCRM_API_KEY": "test-key", "PAYORCRM_API_SECRET": "test-secret"}
INVOICES = "customerNumber,invoiceNumber,invoiceAmount,currency\n"


def payorcrm_job(url: str, ledger: Path, files: list[str] | None = None, **options: Any) -> Job:
    return Job(target="payorcrm", files=files or [], base_url=url, ledger=str(ledger), target_options=options)


async def uploaded(url: str, kind: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/{kind}") as r:
        body: list[dict[str, Any]] = await r.json()
        return body


async def test_customers_loaded_before_may_be_given_again_beside_their_invoices(tmp_path: Path) -> None:
    # before: the documented flow (--customers --invoices --require-customers) was refused as a load twice, and
    # the invoices alone were all rejected as "not in the customers file"
    cust = write(tmp_path / "cust.csv", "customerno,emailaddress1\nC-1,a@example.com\nC-2,b@example.com\n")
    inv = write(tmp_path / "inv.csv", INVOICES + "C-1,I-1,1000,DKK\nC-2,I-2,2000,DKK\nC-9,I-9,900,DKK\n")
    with anyio.fail_after(BOUND_S):
        async with running("payorcrm", SandboxOptions()) as url:
            first = await load(payorcrm_job(url, tmp_path / "c.sqlite", [str(cust)], kind="customers"), env=PAYORCRM)
            alone = await load(
                payorcrm_job(url, tmp_path / "i.sqlite", [str(inv)], kind="invoices", require_customers=True),
                env=PAYORCRM,
            )
            both = await load(
                payorcrm_job(
                    url, tmp_path / "both.sqlite", customers=str(cust), invoices=str(inv), require_customers=True
                ),
                env=PAYORCRM,
            )
            customers, invoices = await uploaded(url, "customers"), await uploaded(url, "invoices")
    assert first.loaded == 2
    assert alone.rejected == 3 and "give the file that has it with --customers" in reasons(alone.rejects_file)[0]
    # the customers skipped as loaded (not uploaded again), their invoices loaded, C-9's rejected
    assert (both.skipped, both.loaded, both.rejected, both.exit_code) == (2, 2, 1, 1), both
    assert sorted(c["customerno"] for c in customers) == ["C-1", "C-2"]
    assert sorted(i["invoiceNumber"] for i in invoices) == ["I-1", "I-2"]


async def test_a_customers_file_of_a_run_not_finished_is_still_refused(tmp_path: Path) -> None:
    cust = write(tmp_path / "cust.csv", "customerno,emailaddress1\nC-1,a@example.com\n")
    inv = write(tmp_path / "inv.csv", INVOICES + "C-1,I-1,1000,DKK\n")
    with anyio.fail_after(BOUND_S):
        async with running("payorcrm", SandboxOptions()) as url:
            await load(payorcrm_job(url, tmp_path / "c.sqlite", [str(cust)], kind="customers"), env=PAYORCRM)
            ledger = Ledger.open(str(tmp_path / "c.sqlite"))
            try:
                ledger.set_status("stopped")  # as a run killed after its first call leaves it
            finally:
                ledger.close()
            with pytest.raises(ConfigError, match="already loaded .* continue it with `bulkload resume"):
                await load(
                    payorcrm_job(url, tmp_path / "both.sqlite", customers=str(cust), invoices=str(inv)), env=PAYORCRM
                )
            assert len(await uploaded(url, "customers")) == 1


async def test_a_corrected_invoice_is_not_sent_back_to_loading_the_file_again(tmp_path: Path) -> None:
    # before: "correct it in the API, then load this file again", and loading it again was refused as a load twice
    cust = write(tmp_path / "cust.csv", "customerno,emailaddress1\nC-1,a@example.com\n")
    first = write(tmp_path / "inv.csv", INVOICES + "C-1,I-1,1000,DKK\n")
    fixed = write(tmp_path / "inv2.csv", INVOICES + "C-1,I-1,1200,DKK\nC-1,I-2,50,DKK\n")
    with anyio.fail_after(BOUND_S):
        async with running("payorcrm", SandboxOptions()) as url:
            await load(payorcrm_job(url, tmp_path / "c.sqlite", [str(cust)], kind="customers"), env=PAYORCRM)
            await load(payorcrm_job(url, tmp_path / "1.sqlite", [str(first)], kind="invoices"), env=PAYORCRM)
            two = await load(payorcrm_job(url, tmp_path / "2.sqlite", [str(fixed)], kind="invoices"), env=PAYORCRM)
    said = reasons(two.rejects_file)[0]
    assert (two.loaded, two.rejected) == (1, 1), two
    assert "load this file again" not in said and "loading this file again changes nothing for it" in said, said
    assert "correct it in the API by hand" in said, said


# --- Visma Core ----------------------------------------------------------------------------------------------------


async def test_a_costs_file_set_again_is_not_refused_as_creating_its_records_again(tmp_path: Path) -> None:
    # before: "loading it again would create its records again": costs are PATCHes of fixed values, nothing created
    data = write(
        tmp_path / "c.csv",
        "caseId,type,costId,IsOptional,Amount,Comment\n1500,Buyer,150003,,499.50,justert\n",
    )
    env = {"VISMA_CORE_TOKEN": "test-core-token"}
    with anyio.fail_after(BOUND_S):
        async with running("visma-core", SandboxOptions()) as url:
            jobs = [
                Job(
                    target="visma-core",
                    files=[str(data)],
                    base_url=url,
                    ledger=str(tmp_path / f"{n}.sqlite"),
                    target_options={"kind": "costs"},
                )
                for n in (1, 2)
            ]
            first = await load(jobs[0], env=env)
            again = await load(jobs[1], env=env)
    assert (first.loaded, again.loaded, again.exit_code) == (1, 1, 0), again


@pytest.mark.parametrize("target", ["visma-core", "economic"])
async def test_an_input_changed_or_gone_before_resume_names_rollback_only_where_the_api_can_delete(
    tmp_path: Path, target: str
) -> None:
    """A tester: "resume or roll the run back, then load the changed file" to a Visma Core run, whose rollback
    answers not_supported (exit 2). The way on names rollback only where the API deletes (e-conomic)."""
    if target == "visma-core":
        data = write_rows(tmp_path / "v.csv", VISMA_HEADER, [[1500, "FEE", "10.00", "fee", "", "2026-11-02", ""]])
        env = {"VISMA_CORE_TOKEN": "test-core-token"}
    else:
        data, env = write(tmp_path / "e.csv", ENTRIES + voucher(100, "10.00")), CREDS
    ledger = str(tmp_path / "run.sqlite")
    with anyio.fail_after(BOUND_S):
        async with running(target, SandboxOptions()) as url:
            assert (await load(Job(target=target, files=[str(data)], base_url=url, ledger=ledger), env=env)).loaded
            with data.open("a", encoding="utf-8") as fh:
                fh.write("\n")
            with pytest.raises(LedgerError, match="changed since the run started") as changed:
                await resume(ledger, env=env)
            data.unlink()
            with pytest.raises(LedgerError, match="is gone; resume needs the same files") as gone:
                await resume(ledger, env=env)
            undone = await rollback(ledger, env=env)
    said = [str(changed.value), str(gone.value)]
    if target == "visma-core":
        assert undone.status == "not_supported"  # so the way on must not offer it
        assert not any("roll" in s for s in said), said
        # its FEE row is of no group: the changed file loaded whole would create it again (found by a tester, in a
        # manifest's words): only the rows added go
        assert f"continue the run with `bulkload resume --ledger {ledger}`, then load only its rows added" in said[0]
        assert "loaded whole, it would be created again" in said[0] and "load the changed file" not in said[0], said
    else:  # each way on a command to paste (found by a tester: "resume or roll the run back" named none)
        assert f"continue the run with `bulkload resume --ledger {ledger}`, then load the changed file" in said[0]
        assert f"or roll the run back (`bulkload rollback --ledger {ledger}`), then load" in said[0], said
        assert said[1].endswith("then resume it, or roll it back"), said


@pytest.mark.parametrize("in_flight", [False, True])
async def test_an_input_moved_with_its_ledger_is_named_at_its_path_and_found_beside_the_ledger_never_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_flight: bool
) -> None:
    # a tester moved a stopped run's folder (input and ledger): resume said the input "is gone ... put the file back
    # as it was ... or roll it back", with the very file beside the ledger, and a rollback needing it as much
    folder = tmp_path / "data"
    folder.mkdir()
    data = write(folder / "e.csv", ENTRIES + "".join(voucher(n, "10.00") for n in range(1, 9)))
    ledger = str(folder / "run.sqlite")
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            job = entries_job(data, url, ledger, daily_quota=4, batch_size=2)
            with monkeypatch.context() as m:
                if in_flight:
                    crash_at_done(m)
                try:
                    assert (await load(job, env=CREDS, raise_on_stop=False)).status == "stopped"
                except* Crash:
                    assert in_flight
            (tmp_path / "data").rename(tmp_path / "moved")
            with pytest.raises(LedgerError) as gone:
                await resume(str(tmp_path / "moved" / "run.sqlite"), env=CREDS)
    said = str(gone.value)
    assert f"the run's input {data} is gone; resume needs the same files at exactly the paths" in said, said
    assert f"{tmp_path / 'moved' / 'e.csv'} beside the ledger holds the same content" in said, said
    assert f"move it back to {data}, then resume it" in said, said
    # a rollback settles a call in flight by rebuilding it from the input: where one is, it would fail the same way
    assert ("roll" in said) is not in_flight, said


# --- a manifest's words, a dry run's buckets -----------------------------------------------------------------------


async def test_a_manifest_job_refused_as_a_load_twice_is_told_the_manifests_way_on(tmp_path: Path) -> None:
    # before: "pass --allow-duplicate-load" and "bulkload resume", which a manifest does not take
    data = write(tmp_path / "e.csv", ENTRIES + voucher(1, "10.00"))
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            await load(entries_job(data, url, str(tmp_path / "cli.sqlite")), env=CREDS)
            path = write(
                tmp_path / "m.toml",
                f'[[job]]\nname = "again"\ntarget = "economic"\nbase_url = "{url}"\nfiles = ["{data}"]\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
            )
            env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
            fleet = await run_manifest(read_manifest(str(path)), env=env)
    (job,) = fleet.jobs
    said = str(job.error)
    assert job.status == "refused" and "was already loaded" in said, job
    assert "set allow_duplicate_load = true in job 'again'" in said and "--allow-duplicate-load" not in said, said
    # not this manifest's way on, which would not continue that run (before: `bulkload run MANIFEST --resume` beside
    # it); and as that run finished, nothing of it to continue (s22: "If that run has not finished, continue it …")
    assert f"ledger {tmp_path / 'cli.sqlite'}): " in said and "That run finished; to create its records" in said, said
    assert "`bulkload run" not in said and "continue" not in said, said


def test_a_dry_runs_buckets_add_up_to_the_rows_read(tmp_path: Path) -> None:
    # before: skipped 2 beside would_load 2 for a file of 2 rows
    data = write(tmp_path / "e.csv", ENTRIES + voucher(1, "10.00") + "5,1,2,2026-10-31,x,DKK,1010,a\n")
    report = dry_run(Job(target="economic", files=[str(data)], report=str(tmp_path / "r.json")))
    written = json.loads((tmp_path / "r.dry-run.json").read_text())
    for r in (written, {k: getattr(report, k) for k in written if hasattr(report, k)}):
        assert (r["rows_read"], r["would_load"], r["rejected"], r["skipped"], r["loaded"]) == (3, 2, 1, 0, 0), r
        assert r["rows_read"] == r["would_load"] + r["rejected"] + r["in_doubt"] + r["skipped"]


# --- a run whose rollback stopped part way ---------------------------------------------------------------------------


def test_a_load_meeting_a_rollback_stopped_part_way_is_told_to_finish_the_rollback(
    tmp_path: Path, sandbox_process: SandboxProcess, monkeypatch: pytest.MonkeyPatch, capsys: CaptureFixture[str]
) -> None:
    # before: "continue it with `bulkload resume --ledger …`" and "finish it first (`bulkload resume …`)", which
    # refuse a run rolled back in part, pointing back to rollback
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    data, fixed, ledger = tmp_path / "e.csv", tmp_path / "fixed.csv", str(tmp_path / "run.sqlite")
    write_entries(data, 60)
    write_entries(fixed, 60, seed=2)  # the same vouchers, other amounts: a corrected file
    url = sandbox_process.url

    def cli(*args: str) -> tuple[int, str]:
        code = main([*args, "--no-progress"])
        out = capsys.readouterr()
        return code, out.out + out.err

    assert (
        cli(
            "load",
            "economic",
            str(data),
            "--base-url",
            url,
            "--ledger",
            ledger,
            "--daily-quota",
            "30",
            "--batch-size",
            "2",
        )[0]
        == 4
    )
    code, said = cli("rollback", "--ledger", ledger)
    assert code == 4 and "daily quota of 30 calls reached" in said, said
    rollback_cmd = f"`bulkload rollback --ledger {ledger}`"
    for given, ledger_again in ((data, "again.sqlite"), (fixed, "fixed.sqlite")):
        again = ["load", "economic", str(given), "--base-url", url, "--ledger", str(tmp_path / ledger_again)]
        code, said = cli(*again)
        assert code == 2 and rollback_cmd in said and "bulkload resume" not in said, said
    code, said = cli("rollback", "--ledger", ledger, "--daily-quota", "100000")
    assert code == 0, said
    # the way named works: once rolled back, the file loads as a new run
    code, said = cli("load", "economic", str(data), "--base-url", url, "--ledger", str(tmp_path / "again.sqlite"))
    assert code == 0 and "loaded" in said, said


def test_a_ledger_of_a_run_of_the_same_file_offers_a_load_again_only_once_it_is_rolled_back(
    tmp_path: Path, sandbox_process: SandboxProcess, monkeypatch: pytest.MonkeyPatch, capsys: CaptureFixture[str]
) -> None:
    """A tester's command given twice. Before, the refusal offered the command that loads the file again as a new
    run beside the first: pasted, refused as loaded, pointing to --allow-duplicate-load, which creates its vouchers
    again; and it kept `--report rep.json`, the first run's report. Now the refusal says the run loaded the file
    and names rollback; once rolled back it gives the command, every output numbered, which loads the file once."""
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "e.csv", ENTRIES + voucher(1, "10.00") + voucher(2, "20.00"))
    words = ["load", "economic", "e.csv", "--base-url", sandbox_process.url, "--ledger", "L.sqlite"]
    words += ["--rejects", "out/rej.csv", "--report", "rep.json", "--no-progress", "-q"]

    def cli(*args: str) -> tuple[int, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out + out.err

    assert cli(*words)[0] == 0
    report = (tmp_path / "rep.json").read_bytes()
    code, said = cli(*words)
    rollback_cmd = f"`bulkload rollback --ledger {tmp_path / 'L.sqlite'}`"
    assert code == 2 and "That run loaded these files" in said and rollback_cmd in said, said
    assert "bulkload load" not in said and "another --ledger" not in said, said
    assert cli("rollback", "--ledger", "L.sqlite", "--no-progress")[0] == 0
    code, said = cli(*words)
    assert code == 2, said
    again = said.split("to load its files again as a new run, beside that run's files: `", 1)[1].split("`")[0]
    assert shlex.split(again)[-6:] == ["--ledger", "L.2.sqlite", "--rejects", "out/rej.2.csv", "--report", "rep.2.json"]
    code, said = cli(*shlex.split(again)[1:])
    assert code == 0, said
    assert (tmp_path / "rep.json").read_bytes() == report  # the first run's report as it wrote it
    assert json.loads((tmp_path / "rep.2.json").read_text())["loaded"] == 4
    assert sorted(v["voucherNumber"] for v in anyio.run(drafts, sandbox_process.url)) == [1, 1, 2, 2]


async def test_a_manifest_job_whose_run_was_rolled_back_is_told_a_way_that_works(tmp_path: Path) -> None:
    # before: "holds a run that did not finish: `bulkload run MANIFEST --resume` continues it", and --resume was
    # refused: "load the files again as a new run", which a job's one ledger cannot
    data = write(tmp_path / "e.csv", ENTRIES + voucher(1, "10.00") + voucher(2, "20.00"))
    env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
    (tmp_path / "my jobs").mkdir()  # its ledger's path too: quoted as a shell reads it back
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            path = write(
                tmp_path / "my jobs" / "m.toml",
                f'[[job]]\nname = "m"\ntarget = "economic"\nbase_url = "{url}"\nfiles = ["{data}"]\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
            )
            manifest = read_manifest(str(path))
            first = await run_manifest(manifest, env=env)
            (mjob,) = manifest.jobs
            assert first.jobs[0].status == "complete", first
            undone = await rollback(mjob.ledger_path, env=CREDS)
            assert undone.exit_code == 0, undone
            refused = [await run_manifest(manifest, env=env, resume=resume) for resume in (False, True)]
            for fleet in refused:
                said = str(fleet.jobs[0].error)
                assert fleet.jobs[0].status == "rolled back" and "was rolled back" in said, said
                assert f"move {shlex.quote(mjob.ledger_path)} aside" in said, said
                assert "--resume continues it" not in said and f"(`bulkload run {shlex.quote(str(path))}`)" in said
            os.rename(mjob.ledger_path, mjob.ledger_path + ".rolled-back")
            again = await run_manifest(manifest, env=env)
            held = await amounts(url)
    assert again.jobs[0].status == "complete", again
    assert held == {1: [Decimal(-10), Decimal(10)], 2: [Decimal(-20), Decimal(20)]}


async def test_a_manifest_job_meeting_a_rollback_stopped_part_way_is_told_the_manifests_way_on(tmp_path: Path) -> None:
    # before: "finish it first (`bulkload resume …`) …, then load this file again": resume refuses a run rolled back
    # in part, and a manifest job is not loaded by `bulkload load`
    data, fixed, ledger = tmp_path / "e.csv", tmp_path / "fixed.csv", str(tmp_path / "run.sqlite")
    write_entries(data, 40)
    write_entries(fixed, 40, seed=2)  # the same vouchers, other amounts
    env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            stopped = await load(
                entries_job(data, url, ledger, daily_quota=20, batch_size=2), env=CREDS, raise_on_stop=False
            )
            assert stopped.exit_code == 4, stopped
            assert (await rollback(ledger, env=CREDS)).exit_code == 4
            path = write(
                tmp_path / "m.toml",
                f'[[job]]\nname = "m"\ntarget = "economic"\nbase_url = "{url}"\nfiles = ["{fixed}"]\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
            )
            fleet = await run_manifest(read_manifest(str(path)), env=env)
    said = str(fleet.jobs[0].error)
    assert fleet.jobs[0].status == "refused" and f"`bulkload rollback --ledger {ledger}`" in said, said
    assert f"run the manifest again (`bulkload run {path} --resume`)" in said and "bulkload resume" not in said, said


# --- rows in doubt: what settles them, per API ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["visma-core", "payorcrm"])
def test_rows_in_doubt_at_an_api_resume_cannot_settle_are_not_sent_to_resume(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch, capsys: CaptureFixture[str]
) -> None:
    # before: reconcile said "`bulkload resume` settles them", and resume left every one in doubt (exit 1 again);
    # the only other way, --resend-in-doubt, was named without what it does to a call that did arrive
    monkeypatch.setenv("VISMA_CORE_TOKEN", "test-core-token")
    monkeypatch.setenv("PAYORCRM_API_KEY", "test-key")
    monkeypatch.setenv("PAYORCRM_API_SECRET", "test-secret")
    if target == "visma-core":
        header, options = VISMA_HEADER, []
        rows = [[3000 + i, "OUTLAY", f"{i}.25", f"line {i}", "", "2026-11-03", f"O{i}"] for i in range(1, 41)]
        extra = [4000, "OUTLAY", "1.00", "one more", "", "2026-11-03", "O999"]
    else:
        header, options = ["customerno", "emailaddress1", "companyname"], ["--kind", "customers"]
        rows = [[f"C{i}", f"c{i}@example.com", f"Co {i}"] for i in range(200)]
        extra = ["C999", "c999@example.com", "Co 999"]
    data = write_rows(tmp_path / "e.csv", header, rows)
    ledger = str(tmp_path / "run.sqlite")
    sandbox = spawn_sandbox("--drop-rate", "0.3", "--seed", "5", target=target)
    try:
        loading = ["load", target, str(data), *options, "--base-url", sandbox.url, "--ledger", ledger]
        quiet = ["--no-progress"]
        commands = [
            [*loading, "--batch-size", "10", *quiet],
            ["reconcile", "--ledger", ledger],
            ["resume", "--ledger", ledger, *quiet],
        ]
        said = []
        for args, expected in zip(commands, (1, 1, 1)):
            code = main(args)
            out = capsys.readouterr()
            assert code == expected, out  # the load's and the resume's rows in doubt: resume does not settle them
            said.append(out.out)
        # a later load of the rows (one more beside them) leaves them in doubt too, and says where they settle
        more = write_rows(tmp_path / "more.csv", header, [*rows, extra])
        later = ["load", target, str(more), *options, "--base-url", sandbox.url, "--ledger", str(tmp_path / "l.sqlite")]
        assert main([*later, "--batch-size", "10", *quiet]) == 1
        (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("rows in doubt: ")]
        with open(tmp_path / "more.csv.in_doubt.csv", newline="", encoding="utf-8") as fh:
            reasons = {row["last_error"] for row in csv.DictReader(fh)}
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    assert "in doubt in an earlier run (their reason in the in-doubt file names its ledger" in line, line
    for out in said:
        (line,) = [line for line in out.splitlines() if line.startswith("rows in doubt: ")]
        assert "settles them" not in line and "`bulkload resume` cannot settle them" in line, line
        assert "Check the API for these rows" in line, line
        assert f"`bulkload resume --ledger {ledger} --resend-in-doubt`" in line, line
        assert "one the API did carry out is then carried out twice" in line, line
    reason = sorted(r for r in reasons if "earlier run" in r)[0]
    assert "settled in that run, not by loading this file again: `bulkload resume` cannot settle them" in reason
    assert f"`bulkload resume --ledger {ledger} --resend-in-doubt`" in reason, reason


def test_what_settles_rows_in_doubt_is_what_resume_does_at_each_api() -> None:
    """The words follow the API and the record kind: replayed with a key (e-conomic), looked up (HaloPSA creates,
    Visma Core costs), or neither (Visma Core entries, PayorCRM), never --resend-in-doubt without its cost."""
    cases = {
        ("economic", ""): "settles those whose idempotency key the API still keeps",
        ("halopsa", "XeroDetails"): "looks them up in the API",
        ("visma-core", "costs"): "looks them up in the API",
        ("visma-core", "entries"): "`bulkload resume` cannot settle them",
        ("payorcrm", "invoices"): "`bulkload resume` cannot settle them",
    }
    for (target, kind), said in cases.items():
        options = {"resource": kind} if target == "halopsa" else {"kind": kind} if kind else {}
        job = Job(target=target, files=["f.csv"], base_url="http://127.0.0.1:1", target_options=options)
        text = way_on(job.make_target(), range(len(job.files)), "/runs/l.sqlite")
        assert said in text, (target, kind, text)
        assert "carried out twice" in text.split("--resend-in-doubt", 1)[1], text
        # found by a tester: "sends every call still in doubt again" where an invoice whose line the API named is
        # rejected whole instead, never sent with that line
        assert "never sent again with that line: it is rejected whole" in text, text
        # found by a tester: e-conomic's ended "… and is sent anew only after", mid-sentence
        assert not text.endswith((" after", " before", " only", " and", " the")), text


async def test_a_manifest_jobs_run_resumed_or_reconciled_by_hand_is_told_the_manifests_way_on(tmp_path: Path) -> None:
    """A tester's: `bulkload resume --ledger` run by hand on a manifest job's ledger, stopped again, said "continue
    with `bulkload resume --ledger …`", and `bulkload reconcile --ledger` of it named `bulkload resume --ledger` for
    its rows in doubt: neither knows the manifest's credential variables. Its ledger says which manifest's job it
    is (Job.manifest_job): both name `bulkload run MANIFEST --resume`, in the report file too."""
    from bulkload.runner import reconcile

    data = write(tmp_path / "e.csv", ENTRIES + "".join(voucher(n, "10.00") for n in range(1, 40)))
    env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
    (tmp_path / "my jobs").mkdir()  # quoted as a shell reads it back
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(drop_rate=1.0)) as url:  # every answer lost: in doubt
            path = write(
                tmp_path / "my jobs" / "m.toml",
                f'[[job]]\nname = "m"\ntarget = "economic"\nbase_url = "{url}"\nfiles = ["{data}"]\n'
                "batch_size = 10\nconcurrency = 1\nattempts = 1\n"
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
            )
            manifest = read_manifest(str(path))
            first = await run_manifest(manifest, env=env)
            assert first.jobs[0].status == "stopped", first
            (mjob,) = manifest.jobs
            again = await resume(mjob.ledger_path, env=CREDS, raise_on_stop=False)
            checked = await reconcile(mjob.ledger_path, env=CREDS)
    ours, theirs = f"`bulkload run {shlex.quote(str(path))} --resume`", "`bulkload resume --ledger"
    stored = json.loads(Path(mjob.report_path).read_text())["stop_reason"]
    for said in (again.stop_reason, stored, again.in_doubt_way_on, checked.in_doubt_way_on):
        assert isinstance(said, str) and ours in said and f"{theirs} {shlex.quote(mjob.ledger_path)}`" not in said, said
    assert checked.run_finished is False and checked.in_doubt, checked
