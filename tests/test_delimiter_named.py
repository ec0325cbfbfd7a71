"""A comma-separated file read with ';' because the run was told so (`--delimiter ';'`) or its Excel `sep=;` line
says so is refused (right), but the refusal says ',' "which bulkload does not take for a delimiter by itself (it
judges ',', ';' or tab from the header)": bulkload does take ',' by itself; here it was the option or the sep= line
that named ';'. The message must name what made the file read with ';', not a rule that does not hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CREDS

from bulkload.cli import main

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber"
LINES = ["5,1,1,2026-10-31,10.00,DKK,1010", "5,1,1,2026-10-31,-10.00,DKK,5600"]


@pytest.mark.parametrize(
    ("first", "flags", "named"), [("", ["--delimiter", ";"], "--delimiter"), ("sep=;\n", [], "sep=")]
)
def test_a_comma_file_read_with_another_delimiter_it_was_told_is_refused_naming_what_told_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    first: str,
    flags: list[str],
    named: str,
) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "comma.csv"
    data.write_text(first + "\n".join([HEADER, *LINES]) + "\n")
    code = main(["load", "economic", str(data), *flags, "--base-url", "http://127.0.0.1:9/journalsapi", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "does not take for a delimiter by itself" not in err, err
    assert named in err, err


def test_a_pipe_header_near_one_field_is_told_the_delimiter_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 'name|tenant_name' read as one column is near the field tenant_name: the refusal offered only "did you mean
    # 'tenant_name'?" and listed the fields, where input-files.md promises the --delimiter to give
    monkeypatch.setenv("HALO_CLIENT_ID", "id")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "secret")
    data = tmp_path / "pipe.csv"
    data.write_text("name|tenant_name\nAcme|Acme Ltd\n")
    code = main(
        ["load", "halopsa", str(data), "--resource", "XeroDetails", "--base-url", "http://127.0.0.1:9/api", "-q"]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--delimiter '|'" in err, err
