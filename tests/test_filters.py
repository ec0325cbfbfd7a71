"""The e-conomic filter language: syntax, precedence, escapes, typed values, nulls, lists and refusals."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from bulkload.sandbox.economic_model import ENTRY_FILTERS, DraftEntry
from bulkload.sandbox.filters import COMPARE, MAX_LIST, Field, Filter, FilterError, parse

PEOPLE = {
    "name": Field("str", frozenset({"eq", "ne", "like", "in", "nin", "lt", "gt"})),
    "city": Field("str", frozenset({"eq", "like"})),
    "age": Field("int"),
    "score": Field("float"),
    "born": Field("datetime", COMPARE),
    "active": Field("bool", COMPARE),
}


def match(text: str, **record: object) -> bool:
    return Filter(text, PEOPLE, mapping=True).matches(record)


def test_simple_predicates_are_typed_and_case_insensitive() -> None:
    assert match("name$eq:Joe", name="joe")
    assert match("name$eq:JOE", name="Joe")
    assert not match("name$ne:joe", name="Joe")
    assert match("age$lt:40", age=39)
    assert not match("age$lt:40", age=40)
    assert match("age$gte:40", age=40)
    assert match("score$gt:1.5", score=2.0)
    assert match("active$eq:true", active=True)
    assert match("name$lt:b", name="Anna") and not match("name$gt:b", name="Anna")


def test_and_binds_tighter_than_or_and_parentheses_set_affinity() -> None:
    # a or (b and c): true because of a alone
    assert match("name$eq:joe$or:age$lt:10$and:city$eq:x", name="joe", age=50, city="y")
    # (a or b) and c: false because c fails
    assert not match("(name$eq:joe$or:age$lt:10)$and:city$eq:x", name="joe", age=50, city="y")
    text = "name$eq:Joe$and:(city$like:*port$or:age$lt:40)"
    assert match(text, name="Joe", city="Newport", age=50)
    assert match(text, name="Joe", city="Aarhus", age=30)
    assert not match(text, name="Joe", city="Aarhus", age=50)
    assert not match(text, name="Ann", city="Newport", age=30)
    assert match("((age$eq:1))", age=1)


def test_escapes_make_special_characters_literal() -> None:
    assert match("name$eq:a$$b", name="a$b")
    assert match("name$eq:$(x$)", name="(x)")
    assert match("name$eq:1$,5", name="1,5")
    assert match("name$eq:$[x$]", name="[x]")
    assert match("name$like:a$*b", name="xa*by")
    assert not match("name$like:a$*b", name="xaqby")  # an escaped star is no wildcard


def test_like_wildcards_and_contains() -> None:
    assert match("city$like:*port", city="Newport")
    assert not match("city$like:*port", city="Portland")
    assert match("city$like:port*", city="Portland")
    assert match("city$like:or", city="Newport")  # no wildcard: contains
    assert match("city$like:n*p*t", city="NEWPORT")
    assert not match("city$like:x", city=None)


def test_null_matches_missing_and_unset_values() -> None:
    assert match("city$eq:$null:", name="x")
    assert match("city$eq:$null:", city=None)
    assert not match("city$eq:$null:", city="Aarhus")
    assert match("name$ne:$null:", name="x")
    entry = DraftEntry(
        entryTypeNumber=5,
        voucherNumber=1,
        journalNumber=1,
        date="2026-11-30T00:00:00",
        amount=Decimal("1.0"),
        currency="DKK",
        accountNumber=5600,
    )
    assert Filter("contraAccountNumber$eq:$null:", ENTRY_FILTERS).matches(entry)
    assert not Filter("accountNumber$eq:$null:", ENTRY_FILTERS).matches(entry)
    assert entry.contraAccountNumber is msgspec.UNSET
    with pytest.raises(FilterError, match="null"):
        Filter("age$gt:$null:", PEOPLE)


def test_in_and_nin_lists() -> None:
    assert match("age$in:[2,5,7,22,45]", age=22)
    assert not match("age$in:[2,5]", age=3)
    assert match("age$nin:[2,5]", age=3)
    assert match("name$in:[Joe,ANN]", name="ann")
    assert match("age$in:[1,$null:]", age=None)
    assert not match("age$nin:[1,$null:]", age=None)
    assert match("age$in:[" + ",".join(map(str, range(MAX_LIST))) + "]", age=199)
    with pytest.raises(FilterError, match="at most 200"):
        Filter("age$in:[" + ",".join(map(str, range(MAX_LIST + 1))) + "]", PEOPLE)
    with pytest.raises(FilterError, match=r"\[list\]"):
        Filter("age$in:1,2", PEOPLE)


def test_datetimes_compare_in_iso_form() -> None:
    assert match("born$gte:2026-11-01", born="2026-11-30T00:00:00")
    assert match("born$eq:2026-11-30", born="2026-11-30T00:00:00")
    assert not match("born$lt:2026-11-30", born="2026-11-30T00:00:00")
    with pytest.raises(FilterError, match="datetime"):
        Filter("born$eq:2026-02-30", PEOPLE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount$eq:5", "not filterable"),  # not in the schema
        ("city$gt:a", "not allowed"),  # operator not allowed on the property
        ("born$in:[2026-01-01]", "not allowed"),
        ("age$eq:abc", "not a valid int"),
        ("age$like:1", "not allowed"),
        ("name$foo:x", "unknown operator"),
        ("name$eq:a$qb", "unknown escape"),
        ("(name$eq:a", "missing '\\)'"),
        ("name$eq:a)", "unexpected"),
        ("name$eq:a(b", "unescaped"),
        ("$eq:a", "property name"),
        ("age$eq:1*", "wildcard"),
        ("name$eq:x$null:", "part of a value"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        Filter(text, PEOPLE)


def test_entry_schema_follows_the_seed() -> None:
    for refused in ("amount", "text", "vatCode", "contraVatCode", "costTypeNumber", "objectVersion"):
        with pytest.raises(FilterError, match="not filterable"):
            Filter(f"{refused}$eq:1", ENTRY_FILTERS)
    with pytest.raises(FilterError, match="not allowed"):
        Filter("date$in:[2026-11-30]", ENTRY_FILTERS)
    assert Filter("journalNumber$eq:3", ENTRY_FILTERS).equality() == ("journalNumber", 3)
    assert Filter("journalNumber$eq:3$and:voucherNumber$eq:1", ENTRY_FILTERS).equality() is None


def test_parse_tree_shape() -> None:
    tree = parse("a$eq:1$or:b$eq:2$and:c$eq:3")
    assert type(tree).__name__ == "Or"
    assert [type(n).__name__ for n in tree.items] == ["Cond", "And"]  # type: ignore[union-attr]
