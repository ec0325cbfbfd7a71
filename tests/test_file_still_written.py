"""A file still being written when a load starts (an export not yet finished) is refused before the first call
with the message that says so and what to do: wait until it is complete, then load it. It was told as a file that
cannot be read whole ("a gzip cut short by a download or a copy"), whose "resume needs that same file" sent the
user to resume a run that was never made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bulkload.runner
from bulkload.cli import main

ROWS = "entryTypeNumber,journalNumber,voucherNumber,date,amount,accountNumber,contraAccountNumber,currency\n" + "".join(
    f"3,1,{n},2026-11-01,10.00,6900,2760,DKK\n" for n in range(1, 41)
)
NOWHERE = "http://127.0.0.1:9/journalsapi/v11.0.2"


def test_a_file_growing_while_it_is_inspected_is_refused_as_still_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "grow.csv"
    path.write_text(ROWS)
    hashed = bulkload.runner._hashed

    def then_appended(*args: Any, **kwargs: Any) -> Any:
        found = hashed(*args, **kwargs)
        with path.open("a") as f:  # the exporting program writes on after the file was hashed
            f.write("3,1,99,2026-11-01,10.00,6900,2760,DKK\n")
        return found

    monkeypatch.setattr(bulkload.runner, "_hashed", then_appended)
    monkeypatch.setenv("ECONOMIC_APP_SECRET_TOKEN", "a")
    monkeypatch.setenv("ECONOMIC_AGREEMENT_GRANT_TOKEN", "g")
    argv = ["load", "economic", str(path), "--base-url", NOWHERE, "--attempts", "1", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "changed while it was read" in err and "Load it once it is complete; nothing was sent" in err, err
    assert "resume" not in err and "gzip" not in err, err
    assert not list(tmp_path.glob("*.ledger.sqlite*")), "a refused run leaves no ledger"
