"""A JSONL input's rejects file (a CSV file) fixed in place and loaded holds what the JSONL line meant, in every
target: null is no value (as an empty cell is), the text "null" is that text, true and false, numbers and nested
values are the same values. Judged against the real sandboxes on 127.0.0.1: what the fixed rejects file loads is
what the fixed JSONL line loads."""

from __future__ import annotations

import csv
import json
import shlex
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import anyio
import pytest
from conftest import CREDS
from hostile import environment, served

from bulkload import Job, load
from bulkload.cli import main
from bulkload.sandbox import SandboxOptions, build_app, running

PAYORCRM_ENV = {"PAYORCRM_API_KEY": "k", "PAYORCRM_API_SECRET": "s"}


#: no value: what null in a JSONL line means
ABSENT = object()


class Case(NamedTuple):
    """A target's JSONL lines, rejected for a number written with an exponent (`bad`, as the rejects file writes
    it) that `good` fixes; where its sandbox shows what it holds, what of that is the sandbox's own, and what each
    record holds of the fields a null or the text null was given to."""

    options: dict[str, Any]
    env: dict[str, str]
    lines: str
    bad: str
    good: str
    held: str
    own: set[str]
    said: list[dict[str, Any]]


CASES = {
    "economic": Case(
        {},
        CREDS,
        '{"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 7, "date": "2026-11-30", "amount": 1e2, '
        '"currency": "DKK", "accountNumber": 1010, "text": null}\n'
        '{"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 7, "date": "2026-11-30", "amount": -100.00, '
        '"currency": "DKK", "accountNumber": 5820, "text": "null"}\n',
        "1e2",
        "100.00",
        "/draft-entries?filter=journalNumber$eq:1",
        {"entryNumber", "objectVersion"},
        [{"text": ABSENT, "amount": Decimal("100.00")}, {"text": "null", "amount": Decimal("-100.00")}],
    ),
    "halopsa": Case(
        {"resource": "XeroDetails"},
        {"HALO_CLIENT_ID": "id", "HALO_CLIENT_SECRET": "sec"},
        '{"name": "H1", "tenant_name": null, "tenant_id": "null", "authorized": true, "isdefault": false, '
        '"client_top_level": 1e2, "item_group": -0, '
        '"sync_entities_list": [{"id": 2e0, "rate": 1.50, "on": true, "x": null, "s": "null"}]}\n',
        "1e2",
        "100",
        "/_sandbox/records/XeroDetails",
        {"id"},
        [
            {
                "tenant_name": ABSENT,
                "tenant_id": "null",
                "authorized": True,
                "isdefault": False,
                "client_top_level": 100,
                "item_group": 0,
                "sync_entities_list": [{"id": 2, "rate": Decimal("1.50"), "on": True, "x": None, "s": "null"}],
            }
        ],
    ),
    "visma-core": Case(
        {},
        {"VISMA_CORE_TOKEN": "token"},
        '{"caseId": 1001, "accountingCostType": "SALARY", "amount": 1e2, "description": null, "note": "null"}\n',
        "1e2",
        "100.10",
        "/_sandbox/entries",
        set(),
        # the sandbox keeps an entry without a description with the empty one
        [{"Description": "", "Note": "null", "Amount": Decimal("100.10")}],
    ),
    "payorcrm": Case(
        {"kind": "invoices"},
        PAYORCRM_ENV,
        '{"customerNumber": "C1", "invoiceNumber": "D1", "invoiceAmount": 1e2, "currency": "EUR", '
        '"reference1": null, "reference2": "null", "balanceAmount": -0.50, '
        '"billAddr": {"n": 2e0, "r": 1.50, "on": true, "x": null, "s": "null"}}\n',
        "1e2",
        "100",
        "/_sandbox/invoices",
        {"id"},
        [
            {
                "reference1": ABSENT,
                "reference2": "null",
                "invoiceAmount": 100,
                "balanceAmount": "-0.50",
                "billAddr": {"n": 2, "r": Decimal("1.50"), "on": True, "x": None, "s": "null"},
            }
        ],
    ),
}


