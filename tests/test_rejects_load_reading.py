"""The summary's command that loads the rejects files back (the report's `rejects_load`) gives the options the run
was given to read its inputs (Job.reading_args): the rejects file is written in its input's encoding and delimiter,
its numbers and dates as the input wrote them. A tester (t23b) found it left them out: a run given --date-format
%d.%m.%Y, whose rejects file held only dates that read both ways, and one given --encoding cp1252, were each refused
(exit 2) run as printed; picking one of the three code pages the refusal offered could book Ï for Ø."""

from __future__ import annotations

import json
import shlex
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from hostile import environment, served

from bulkload.cli import main
from bulkload.sandbox import SandboxOptions, build_app

HEADER = "caseId;accountingCostType;amount;description;note;entryDate;orderId\r\n"


def loaded_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, given: list[str]
) -> tuple[str, list[tuple[int, Decimal, str, str, str]]]:
    """Load `data` (a Visma Core file of one good row and one whose amount is xx) with `given`, fix the rejects
    file's row in place and run the command the summary printed; (that command, what the sandbox then holds)."""
    (tmp_path / "k.csv").write_bytes(data)
    with (
        served(build_app("visma-core", SandboxOptions(window_limit=0))) as url,
        environment({"VISMA_CORE_TOKEN": "test-core-token"}),
    ):
        common = ["--base-url", url, "--no-progress"]
        assert main(["load", "visma-core", str(tmp_path / "k.csv"), *given, *common, "--report", "r.json"]) == 1
        said = capsys.readouterr().out
        command = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["rejects_load"]
        assert f"fix them in place, then load them as the inputs were: {command}" in said, said
        rejects = tmp_path / "k.csv.rejects.csv"
        rejects.write_bytes(rejects.read_bytes().replace(b";xx;", b";20,00;"))  # fixed in place, as a user does
        code = main([*shlex.split(command)[1:], *common])
        assert code == 0, f"{command!r} -> exit {code}: {capsys.readouterr().err}"
        with urllib.request.urlopen(f"{url}/_sandbox/entries") as r:
            entries = json.loads(r.read(), parse_float=Decimal)
    return command, sorted(
        (e["CaseId"], e["Amount"], e["Description"], e["Note"], e["EntryDate"][:10]) for e in entries
    )


def test_a_date_format_given_is_in_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # an Excel "CSV (semicolon)" export: day-first dates, none past the 12th, so the run is given --date-format
    monkeypatch.chdir(tmp_path)
    data = f"{HEADER}1001;FEE;1.234,50;a;n;05.11.2026;\r\n1002;FEE;xx;b;n;07.11.2026;\r\n".encode()
    command, held = loaded_back(tmp_path, capsys, data, ["--date-format", "%d.%m.%Y"])
    assert command.endswith("--date-format %d.%m.%Y"), command
    assert held == [
        (1001, Decimal("1234.50"), "a", "n", "2026-11-05"),
        (1002, Decimal("20.00"), "b", "n", "2026-11-07"),
    ]


def test_an_encoding_and_a_delimiter_given_are_in_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = "3001;FEE;1.234,50;Kørsel;Æble;25.11.2026;\r\n3004;FEE;xx;Kørsel 2;Ø;26.11.2026;\r\n"
    data = f"sep=;\r\n{HEADER}{rows}".encode("cp1252")
    command, held = loaded_back(tmp_path, capsys, data, ["--encoding", "cp1252", "--delimiter", ";"])
    assert command.endswith("--encoding cp1252 --delimiter ';'"), command
    assert held == [
        (3001, Decimal("1234.50"), "Kørsel", "Æble", "2026-11-25"),
        (3004, Decimal("20.00"), "Kørsel 2", "Ø", "2026-11-26"),
    ]


def test_a_job_file_that_mapped_the_columns_is_in_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a rejects file keeps the input's own columns: loaded back without the job file's [columns], it was refused
    # (exit 2, "'Sag', 'Beløb' are no visma-core fields"), the command printed run as it was (tester t36d)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "job.toml").write_text('[columns]\n"Sag" = "caseId"\n"Beløb" = "amount"\n', encoding="utf-8")
    header = HEADER.replace("caseId", "Sag").replace("amount", "Beløb")
    data = f"{header}1001;FEE;1.234,50;a;n;2026-11-05;\r\n1002;FEE;xx;b;n;2026-11-07;\r\n".encode()
    command, held = loaded_back(tmp_path, capsys, data, ["--config", "job.toml"])
    assert command.endswith(f"--config {tmp_path / 'job.toml'}"), command
    assert held == [
        (1001, Decimal("1234.50"), "a", "n", "2026-11-05"),
        (1002, Decimal("20.00"), "b", "n", "2026-11-07"),
    ]
