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
    assert [matching(n, paths) for n in ("fees.csv", "./fees.csv", "/home/a/fees.csv", "b/orders.csv")] == [2, 2, 2, 1]
    assert [matching(n, paths) for n in ("orders.csv", "../a/fees.csv", "", "x.csv")] == [None] * 4