async def held(target: str, url: str, case: Case) -> list[dict[str, Any]]:
    """What the sandbox holds, its numbers exact, without what the sandbox gives each record itself."""
    async with aiohttp.ClientSession(headers=_HEADERS.get(target)) as s, s.get(url + case.held) as r:
        found = json.loads(await r.text(), parse_float=Decimal)
    records = found["items"] if isinstance(found, dict) else found
    return [{k: v for k, v in record.items() if k not in case.own} for record in records]


_HEADERS = {
    "economic": {
        "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
        "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
    }
}


async def loaded(target: str, url: str, path: Path, case: Case) -> Any:
    """Load `path`, its ledger and rejects file beside it."""
    where = {"ledger": f"{path}.sqlite", "rejects": f"{path}.rejects.csv"}
    job = Job(target, [str(path)], base_url=url, target_options=dict(case.options), **where)
    return await load(job, env=case.env)


async def customer(url: str, tmp_path: Path) -> None:
    """PayorCRM's customer C1, loaded before its invoices."""
    path = tmp_path / f"customers-{url.rsplit(':', 1)[1]}.csv"
    path.write_text("customerno,emailaddress1\nC1,a@example.com\n", encoding="utf-8")
    job = Job("payorcrm", [str(path)], base_url=url, ledger=f"{path}.sqlite", target_options={"kind": "customers"})
    assert (await load(job, env=PAYORCRM_ENV)).loaded == 1


@pytest.mark.parametrize("target", list(CASES))
async def test_a_fixed_rejects_file_of_a_jsonl_input_loads_what_the_fixed_line_means(
    tmp_path: Path, target: str
) -> None:
    # found by a tester: null and the text "null" were both written `null`; the fixed rejects file of
    # {"reference1": null, …} loaded the invoice with reference1 "null"
    case = CASES[target]
    bad = tmp_path / "in.jsonl"
    bad.write_text(case.lines, encoding="utf-8")
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(case.lines.replace('": 1e2,', f'": {case.good},'), encoding="utf-8")
    with anyio.fail_after(60):
        async with running(target) as url, running(target) as direct:
            if target == "payorcrm":
                await customer(url, tmp_path)
                await customer(direct, tmp_path)
            first = await loaded(target, url, bad, case)
            assert first.rejected == len(case.lines.splitlines()) and not await held(target, url, case), first
            rejects = Path(f"{bad}.rejects.csv")
            text = rejects.read_text(encoding="utf-8")
            assert f",{case.bad}," in text, text
            rejects.write_text(text.replace(f",{case.bad},", f",{case.good},"), encoding="utf-8")
            again = await loaded(target, url, rejects, case)
            line = await loaded(target, direct, fixed, case)
            from_rejects, from_line = await held(target, url, case), await held(target, direct, case)
    assert again.loaded == line.loaded == len(case.lines.splitlines()), (again, line)
    assert from_rejects == from_line, (from_rejects, from_line)
    assert [{k: r.get(k, ABSENT) for k in said} for r, said in zip(from_line, case.said, strict=True)] == case.said


