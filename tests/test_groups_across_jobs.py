"""A voucher cut between the files of two jobs of one agreement of a manifest is refused before the first call, as
one with lines in two files of one job is: each job would load its part as the whole voucher (tester t36e: voucher
5003's first 2 of 4 lines in the journal, out of balance, exit 0; the other 2 rejected by the later job). A later
export that repeats a voucher whole still loads it once, the later job skipping it. Judged by what the sandbox
holds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import CREDS, sandbox_read, spawn_sandbox
from test_ways_on import drafts

from bulkload.across_jobs import check_groups
from bulkload.cli import main
from bulkload.errors import ConfigError
from bulkload.manifest import read_manifest

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text"


def lines(voucher: int, *amounts: str) -> list[str]:
    return [f"5,1,{voucher},2026-11-30,{a},DKK,{1010 if a[0] != '-' else 5600},v{voucher}" for a in amounts]


def manifest(folder: Path, url: str, a: list[str], b: list[str]) -> Path:
    (folder / "a.csv").write_text("\n".join([HEADER, *a]) + "\n", encoding="utf-8")
    (folder / "b.csv").write_text("\n".join([HEADER, *b]) + "\n", encoding="utf-8")
    creds = ", ".join(f'{k} = "{k}"' for k in CREDS)
    path = folder / "m.toml"
    path.write_text(
        f'[defaults]\nagreement = "c2"\ntarget = "economic"\nbase_url = "{url}"\n'
        f"credentials = {{env = {{{creds}}}}}\n"
        '[[job]]\nname = "a"\nfiles = ["a.csv"]\n[[job]]\nname = "b"\nfiles = ["b.csv"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def sandbox_url(monkeypatch: pytest.MonkeyPatch) -> object:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    sandbox = spawn_sandbox()
    try:
        yield sandbox.url
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)


def held(url: str) -> list[tuple[int, str]]:
    """The (voucher, amount) of every draft entry the sandbox holds, by the API's own listing."""
    return sorted((e["voucherNumber"], str(e["amount"])) for e in asyncio.run(drafts(url)))


