"""Two fixed copies of one rejects file, the second with its group given another number (tester t73a): the first
copy loaded voucher 1102; the second, the same lines as voucher 1190, was loaded too, exit 0, and the journal held
lines 4 and 5 of the input twice. A rejects file's rows name their origin (`file, line`); a group whose rows name a
line an earlier run loaded from a rejects file of its own is rejected before the first call, naming the row, that
line and that run, in every target. Judged against the real sandboxes on 127.0.0.1."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import anyio
import pytest
from conftest import CREDS

from bulkload import Job, load, rollback
from bulkload.sandbox import running

PAYORCRM_ENV = {"PAYORCRM_API_KEY": "k", "PAYORCRM_API_SECRET": "s"}


class Case(NamedTuple):
    """A target's input whose last group is rejected for `bad` (its lines 4 and 5); `good` fixes it, `renumbered`
    gives the group another number in place of `number`; `held` reads what the sandbox holds, its lines told apart
    by their text (`field`), as `texts` where each line is booked once; `api_bad`: a fix the API refuses."""

    options: dict[str, Any]
    env: dict[str, str]
    header: str
    rows: list[str]
    bad: str
    good: str
    number: str
    renumbered: str
    held: str
    field: str
    texts: list[str]
    api_bad: str | None = None
    #: the rows of the group rejected: the last ones of the input
    group_rows: int = 2


CASES = {
    "economic": Case(
        {},
        CREDS,
        "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text",
        [
            "5,1,1101,2026-11-30,100.00,DKK,1010,a",
            "5,1,1101,2026-11-30,-100.00,DKK,5820,b",
            "5,1,1102,2026-11-30,200.00,DKK,1010,c",
            "5,1,1102,2026-11-31,-200.00,DKK,5820,d",
        ],
        "2026-11-31,-200.00,DKK,5820",
        "2026-11-30,-200.00,DKK,5820",
        ",1102,",
        ",1190,",
        "/draft-entries?filter=journalNumber$eq:1",
        "text",
        ["a", "b", "c", "d"],
        "2026-11-30,-200.00,DKK,99999",
    ),
    "payorcrm": Case(
        {"kind": "invoices"},
        PAYORCRM_ENV,
        "customerNumber,invoiceNumber,lineItem,invoiceAmount,currency",
        ["C1,D1,a,100,EUR", "C1,D1,b,50,EUR", "C1,D2,c,200,EUR", "C1,D2,d,1x,EUR"],
        ",1x,",
        ",70,",
        ",D2,",
        ",D9,",
        "/_sandbox/invoices",
        "lineItem",
        ["a", "b", "c", "d"],
    ),
    "visma-core": Case(
        {},
        {"VISMA_CORE_TOKEN": "test-core-token"},
        "caseId,accountingCostType,amount,description,note,entryDate,orderId",
        [
            "2001,OUTLAY,100.00,a,,2026-11-01,O1",
            "2001,OUTLAY,50.00,b,,2026-11-01,O1",
            "2002,OUTLAY,200.00,c,,2026-11-01,O2",
            "2002,OUTLAY,25.005,d,,2026-11-01,O2",
        ],
        ",25.005,",
        ",25.00,",
        ",O2\n",
        ",O9\n",
        "/_sandbox/entries",
        "Description",
        ["a / b", "c / d"],  # an order's lines of a cost type: one entry
    ),
    "halopsa": Case(  # records of no group: the record renamed
        {"resource": "XeroDetails"},
        {"HALO_CLIENT_ID": "id", "HALO_CLIENT_SECRET": "sec"},
        "name,tenant_name,client_top_level",
        ["H1,a,1", "H2,b,2", "H3,c,3", "H4,d,1x"],
        ",1x\n",
        ",4\n",
        "H4,",
        "H9,",
        "/_sandbox/records/XeroDetails",
        "tenant_name",
        ["a", "b", "c", "d"],
        group_rows=1,
    ),
}


async def _held(url: str, case: Case) -> list[dict[str, Any]]:
    """The records the sandbox holds, their numbers exact."""
    keys = {"X-AppSecretToken": "ECONOMIC_APP_SECRET_TOKEN", "X-AgreementGrantToken": "ECONOMIC_AGREEMENT_GRANT_TOKEN"}
    headers = {header: CREDS[name] for header, name in keys.items()} if case is CASES["economic"] else None
    async with aiohttp.ClientSession(headers=headers) as s, s.get(url + case.held) as r:
        found = json.loads(await r.text(), parse_float=Decimal)
    return list(found["items"] if isinstance(found, dict) else found)


async def _loaded(target: str, url: str, path: Path, case: Case) -> Any:
    """Load `path` as a run of its own: its ledger and rejects file beside it."""
    where = {"ledger": f"{path}.sqlite", "rejects": f"{path}.rejects.csv"}
    job = Job(target, [str(path)], base_url=url, target_options=dict(case.options), **where)
    return await load(job, env=case.env)


async def _customer(url: str, tmp_path: Path) -> None:
    """PayorCRM's customer C1, loaded before its invoices."""
    path = tmp_path / "customers.csv"
    path.write_text("customerno,emailaddress1\nC1,a@example.com\n", encoding="utf-8")
    job = Job("payorcrm", [str(path)], base_url=url, ledger=f"{path}.sqlite", target_options={"kind": "customers"})
    assert (await load(job, env=PAYORCRM_ENV)).loaded == 1