@pytest.mark.parametrize(("require", "k1_email"), [(False, ""), (True, ""), (True, "k1@example.com")])
def test_the_rejects_of_customers_and_invoices_go_to_a_file_each_and_load_by_the_command_the_summary_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], require: bool, k1_email: str
) -> None:
    # found by a tester: the rejects file of a `--customers C --invoices I` run had both kinds' columns, and could not
    # be loaded back in any way (refused for unknown columns), while the summary said to load it as it is. And with
    # --require-customers the command rejected every invoice whose customer had loaded: in neither file given
    customers = tmp_path / "c.csv"
    customers.write_text(f"customerno,emailaddress1\nK0,k0@example.com\nK1,{k1_email}\n", encoding="utf-8")
    invoices = tmp_path / "i.csv"
    invoices.write_text(
        "customerNumber,invoiceNumber,invoiceAmount,currency\nK0,J0,1.50,EUR\nK1,J1,2,EUR\nK0,J2,3.333,EUR\n",
        encoding="utf-8",
    )
    with served(build_app("payorcrm", SandboxOptions(window_limit=0))) as url, environment(PAYORCRM_ENV):
        args = ["--customers", str(customers), "--invoices", str(invoices), "--amount-unit", "major"]
        args += ["--base-url", url, "--no-progress", "--report", str(tmp_path / "r.json")]
        args += ["--require-customers"] * require
        assert main(["load", "payorcrm", *args]) == 1
        said = capsys.readouterr().out
        report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        c_rejects, i_rejects = Path(f"{customers}.rejects.csv"), Path(f"{invoices}.rejects.csv")
        assert report["rejects_file"] == str(c_rejects) and report["rejects_files"] == [str(c_rejects), str(i_rejects)]
        assert (
            c_rejects.read_text(encoding="utf-8").splitlines()[0] == "file,line,field,reason,customerno,emailaddress1"
        )
        fixed = i_rejects.read_text(encoding="utf-8").replace(",3.333,", ",3.33,")
        assert fixed.splitlines()[0] == "file,line,field,reason,customerNumber,invoiceNumber,invoiceAmount,currency"
        i_rejects.write_text(fixed, encoding="utf-8")
        c_rejects.write_text(c_rejects.read_text(encoding="utf-8").replace("K1,", "K1,k1@example.com"), "utf-8")
        command = shlex.split(report["rejects_load"])
        assert shlex.join(command) in said, said
        assert command[:2] == ["bulkload", "load"] and "--amount-unit" in command
        # the invoices' customers that loaded are in neither file: --require-customers would reject their invoices
        assert "--require-customers" not in command and str(customers) not in command, command
        again = main([*command[1:], "--base-url", url, "--no-progress"])
        assert again == 0, capsys.readouterr().out
        with urllib.request.urlopen(f"{url}/_sandbox/invoices") as r:
            held = json.loads(r.read())
    assert sorted((i["invoiceNumber"], i["invoiceAmount"]) for i in held) == [("J0", 150), ("J1", 200), ("J2", 333)]


#: each target's inputs where a row holds JSON text giving a key twice: in a CSV cell (one line of a two-line
#: invoice: the invoice goes with it), in a JSONL nested object, in a JSONL string holding JSON; and what the
#: sandbox holds once they are loaded (the other rows), by the field that names a record
TWICE = {
    "payorcrm": (
        PAYORCRM_ENV,
        {
            "customers.csv": "customerno,emailaddress1\nC1,a@example.com\n",
            "invoices.csv": "customerNumber,invoiceNumber,lineItem,invoiceAmount,currency,billAddr\n"
            'C1,D1,1,100,EUR,"{""zip"":""1000""}"\n'
            'C1,D1,2,100,EUR,"{""zip"":""1000"",""zip"":""2000""}"\n'
            'C1,D3,1,100,EUR,"{""zip"":""1000""}"\n',
        },
        {"invoices.csv": "billAddr"},
        ["--customers", "customers.csv", "--invoices", "invoices.csv"],
        ("/_sandbox/invoices", "invoiceNumber", ["D3"]),
    ),
    "payorcrm-jsonl": (
        PAYORCRM_ENV,
        {
            "customers.csv": "customerno,emailaddress1\nC1,a@example.com\n",
            "invoices.jsonl": '{"customerNumber":"C1","invoiceNumber":"D2","invoiceAmount":100,"currency":"EUR",'
            '"billAddr":{"zip":"1000","zip":"2000"}}\n'
            '{"customerNumber":"C1","invoiceNumber":"D3","invoiceAmount":100,"currency":"EUR"}\n',
        },
        {"invoices.jsonl": "billAddr"},
        ["--customers", "customers.csv", "--invoices", "invoices.jsonl"],
        ("/_sandbox/invoices", "invoiceNumber", ["D3"]),
    ),
    "halopsa": (
        {"HALO_CLIENT_ID": "id", "HALO_CLIENT_SECRET": "sec"},
        {
            "XeroDetails.csv": "name,tenant_id,sync_entities_list\n"
            'X1,t1,"[{""entity"":""invoice"",""enabled"":true,""enabled"":false}]"\nX2,t2,\n',
            "AvalaraDetails.jsonl": '{"name":"A1","company_object":"{\\"name\\":\\"A\\",\\"name\\":\\"B\\"}"}\n'
            '{"name":"A2"}\n',
        },
        {"XeroDetails.csv": "sync_entities_list", "AvalaraDetails.jsonl": "company_object"},
        ["XeroDetails.csv", "AvalaraDetails.jsonl"],
        ("/_sandbox/records/XeroDetails", "name", ["X2"]),
    ),
}


