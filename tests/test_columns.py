"""A file without a column every row needs is refused before the first call, against each target's real sandbox;
an empty cell of a column the file has stays its row's rejection."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS

from bulkload import Job, load
from bulkload.cli import main
from bulkload.columns import RecordKeys
from bulkload.errors import ConfigError
from bulkload.sandbox import SandboxOptions, running
from bulkload.targets.visma_core_records import Costs

ENV = {
    **CREDS,
    "VISMA_CORE_TOKEN": "test-core-token",
    "PAYORCRM_API_KEY": "test-key",
    "PAYORCRM_API_SECRET": "test-secret",
    "HALO_CLIENT_ID": "halo-test-client",
    "HALO_CLIENT_SECRET": "halo-test-secret",
}
ENTRIES = ["entryTypeNumber", "journalNumber", "voucherNumber", "date", "amount", "currency", "accountNumber"]


def write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def without(header: list[str], row: list[Any], *names: str) -> tuple[list[str], list[Any]]:
    """`header` and `row` without the columns `names`."""
    keep = [i for i, name in enumerate(header) if name not in names]
    return [header[i] for i in keep], [row[i] for i in keep]


async def requests_seen(url: str) -> int:
    async with aiohttp.ClientSession() as s, s.get(url.split("/journalsapi")[0] + "/_sandbox/stats") as r:
        return int((await r.json())["requests"])


#: (target, options, file name, header, a row, the refusal's start); the file lacks what the refusal names
LACKING = [
    # found by testers: every row was rejected one by one, and the run exited 1
    ("economic", {}, "entries.csv", *without(ENTRIES, [5, 1, 1, "2026-11-01", "10.00", "DKK", 1010], "amount"),
     "no column amount: every economic row needs it, so every row would be rejected. The file's columns: "
     "'entryTypeNumber', 'journalNumber', 'voucherNumber', 'date', 'currency', 'accountNumber'. Name the column so"),
    # a journal given for the rows (--journal) needs no column of its own; the rest do
    ("economic", {"journal": 1}, "entries.csv",
     ["entryTypeNumber", "Voucher number", "date", "Amount", "currency"], [5, 1, "2026-11-01", "10.00", "DKK"],
     "no columns voucherNumber (did you mean 'Voucher number'?); amount (did you mean 'Amount'?): every economic "
     "row needs them"),
    ("visma-core", {}, "orders.csv", ["caseId", "amount", "entryDate", "orderId"], [1, "10.00", "2026-11-01", "7"],
     "no column accountingCostType: every visma-core row needs it"),
    ("visma-core", {"kind": "costs"}, "costs.csv", ["caseId", "type", "Amount", "Beløb"], [1, "Buyer", "10.00", "1"],
     "no column costId or entryDefinitionId: every visma-core row needs one of them"),
    ("payorcrm", {"kind": "invoices", "amount_unit": "major"}, "invoices.csv",
     ["customerNumber", "invoiceNumber", "invoiceAmount"], ["C1", "I1", "10.50"],
     "no column currency: every payorcrm row needs it"),
    ("payorcrm", {"kind": "customers"}, "customers.csv", ["customerno", "e-mail"], ["C1", "a@example.com"],
     "no column emailaddress1: every payorcrm row needs it"),
    ("halopsa", {"match_on": "name"}, "XeroDetails.csv", ["tenant_id", "tenant_name"], ["t1", "Acme"],
     "no column name or id: every halopsa row needs one of them"),
]  # fmt: skip


@pytest.mark.parametrize(("target", "options", "name", "header", "row", "said"), LACKING)
async def test_a_file_without_a_column_every_row_needs_is_refused_before_the_first_call(
    tmp_path: Path, target: str, options: dict[str, Any], name: str, header: list[str], row: list[Any], said: str
) -> None:
    data = write(tmp_path / name, header, [row])
    with anyio.fail_after(60):
        async with running(target, SandboxOptions(window_limit=0)) as url:
            job = Job(
                target=target, files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"),
                target_options=options,
            )  # fmt: skip
            with pytest.raises(ConfigError) as info:
                await load(job, env=ENV)
            assert await requests_seen(url) == 0
    message = str(info.value)
    assert message.startswith(f"{data}: {said}"), message
    assert message.endswith("; nothing was sent"), message
    assert not (tmp_path / "run.sqlite").exists()


def test_a_missing_column_exits_2_and_others_no_field_are_named_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, row = without(ENTRIES, [5, 1, 1, "2026-11-01", "10.00", "DKK", 1010], "currency")
    data = write(tmp_path / "e.csv", [*header, "Notes"], [[*row, "x"]])
    assert main(["load", "economic", str(data), "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "no column currency: every economic row needs it" in err
    assert "[columns] table of --config; column(s) 'Notes' are no economic fields" in err


@pytest.mark.parametrize("mapped", ["textz", "amountz"])
def test_a_column_the_job_file_maps_to_no_field_is_told_as_that_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mapped: str
) -> None:
    # found by tester t40d: `[columns] "text" = "textz"` was refused as "column(s) 'textz', did you mean 'text'? are
    # not economic fields; map them to a field ... in the [columns] table", and `"amount" = "amountz"` as "no column
    # amount (did you mean 'amountz'?) ... The file's columns: ..., 'amountz', ...": a column the file does not have,
    # named as the file's, and the advice to map in the table the mistake is in
    source = mapped.removesuffix("z")
    data = write(tmp_path / "e.csv", [*ENTRIES, "text"], [[5, 1, 1, "2026-11-01", "10.00", "DKK", 1010, "x"]])
    config = tmp_path / "job.toml"
    config.write_text(f'[columns]\n"{source}" = "{mapped}"\n')
    assert main(["load", "economic", str(data), "--config", str(config), "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    said = (
        f"the [columns] table of --config maps columns to names that are no economic fields: '{source}' to '{mapped}'"
    )
    assert f"{said} (did you mean '{source}'?)" in err, err
    assert "The file's columns" not in err, err


@pytest.mark.parametrize("file_nfd", [True, False], ids=["file-decomposed", "table-decomposed"])
def test_a_column_the_job_file_maps_in_another_unicode_form_is_told_so_not_offered_as_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file_nfd: bool
) -> None:
    # found by tester t46a: a header saved on a Mac ('Wa\u0308hrung', a and a combining diaeresis) against the
    # [columns] key "Währung" (one letter ä) was refused as "maps a column the file does not have: 'Währung' (to
    # currency), did you mean 'Währung'?": the two names look the same, and the user was left with nothing to change
    composed, decomposed = "W\u00e4hrung", "Wa\u0308hrung"
    in_file, in_table = (decomposed, composed) if file_nfd else (composed, decomposed)
    header = [*ENTRIES[:5], in_file, ENTRIES[6]]
    data = write(tmp_path / "e.csv", header, [[5, 1, 1, "2026-11-01", "10.00", "DKK", 1010]])
    config = tmp_path / "job.toml"
    config.write_text(f'[columns]\n"{in_table}" = "currency"\n', encoding="utf-8")
    assert main(["load", "economic", str(data), "--config", str(config), "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "did you mean" not in err, err
    written = "Wa\\u0308hrung" if file_nfd else "W\u00e4hrung"
    assert f"the file writes it '{written}', the same letters in another Unicode form" in err, err


@pytest.mark.parametrize("lacking", [False, True], ids=["no-field-alone", "beside-a-missing-column"])
def test_a_header_of_many_columns_that_are_no_fields_names_the_first_few_and_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lacking: bool
) -> None:
    # tester t36f: 100,000 columns (a 789 KB header, under the 1 MiB cap) were named each, with its did-you-mean:
    # a refusal of 989,438 characters on one line, after 62 s
    header, row = without(ENTRIES, [5, 1, 1, "2026-11-01", "10.00", "DKK", 1010], "currency" if lacking else "")
    extra = [f"c{i}" for i in range(5_000)]
    data = write(tmp_path / "e.csv", [*header, *extra], [[*row, *[""] * len(extra)]])
    assert main(["load", "economic", str(data), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "'c39'" in err and "'c40'" not in err and "and 4,960 more" in err
    assert len(err) < 2_500, err


def test_a_column_naming_a_field_the_header_has_already_is_not_told_to_be_mapped_to_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 'Amount' beside 'amount' was answered "did you mean 'amount'?": mapping it so makes two columns one field
    data = write(tmp_path / "e.csv", [*ENTRIES, "Amount"], [[5, 1, 1, "2026-11-01", "10.00", "DKK", 1010, "-10.00"]])
    assert main(["load", "economic", str(data), "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "did you mean" not in err
    assert "'Amount' (the field amount written another way, which the header has already)" in err, err


async def test_an_empty_cell_of_a_column_the_file_has_rejects_its_row_only(tmp_path: Path) -> None:
    rows = [[5, 1, 1, "2026-11-01", "10.00", "DKK", 1010], [5, 1, 1, "2026-11-01", "-10.00", "DKK", 5820]]
    rows += [[5, 1, 2, "2026-11-01", "", "DKK", 1010]]
    data = write(tmp_path / "e.csv", ENTRIES, rows)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"))
            report = await load(job, env=ENV)
    assert (report.loaded, report.rejected, report.exit_code) == (2, 1, 1)
    rejected = csv.DictReader(Path(str(report.rejects_file)).read_text(encoding="utf-8").splitlines())
    assert [(r["line"], r["field"]) for r in rejected] == [("4", "amount")]


# --- JSONL: no header, so the keys its records give stand for one -------------------------------------------


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def as_keys(said: str) -> str:
    """A CSV refusal's start as a JSONL file's says it."""
    said = said.replace("no columns ", "no record gives the keys ").replace("no column ", "no record gives the key ")
    return said.replace("The file's columns:", "The file's keys:").replace("Name the column so", "Name the key so")


@pytest.mark.parametrize(("target", "options", "name", "header", "row", "said"), LACKING)
async def test_a_jsonl_file_whose_records_all_lack_a_key_every_row_needs_is_refused_before_the_first_call(
    tmp_path: Path, target: str, options: dict[str, Any], name: str, header: list[str], row: list[Any], said: str
) -> None:
    # found by testers: such a file was loaded row by row, every row rejected, exit 1
    record = dict(zip(header, row, strict=True))
    data = write_jsonl(tmp_path / name.replace(".csv", ".jsonl"), [record, {**record, header[0]: None}])
    with anyio.fail_after(60):
        async with running(target, SandboxOptions(window_limit=0)) as url:
            job = Job(
                target=target, files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"),
                target_options=options,
            )  # fmt: skip
            with pytest.raises(ConfigError) as info:
                await load(job, env=ENV)
            assert await requests_seen(url) == 0
    message = str(info.value)
    assert message.startswith(f"{data}: {as_keys(said)}"), message
    assert " so in the records, or map the file's own" in message, message
    assert message.endswith("; nothing was sent"), message
    assert not (tmp_path / "run.sqlite").exists()


def test_a_key_no_record_gives_exits_2_naming_the_keys_the_records_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = dict(zip(ENTRIES, [5, 1, 1, "2026-11-01", "10.00", "DKK", 1010], strict=True))
    # a null or empty value is no value: a key given only so is given by no record
    second = {**first, "amount": "-10.00", "accountNumber": 5820, "currency": None, "Notes": "x"}
    data = write_jsonl(tmp_path / "e.jsonl", [{**first, "currency": ""}, second])
    assert main(["load", "economic", str(data), "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert (
        f"{data}: no record gives the key currency: every economic row needs it, so every row would be rejected. The "
        "file's keys: 'entryTypeNumber', 'journalNumber', 'voucherNumber', 'date', 'amount', 'accountNumber', 'Notes'. "
        "Name the key so in the records, or map the file's own to it in the [columns] table of --config; key(s) "
        "'Notes' are no economic fields (map them, or to \"\" to drop them); nothing was sent"
    ) in err, err


async def test_a_key_some_records_of_a_jsonl_file_give_rejects_only_the_rows_without_it(tmp_path: Path) -> None:
    lines = [[5, 1, 1, "2026-11-01", "10.00", "DKK", 1010], [5, 1, 1, "2026-11-01", "-10.00", "DKK", 5820]]
    records = [dict(zip(ENTRIES, line, strict=True)) for line in lines]
    records += [{k: v for k, v in records[0].items() if k != "amount"} | {"voucherNumber": 2}]
    data = write_jsonl(tmp_path / "e.jsonl", records)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"))
            report = await load(job, env=ENV)
    assert (report.loaded, report.rejected, report.exit_code) == (2, 1, 1)
    rejected = csv.DictReader(Path(str(report.rejects_file)).read_text(encoding="utf-8").splitlines())
    assert [(r["line"], r["field"]) for r in rejected] == [("3", "amount")]


def test_record_keys_are_looked_at_until_every_key_required_is_given() -> None:
    keys = RecordKeys(Costs())
    either = [("costId", "entryDefinitionId"), ("IsOptional", "Amount", "Comment")]
    assert keys.lacking == [("caseId",), ("type",), *either]
    keys.add({"caseId": 1, "type": "Buyer", "Beløb": "1"})
    keys.add({"caseId": 2, "entryDefinitionId": 7})
    assert (keys.lacking, list(keys.keys), keys.records) == (
        either[1:],
        ["caseId", "type", "Beløb", "entryDefinitionId"],
        2,
    )
    keys.add({"caseId": 3, "costId": 4, "Comment": "c"})  # one of each either-or is enough
    assert keys.lacking == [] and list(keys.keys)[-2:] == ["costId", "Comment"]


ECONOMIC_HEADER = ["entryTypeNumber", "journalNumber", "voucherNumber", "date", "amount", "currency", "accountNumber"]
ECONOMIC_LINES = [
    ["5", "1", "6001", "2026-11-03", "1250.00", "DKK", "2750"],
    ["5", "1", "6001", "2026-11-03", "-1250.00", "DKK", "5600"],
]


@pytest.mark.parametrize("sep", ["|", ":"])
def test_a_header_of_field_names_read_as_one_column_names_the_delimiter_to_give(
    tmp_path: Path, sep: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A '|'-separated file is read as one column (the delimiter is judged among , ; and tab): its header names
    every field, so the refusal says the delimiter and the --delimiter to give, not that it names no field."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "pipe.csv"
    data.write_text("\n".join(sep.join(cells) for cells in [ECONOMIC_HEADER, *ECONOMIC_LINES]) + "\n")
    assert main(["load", "economic", str(data), "--base-url", "http://127.0.0.1:9/journalsapi", "-q"]) == 2
    err = capsys.readouterr().err
    assert f"separated by {sep!r}" in err and f"give --delimiter '{sep}'" in err, err
    assert "names none of" not in err


def test_a_header_and_rows_of_other_delimiters_are_refused_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ';' header over ',' rows: every row is one cell; the file is refused before the first call naming both
    delimiters, not each row rejected because 'which is missing cannot be told'."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "mix.csv"
    data.write_text(";".join(ECONOMIC_HEADER) + "\n" + "".join(",".join(c) + "\n" for c in ECONOMIC_LINES))
    assert main(["load", "economic", str(data), "--base-url", "http://127.0.0.1:9/journalsapi", "-q"]) == 2
    err = capsys.readouterr().err
    assert "line 2: the header is ';'-separated, but this row is one cell holding 7 values separated by ','" in err
    assert "nothing was sent" in err and not (tmp_path / "mix.csv.rejects.csv").exists()


@pytest.mark.parametrize(
    ("header", "said"),
    [
        # 'account' was told "the field amount written another way, which the header has already" (difflib's 0.77
        # against accountNumber's 0.70, below its cut-off), and 'journal', 'voucher' were offered nothing (tester t36d)
        ([*ENTRIES[:-1], "account"], "'account', did you mean 'accountNumber'?"),
        ([*ENTRIES[:-1], "accountNo"], "'accountNo', did you mean 'accountNumber'?"),
        ([*ENTRIES[:-1], "Konto nr"], "'Konto nr' are not economic fields"),
        (
            [ENTRIES[0], "journal", "voucher", *ENTRIES[3:]],
            "no columns journalNumber (did you mean 'journal'?); voucherNumber (did you mean 'voucher'?)",
        ),
    ],
)
def test_a_column_named_as_a_field_without_its_number_tail_is_told_that_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: list[str], said: str
) -> None:
    data = write(tmp_path / "e.csv", header, [[5, 1, 1, "2026-11-01", "10.00", "DKK", 1010]])
    assert main(["load", "economic", str(data), "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert said in err, err
    assert "amount written another way" not in err, err


CUSTOMERS = "customerno,companyname,emailaddress1\nC1,Acme,a@example.com\n"
INVOICES = "customerNumber,invoiceNumber,invoiceAmount,currency\nC1,I1,1000,DKK\n"
VISMA_ENTRIES = "caseId,accountingCostType,amount,description,note,entryDate\n1001,FEE,10.00,a,n,2026-11-05\n"
VISMA_COSTS = "caseId,type,costId,IsOptional,Amount,Comment\n1001,Buyer,100101,false,10.00,\n"


@pytest.mark.parametrize(
    ("target", "data", "given", "said"),
    [
        # found by tester t36d: each was told "its first line (…) names none of the … fields: … If title or notes
        # lines stand above the header, remove them", or that it lacks every column of the kind it was given as
        ("payorcrm", CUSTOMERS, ["--kind", "invoices"], "are those of payorcrm customers, not of what the file was "
         "given as: load it as customers (--customers FILE, or FILE... --kind customers); nothing was sent"),
        ("payorcrm", INVOICES, ["--kind", "customers"], "are those of payorcrm invoices, not of what the file was "
         "given as: load it as invoices (--invoices FILE, or FILE... --kind invoices); nothing was sent"),
        ("visma-core", VISMA_ENTRIES, ["--kind", "costs"], "are those of visma-core entries, not of what the file "
         "was given as: load it as entries (--kind entries); nothing was sent"),
        ("visma-core", VISMA_COSTS, [], "are those of visma-core costs, not of what the file was given as: load it "
         "as costs (--kind costs); nothing was sent"),
    ],
)  # fmt: skip
def test_a_file_of_another_kind_than_it_was_given_as_is_told_the_kind_it_is(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
    data: str,
    given: list[str],
    said: str,
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "f.csv"
    path.write_text(data, encoding="utf-8")
    assert main(["load", target, str(path), *given, "--base-url", "http://127.0.0.1:9", "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"bulkload: error: {path}: its columns ("), err
    assert err.endswith(said), err


@pytest.mark.parametrize("given", ["csv", "mapped", "jsonl"])
def test_a_file_naming_entries_to_update_is_told_that_bulkload_does_not_update_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    # entryNumber was answered "the field entryTypeNumber written another way, which the header has already" (or,
    # a column mapped to it, "did you mean 'entryTypeNumber'?"), and both columns "map them to a field (or to "" to
    # drop them)": an update file is no misspelt create file
    values = [5, 1, 1, "2026-11-01", "10.00", "DKK", 1010]
    args: list[str] = []
    if given == "jsonl":
        data = tmp_path / "e.jsonl"
        data.write_text(json.dumps({"Entry Number": 3, **dict(zip(ENTRIES, values, strict=True))}) + "\n")
    else:
        first = "entryNumber" if given == "csv" else "Løbenr"
        data = write(tmp_path / "e.csv", [first, "objectVersion", *ENTRIES], [[3, "0d", *values]])
        if given == "mapped":
            (config := tmp_path / "job.toml").write_text('[columns]\n"Løbenr" = "entryNumber"\n', encoding="utf-8")
            args = ["--config", str(config)]
    assert main(["load", "economic", str(data), *args, "--dry-run"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    named = "key(s) 'Entry Number'" if given == "jsonl" else "column(s) 'entryNumber', 'objectVersion'"
    assert f"{named}: entryNumber and objectVersion name a draft entry already in e-conomic, to update it" in err, err
    assert "bulkload does not update entries" in err and "nothing was sent" in err
    assert "entryTypeNumber" not in err and "drop them" not in err
