"""A file of another target's columns (an e-conomic export given to `bulkload load payorcrm`, a PayorCRM invoices
file given to economic) is refused before the first call naming the target whose file it is and the command that
loads it there. Before, halopsa told the user to remove "title or notes lines" above the header, and payorcrm asked
"did you mean 'voucherNumber'?" for a column invoiceNumber."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_no_rows import ENV, NOWHERE, SAMPLES

from bulkload.cli import main


@pytest.mark.parametrize(
    ("sample", "name", "argv", "command"),
    [
        ("economic/entries.csv", "november.csv", ["payorcrm", "--kind", "invoices"], "bulkload load economic`"),
        ("economic/entries.csv", "XeroDetails.csv", ["halopsa"], "bulkload load economic`"),
        ("economic/entries.csv", "november.csv", ["visma-core"], "bulkload load economic`"),
        ("payorcrm/invoices.csv", "invoices.csv", ["economic"], "bulkload load payorcrm --kind invoices`"),
        ("visma_core/costs.csv", "costs.csv", ["economic"], "bulkload load visma-core --kind costs`"),
    ],
)
def test_a_file_of_another_targets_columns_is_told_whose_it_is(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sample: str,
    name: str,
    argv: list[str],
    command: str,
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / name
    shutil.copyfile(SAMPLES / sample, path)
    args = ["load", *argv, str(path), "--base-url", NOWHERE, "--attempts", "1", "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bulkload: error:") and "\n" not in err, err
    assert f"not of {argv[0]}: is it the file you meant? Load it with `{command}" in err, err
    assert err.endswith("nothing was sent"), err
    assert not list(tmp_path.glob("*.ledger.sqlite*")), "a refused run leaves no ledger"
