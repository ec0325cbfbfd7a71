"""The names a rejects file's `file` column gives the file each row was rejected from (origins.py): which input of
an earlier run a name is, and which two names may be one file."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from bulkload.origins import RejectedBy, could_be, matching
from bulkload.profile import Given, inspect
from bulkload.sources import Source, pin
from bulkload.targets import TARGETS


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("orders.csv", "orders.csv"),
        ("orders.csv", "./orders.csv"),
        ("orders.csv", ".//orders.csv"),
        ("./orders.csv", "/home/a/orders.csv"),
        ("a/orders.csv", "/home/a/orders.csv"),
        ("/home/a/./orders.csv", "/home/a/orders.csv"),
        ("../a/orders.csv", "/home/a/orders.csv"),  # written from a folder beside a/
        ("../orders.csv", "b/orders.csv"),
        ("", ""),
    ],
)
def test_names_that_may_be_one_file_written_from_folders_not_known(name: str, other: str) -> None:
    assert could_be(name, other) and could_be(other, name)


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("orders.csv", "order.csv"),
        ("a/orders.csv", "b/orders.csv"),
        ("/home/a/orders.csv", "/home/b/orders.csv"),
        ("/orders.csv", "/home/orders.csv"),
        ("../a/orders.csv", "/home/b/orders.csv"),
        ("orders.csv", ""),
    ],
)
def test_names_that_are_not_one_file(name: str, other: str) -> None:
    assert not could_be(name, other) and not could_be(other, name)


def test_a_name_is_the_one_input_whose_path_ends_with_it() -> None:
    paths = ["/home/a/orders.csv", "/home/a/b/orders.csv", "/home/a/fees.csv"]
    given = ["/home/a/orders.csv", "b/orders.csv", "/home/a/fees.csv"]  # started in /home/a
    names = ("fees.csv", "./fees.csv", "/home/a/fees.csv", "b/orders.csv", "./b//orders.csv")
    assert [matching(n, paths, given) for n in names] == [2, 2, 2, 1, 1]
    assert [matching(n, paths, given) for n in ("orders.csv", "../a/fees.csv", "", "x.csv")] == [None] * 4


def test_a_name_is_the_input_the_run_was_given_so_wherever_it_was_started() -> None:
    # found by a tester: a run started in /home/y given ../x/orders.csv writes that name in its rejects file's
    # `file` column; it names that input, though it climbs with `..` and ends no absolute path
    paths = ["/home/x/orders.csv", "/home/x/fees.csv", "/home/w/orders.csv"]
    given = ["../x/orders.csv", "../x/fees.csv", "/home/w/orders.csv"]
    names = ("../x/orders.csv", "./../x/orders.csv", "../x/../x/fees.csv", "/home/w/orders.csv")
    assert [matching(n, paths, given) for n in names] == [0, 0, 1, 2]
    # given so, it names that one, though the ends of two paths fit it
    assert matching("orders.csv", ["/home/x/orders.csv", "/home/w/orders.csv"], ["orders.csv", "../w/orders.csv"]) == 0
    # not as it was given one, a name that climbs names none
    assert [matching(n, paths, given) for n in ("../y/orders.csv", "../../home/x/orders.csv")] == [None] * 2
    assert matching("../x/orders.csv", paths, []) is None  # a ledger that keeps no names as given


def test_a_grouped_rejects_file_read_against_an_earlier_run_is_keyed_in_one_pass(tmp_path: Path) -> None:
    # before: origins.record keyed the rows into origin_groups and origins.rejects_rows keyed them again into its
    # row_groups: one more read of the whole file where its run is known (a big rejects file read twice over)
    path = tmp_path / "entries.csv.rejects.csv"
    path.write_text(
        "file,line,field,reason,entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n"
        "entries.csv,4,date,bad date,5,1,1102,2026-11-30,200.00,DKK,1010,c\n"
        "entries.csv,5,,voucher 1102 rejected: line 4,5,1,1102,2026-11-30,-200.00,DKK,5820,d\n"
        "entries.csv,,,,5,1,,2026-11-30,0.00,DKK,5820,e\n"
    )
    target = TARGETS["economic"].from_options({})
    opened: list[int] = []
    watching = [str(path)]
    sys.addaudithook(lambda event, args: opened.append(1) if event == "open" and str(args[0]) in watching else None)
    by = RejectedBy("a.sqlite", "entries.csv", str(tmp_path / "entries.csv"), lambda: [(4, "1:1102", "bad date")])

    def inspected(rejected_by: dict[int, list[RejectedBy]]) -> tuple[int, list[tuple[int, int, str]]]:
        """(the opens of the file, origin_groups) of an inspection of it."""
        source = Source(path, secrets=target.kind_of(0).secret_fields, pinned=pin(path))
        db = sqlite3.connect(":memory:", isolation_level=None)
        opened.clear()
        inspect([source], target, Given(), db, rejected_by=rejected_by)
        return len(opened), db.execute("SELECT * FROM origin_groups ORDER BY line").fetchall()

    alone, groups = inspected({})
    against, groups_against = inspected({0: [by]})
    watching.clear()
    assert groups == groups_against == [(0, line, "1:1102") for line in (2, 3, 4)]  # the last: its neighbours'
    assert against == alone, "its groups were keyed twice"
