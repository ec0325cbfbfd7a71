"""Found by tester t49d: `bulkload rollback` of a PayorCRM (or Visma Core) run, which cannot delete, says "undo the
records in payorcrm itself, by the ids the success file lists". A run whose calls were in doubt (the upload carried
out, its answer lost) has records in the API that no success line lists: undone by that sentence alone, they stayed
in the books. The sentence now names the rows in doubt and their file, to look for too."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import spawn_sandbox

from bulkload.cli import main


def test_rollback_that_cannot_delete_names_the_rows_in_doubt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAYORCRM_API_KEY", "key")
    monkeypatch.setenv("PAYORCRM_API_SECRET", "secret")
    data = tmp_path / "c.csv"
    data.write_text(
        "customerno,emailaddress1,companyname,firstname,lastname,phoneno,cocode\r\n"
        "1001,ann@example.com,Example Ltd,Ann,Berg,+4512345678,DK01\r\n"
    )
    sandbox = spawn_sandbox("--drop-rate", "1", target="payorcrm")  # stored, then the answer lost: in doubt
    try:
        loading = ["load", "payorcrm", "--kind", "customers", str(data), "--base-url", sandbox.url, "-q"]
        assert main(loading) == 1
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    capsys.readouterr()
    assert main(["rollback", "--ledger", str(tmp_path / "c.csv.ledger.sqlite"), "-q"]) == 2
    said = capsys.readouterr().out
    assert "by the ids the success file lists; 1 row is in doubt" in said, said
    assert f"({tmp_path / 'c.csv.in_doubt.csv'})" in said and "look for them in payorcrm too" in said, said
