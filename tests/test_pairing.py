"""pairing.pair: which answered record is which sent item, by what they hold, whatever the answer's order."""

from __future__ import annotations

from bulkload.pairing import pair


def test_an_answer_in_request_order_pairs_in_request_order() -> None:
    assert pair(["a", "b", "a"], [("a",), ("b",), ("a",)]) == [0, 1, 2]


def test_an_answer_in_reverse_pairs_each_item_with_its_own_record() -> None:
    assert pair(["a", "b", "c"], [("c",), ("b",), ("a",)]) == [2, 1, 0]


def test_records_of_one_key_are_taken_each_once() -> None:
    order = pair(["x", "y", "x", "x"], [("x",), ("x",), ("y",), ("x",)])
    assert order is not None and sorted(order) == [0, 1, 2, 3] and order[1] == 2


def test_a_record_that_is_several_keys_is_given_where_only_it_fits() -> None:
    """Item 0 (key "name") fits both records; item 1 (key "name+note") only the first: taken first by item 0, it
    is handed over (an augmenting path), never a failed pairing."""
    assert pair(["name", "name+note"], [("name", "name+note"), ("name",)]) == [1, 0]


def test_a_record_holding_what_no_item_sent_pairs_nothing() -> None:
    assert pair(["a", "b"], [("a",), ("c",)]) is None
    assert pair(["a", "a"], [("a",), ("b",)]) is None


def test_another_number_of_records_pairs_nothing() -> None:
    assert pair(["a"], [("a",), ("a",)]) is None
    assert pair(["a", "a"], [("a",)]) is None
