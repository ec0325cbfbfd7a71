"""A row's reject reason is in the user's words with the value as written, whatever msgspec said: every shape of
message that the four targets' record types can give is translated where rows are validated (row_invalid)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
import msgspec.inspect
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkload.errors import RowInvalid
from bulkload.targets.economic import Economic
from bulkload.targets.economic_entries import DraftEntry
from bulkload.targets.halopsa import HaloPSA
from bulkload.targets.halopsa_records import as_sent, record_type
from bulkload.targets.halopsa_schema import RESOURCES
from bulkload.targets.payorcrm_records import Customer, Invoice
from bulkload.targets.reasons import converted, item_named, json_cell, row_invalid
from bulkload.targets.visma_core_records import CostRow, EntryRow

KINDS: list[type[Any]] = [
    DraftEntry,
    EntryRow,
    CostRow,
    Customer,
    Invoice,
    *(record_type(name) for name in sorted(RESOURCES)),
]
FIELDS = [(kind, f.encode_name) for kind in KINDS for f in msgspec.inspect.type_info(kind).fields]  # type: ignore[attr-defined]
#: what only a library says: its type names, its backticks, its own phrasing
LIBRARY = re.compile(r"`|\bExpected\b|\bInvalid\b|\b(int|str|decimal|float|bool|null|array|enum)\b")

ECONOMIC_ROW = {
    "entryTypeNumber": "5",
    "journalNumber": "1",
    "voucherNumber": "1",
    "date": "2026-11-01",
    "amount": "1.00",
    "currency": "DKK",
}


def economic_reason(**change: Any) -> str:
    with pytest.raises(RowInvalid) as caught:
        Economic().kind_of(0).validate({**ECONOMIC_ROW, **change})
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"entryTypeNumber": "five"}, "entryTypeNumber: not a whole number: 'five' (one of: 2, 3, 4, 5, 10)"),
        ({"accountNumber": "1010x"}, "accountNumber: not a whole number: '1010x'"),
        ({"entryTypeNumber": "7"}, "entryTypeNumber: not one of: 2, 3, 4, 5, 10 (got 7)"),
        ({"supplierPaymentType": "3"}, "supplierPaymentType: not one of: -1, 1, 2, 5, 7, 10, 14, 17 (got 3)"),
        ({"voucherNumber": "0"}, "voucherNumber: must be at least 1, got 0"),
        ({"accountNumber": "99999999999"}, "accountNumber: must be at most 2147483647, got 99999999999"),
        ({"amount": "abc"}, "amount: not a number: 'abc'"),
        ({"exchangeRate": True}, "exchangeRate: not a number: true"),
        ({"text": 5}, "text: expected text, got a number: 5"),
        ({"text": ["a"]}, "text: expected text, got a list"),
        ({"accountNumber": {"a": 1}}, "accountNumber: expected a whole number, got an object"),
    ],
)
def test_economic_reasons_say_what_is_wrong_with_the_value(change: dict[str, Any], expected: str) -> None:
    # before: "Expected `int`, got `str`", "Invalid enum value 7", "Expected `int` >= 1"
    assert economic_reason(**change) == expected


def test_halopsa_reasons_say_what_is_wrong_with_the_value() -> None:
    target = HaloPSA.from_options({"resource": "XeroDetails"}).kind_of(0)
    cases = [
        ("client_top_level", "twelve", "client_top_level: not a whole number: 'twelve'"),  # was "Expected `int | null`"
        ("sync_entities_list", "abc", "sync_entities_list: not valid JSON"),
        # before: a RecursionError out of the decoder, an internal error that stopped the run (exit 4)
        ("sync_entities_list", "[" * 3000 + "]" * 3000, "sync_entities_list: not valid JSON: nested too deeply"),
    ]
    for field, value, expected in cases:
        with pytest.raises(RowInvalid) as caught:
            target.validate({"name": "x", field: value})
        assert str(caught.value).startswith(expected), caught.value
    bools = [f.name for f in RESOURCES["XeroDetails"] if f.kind == "bool" and not f.read_only]
    with pytest.raises(RowInvalid) as caught:
        target.validate({"name": "x", bools[0]: "maybe"})
    assert str(caught.value) == f"{bools[0]}: not true/false: 'maybe'"
    objects = [f.name for f in RESOURCES["XeroDetails"] if f.kind in ("object", "array") and not f.read_only]
    if objects:
        with pytest.raises(RowInvalid) as caught:
            target.validate({"name": "x", objects[0]: "5"})
        assert "expected a list, got" in str(caught.value) or "expected an object, got" in str(caught.value)


def test_other_targets_reasons() -> None:
    def why(kind: type[Any], row: dict[str, Any]) -> str:
        with pytest.raises(msgspec.ValidationError) as caught:
            msgspec.convert(row, kind, strict=False)
        return str(row_invalid(caught.value, row, kind))

    assert (
        why(CostRow, {"caseId": 1, "type": "buyer", "costId": 1, "Amount": "1"})
        == "type: not one of: Buyer, Seller (got 'buyer')"
    )
    assert (
        why(EntryRow, {"caseId": "1", "accountingCostType": "", "amount": "1"})
        == "accountingCostType: must be at least 1 character long (it has 0)"
    )
    assert (
        why(Invoice, {"customerNumber": "1", "invoiceNumber": "2", "invoiceAmount": "1.5"})
        == "invoiceAmount: not a whole number: '1.5'"
    )
    assert (
        why(Invoice, {"customerNumber": "1", "invoiceNumber": "2", "invoiceAmount": 1, "billAddr": "x"})
        == "billAddr: expected an object, got text: 'x'"
    )
    assert why(EntryRow, {"caseId": 1, "accountingCostType": "A", "amount": "x"}) == "amount: not a number: 'x'"


@pytest.mark.parametrize(
    ("kind", "row", "field", "said"),
    [
        (record_type("XeroDetails"), {"authorized": "{}"}, "authorized", "not true/false"),
        (record_type("XeroDetails"), {"client_top_level": "{}"}, "client_top_level", "not a whole number"),
        (
            Invoice,
            {"customerNumber": "1", "invoiceNumber": "2", "invoiceAmount": 1, "localAmount": "{}"},
            "localAmount",
            "not a whole number",
        ),
        (CostRow, {"caseId": 1, "type": "Buyer", "costId": "{}", "Amount": "1"}, "costId", "not a whole number"),
    ],
)
@pytest.mark.parametrize("null", ["null", "NULL", "Null"])
def test_the_text_null_is_no_value_of_a_field_that_holds_no_text(
    kind: type[Any], row: dict[str, Any], field: str, said: str, null: str
) -> None:
    # found by a tester: msgspec reads the text null as null where a field holds no text, and the field was left
    # out of the record sent (an update kept the record's value), while in a text field it is the text
    row = {k: null if v == "{}" else v for k, v in row.items()}
    with pytest.raises(RowInvalid) as caught:
        converted(row, kind)
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: {said}: {null!r} "), caught.value
    assert as_sent(converted({"tenant_name": null}, record_type("XeroDetails"))) == {"tenant_name": null}


_values = st.one_of(
    st.text(max_size=80),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(FIELDS), value=_values)
def test_every_library_message_is_translated(where: tuple[type[Any], str], value: Any) -> None:
    kind, field = where
    row = {field: value}
    try:
        msgspec.convert(row, kind, strict=False)
    except msgspec.ValidationError as exc:
        said = str(exc)
        got = row_invalid(exc, row, kind)
    else:
        return
    if said.startswith("Object missing required field"):
        return  # the value itself was taken
    assert got.field == field, (said, got)
    words = got.reason.replace(repr(value), "").replace(str(value).strip(), "") if str(value).strip() else got.reason
    assert not LIBRARY.search(words), (said, got.reason)
    if isinstance(value, str) and len(value) <= 40 and value.strip():
        assert repr(value) in got.reason or value.strip() in got.reason, (said, got.reason)
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        assert str(value) in got.reason, (said, got.reason)


@pytest.mark.parametrize(
    ("message", "n", "index"),
    [
        ("The request contains invalid entries: at index 1: Account 9999 not found", 2, 1),
        ("entries[0].accountNumber: Account 9999 not found", 2, 0),
        ("The request contains invalid entries: Account 9999 not found", 2, None),  # names none
        ("at index 1 and at index 0", 2, None),  # names two: no telling which
        ("at index 7", 2, None),  # not an entry of the call
    ],
)
def test_an_entry_named_by_index_in_a_refusal_message(message: str, n: int, index: int | None) -> None:
    from bulkload.errors import APIError

    assert item_named(APIError(400, message), n) == index


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # an address typed over two lines of its cell (Alt+Enter) inside the JSON's text
        ('{"street": "Strandvej 1\n2100 København Ø"}', "a line break inside a JSON string, which JSON writes as \\n"),
        ('{"street": "Strandvej 1\r\n2100"}', "a line break inside a JSON string, which JSON writes as \\n"),
        ('{"street":\t"a\tb"}', "a tab inside a JSON string, which JSON writes as \\t"),
        # the address as plain text
        ("Strandvej 1\n2100 København Ø", "the cell holds plain text where JSON is taken: write it as JSON"),
        ("  Main St 1", "the cell holds plain text where JSON is taken: write it as JSON"),
    ],
)
def test_json_text_that_does_not_read_says_what_to_write(text: str, said: str) -> None:
    # before: "not valid JSON: JSON is malformed: invalid character (byte 23)", no word of the line break it met
    with pytest.raises(RowInvalid) as caught:
        json_cell("billAddr", text)
    assert said in str(caught.value), caught.value


def test_json_text_between_its_tokens_may_break_lines() -> None:
    assert json_cell("billAddr", '{"street": "a",\n "zip": "2100"}') == {"street": "a", "zip": "2100"}
