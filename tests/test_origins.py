"""The names a rejects file's `file` column gives the file each row was rejected from (origins.py): which input of
an earlier run a name is, and which two names may be one file."""

from __future__ import annotations

import pytest

from bulkload.origins import could_be, matching


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
