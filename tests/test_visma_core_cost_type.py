"""Visma Core's --cost-type (a manifest's options.cost_type): the accounting cost type of every entry of a file that
names none, an export of one cost type; its entry definition looked up as a column's value is. Through the real
client against the sandbox."""

from __future__ import annotations

import json
import shlex
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from hostile import environment, served
from test_load_visma_core import job as visma_core_job
from test_load_visma_core import write as visma_core_write

from bulkload import Job, load
from bulkload.cli import main
from bulkload.errors import ConfigError, WrongEndpoint
from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, build_app, running
from bulkload.targets.visma_core import VismaCore

ENV = {"VISMA_CORE_TOKEN": "test-core-token"}
#: an export of one cost type: no accountingCostType column
HEADER = ["caseId", "amount", "description", "note", "entryDate", "orderId"]
ROWS = [[1001, "10.00", "a", "", "2026-11-01", "R-1"], [1001, "5.50", "b", "", "2026-11-01", "R-1"]]
#: the sandbox's entry definitions (bulkload/sandbox/visma_core.py): FEE books an entry a line, OUTLAY merges an
#: order's lines into one entry
FEE, OUTLAY = 18, 19


def write(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    return visma_core_write(path, rows, header)


async def sandbox(url: str, what: str) -> Any:
    """The sandbox's test-only read-back (`entries`) or counters (`stats`): the loader has no way to read them."""
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/{what}") as r:
        return await r.json(loads=lambda text: json.loads(text, parse_float=Decimal))


def job(tmp_path: Path, data: Path, url: str, **options: Any) -> Job:
    return visma_core_job(tmp_path, data, url, target_options=options)


@pytest.mark.parametrize(
    ("cost_type", "booked"),
    [
        ("FEE", [(FEE, Decimal("5.50")), (FEE, Decimal("10.00"))]),  # an entry a line
        ("OUTLAY", [(OUTLAY, Decimal("15.50"))]),  # the order's lines one entry: the definition was looked up
    ],
)
async def test_a_file_of_one_cost_type_loads_as_the_cost_type_given(
    tmp_path: Path, cost_type: str, booked: list[tuple[int, Decimal]]
) -> None:
    data = write(tmp_path / "fees.csv", ROWS)
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            report = await load(job(tmp_path, data, url, cost_type=cost_type), env=ENV)
            entries = await sandbox(url, "entries")
    assert (report.exit_code, report.loaded, report.rejected) == (0, 2, 0), report
    assert sorted((e["EntryDefinitionId"], e["Amount"]) for e in entries) == booked, entries


@pytest.mark.parametrize("wrong_address", [False, True])
async def test_a_file_whose_only_cost_type_answers_404_is_refused_before_the_first_write(
    tmp_path: Path, wrong_address: bool
) -> None:
    # found by tester t24b: a file of one cost type loaded at a wrong --base-url had every row rejected "no entry
    # definition for this user", exit 1, the user sent to Core's setup. A wrong address answers 404 to the cost
    # type as an account without its definition does: nothing tells them apart, not one row could load, so the run
    # is refused naming both (a file of several cost types, some defined, proves the address: its others rejected)
    data = write(tmp_path / "fees.csv", ROWS)
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            base = url + "/not-the-api" if wrong_address else url
            with pytest.raises(WrongEndpoint) as refused:
                await load(job(tmp_path, data, base, cost_type="FEE" if wrong_address else "NOPE"), env=ENV)
            assert await sandbox(url, "entries") == []
    said = str(refused.value)
    assert "answered 404 at" in said and "is --base-url right? If it is," in said, said
    assert "no entry definition of " + ("FEE" if wrong_address else "NOPE") in said, said
    assert "nothing was created" in said and not (tmp_path / "rejects.csv").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_a_file_naming_its_cost_types_and_the_option_is_refused_before_the_first_call(
    tmp_path: Path, fmt: str
) -> None:
    # never merged cell by cell: the file names its cost types itself, and one of the two must go
    if fmt == "csv":
        data = write(
            tmp_path / "e.csv",
            [[1001, "FEE", "10.00", "a", "", "2026-11-01", ""]],
            ["caseId", "accountingCostType", "amount", "description", "note", "entryDate", "orderId"],
        )
        names = "its column accountingCostType"
    else:
        data = tmp_path / "e.jsonl"
        lines = [{"caseId": 1001, "amount": "1.00", "entryDate": "2026-11-01"}] * 2
        lines.append({"caseId": 1002, "accountingCostType": "OUTLAY", "amount": "2.00", "entryDate": "2026-11-01"})
        data.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        names = "its key accountingCostType (line 3)"
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            with pytest.raises(ConfigError) as refused:
                await load(job(tmp_path, data, url, cost_type="FEE"), env=ENV)
            stats = await sandbox(url, "stats")
    said = str(refused.value)
    assert f"{data}: {names} names each row's own, and --cost-type FEE gives every row one" in said, said
    assert "nothing was sent" in said, said
    assert stats["requests"] == 0, stats


def test_the_option_is_refused_for_costs_which_name_no_cost_type() -> None:
    with pytest.raises(ConfigError, match=r"--cost-type is the cost type of entries \(--kind entries\)"):
        VismaCore.from_options({"kind": "costs", "cost_type": "FEE"})


@pytest.mark.parametrize("given", ["", "  ", ".", ".."])
def test_a_cost_type_no_lookup_can_name_is_refused(given: str) -> None:
    with pytest.raises(ConfigError, match="--cost-type"):
        VismaCore.from_options({"cost_type": given})


def test_a_resumed_run_reads_its_files_with_the_cost_type_it_was_given() -> None:
    # the target's options are stored in the ledger: a resume, and the planning child, are made from them
    again = VismaCore.from_options(VismaCore.from_options({"cost_type": "FEE"}).options())
    assert again.entries.cost_type == "FEE"
    assert [f for (f,) in again.entries.required()] == ["caseId", "amount"]


def test_the_command_line_takes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a dry run looks nothing up: the option reaches the target, and the refusal is exit 2, before any call
    monkeypatch.setenv("VISMA_CORE_TOKEN", "t")
    data = write(tmp_path / "fees.csv", ROWS)
    base = ["--base-url", "http://127.0.0.1:9", "--dry-run", "-q"]
    assert main(["load", "visma-core", str(data), "--cost-type", "FEE", *base]) == 0
    both = write(tmp_path / "both.csv", [[1001, "FEE", "10.00"]], ["caseId", "accountingCostType", "amount"])
    capsys.readouterr()
    assert main(["load", "visma-core", str(both), "--cost-type", "FEE", *base]) == 2
    assert "--cost-type FEE gives every row one" in capsys.readouterr().err


async def test_a_manifest_job_takes_it_as_options_cost_type(tmp_path: Path) -> None:
    write(tmp_path / "fees.csv", ROWS)
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            (tmp_path / "m.toml").write_text(
                f'output_dir = "runs"\n[[job]]\nname = "vc"\ntarget = "visma-core"\nbase_url = "{url}"\n'
                'files = ["fees.csv"]\noptions = {cost_type = "FEE"}\n'
                'credentials = {env = {VISMA_CORE_TOKEN = "VT"}}\n'
            )
            (outcome,) = (await run_manifest(read_manifest(str(tmp_path / "m.toml")), env={"VT": "t"})).jobs
            entries = await sandbox(url, "entries")
    assert (outcome.status, outcome.exit_code) == ("complete", 0), outcome
    assert sorted((e["EntryDefinitionId"], e["Amount"]) for e in entries) == [
        (FEE, Decimal("5.50")),
        (FEE, Decimal("10.00")),
    ]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ('"accountingCostType": ""', "accountingCostType"),
        ('"accountingCostType": null', "accountingCostType"),
        ('"accountingCostType": "  "', "accountingCostType"),
        ('"accounting_cost_type": null', "'accounting_cost_type'"),  # written nearly as it, as a header's column
    ],
)
async def test_a_jsonl_record_giving_the_key_blank_is_refused_as_a_blank_column_is(
    tmp_path: Path, given: str, said: str
) -> None:
    # a CSV whose accountingCostType column is there but blank is refused: a record writing the key with no value
    # names the file's own cost types all the same, never filled in from the option cell by cell
    data = tmp_path / "e.jsonl"
    line = '{"caseId": 1001, "amount": "1.00", "entryDate": "2026-11-01"'
    data.write_text(f"{line}}}\n{line}, {given}}}\n", encoding="utf-8")
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            with pytest.raises(ConfigError) as refused:
                await load(job(tmp_path, data, url, cost_type="FEE"), env=ENV)
            stats = await sandbox(url, "stats")
    text = str(refused.value)
    assert f"{data}: its key {said} (line 2" in text, text
    assert "--cost-type FEE gives every row one" in text and "nothing was sent" in text, text
    assert stats["requests"] == 0, stats


