"""An input that is not there: the message names the file of its folder that was meant, where the name given is a
typo of it (a letter, the case, the extension), so a new user finds it from the message. Never a file of other
numbers: another month's or year's file is not what was meant, and loading it would put the wrong period in the
books."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkload.errors import ConfigError, LedgerError
from bulkload.ledger import Ledger
from bulkload.sources import sha256_of


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as refused:
        sha256_of(path)
    return str(refused.value)


@pytest.mark.parametrize(
    ("given", "there"),
    [("november.cvs", "november.csv"), ("November.csv", "november.csv"), ("entires.csv", "entries.csv")],
)
def test_a_typo_of_a_file_there_names_it(tmp_path: Path, given: str, there: str) -> None:
    (tmp_path / there).write_text("a\n1\n")
    said = refusal(tmp_path / given)
    assert said == f"cannot read {tmp_path / given}: No such file or directory; did you mean {tmp_path / there}?"


@pytest.mark.parametrize(("given", "there"), [("dec-2026.csv", "dec-2025.csv"), ("run9.csv", "run6.csv")])
def test_a_file_of_other_numbers_is_never_offered(tmp_path: Path, given: str, there: str) -> None:
    (tmp_path / there).write_text("a\n1\n")
    assert refusal(tmp_path / given) == f"cannot read {tmp_path / given}: No such file or directory"


def test_a_missing_folder_is_said_as_before(tmp_path: Path) -> None:
    gone = tmp_path / "no-such-folder" / "entries.csv"
    assert refusal(gone) == f"cannot read {gone}: No such file or directory"


def test_a_ledger_not_there_names_the_run_s_ledger_its_name_is_a_typo_of(tmp_path: Path) -> None:
    # the docs' FILE.ledger.sqlite keeps the input's extension: `nov.ledger.sqlite` is typed for `nov.csv.ledger.sqlite`
    (tmp_path / "nov.csv.ledger.sqlite").write_bytes(b"")
    with pytest.raises(LedgerError) as refused:
        Ledger.open(str(tmp_path / "nov.ledger.sqlite"))
    said = str(refused.value)
    assert said == f"no ledger at {tmp_path / 'nov.ledger.sqlite'}; did you mean {tmp_path / 'nov.csv.ledger.sqlite'}?"


@pytest.mark.parametrize("given", ["nov.csv.ledger.sqlite.lock", "nov.csv", "nov.csv.rejects.csv"])
def test_a_file_beside_the_run_s_ledger_given_as_the_ledger_names_the_ledger(tmp_path: Path, given: str) -> None:
    # the lock a shell completes `--ledger nov.csv.l<TAB>` to, the input, its rejects: the ledger beside them was meant
    ledger = tmp_path / "nov.csv.ledger.sqlite"
    ledger.write_bytes(b"")  # the hint names the file there; opening it is the command run again
    (tmp_path / given).write_text("" if given.endswith(".lock") else "a\n1\n")
    with pytest.raises(LedgerError) as refused:
        Ledger.open(str(tmp_path / given))
    assert str(refused.value).endswith(f"; did you mean {ledger}?"), refused.value


def test_a_ledger_deleted_beside_its_lock_is_said_gone_never_offered_its_lock(tmp_path: Path) -> None:
    # found by a tester: the ledger of a killed run deleted before `bulkload resume`, its empty lock file left, was
    # answered "no ledger at …; did you mean …ledger.sqlite.lock?": the lock offered as the ledger
    ledger = tmp_path / "nov.csv.ledger.sqlite"
    (tmp_path / "nov.csv.ledger.sqlite.lock").write_bytes(b"")
    with pytest.raises(LedgerError) as refused:
        Ledger.open(str(ledger))
    said = str(refused.value)
    assert said.startswith(f"no ledger at {ledger}: {ledger}.lock beside it is the run's"), said
    assert "moved or deleted since" in said and "Put it back there" in said and "did you mean" not in said, said


def test_a_ledger_not_there_of_no_near_name_says_where_a_ledger_is_found(tmp_path: Path) -> None:
    """Helper t74d: `bulkload resume --ledger nope.sqlite` said "no ledger at …/nope.sqlite" and no more: a new user
    was not told which file --ledger takes, nor that the folder held the run's ledger under its default name."""
    (tmp_path / "nov.csv.ledger.sqlite").write_bytes(b"")
    way = (
        ": give --ledger the ledger a load wrote, as its summary's `ledger:` line names it (by default "
        "FILE.ledger.sqlite beside the load's first input)"
    )
    for given, held in [
        (tmp_path / "nope.sqlite", "; that folder holds nov.csv.ledger.sqlite"),
        (tmp_path / "x" / "l", ""),
    ]:
        with pytest.raises(LedgerError) as refused:
            Ledger.open(str(given))
        assert str(refused.value) == f"no ledger at {given}{way}{held}", refused.value
