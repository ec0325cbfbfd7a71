"""A PayorCRM customers file loaded on its own, then given beside its invoices (its customers skipped by that run's
word): the default ledger, named after the customers file, holds that run. The refusal says to choose another
--ledger, never that a new run would create that run's records again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import spawn_sandbox

from bulkload.cli import main


@pytest.fixture
def payorcrm(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PAYORCRM_API_KEY", "k")
    monkeypatch.setenv("PAYORCRM_API_SECRET", "s")
    sandbox = spawn_sandbox(target="payorcrm")
    try:
        yield sandbox.url
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)


def test_the_ledger_of_a_customers_files_run_is_refused_with_another_ledger_as_the_way_on(
    tmp_path: Path, payorcrm: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by a tester: the refusal said "That run loaded these files: a new run of them beside it would create its
    # records again, and payorcrm offers no delete …: go on from that run instead", though loading the invoices with
    # that customers file under another --ledger is the documented way (its customers skipped, nothing doubled)
    monkeypatch.chdir(tmp_path)
    Path("c.csv").write_text("customerno,emailaddress1\nE1,a@example.com\n")
    Path("i.csv").write_text("customerNumber,invoiceNumber,invoiceAmount,currency\nE1,K-1,10.00,USD\n")
    common = ["--base-url", payorcrm, "--no-progress", "-q"]
    assert main(["load", "payorcrm", "--customers", "c.csv", *common]) == 0
    capsys.readouterr()
    both = ["load", "payorcrm", "--customers", "c.csv", "--invoices", "i.csv", "--amount-unit", "major", *common]
    assert main(both) == 2
    err = capsys.readouterr().err
    assert "or choose another --ledger" in err and "would create its records again" not in err, err
    assert main([*both, "--ledger", "both.sqlite"]) == 0
