"""Customers exported as Excel's "CSV UTF-8" (a BOM) and invoices as Excel's "CSV" on Windows (Windows-1252), loaded
in one run. Without --encoding the invoices are refused: "Give --encoding cp1252". With it, the customers are refused:
"--encoding cp1252 was given, but the file is UTF-8 …: leave --encoding out". Each refusal advises what the other
refuses, and neither says that --encoding is one for every file of the run and that these two files are in two
encodings (what the user has to change: save one of them again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkload.cli import main

ENV = {"PAYORCRM_API_KEY": "test-key", "PAYORCRM_API_SECRET": "test-secret"}


@pytest.mark.parametrize("given", [[], ["--encoding", "cp1252"]])
def test_inputs_of_two_encodings_are_refused_naming_both_not_advised_in_a_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given: list[str]
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    customers, invoices = tmp_path / "customers.csv", tmp_path / "invoices.csv"
    customers.write_bytes(
        b"\xef\xbb\xbf" + "customerno;emailaddress1;companyname\r\n200;a@example.com;Åbo\r\n".encode()
    )
    invoices.write_bytes(
        "customerNumber;invoiceNumber;invoiceAmount;currency\r\n200;É-1;1.234,50;DKK\r\n200;É-2;99,00;DKK\r\n".encode(
            "cp1252"
        )
    )
    args = ["load", "payorcrm", "--customers", str(customers), "--invoices", str(invoices), "--amount-unit", "major"]
    code = main([*args, *given, "--base-url", "http://127.0.0.1:9", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    # the refusal names the other file too: the two files need two encodings, which one --encoding cannot give
    assert "customers.csv" in err and "invoices.csv" in err, err
