"""A spreadsheet's error value in a cell (#N/A, #REF!, LibreOffice's Err:502: what a sheet showed for a lookup or
formula that failed) is no data, in every column and every target, CSV and JSONL alike: its row is refused with its
group, naming the column, and the rest of the file loads. Judged against the real sandboxes on 127.0.0.1: what each
holds once the file is loaded."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import anyio
import pytest
from conftest import CREDS

from bulkload import Job, load
from bulkload.formulas import error_value_reason
from bulkload.sandbox import running

PAYORCRM_ENV = {"PAYORCRM_API_KEY": "k", "PAYORCRM_API_SECRET": "s"}


class Case(NamedTuple):
    """A target's rows (`rows`, file `name`), some holding error values; where its sandbox shows what it holds, the
    field naming a record there and what it holds once loaded (`kept`); the rows refused for a cell of their own
    (row index → the column named), and those refused with their group (row index → how the reason begins)."""

    env: dict[str, str]
    options: dict[str, Any]
    name: str
    rows: list[dict[str, str]]
    held: str
    key: str
    kept: list[Any]
    own: dict[int, str]
    mates: dict[int, str]


def _entry(voucher: int, amount: str, account: int, **more: str) -> dict[str, str]:
    return {
        "entryTypeNumber": "5",
        "journalNumber": "1",
        "voucherNumber": str(voucher),
        "date": "2026-11-01",
        "amount": amount,
        "currency": "DKK",
        "accountNumber": str(account),
    } | more


def _cost(amount: str, description: str, order: str) -> dict[str, str]:
    return {"caseId": "1501", "accountingCostType": "OUTLAY", "amount": amount, "description": description} | {
        "entryDate": "2026-11-01",
        "orderId": order,
    }


def _invoice(number: str, line: str, **more: str) -> dict[str, str]:
    return (
        {"customerNumber": "C1", "invoiceNumber": number, "lineItem": line, "invoiceAmount": "100"}
        | {"currency": "EUR"}
        | more
    )


CASES = {
    # found by a tester: text, vatCode and customerInvoiceNumber were booked as '#N/A', 'Err:502', '#REF!'
    "economic": Case(
        CREDS,
        {},
        "entries",
        [
            _entry(101, "50.00", 1010, text="#N/A", vatCode="#N/A"),
            _entry(101, "-50.00", 5600, text="Err:502", customerInvoiceNumber="#REF!"),
            _entry(102, "70.00", 1010, text="#name?"),
            _entry(102, "-70.00", 5600, text="Tryk", customerInvoiceNumber="#DIV/0!"),
            _entry(103, "30.00", 1010, text="#123 invoice"),
            _entry(103, "-30.00", 5600, text="#1", customerInvoiceNumber="Errata"),
        ],
        "/draft-entries?filter=journalNumber$eq:1",
        "text",
        ["#1", "#123 invoice"],
        {0: "text", 1: "text", 2: "text", 3: "customerInvoiceNumber"},
        {},
    ),
    # found by a tester: three lines whose orderId was '#N/A' (a failed lookup on each) merged into one entry of 210.00
    "visma-core": Case(
        {"VISMA_CORE_TOKEN": "token"},
        {},
        "entries",
        [
            _cost("100.00", "Takst", "#N/A"),
            _cost("40.00", "Porto", "#N/A"),
            _cost("70.00", "Attest", "#N/A"),
            _cost("25.00", "Gebyr", "#1"),
        ],
        "/_sandbox/entries",
        "Description",
        ["Gebyr"],
        {0: "orderId", 1: "orderId", 2: "orderId"},
        {},
    ),
    # found by a tester: tenant_id '#REF!' was stored
    "halopsa": Case(
        {"HALO_CLIENT_ID": "id", "HALO_CLIENT_SECRET": "sec"},
        {"resource": "XeroDetails"},
        "XeroDetails",
        [
            {"name": "X1", "tenant_id": "#REF!"},
            {"name": "X2", "tenant_id": "t2", "tenant_name": "#GETTING_DATA"},
            {"name": "X3", "tenant_id": "#1", "tenant_name": "Err: see note"},
        ],
        "/_sandbox/records/XeroDetails",
        "name",
        ["X3"],
        {0: "tenant_id", 1: "tenant_name"},
        {},
    ),
    # found by a tester: an invoice numbered '#N/A' loaded
    "payorcrm": Case(
        PAYORCRM_ENV,
        {"kind": "invoices"},
        "invoices",
        [
            _invoice("#N/A", "1"),
            _invoice("0042", "1", itemText="Takst"),
            _invoice("0042", "2", itemText="#VALUE!"),
            _invoice("#1", "1", itemText="#123 invoice"),
        ],
        "/_sandbox/invoices",
        "invoiceNumber",
        ["#1"],
        {0: "invoiceNumber", 2: "itemText"},
        {1: "invoice 0042 rejected: "},
    ),
}


def written(path: Path, rows: list[dict[str, str]]) -> Path:
    """`rows` as a CSV file (header: every column any row has) or a JSONL file (a row's cells as JSON strings)."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return path
    names = list(dict.fromkeys(name for row in rows for name in row))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, names)
        writer.writeheader()
        writer.writerows(rows)
    return path