def test_the_rejects_file_of_a_cost_type_loads_by_the_command_the_summary_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by a tester: the summary gave no command for the rejects file, which keeps the input's columns (no
    # accountingCostType), and loaded without --cost-type it was refused naming the column only, never the option
    # nor the FEE the run gave its rows
    monkeypatch.chdir(tmp_path)
    rows = [[5001, "10.00", "a", "n", "2026-11-01", ""], [5002, "xx", "b", "n", "2026-11-01", ""]]
    write(tmp_path / "fees.csv", rows)
    rejects = tmp_path / "fees.csv.rejects.csv"
    with served(build_app("visma-core", SandboxOptions(window_limit=0))) as url, environment(ENV):
        common = ["--base-url", url, "--no-progress"]
        assert main(["load", "visma-core", "fees.csv", "--cost-type", "FEE", *common, "--report", "r.json"]) == 1
        said = capsys.readouterr().out
        command = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["rejects_load"]
        assert shlex.split(command) == ["bulkload", "load", "visma-core", "fees.csv.rejects.csv", "--cost-type", "FEE"]
        assert f"fix them in place, then load them as the inputs were: {command}" in said, said
        rejects.write_text(rejects.read_text(encoding="utf-8").replace(",xx,", ",20.00,"), encoding="utf-8")
        # without the option: refused, naming the option and the cost type the run that wrote it gave
        assert main(["load", "visma-core", "fees.csv.rejects.csv", *common]) == 2
        refused = capsys.readouterr().err
        assert "no column accountingCostType" in refused, refused
        assert "or give --cost-type TYPE for a file of one cost type" in refused, refused
        assert "the run whose rejects file it is gave --cost-type FEE" in refused, refused
        # with another cost type: refused, before any call (a tester, t41b: an order of OUTLAY, 100.00 and a bad
        # 40.0x, fixed and loaded with --cost-type FEE was booked as two FEE entries, where it meant one of 140.00)
        assert main(["load", "visma-core", "fees.csv.rejects.csv", "--cost-type", "OUTLAY", *common]) == 2
        refused = capsys.readouterr().err
        assert "it is the rejects file of a run given --cost-type FEE" in refused, refused
        assert "given --cost-type OUTLAY they would be booked as other records" in refused, refused
        assert "write it in a column accountingCostType of the file instead of --cost-type" in refused, refused
        assert main([*shlex.split(command)[1:], *common]) == 0, capsys.readouterr()
        with urllib.request.urlopen(f"{url}/_sandbox/entries") as r:
            entries = json.loads(r.read(), parse_float=Decimal)
    assert sorted((e["EntryDefinitionId"], e["Amount"]) for e in entries) == [
        (FEE, Decimal("10.00")),
        (FEE, Decimal("20.00")),
    ]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_file_without_the_column_is_told_of_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    # an export of one cost type loaded without --cost-type: the refusal says the option is the other way
    monkeypatch.setenv("VISMA_CORE_TOKEN", "t")
    data = write(tmp_path / "fees.csv", ROWS)
    if fmt == "jsonl":
        data = tmp_path / "fees.jsonl"
        data.write_text('{"caseId": 1001, "amount": "1.00", "entryDate": "2026-11-01"}\n', encoding="utf-8")
    assert main(["load", "visma-core", str(data), "--base-url", "http://127.0.0.1:9", "--dry-run", "-q"]) == 2
    refused = capsys.readouterr().err
    assert "accountingCostType" in refused and "or give --cost-type TYPE for a file of one cost type" in refused
    assert "the run whose rejects file" not in refused, refused
