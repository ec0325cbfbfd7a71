"""Found by tester t23c: a run loaded a file, was rolled back, and the same file was loaded again by a new run (as
the rollback's summary says a new load does). `bulkload reconcile` of the rolled back run then says its entries are
"added by others: 200 entries … of groups this run never sent, another writer's": untrue, the run sent every one of
those groups (it created them, and its rollback removed them). docs/reconciliation.md names other writers' entries
as those of groups the run did not send; a message must tell the truth."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_entries

from bulkload.cli import main


def test_reconcile_of_a_rolled_back_run_does_not_say_it_never_sent_groups_it_sent(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    write_entries(tmp_path / "a.csv", 20)
    first, second = str(tmp_path / "r1.sqlite"), str(tmp_path / "r2.sqlite")
    assert main(["load", "economic", str(tmp_path / "a.csv"), "--ledger", first, *base]) == 0
    assert main(["rollback", "--ledger", first, "--no-progress", "-q"]) == 0
    assert main(["load", "economic", str(tmp_path / "a.csv"), "--ledger", second, *base]) == 0
    capsys.readouterr()
    main(["reconcile", "--ledger", first])
    said = capsys.readouterr().out
    assert "added by others" in said, said  # the new run's entries, the same vouchers
    assert "of groups this run never sent" not in said, said
    assert "of groups this run sent and rolled back, created since by another writer or run" in said, said


def test_reconcile_of_a_rolled_back_run_offers_no_load_of_its_rejects(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # found by tester t30b: after a rollback, `bulkload reconcile` still said "fix them in place, then load them as
    # the inputs were: bulkload load economic a.csv.rejects.csv": the rows to load again are the whole input's
    write_entries(tmp_path / "a.csv", 20, bad_every=10)
    ledger = str(tmp_path / "r1.sqlite")
    assert main(["load", "economic", str(tmp_path / "a.csv"), "--ledger", ledger, *base]) == 1
    main(["reconcile", "--ledger", ledger])
    before = capsys.readouterr().out
    assert main(["rollback", "--ledger", ledger, "--no-progress", "-q"]) == 0
    capsys.readouterr()
    main(["reconcile", "--ledger", ledger])
    said = capsys.readouterr().out
    assert "fix them in place, then load them" in before, before
    assert "fix them in place, then load them" not in said, said


def test_reconcile_tells_entries_of_groups_it_rejected_loaded_since_from_another_writers(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # found by tester t30b: the rejects fixed and loaded by a run of their own, `bulkload reconcile` of the first run
    # said their entries were "added by others ... of groups this run never sent, another writer's": it sent them,
    # and the API refused them (an account it does not have)
    data = tmp_path / "a.csv"
    write_entries(data, 5)
    with data.open("a") as fh:  # voucher 6: sent, and refused by the API for its account
        fh.write("5,1,6,2026-11-02,100.00,DKK,99999,,rent,\n5,1,6,2026-11-02,-100.00,DKK,5600,,rent,\n")
    ledger = str(tmp_path / "r1.sqlite")
    assert main(["load", "economic", str(data), "--ledger", ledger, *base]) == 1
    rejects = tmp_path / "a.csv.rejects.csv"
    rejects.write_text(rejects.read_text().replace(",99999,", ",1010,"))  # fixed in place
    assert main(["load", "economic", str(rejects), "--ledger", str(tmp_path / "r2.sqlite"), *base]) == 0
    capsys.readouterr()
    main(["reconcile", "--ledger", ledger])
    said = " ".join(capsys.readouterr().out.split())
    assert "added by others: 2 entries" in said, said
    assert "of groups this run never sent" not in said, said
    assert "of groups this run rejected, created since by another writer or run (its rejects file loaded" in said, said


def test_reconcile_offers_no_load_of_rejects_whose_groups_are_all_loaded_since(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # found by tester t50a at a month end: the rejects fixed and loaded by a run of their own, `bulkload reconcile`
    # of the first run still said "fix them in place, then load them as the inputs were: bulkload load economic
    # a.csv.rejects.csv", though it had just counted every entry of those vouchers as created since: a bookkeeper
    # was sent to load again what was loaded. While any rejected voucher is not in the API, it still says so
    data = tmp_path / "a.csv"
    write_entries(data, 5)
    with data.open("a") as fh:  # vouchers 6 and 7: sent, and refused by the API for their account
        for v in (6, 7):
            fh.write(f"5,1,{v},2026-11-02,100.00,DKK,99999,,rent,\n5,1,{v},2026-11-02,-100.00,DKK,5600,,rent,\n")
    ledger = str(tmp_path / "r1.sqlite")
    assert main(["load", "economic", str(data), "--ledger", ledger, *base]) == 1
    rejects = tmp_path / "a.csv.rejects.csv"
    kept = rejects.read_text()
    voucher_6 = tmp_path / "six.csv"  # voucher 6 fixed, voucher 7 left out
    voucher_6.write_text(
        "".join(line for line in kept.splitlines(True) if ",1,7," not in line).replace(",99999,", ",1010,")
    )
    assert main(["load", "economic", str(voucher_6), "--ledger", str(tmp_path / "r2.sqlite"), *base]) == 0
    capsys.readouterr()
    main(["reconcile", "--ledger", ledger])
    partly = " ".join(capsys.readouterr().out.split())
    voucher_7 = tmp_path / "seven.csv"
    voucher_7.write_text(
        "".join(line for line in kept.splitlines(True) if ",1,6," not in line).replace(",99999,", ",1010,")
    )
    assert main(["load", "economic", str(voucher_7), "--ledger", str(tmp_path / "r3.sqlite"), *base]) == 0
    capsys.readouterr()
    main(["reconcile", "--ledger", ledger])
    said = " ".join(capsys.readouterr().out.split())
    assert "fix them in place, then load them" in partly, partly
    assert "none of them is left to load" not in partly, partly
    assert "fix them in place, then load them" not in said, said
    assert "none of them is left to load: every one of their groups is in the API now" in said, said