async def held(url: str, case: Case) -> list[Any]:
    """What the sandbox holds, by the field naming a record, sorted."""
    headers = {
        "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
        "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
    }
    async with aiohttp.ClientSession(headers=headers) as s, s.get(url + case.held) as r:
        found = await r.json()
    records = found["items"] if isinstance(found, dict) else found
    return sorted(record[case.key] for record in records)


async def customer(url: str, tmp_path: Path) -> None:
    """PayorCRM's customer C1, loaded before its invoices."""
    path = tmp_path / "customers.csv"
    path.write_text("customerno,emailaddress1\nC1,a@example.com\n", encoding="utf-8")
    job = Job("payorcrm", [str(path)], base_url=url, ledger=f"{path}.sqlite", target_options={"kind": "customers"})
    assert (await load(job, env=PAYORCRM_ENV)).loaded == 1


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("target", list(CASES))
async def test_an_error_value_in_any_column_refuses_its_row_with_its_group_and_the_rest_loads(
    tmp_path: Path, target: str, suffix: str
) -> None:
    case = CASES[target]
    path = written(tmp_path / f"{case.name}{suffix}", case.rows)
    first = 2 if suffix == ".csv" else 1  # the line of the first row
    with anyio.fail_after(60):
        async with running(target) as url:
            if target == "payorcrm":
                await customer(url, tmp_path)
            where = {"ledger": f"{path}.sqlite", "rejects": f"{path}.rejects.csv"}
            job = Job(target, [str(path)], base_url=url, target_options=dict(case.options), **where)
            report = await load(job, env=case.env)
            kept = await held(url, case)
    assert kept == case.kept, kept
    refused = len(case.own) + len(case.mates)
    assert (report.loaded, report.rejected, report.exit_code) == (len(case.rows) - refused, refused, 1), report
    lines = Path(where["rejects"]).read_text(encoding="utf-8").splitlines()
    rejects = {int(r["line"]) - first: r for r in csv.DictReader(lines)}
    assert sorted(rejects) == sorted([*case.own, *case.mates]), rejects
    for index, field in case.own.items():
        value = case.rows[index][field]
        assert rejects[index]["field"].split("; ")[0] == field, rejects[index]  # the first of the row's faults
        assert rejects[index]["reason"].startswith(error_value_reason(value)), rejects[index]
    for index, begins in case.mates.items():
        assert rejects[index]["reason"].startswith(begins), rejects[index]
        assert "is a spreadsheet's error value" in rejects[index]["reason"], rejects[index]


class Nested(NamedTuple):
    """A target's rows holding nested values (objects, lists: in a CSV file their JSON text), some with an error value
    inside; the record names it holds once loaded; the rows refused for a value of their own (row index → (field,
    the path and value its reason names)), and those refused with their group (row index → how the reason begins)."""

    env: dict[str, str]
    options: dict[str, Any]
    name: str
    rows: list[dict[str, Any]]
    held: str
    key: str
    kept: list[str]
    own: dict[int, tuple[str, str]]
    mates: dict[int, str]


NESTED = {
    # found by a lead: {"city": "#N/A"} in billAddr was booked as data, where "#N/A" in a flat column is refused
    "payorcrm": Nested(
        PAYORCRM_ENV,
        {"kind": "invoices"},
        "invoices",
        [
            _invoice("0042", "1") | {"billAddr": {"city": "#N/A", "zip": "1000"}},
            _invoice("0042", "2"),
            _invoice("0043", "1") | {"shipAddr": {"lines": ["Vej 1", "#REF!"], "att": {"name": "Err:502"}}},
            _invoice("0044", "1") | {"billAddr": {"city": "#123 Main", "note": "Errata", "n": ["#1"]}},
            _invoice("0045", "1") | {"billAddr": json.dumps({"city": "#DIV/0!"})},  # JSON text, in JSONL too
        ],
        "/_sandbox/invoices",
        "invoiceNumber",
        ["0044"],
        {
            0: ("billAddr", "'#N/A' at billAddr.city"),
            2: ("shipAddr", "'#REF!' at shipAddr.lines[1]"),
            4: ("billAddr", "'#DIV/0!' at billAddr.city"),
        },
        {1: "invoice 0042 rejected: "},
    ),
    # HaloPSA's list and object fields (sync lists, a division object) alike
    "halopsa": Nested(
        {"HALO_CLIENT_ID": "id", "HALO_CLIENT_SECRET": "sec"},
        {"resource": "ExactDetails"},
        "ExactDetails",
        [
            {"name": "E1", "sync_entities_list": [{"key": "invoices", "value": "#VALUE!"}]},
            {"name": "E2", "division_object": {"code": "#NV", "my name": "#I/T"}},
            {"name": "E3", "sync_entities_list": [{"key": "#1", "value": "Err: see note"}], "division_object": {}},
        ],
        "/_sandbox/records/ExactDetails",
        "name",
        ["E3"],
        {
            0: ("sync_entities_list", "'#VALUE!' at sync_entities_list[0].value"),
            1: ("division_object", "'#NV' at division_object.code"),
        },
        {},
    ),
}


