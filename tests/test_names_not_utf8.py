"""A path or address whose bytes are no UTF-8 text (a file named in Latin-1 on a Windows share or in an old zip, as
the command line hands it on: lone surrogates) stopped the run at its ledger's making as "internal error (a bug in
bulkload): UnicodeEncodeError … surrogates not allowed", exit 4 (tester t36f). DESIGN: ambiguity and what cannot be
kept are refused with a clear message, never a traceback's words: now exit 2 naming the setting, the bytes shown
as escapes, before anything is made or sent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CREDS, write_entries

from bulkload import Job
from bulkload.cli import main
from bulkload.errors import ConfigError

#: `Årsafslutning.csv` as Windows-1252 writes its name, read back by Python from the command line
LATIN_1_NAME = os.fsdecode(b"\xc5rsafslutning.csv")


@pytest.mark.parametrize("setting", ["files", "ledger", "rejects", "report", "base_url"])
def test_a_name_that_is_no_utf_8_is_refused_naming_its_setting(tmp_path: Path, setting: str) -> None:
    given: dict[str, object] = {
        "files": [str(tmp_path / LATIN_1_NAME)],
        "ledger": str(tmp_path / LATIN_1_NAME),
        "rejects": str(tmp_path / LATIN_1_NAME),
        "report": str(tmp_path / LATIN_1_NAME),
        "base_url": "http://127.0.0.1:9/" + LATIN_1_NAME,
    }
    kept = {"files": [str(tmp_path / "e.csv")], setting: given[setting]}
    with pytest.raises(ConfigError) as refused:
        Job(target="economic", **kept)  # type: ignore[arg-type]
    message = str(refused.value)
    named = {"files": "FILE", "base_url": "--base-url"}.get(setting, f"--{setting}")
    assert message.startswith(named) and "\\xc5rsafslutning.csv" in message and "no UTF-8 text" in message
    assert "nothing was sent" in message


def test_a_file_named_in_latin_1_is_refused_by_the_command_before_its_ledger_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "e.csv"
    write_entries(data, 2)
    named = tmp_path / LATIN_1_NAME
    data.rename(named)
    ledger = tmp_path / "run.sqlite"
    code = main(["load", "economic", str(named), "--base-url", "http://127.0.0.1:9/api", "--ledger", str(ledger)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "internal error" not in err and "\\xc5rsafslutning.csv' holds bytes that are no UTF-8 text" in err
    assert not ledger.exists()


def test_a_relative_path_in_a_folder_named_in_latin_1_is_refused_naming_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The names given are UTF-8 (`e.csv`), the working folder's is not: the run keeps the absolute paths, which
    stopped it at its ledger's making as an internal error, exit 4 (tester t37a); a dry run too."""
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / os.fsdecode(b"\xc5rsafslutning")
    folder.mkdir()
    write_entries(folder / "e.csv", 2)
    monkeypatch.chdir(folder)
    for dry in ([], ["--dry-run"]):
        code = main(["load", "economic", "e.csv", "--base-url", "http://127.0.0.1:9/api", *dry])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "internal error" not in err and "FILE 'e.csv' lies in the folder" in err, err
        assert "\\xc5rsafslutning', whose name holds bytes that are no UTF-8 text" in err, err
        assert not (folder / "e.csv.ledger.sqlite").exists()
