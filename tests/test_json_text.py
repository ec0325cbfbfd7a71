"""JSON text read as it is written: a key given twice in one object is refused wherever JSON text is read (a JSONL
line, a CSV cell, a JSONL string holding JSON), and a JSONL line's values are given back as the line writes them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bulkload.errors import RowInvalid
from bulkload.json_text import keys_twice, written_values
from bulkload.targets.reasons import json_cell


@pytest.mark.parametrize(
    ("text", "twice"),
    [
        ('{"zip":"1000","zip":"2000"}', "'zip' is"),
        ('[{"entity":"invoice","enabled":true,"enabled":false}]', "'enabled' is"),
        ('{"code":"A","code":"B"}', "'code' is"),
        ('{"a": {"b": [{"c": 1, "c": 1}]}, "d": 2, "d": 3}', "'c', 'd' are"),  # at any depth; the same value too
    ],
    ids=["object", "in-a-list", "a-json-string", "deep"],
)
def test_json_text_giving_a_key_twice_is_refused_as_a_jsonl_line_is(text: str, twice: str) -> None:
    # found by a tester: a CSV cell or JSONL string holding {"zip":"1000","zip":"2000"} was sent as {"zip":"2000"},
    # while the same object nested in a JSONL line was refused
    with pytest.raises(RowInvalid) as raised:
        json_cell("billAddr", text)
    assert raised.value.field == "billAddr"
    assert (
        raised.value.reason == f"the key{'s' if 'are' in twice else ''} {twice} given twice in one object: which "
        "value is meant cannot be told"
    )


def test_json_text_giving_each_key_once_is_read_as_it_was() -> None:
    # one key in two objects is no key given twice
    assert json_cell("l", '[{"a": 1.50}, {"a": 2}]') == [{"a": Decimal("1.50")}, {"a": 2}]
    assert json_cell("s", '"a"') == "a" and keys_twice('{"a": {"a": 1}}') == []


def test_a_lines_values_are_given_as_written() -> None:
    line = '{ "a" : 1e2 , "b":{"zip":"1","zip":"2"},"a":"x\\"y", "n":null,"t": [1, {"q":-0}] }'
    assert written_values(line) == [
        ("a", "1e2"),
        ("b", '{"zip":"1","zip":"2"}'),
        ("a", '"x\\"y"'),
        ("n", "null"),
        ("t", '[1, {"q":-0}]'),
    ]
    assert written_values("{}") == [] and written_values(' {"": ""}') == [("", '""')]