def written_nested(path: Path, rows: list[dict[str, Any]]) -> Path:
    """`rows` as `written` writes them, a nested value in a CSV cell as its JSON text."""
    if path.suffix == ".jsonl":
        return written(path, rows)
    cells = [{k: v if isinstance(v, str) else json.dumps(v) for k, v in row.items()} for row in rows]
    return written(path, cells)


#: a spreadsheet formula inside a nested value (found by a lead: {"city": "=SUM(A1)"} in billAddr was sent, where
#: "=SUM(A1)" in a flat column is refused); prose that merely begins with "=" is kept
NESTED_FORMULAS = {
    "payorcrm": Nested(
        PAYORCRM_ENV,
        {"kind": "invoices"},
        "invoices",
        [
            _invoice("0042", "1") | {"billAddr": {"city": "=SUM(A1)", "zip": "1000"}},
            _invoice("0042", "2"),
            _invoice("0043", "1") | {"shipAddr": {"lines": ["Vej 1", "=B2"]}},
            _invoice("0044", "1") | {"billAddr": {"city": "= see note", "note": "=== header ===", "n": ["=2 items"]}},
            _invoice("0045", "1") | {"billAddr": json.dumps({"city": "=#ÜBERLAUF!"})},  # JSON text, in JSONL too
        ],
        "/_sandbox/invoices",
        "invoiceNumber",
        ["0044"],
        {
            0: ("billAddr", "'=SUM(A1)' at billAddr.city"),
            2: ("shipAddr", "'=B2' at shipAddr.lines[1]"),
            4: ("billAddr", "'=#ÜBERLAUF!' at billAddr.city"),
        },
        {1: "invoice 0042 rejected: "},
    ),
    "halopsa": Nested(
        {"HALO_CLIENT_ID": "id", "HALO_CLIENT_SECRET": "sec"},
        {"resource": "ExactDetails"},
        "ExactDetails",
        [
            {"name": "E1", "sync_entities_list": [{"key": "invoices", "value": "=VLOOKUP(A2;T!A:B;2)"}]},
            {"name": "E2", "division_object": {"name": "=Total"}},
            {"name": "E3", "sync_entities_list": [{"key": "=ole@firma.dk", "value": "= see note"}]},
        ],
        "/_sandbox/records/ExactDetails",
        "name",
        ["E3"],
        {
            0: ("sync_entities_list", "'=VLOOKUP(A2;T!A:B;2)' at sync_entities_list[0].value"),
            1: ("division_object", "'=Total' at division_object.name"),
        },
        {},
    ),
}


#: what the reason of a row refused for a nested value says: (the cases, its own reason after where, its mates')
TOLD = {
    "error value": (NESTED, "is a spreadsheet's error value, not data", "is a spreadsheet's error value"),
    "formula": (NESTED_FORMULAS, "is a spreadsheet formula, not its value", "is a spreadsheet formula"),
}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize(("told", "target"), [(told, target) for told, (cases, *_) in TOLD.items() for target in cases])
async def test_a_sheet_value_inside_a_nested_value_refuses_its_row_with_its_group_naming_where(
    tmp_path: Path, told: str, target: str, suffix: str
) -> None:
    cases, own_reason, mates_reason = TOLD[told]
    case = cases[target]
    path = written_nested(tmp_path / f"{case.name}{suffix}", case.rows)
    first = 2 if suffix == ".csv" else 1
    with anyio.fail_after(60):
        async with running(target) as url:
            if target == "payorcrm":
                await customer(url, tmp_path)
            where = {"ledger": f"{path}.sqlite", "rejects": f"{path}.rejects.csv"}
            job = Job(target, [str(path)], base_url=url, target_options=dict(case.options), **where)
            report = await load(job, env=case.env)
            kept = await held(url, Case(case.env, {}, "", [], case.held, case.key, [], {}, {}))
    assert kept == case.kept, kept
    refused = len(case.own) + len(case.mates)
    assert (report.loaded, report.rejected, report.exit_code) == (len(case.rows) - refused, refused, 1), report
    lines = Path(where["rejects"]).read_text(encoding="utf-8").splitlines()
    rejects = {int(r["line"]) - first: r for r in csv.DictReader(lines)}
    assert sorted(rejects) == sorted([*case.own, *case.mates]), rejects
    for index, (field, at) in case.own.items():
        assert rejects[index]["field"] == field, rejects[index]
        assert rejects[index]["reason"].startswith(f"{at} {own_reason}"), rejects[index]
    for index, begins in case.mates.items():
        assert rejects[index]["reason"].startswith(begins), rejects[index]
        assert mates_reason in rejects[index]["reason"], rejects[index]