@pytest.mark.parametrize("case", list(TWICE))
def test_json_text_giving_a_key_twice_is_refused_and_so_is_its_rejects_file_loaded_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    # found by a tester: JSON text in a CSV cell or a JSONL string giving a key twice was sent with its last value
    # ({"zip":"2000"}), exit 0; and the rejects file of a JSONL line refused for it wrote {"zip":["1000","2000"]},
    # which its load stored. The row is refused with its group wherever the JSON is, nothing of it is sent, and the
    # rejects file holds the JSON as written, so that loaded again as the summary says it is refused again
    env, files, fields, args, (listing, name, kept) = TWICE[case]
    target = case.split("-")[0]
    monkeypatch.chdir(tmp_path)
    for file, text in files.items():
        (tmp_path / file).write_text(text, encoding="utf-8")
    with served(build_app(target, SandboxOptions(window_limit=0))) as url, environment(env):
        common = ["--base-url", url, "--no-progress"]
        assert main(["load", target, *args, *common, "--report", "r.json"]) == 1, capsys.readouterr().out
        report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        for file, field in fields.items():
            with open(f"{file}.rejects.csv", encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            twice = [row for row in rows if row["reason"].startswith("the key")]
            assert len(twice) == 1 and twice[0]["field"] == field, rows
            assert twice[0][field] in files[file].replace('""', '"').replace('\\"', '"'), twice[0]
        # the command the summary gives (HaloPSA's: the rejects files, each read as the resource its name gives)
        command = shlex.split(report["rejects_load"])
        assert {arg for arg in command if arg.endswith(".rejects.csv")} <= set(report["rejects_files"]), command
        assert main([*command[1:], *common, "--report", "again.json"]) == 1, capsys.readouterr().out
        again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
        with urllib.request.urlopen(url + listing) as r:
            held = json.loads(r.read())
    assert sorted(record[name] for record in held) == kept, held
    assert again["loaded"] == 0 and again["rejected"] == report["rejected"], (report, again)


#: e-conomic lines whose amounts are text with a decimal comma and JSON numbers (1.500 is one and a half); the
#: vouchers of entry type 7 are rejected, and `fixed` makes them 5
MARKED = (
    '{"entryTypeNumber":7,"journalNumber":1,"voucherNumber":7101,"date":"2026-11-05","amount":"250,00",'
    '"currency":"DKK","accountNumber":1010}\n'
    '{"entryTypeNumber":5,"journalNumber":1,"voucherNumber":7101,"date":"2026-11-05","amount":"-250,00",'
    '"currency":"DKK","accountNumber":5600}\n'
    '{"entryTypeNumber":7,"journalNumber":1,"voucherNumber":7102,"date":"2026-11-05","amount":1.500,'
    '"currency":"DKK","accountNumber":1010}\n'
    '{"entryTypeNumber":5,"journalNumber":1,"voucherNumber":7102,"date":"2026-11-05","amount":-1.500,'
    '"currency":"DKK","accountNumber":5600}\n'
    '{"entryTypeNumber":5,"journalNumber":1,"voucherNumber":7103,"date":"2026-11-05","amount":"99,95",'
    '"currency":"DKK","accountNumber":1010}\n'
    '{"entryTypeNumber":5,"journalNumber":1,"voucherNumber":7103,"date":"2026-11-05","amount":"-99,95",'
    '"currency":"DKK","accountNumber":5600}\n'
)


@pytest.mark.parametrize("vouchers", [(7101, 7102), (7102,)], ids=["with-text-amounts", "json-numbers-only"])
async def test_a_rejects_file_of_a_jsonl_input_writes_its_json_numbers_as_the_reload_reads_them(
    tmp_path: Path, vouchers: tuple[int, ...]
) -> None:
    # found by a tester: a JSONL file of "250,00" (a decimal comma) and the JSON number 1.500 (one and a half) had
    # its rejects file hold "250,00" and 1.500 in one column; fixed and loaded as it is, the file read with a decimal
    # comma booked 1500 DKK, exit 0. A JSON number is written with the file's decided mark, and where that reads two
    # ways (1,500) without the zero that makes it so (1,50): it reads back as the same number, alone too
    rejected = {7101: "7,1,7101", 7102: "7,1,7102"}
    lines = MARKED
    for voucher in {7101, 7102} - set(vouchers):
        lines = lines.replace(
            f'"entryTypeNumber":7,"journalNumber":1,"voucherNumber":{voucher}',
            f'"entryTypeNumber":5,"journalNumber":1,"voucherNumber":{voucher}',
        )
    path = tmp_path / "m.jsonl"
    path.write_text(lines, encoding="utf-8")
    case = CASES["economic"]
    with anyio.fail_after(60):
        async with running("economic") as url:
            first = await loaded("economic", url, path, case)
            assert first.rejected == 2 * len(vouchers), first
            rejects = Path(f"{path}.rejects.csv")
            text = rejects.read_text(encoding="utf-8")
            for voucher in vouchers:
                text = text.replace(rejected[voucher], rejected[voucher].replace("7,", "5,", 1))
            rejects.write_text(text, encoding="utf-8")
            again = await loaded("economic", url, rejects, case)
            books = await held("economic", url, CASES["economic"])
    assert again.loaded == 2 * len(vouchers) and again.rejected == 0, again
    amounts = {(e["voucherNumber"], e["amount"]) for e in books if e["voucherNumber"] == 7102}
    assert amounts == {(7102, Decimal("1.5")), (7102, Decimal("-1.5"))}, books
    assert ',"1,50",' in text and ',"-1,50",' in text, text


def test_a_jsonl_key_given_twice_is_one_cell_of_its_rejects_row_refused_loaded_back_until_one_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by a tester: {"amount":200,"amount":300,…} was rejected, but its rejects row held 300 in an unnamed
    # column after the last one; loaded back unedited, its reason was only "row has 13 cells, the header has 12"
    monkeypatch.chdir(tmp_path)
    common = '"entryTypeNumber":5,"journalNumber":1,"voucherNumber":3,"date":"2026-11-01","currency":"DKK"'
    Path("d.jsonl").write_text(
        f'{{{common},"amount":200,"amount":300,"accountNumber":1010,"text":"dup"}}\n'
        f'{{{common},"amount":-300,"accountNumber":5600,"text":"dup"}}\n',
        encoding="utf-8",
    )
    with environment(CREDS):
        assert main(["load", "economic", "d.jsonl", "--dry-run", "-q"]) == 1
        with open("d.jsonl.rejects.dry-run.csv", encoding="utf-8", newline="") as fh:
            header, *rows = list(csv.reader(fh))
        assert [len(row) for row in rows] == [len(header)] * 2, rows
        assert dict(zip(header, rows[0]))["amount"] == "given twice, keep one: 200 | 300", rows[0]
        Path("r.csv").write_text(Path("d.jsonl.rejects.dry-run.csv").read_text(encoding="utf-8"), encoding="utf-8")
        assert main(["load", "economic", "r.csv", "--dry-run", "-q"]) == 1
        with open("r.csv.rejects.dry-run.csv", encoding="utf-8", newline="") as fh:
            again = list(csv.DictReader(fh))
        assert again[0]["field"] == "amount" and "'amount' twice" in again[0]["reason"], again
        assert "keep the one meant" in again[0]["reason"] and "voucher 3" in again[1]["reason"], again
        fixed = Path("r.csv").read_text(encoding="utf-8").replace("given twice, keep one: 200 | 300", "300")
        Path("r.csv").write_text(fixed, encoding="utf-8")
        assert main(["load", "economic", "r.csv", "--dry-run", "-q"]) == 0
