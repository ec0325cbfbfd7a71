"""A HaloPSA file named after one resource, given --resource naming another: which one its rows are for cannot be
told. Found by a tester (t53a): `QuickBooksDetails.csv --resource XeroDetails` created the QuickBooks settings as
XeroDetails records, exit 0 (as would `XeroDetails.csv QuickBooksDetails.csv --resource XeroDetails`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkload.cli import main
from bulkload.targets.halopsa import HaloPSA

#: nothing listens there: a file that got past the check would meet a stopped run (exit 4), not a refusal
NOWHERE = "http://127.0.0.1:9"


def test_a_file_named_after_another_resource_than_resource_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HALO_CLIENT_ID", "c")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "s")
    xero, quickbooks = tmp_path / "XeroDetails.csv", tmp_path / "QuickBooksDetails.csv"
    xero.write_text("name\nX1\n", encoding="utf-8")
    quickbooks.write_text("name\nQ1\n", encoding="utf-8")
    args = ["load", "halopsa", str(xero), str(quickbooks), "--resource", "XeroDetails", "--base-url", NOWHERE]
    assert main([*args, "--attempts", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{quickbooks}: its name gives the HaloPSA resource QuickBooksDetails, and --resource gives" in err, err
    assert err.endswith("nothing was sent") and "\n" not in err, err
    assert not list(tmp_path.glob("*.ledger.sqlite*")), "a refused run leaves no ledger"


def test_the_command_that_loads_rejects_again_gives_no_resource_a_name_contradicts() -> None:
    given = HaloPSA.flags.given
    assert given is not None
    xero = {"resources": ["XeroDetails"], "match_on": [], "tenant": None}
    assert given({0: "out/xerodetails.csv.rejects.csv"}, xero) == [
        "out/xerodetails.csv.rejects.csv",
        "--resource",
        "XeroDetails",
    ]
    # --rejects named after another resource: a command with --resource XeroDetails would be refused
    assert given({0: "out/QuickBooksDetails.rejects.csv"}, xero) is None