def _reasons(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["reason"] for row in csv.DictReader(fh)]


async def _copies(tmp_path: Path, target: str, first_fix: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """The input loaded (its last group rejected), its rejects file fixed with `first_fix` and loaded, then a second
    copy of the rejects file, fixed with `good` and its group renumbered, loaded: the three reports, and what the
    sandbox then holds."""
    case = CASES[target]
    data = tmp_path / "nov.csv"
    data.write_text("\n".join([case.header, *case.rows]) + "\n", encoding="utf-8")
    with anyio.fail_after(60):
        async with running(target) as url:
            if target == "payorcrm":
                await _customer(url, tmp_path)
            first = await _loaded(target, url, data, case)
            text = Path(f"{data}.rejects.csv").read_text(encoding="utf-8")
            assert text.count(case.bad) == 1 and text.count(case.number) == case.group_rows, text
            one = tmp_path / "fixed.csv"
            one.write_text(text.replace(case.bad, first_fix), encoding="utf-8")
            fixed = await _loaded(target, url, one, case)
            other = tmp_path / "other.csv"
            other.write_text(text.replace(case.bad, case.good).replace(case.number, case.renumbered), encoding="utf-8")
            again = await _loaded(target, url, other, case)
            held = await _held(url, case)
    return [first, fixed, again], held


@pytest.mark.parametrize("target", list(CASES))
async def test_a_second_copy_of_a_fixed_rejects_file_renumbered_books_nothing_twice(
    tmp_path: Path, target: str
) -> None:
    case = CASES[target]
    (first, fixed, again), held = await _copies(tmp_path, target, case.good)
    n = case.group_rows
    assert (first.loaded, first.rejected) == (4 - n, n), first
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (n, 0, 0), fixed
    texts = sorted(str(record[case.field]) for record in held)
    assert texts == case.texts, f"a line of nov.csv booked twice: {texts}"
    assert (again.loaded, again.rejected) == (0, n) and again.exit_code == 1, again
    reasons = _reasons(tmp_path / "other.csv.rejects.csv")
    ledger = tmp_path / "fixed.csv.sqlite"
    for reason in reasons:
        said = f"an earlier run (ledger {ledger}) loaded line {6 - n} of {tmp_path / 'nov.csv'} from a rejects file"
        assert said in reason, reason
        assert "which line 2 of this file is too" in reason and "empty its `line` cell" in reason, reason


async def test_a_second_copy_loads_where_the_first_was_refused_by_the_api(tmp_path: Path) -> None:
    case = CASES["economic"]
    assert case.api_bad is not None
    (first, fixed, again), held = await _copies(tmp_path, "economic", case.api_bad)
    assert (fixed.loaded, fixed.rejected) == (0, 2), fixed
    assert (again.loaded, again.rejected, again.exit_code) == (2, 0, 0), again
    assert sorted(int(e["voucherNumber"]) for e in held) == [1101, 1101, 1190, 1190], held


async def test_a_group_given_again_by_a_copy_as_it_was_loaded_is_skipped(tmp_path: Path) -> None:
    # the rejects file of two vouchers: the first copy fixes one and loads it, the other still refused; the second
    # copy fixes both: the one loaded is skipped as loaded, as before, the other loads
    case = CASES["economic"]
    data = tmp_path / "nov.csv"
    rows = [*case.rows, "5,1,1103,2026-11-30,300.00,DKK,1010,e", "5,1,1103,2026-11-31,-300.00,DKK,5820,f"]
    data.write_text("\n".join([case.header, *rows]) + "\n", encoding="utf-8")
    with anyio.fail_after(60):
        async with running("economic") as url:
            first = await _loaded("economic", url, data, case)
            text = Path(f"{data}.rejects.csv").read_text(encoding="utf-8")
            one = tmp_path / "fixed.csv"
            one.write_text(text.replace(case.bad, case.good), encoding="utf-8")
            fixed = await _loaded("economic", url, one, case)
            both = tmp_path / "both.csv"
            both.write_text(text.replace(case.bad, case.good).replace("2026-11-31", "2026-11-30"), encoding="utf-8")
            again = await _loaded("economic", url, both, case)
            held = await _held(url, case)
    assert (first.loaded, first.rejected) == (2, 4), first
    assert (fixed.loaded, fixed.rejected) == (2, 2), fixed
    assert (again.loaded, again.skipped, again.rejected, again.exit_code) == (2, 2, 0, 0), again
    assert sorted(int(e["voucherNumber"]) for e in held) == [1101, 1101, 1102, 1102, 1103, 1103], held


@pytest.mark.parametrize("target", ["economic", "halopsa"])
async def test_a_second_copy_loads_once_the_first_copys_run_is_rolled_back(tmp_path: Path, target: str) -> None:
    case = CASES[target]
    data = tmp_path / "nov.csv"
    data.write_text("\n".join([case.header, *case.rows]) + "\n", encoding="utf-8")
    with anyio.fail_after(60):
        async with running(target) as url:
            await _loaded(target, url, data, case)
            text = Path(f"{data}.rejects.csv").read_text(encoding="utf-8")
            one = tmp_path / "fixed.csv"
            one.write_text(text.replace(case.bad, case.good), encoding="utf-8")
            assert (await _loaded(target, url, one, case)).loaded == case.group_rows
            await rollback(f"{one}.sqlite", env=case.env)
            other = tmp_path / "other.csv"
            other.write_text(text.replace(case.bad, case.good).replace(case.number, case.renumbered), encoding="utf-8")
            again = await _loaded(target, url, other, case)
            held = await _held(url, case)
    assert (again.loaded, again.rejected, again.exit_code) == (case.group_rows, 0, 0), again
    assert sorted(str(record[case.field]) for record in held) == case.texts, held


@pytest.mark.parametrize("target", ["economic", "payorcrm"])
async def test_the_fixed_rejects_of_two_months_exports_of_one_name_each_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    # found by tester t73f: October's and November's exports, each `export.csv` in a folder of its own and loaded
    # from there, each had a voucher rejected at line 4; October's fixed rejects file loaded, then November's was
    # refused whole ("an earlier run ... loaded line 4 of export.csv from a rejects file"), exit 1: the two lines
    # were told apart by the name the `file` column writes only, for a kind of no families
    case = CASES[target]
    months = {}
    with anyio.fail_after(60):
        async with running(target) as url:
            if target == "payorcrm":
                await _customer(url, tmp_path)
            # each month's vouchers (invoices) numbered apart, its last one rejected at line 5
            oct_rows = [r.replace("2026-11-30", "2026-10-30") for r in case.rows]
            nov_rows = [r.replace(",110", ",120").replace(",D1,", ",N1,").replace(",D2,", ",N2,") for r in case.rows]
            for month, rows in (("oct", oct_rows), ("nov", nov_rows)):
                folder = tmp_path / month
                folder.mkdir()
                monkeypatch.chdir(folder)
                Path("export.csv").write_text("\n".join([case.header, *rows]) + "\n", encoding="utf-8")
                await _loaded(target, url, Path("export.csv"), case)
                text = Path("export.csv.rejects.csv").read_text(encoding="utf-8")
                Path("fixed.csv").write_text(text.replace(case.bad, case.good), encoding="utf-8")
                months[month] = await _loaded(target, url, Path("fixed.csv"), case)
            held = await _held(url, case)
    for month, report in months.items():
        assert (report.loaded, report.rejected, report.exit_code) == (case.group_rows, 0, 0), (month, report)
    assert sorted(str(record[case.field]) for record in held) == sorted(case.texts * 2), held  # each line once