def test_a_voucher_cut_between_two_jobs_refuses_the_manifest(
    tmp_path: Path, sandbox_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    a = lines(1, "100.00", "-100.00") + lines(2, "300.00", "-100.00")
    b = lines(2, "-100.00", "-100.00") + lines(3, "50.00", "-50.00")
    assert main(["run", str(manifest(tmp_path, sandbox_url, a, b)), "-q"]) == 2
    err = capsys.readouterr().err
    assert "voucher 2 (journal 1) has lines in jobs 'a' (" in err and "a.csv line 4) and 'b' (" in err, err
    assert "b.csv line 2) of agreement 'c2', not the same lines in each" in err and "nothing was sent" in err, err
    assert held(sandbox_url) == []


def test_a_voucher_a_later_job_repeats_whole_is_loaded_once(tmp_path: Path, sandbox_url: str) -> None:
    a = lines(1, "100.00", "-100.00") + lines(2, "300.00", "-300.00")
    b = lines(2, "300.00", "-300.00") + lines(3, "50.00", "-50.00")
    assert main(["run", str(manifest(tmp_path, sandbox_url, a, b)), "-q"]) == 0
    assert [v for v, _ in held(sandbox_url)] == [1, 1, 2, 2, 3, 3]


def test_a_voucher_cut_between_two_queued_jobs_is_refused_before_it_is_queued(
    tmp_path: Path, sandbox_url: str, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bulkload run MANIFEST --queue URL` checks the manifest as `bulkload run` does: no job is queued."""
    a = lines(1, "100.00", "-100.00") + lines(2, "300.00", "-100.00")
    b = lines(2, "-100.00", "-100.00")
    path = manifest(tmp_path, sandbox_url, a, b)
    assert main(["run", str(path), "--queue", postgres_url]) == 2
    assert "voucher 2 (journal 1) has lines in jobs 'a' (" in capsys.readouterr().err
    capsys.readouterr()
    main(["status", "--queue", postgres_url])
    assert "a.csv" not in capsys.readouterr().out  # nothing of the manifest was queued


def test_a_visma_core_order_cut_between_two_jobs_refuses_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """t36e: order O-1's 4 OUTLAY lines (merged into one entry) cut 2 and 2: the first job booked one entry of part
    of the order's amount, exit 0, no word of it (Visma Core has no balance to warn of)."""
    monkeypatch.setenv("VISMA_CORE_TOKEN", "t")
    head = "caseId,accountingCostType,amount,description,entryDate,orderId"
    a = [head, "1446,OUTLAY,100.00,a,2026-11-02,O-1", "1446,OUTLAY,200.00,b,2026-11-02,O-1"]
    b = [head, "1446,OUTLAY,300.00,c,2026-11-02,O-1", "1446,OUTLAY,400.00,d,2026-11-02,O-1"]
    (tmp_path / "a.csv").write_text("\n".join(a) + "\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("\n".join(b) + "\n", encoding="utf-8")
    sandbox = spawn_sandbox(target="visma-core")
    try:
        (tmp_path / "m.toml").write_text(
            f'[defaults]\nagreement = "broker"\ntarget = "visma-core"\nbase_url = "{sandbox.url}"\n'
            'credentials = {env = {VISMA_CORE_TOKEN = "VISMA_CORE_TOKEN"}}\n'
            '[[job]]\nname = "a"\nfiles = ["a.csv"]\n[[job]]\nname = "b"\nfiles = ["b.csv"]\n',
            encoding="utf-8",
        )
        assert main(["run", str(tmp_path / "m.toml"), "-q"]) == 2
        booked = asyncio.run(sandbox_read(sandbox.url, "entries"))
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    err = capsys.readouterr().err
    assert "has lines in jobs 'a' (" in err and "a.csv line 2) and 'b' (" in err and "b.csv line 2)" in err, err
    assert booked == [], booked


def test_a_customer_given_again_changed_in_a_later_job_is_no_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PayorCRM customer is one record: given again with another e-mail in a later job it has no lines to cut
    (the later job meets it as an earlier run's), and the manifest is not refused for it; an invoice number
    given in both with other amounts is, as a voucher is."""
    monkeypatch.setenv("PAYORCRM_API_KEY", "k")
    monkeypatch.setenv("PAYORCRM_API_SECRET", "s")
    head = "customerno,emailaddress1,companyname"
    (tmp_path / "c1.csv").write_text(f"{head}\nC1,a@x.dk,A\nC2,b@x.dk,B\n", encoding="utf-8")
    (tmp_path / "c2.csv").write_text(f"{head}\nC1,new@x.dk,A\nC3,c@x.dk,C\n", encoding="utf-8")
    text = (
        '[defaults]\nagreement = "crm"\ntarget = "payorcrm"\nbase_url = "http://127.0.0.1:9"\n'
        'credentials = {env = {PAYORCRM_API_KEY = "PAYORCRM_API_KEY", PAYORCRM_API_SECRET = "PAYORCRM_API_SECRET"}}\n'
        '[[job]]\nname = "one"\nfiles = ["c1.csv"]\noptions = {kind = "customers"}\n'
        '[[job]]\nname = "two"\nfiles = ["c2.csv"]\noptions = {kind = "customers"}\n'
    )
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    check_groups(read_manifest(str(tmp_path / "m.toml")), lambda _: False)
    head = "customerNumber,invoiceNumber,invoiceAmount,currency,dueDate"
    (tmp_path / "c1.csv").write_text(f"{head}\nC1,I1,10000,DKK,2026-12-31\n", encoding="utf-8")
    (tmp_path / "c2.csv").write_text(f"{head}\nC1,I1,20000,DKK,2026-12-31\n", encoding="utf-8")
    (tmp_path / "m.toml").write_text(text.replace('"customers"', '"invoices"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="invoice I1 has lines in jobs 'one'"):
        check_groups(read_manifest(str(tmp_path / "m.toml")), lambda _: False)


def test_a_voucher_both_jobs_reject_alike_is_no_cut(
    tmp_path: Path, sandbox_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Monthly exports that overlap at month end give voucher 2 whole in both, with a line whose account is no
    number: each job rejects it (nothing of it is booked), as a load of either file alone does. That is no voucher
    cut in two, and the manifest was refused for it ("not the same lines in each", where they are the same); the
    other vouchers load."""
    bad = [*lines(2, "300.00"), "5,1,2,2026-11-30,-300.00,DKK,abc,v2"]
    assert main(["run", str(manifest(tmp_path, sandbox_url, lines(1, "100.00", "-100.00") + bad, bad)), "-q"]) != 2
    assert "has lines in jobs" not in capsys.readouterr().err
    assert [v for v, _ in held(sandbox_url)] == [1, 1]


def test_a_voucher_one_job_rejects_and_another_loads_is_refused_so_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Job a rejects its lines of voucher 2 (an account that is no number), job b would load its own as the whole
    voucher: refused, and the message says which job rejects, not that the lines differ."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    bad = [*lines(2, "300.00"), "5,1,2,2026-11-30,-300.00,DKK,abc,v2"]
    path = manifest(tmp_path, "http://127.0.0.1:9", bad, lines(2, "300.00", "-300.00"))
    with pytest.raises(ConfigError) as refused:
        check_groups(read_manifest(str(path)), lambda _: False)
    said = str(refused.value)
    assert "voucher 2 (journal 1) has lines in jobs 'a' (" in said and "a.csv line 2) and 'b' (" in said, said
    assert "job 'a' rejects its lines of it" in said and "not the same lines" not in said, said


def test_a_voucher_cut_between_two_jobs_queued_from_a_shell_without_credentials_is_refused(
    tmp_path: Path,
    sandbox_url: str,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The workers hold the credentials (docs/workers.md), not the shell that queues the manifest: its jobs were
    passed over as jobs a load refuses, and the cut voucher was queued (exit 0). A plan reads no credential."""
    for name in CREDS:
        monkeypatch.delenv(name)
    a = lines(1, "100.00", "-100.00") + lines(2, "300.00", "-100.00")
    path = manifest(tmp_path, sandbox_url, a, lines(2, "-100.00", "-100.00"))
    assert main(["run", str(path), "--queue", postgres_url]) == 2
    assert "voucher 2 (journal 1) has lines in jobs 'a' (" in capsys.readouterr().err
    main(["status", "--queue", postgres_url])
    assert "a.csv" not in capsys.readouterr().out  # nothing of the manifest was queued
