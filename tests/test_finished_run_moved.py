"""A finished run's folder moved (its input and ledger together): the load of a corrected copy asks for the
ledger's new place (`bulkload resume --ledger NEW` records it); that resume says the run finished and its place is
recorded, not only "move it back, then resume it" as to a run with something left to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bulkload.cli import main

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n"
VOUCHER = "5,1,{n},2026-10-31,{a},DKK,1010,Sale\n5,1,{n},2026-10-31,-{a},DKK,5600,Sale\n"


def test_the_resume_of_a_finished_run_moved_says_its_place_is_recorded(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # found by a tester: exit 2 "the run's input … is gone; … move it back to …, then resume it, or roll it back",
    # though the run had finished (nothing to resume) and the resume had recorded the ledger's new place
    (first := tmp_path / "a.csv").write_text(HEADER + VOUCHER.format(n=1, a="10.00"))
    assert main(["load", "economic", str(first), *base]) == 0
    (moved := tmp_path / "moved").mkdir()
    for path in tmp_path.glob("a.csv*"):
        shutil.move(path, moved / path.name)
    (copy := tmp_path / "b.csv").write_text(HEADER + VOUCHER.format(n=1, a="10.00") + VOUCHER.format(n=2, a="5.00"))
    capsys.readouterr()
    assert main(["resume", "--ledger", str(moved / "a.csv.ledger.sqlite"), *base[2:]]) == 2
    said = capsys.readouterr().err
    assert "finished (nothing is left to resume), and where its ledger is now is recorded" in said, said
    assert main(["load", "economic", str(copy), *base, "--report", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["skipped"] == 2  # voucher 1, by the moved ledger
