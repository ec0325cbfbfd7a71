"""Tests for numbers.py: reading amounts with one decimal mark, and deciding that mark from the whole file."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkload.errors import ConfigError
from bulkload.numbers import (
    NumberEvidence,
    NumberFormat,
    _read,
    guessed,
    json_number_text,
    whole_number,
    whole_reason,
)

POINT, COMMA = NumberFormat("."), NumberFormat(",")


def decide(values: list[str], given: str | None = None) -> NumberFormat:
    """What a file whose amount cells are `values` (from line 2 on) decides."""
    evidence = NumberEvidence()
    for line, text in enumerate(values, start=2):
        evidence.add(text, line, "amount")
    return evidence.decide(given, "entries.csv")


# --- NumberFormat.parse --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        (POINT, "1234.56", "1234.56"),
        (POINT, "-0.50", "-0.50"),
        (POINT, "+7", "7"),
        (POINT, "99999999999999.99", "99999999999999.99"),
        (POINT, "1,234.56", "1234.56"),
        (POINT, "1,234,567", "1234567"),
        (POINT, "1 234.56", "1234.56"),
        (POINT, "1\u00a0234.56", "1234.56"),
        (POINT, "1\u202f234.56", "1234.56"),
        (POINT, "1'234.56", "1234.56"),
        (POINT, "1\u2019234.50", "1234.50"),  # Swiss Excel's ’ (found by a tester, t22b: "not a number")
        (POINT, "-1\u2019234\u2019567.5", "-1234567.5"),
        (POINT, "1\u2009234.56", "1234.56"),  # a thin space, as NBSP and narrow NBSP
        (POINT, "\u22125.25", "-5.25"),  # the typographic minus sign: unambiguous
        (POINT, "1,234.56\u2212", "-1234.56"),
        (POINT, ".5", "0.5"),
        (POINT, "-.5", "-0.5"),
        (POINT, "1,234.56-", "-1234.56"),
        (POINT, "(1,234.56)", "-1234.56"),
        (POINT, " \u00a012.30\u00a0 ", "12.30"),
        (POINT, "007", "7"),
        (COMMA, "1234,56", "1234.56"),
        (COMMA, "1.250,00", "1250.00"),
        (COMMA, "1.234.567", "1234567"),
        (COMMA, "1.234,56-", "-1234.56"),
        (COMMA, "(1.234,56)", "-1234.56"),
        (COMMA, "-0,50", "-0.50"),
        (COMMA, ",5", "0.5"),
        (COMMA, "1 234,5", "1234.5"),
        (COMMA, "1'234'567,89", "1234567.89"),
        (COMMA, "\u22121\u2009234,5", "-1234.5"),
        (COMMA, "1.500", "1500"),
    ],
)
def test_parse_reads_the_digits_as_written(fmt: NumberFormat, text: str, expected: str) -> None:
    value = fmt.parse(text)
    assert type(value) is Decimal
    assert value.as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (POINT, "12."),  # a trailing mark is not a number
        (POINT, "12,34.5x"),
        (POINT, ""),
        (POINT, "-"),
        (POINT, "."),
        (POINT, "()"),
        (POINT, "--5"),
        (POINT, "-5-"),  # two sign forms
        (POINT, "(-5)"),
        (POINT, "+5-"),
        (POINT, "5+"),
        (POINT, "1,23,4567.7"),  # groups of 3 only (lakhs are told so: see below)
        (POINT, "1234,567.8"),  # first group of 1-3 digits
        (POINT, "1,234 567.8"),  # one grouping character per value
        (POINT, "1'234\u2019567.8"),  # the apostrophe and U+2019 are two kinds
        (POINT, "12\u20195"),  # U+2019 between groups of three only
        (POINT, "1.23,4.5"),
        (POINT, "1.2.3"),
        (POINT, "٣.5"),  # ASCII digits only
        (POINT, "1_000"),
        (POINT, "NaN"),
        (POINT, "Infinity"),
        (POINT, "- 5x"),
        (POINT, "(\u22125)"),  # two sign forms, whichever minus
        (POINT, "\u2212-5"),
        (COMMA, "12,"),
        (COMMA, "1.23,4"),
        (COMMA, "abc"),
    ],
)
def test_parse_refuses_what_is_not_a_number(fmt: NumberFormat, text: str) -> None:
    with pytest.raises(ValueError, match="^not a number: ") as info:
        fmt.parse(text)
    assert repr(text.strip()) in str(info.value)


@pytest.mark.parametrize(
    ("fmt", "text"), [(POINT, "1.5E+3"), (POINT, "2e5"), (POINT, "-1.2e-3"), (COMMA, "1,5E+3"), (COMMA, "(3E2)")]
)
def test_scientific_notation_is_named(fmt: NumberFormat, text: str) -> None:
    with pytest.raises(ValueError) as info:
        fmt.parse(text)
    assert str(info.value) == (
        f"scientific notation: {text!r} looks like a number a spreadsheet reformatted; write the amount out in full"
    )


@pytest.mark.parametrize(
    ("fmt", "text", "currency"),
    [
        (COMMA, "kr 100,00", "kr"),
        (COMMA, "100,00 kr.", "kr."),
        (POINT, "\u20ac100", "\u20ac"),
        (POINT, "-\u20ac 5.50", "\u20ac"),
        (COMMA, "1.234,56 DKK", "DKK"),
        (POINT, "USD 1,234.56", "USD"),
        (POINT, "$(12.00)", "$"),
        (COMMA, "\u00a3\u22121,5", "\u00a3"),
        (POINT, "1.5 sek", "sek"),
    ],
)
def test_a_currency_in_an_amount_is_named(fmt: NumberFormat, text: str, currency: str) -> None:
    # found by a tester: "kr 100,00", "€100" and "1.234,56 DKK" were refused as plain "not a number"
    with pytest.raises(ValueError) as info:
        fmt.parse(text)
    assert str(info.value) == (
        f"{text!r} holds the currency {currency!r}: write the number alone (where the target takes a currency, it "
        "belongs in its own column)"
    )


@pytest.mark.parametrize(("fmt", "text"), [(POINT, "kr"), (POINT, "100 pcs"), (POINT, "DKK 1.2.3"), (COMMA, "1.2.3 €")])
def test_a_currency_beside_no_number_of_the_files_is_no_currency_reason(fmt: NumberFormat, text: str) -> None:
    with pytest.raises(ValueError) as info:
        fmt.parse(text)
    assert "currency" not in str(info.value)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [(COMMA, "1.50"), (COMMA, "0.500"), (COMMA, "1,234.56"), (POINT, "1,50"), (POINT, "1.234,56"), (POINT, "0,5")],
)
def test_a_value_with_the_other_mark_is_told_so(fmt: NumberFormat, text: str) -> None:
    with pytest.raises(ValueError) as info:
        fmt.parse(text)
    mark = fmt.decimal
    assert str(info.value) == (
        f"{text!r} is not a number with decimal mark {mark!r} (the file's numbers use {mark!r} for decimals)"
    )


def test_format_is_a_small_frozen_picklable_value() -> None:
    fmt = NumberFormat(",", "decimal comma (line 4 amount '1.234,56')")
    assert pickle.loads(pickle.dumps(fmt)) == fmt
    with pytest.raises(AttributeError):
        fmt.decimal = "."  # type: ignore[misc]


# --- NumberEvidence.decide -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "mark"),
    [
        (["1.50"], "."),
        (["1234.567"], "."),  # more than 3 digits before the mark
        (["0.500"], "."),  # integer part 0
        (["-.500"], "."),  # no integer part
        (["1,234.56"], "."),
        (["1,234,567"], "."),
        (["1 234.567"], "."),  # space grouping plus one mark
        (["1'234.567"], "."),
        (["(1,234.56)"], "."),
        (["1,50"], ","),
        (["1234,567"], ","),
        (["0,500"], ","),
        (["1.234,56"], ","),
        (["1.234.567"], ","),
        (["1\u00a0234,567"], ","),
        (["1.234,56-"], ","),
        (["1.500", "12.000", "2,50"], ","),  # ambiguous values then a proof
        (["1.500", "1.5"], "."),
        (["1\u2009234,567"], ","),  # a thin space groups as NBSP does
        (["\u22121,50"], ","),  # the typographic minus sign reads as -
        (["1.500", "kr 2,50"], ","),  # a number beside its currency shows how the file writes numbers
        (["1.234,56 DKK"], ","),
        (["\u20ac1,234.56"], "."),
    ],
)
def test_one_proving_value_decides(values: list[str], mark: str) -> None:
    fmt = decide(values)
    assert fmt.decimal == mark
    name = "decimal point" if mark == "." else "decimal comma"
    line = next(i for i, v in enumerate(values, 2) if v not in ("1.500", "12.000"))
    assert fmt.reason == f"{name} (line {line} amount {values[line - 2]!r})"


@pytest.mark.parametrize(
    "values",
    [[], ["12", "-5", "1 234"], ["1.2.3", "1,5E+3", "abc", "12.", "1,2.3"], ["1.5e3"]],
)
def test_no_evidence_reads_with_a_point(values: list[str]) -> None:
    assert decide(values) == NumberFormat(".", "no number in the file has a decimal mark")


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("1.500", "1.5 or 1500"),
        ("12.000", "12 or 12000"),
        ("-999.999", "-999.999 or -999999"),
        ("1,500", "1500 or 1.5"),
        ("+100.250", "100.25 or 100250"),
    ],  # fmt: skip
)
def test_only_ambiguous_values_are_refused(text: str, readings: str) -> None:
    with pytest.raises(ConfigError) as info:
        decide(["7", text, "1.250"])
    assert str(info.value) == (
        f"entries.csv: line 3: amount {text!r} could be {readings}, and no other number in the file shows which "
        "decimal mark it uses: give --decimal . or --decimal ,"
    )


def test_both_marks_are_refused_naming_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        decide(["12", "1.50", "3", "250,00", "1.00"])
    assert str(info.value) == (
        "entries.csv: the file uses both decimal marks: line 3 amount '1.50' has a decimal point, line 5 amount "
        "'250,00' a decimal comma, so its numbers that read both ways (such as 1.500) cannot be known: fix the "
        "file"
    )
    for mark in ".,":  # given either mark, its 1.500s would be read the wrong way where the file means the other
        with pytest.raises(ConfigError, match="the file uses both decimal marks"):
            decide(["1.50", "250,00", "1.500"], mark)
    with pytest.raises(ConfigError, match="line 2 amount '250,00' has a decimal comma, line 3 amount '1.50' a "):
        decide(["250,00", "1.50"])


def test_a_number_beside_its_currency_is_evidence_as_the_number_is() -> None:
    # its row is refused for the currency, but the file's other numbers are read the way it shows
    with pytest.raises(ConfigError, match="the file uses both decimal marks: line 2 amount 'kr 1.50' has a decimal"):
        decide(["kr 1.50", "2,50"])
    with pytest.raises(ConfigError) as info:
        decide(["1.500 DKK"])
    assert "'1.500 DKK' could be 1.5 or 1500" in str(info.value)


def test_the_field_named_is_the_one_that_proved() -> None:
    evidence = NumberEvidence()
    evidence.add("1.50", 7, "exchangeRate")
    evidence.add("2,5", 9, "amount")
    with pytest.raises(ConfigError, match="line 7 exchangeRate '1.50' has a decimal point, line 9 amount '2,5' a "):
        evidence.decide(None, "rates.jsonl")


@pytest.mark.parametrize("mark", [".", ","])
def test_a_given_mark_reads_the_numbers_that_read_both_ways(mark: str) -> None:
    assert decide(["1.500", "7"], mark) == NumberFormat(mark, f"given: --decimal {mark}")
    proof = "1.50" if mark == "." else "250,00"
    assert decide(["1.500", proof], mark) == NumberFormat(mark, f"given: --decimal {mark}")


@pytest.mark.parametrize("marked", ["100,00 CR", "Dr 1.234,50", "1.234,50 H"])
def test_a_number_beside_its_side_is_evidence_as_the_number_is(marked: str) -> None:
    """Tester t73c: a file of decimal commas whose amounts all carry CR/DR was read with a decimal point (no number
    showed a mark), and each row told to write "-50.00"; beside "1.500" it was refused as showing no mark."""
    assert decide([marked]).decimal == ","
    assert decide(["1.500", marked]).parse("1.500") == Decimal("1500")
    with pytest.raises(ValueError, match=r"as negative numbers \(-50,00\)"):
        decide([marked]).parse(marked)


@pytest.mark.parametrize(("mark", "other", "proof"), [(".", ",", "250,00"), (",", ".", "12.50")])
def test_a_given_mark_the_files_numbers_contradict_is_refused(mark: str, other: str, proof: str) -> None:
    # the date order's rule for the decimal mark (found by a helper): given --decimal , for a file of points,
    # 12.50 was rejected and 1.500 booked as 1500 where the file meant 1.5
    with pytest.raises(ConfigError) as info:
        decide(["1.500", proof], mark)
    name, other_name = ("decimal point", "decimal comma") if mark == "." else ("decimal comma", "decimal point")
    assert str(info.value) == (
        f"entries.csv: --decimal {mark} reads numbers with a {name}, but line 3 amount {proof!r} has a "
        f"{other_name}, which only --decimal {other} reads: read with a {name}, the file's numbers that read both "
        f"ways (such as 1.500) would be booked wrong; give --decimal {other}"
    )


@pytest.mark.parametrize("bad", ["", "comma", ";", " ."])
def test_given_mark_is_validated(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"^--decimal must be \. or ,$"):
        decide([], bad)


def test_evidence_keeps_only_the_first_example_of_each_kind() -> None:
    evidence = NumberEvidence()
    for line in range(2, 10_002):
        evidence.add(f"{line}.50", line, "amount")
        evidence.add("1.500", line, "amount")
    assert evidence.decide(None, "e.csv").reason == "decimal point (line 2 amount '2.50')"
    assert len(evidence._first) <= 3  # one example per kind at most, whatever the number of values


# --- properties ----------------------------------------------------------------------------------------

GROUPS = {".": [",", " ", "\u00a0", "\u202f", "\u2009", "'"], ",": [".", " ", "\u00a0", "\u202f", "\u2009", "'"]}
SIGNS = ["leading", "trailing", "parentheses", "plus"]


@st.composite
def written(draw: st.DrawFn, mark: str, places: tuple[int, ...] = tuple(range(7))) -> tuple[Decimal, str]:
    """A Decimal of up to 18 significant digits and `places` decimals, and that value written with mark `mark`."""
    negative = draw(st.booleans())
    coefficient = draw(st.integers(0, 10**18 - 1))
    exponent = -draw(st.sampled_from(places))
    value = Decimal((int(negative), tuple(int(c) for c in str(coefficient)), exponent))
    plain = f"{abs(value):f}"
    whole, _, frac = plain.partition(".")
    group = draw(st.none() | st.sampled_from(GROUPS[mark]))
    if group is not None:
        whole = f"{int(whole):,}".replace(",", group)
    text = whole + (mark + frac if frac else "")
    if negative:
        sign = draw(st.sampled_from(SIGNS[:3]))
        text = {"leading": f"-{text}", "trailing": f"{text}-", "parentheses": f"({text})"}[sign]
    elif draw(st.booleans()):
        text = "+" + text
    return value, text


@pytest.mark.parametrize("mark", [".", ","])
@given(data=st.data())
def test_every_written_value_reads_back_exactly(mark: str, data: st.DataObject) -> None:
    value, text = data.draw(written(mark))
    read = NumberFormat(mark).parse(text)
    assert read == value
    assert read.as_tuple() == value.as_tuple()


@pytest.mark.parametrize("mark", [".", ","])
@given(data=st.data())
def test_a_file_in_one_format_with_one_proof_decides_that_format(mark: str, data: st.DataObject) -> None:
    # decimals other than 0 and 3 cannot be a thousands group: such a value proves its mark
    proof = data.draw(written(mark, (1, 2, 4, 5, 6)))[1]
    others = [text for _, text in data.draw(st.lists(written(mark), max_size=20))]
    at = data.draw(st.integers(0, len(others)))
    assert decide([*others[:at], proof, *others[at:]]).decimal == mark


NUMBERISH = st.text(alphabet="0123456789.,-+() '\u00a0\u2009\u2212eE", max_size=12)


@given(NUMBERISH)
def test_the_fast_paths_agree_with_the_slow_reading(text: str) -> None:
    for mark in ".,":
        try:
            fast: Decimal | None = NumberFormat(mark).parse(text)
        except ValueError:
            fast = None
        slow = _read(text.strip(), mark)
        assert (fast is None and slow is None) or (
            fast is not None and slow is not None and fast.as_tuple() == slow.as_tuple()
        )


@given(NUMBERISH)
def test_evidence_is_what_the_two_readings_say(text: str) -> None:
    as_point, as_comma = (_read(text.strip(), mark) for mark in ".,")
    evidence = NumberEvidence()
    evidence.add(text, 2, "amount")
    if as_point is not None and as_comma is not None and as_point.as_tuple() != as_comma.as_tuple():
        with pytest.raises(ConfigError, match="could be"):
            evidence.decide(None, "e.csv")
    elif (as_point is None) != (as_comma is None):
        assert evidence.decide(None, "e.csv").decimal == ("." if as_point is not None else ",")
    else:
        assert evidence.decide(None, "e.csv").decimal == "."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1010", 1010),
        (" 0050 ", 50),
        ("+50", 50),
        ("-3", -3),
        ("\u22123", -3),  # the typographic minus sign, as in an amount
        ("50.0", 50),  # a float column's export
        ("1234.000", 1234),  # no thousands grouping has four digits before the point
        ("0.000", 0),
        (Decimal("1010.0"), 1010),  # a JSON number, which has no thousands separator
        (Decimal("4.000"), 4),
        (7, 7),
        ("4.000", None),  # 4000 in a file with a decimal comma: found by a tester, booked as voucher 4
        ("-12.000", None),
        ("1009.99999999999999999", None),  # was booked on account 1010, through a float
        (Decimal("2.9999999999999999"), None),
        ("1.5", None),
        ("1,000", None),
        ("1e3", None),
        ("4_2", None),
        ("٣", None),
        (True, None),
        (Decimal("NaN"), None),
    ],
)
def test_a_whole_number_is_read_exactly_or_not_at_all(value: object, expected: int | None) -> None:
    assert whole_number(value) == expected


def test_a_point_before_three_zeros_is_told_as_two_numbers() -> None:
    assert whole_reason("4.000") == (
        "'4.000' is 4 with a decimal point, 4000 with a point between thousands (as a file with a decimal comma "
        "writes it): write the whole number without separators"
    )
    assert whole_reason("1009.99999999999999999") == "not a whole number: '1009.99999999999999999'"
    # a JSON number as JSON writes it (found by a tester: "Decimal('1009.99999999999999999')")
    assert whole_reason(Decimal("1009.99999999999999999")) == "not a whole number: 1009.99999999999999999"


@pytest.mark.parametrize(
    ("value", "mark", "told"),
    [
        ("1.001", ",", "'1.001' is 1001 with a point between thousands (the file's numbers have a decimal comma)"),
        ("1,010", ".", "'1,010' is 1010 with a comma between thousands (the file's numbers have a decimal point)"),
        ("1.001.000", None, "'1.001.000' is 1001000 with points between thousands"),
        ("1.001", None, "'1.001' is 1.001 with a decimal point (no whole number), 1001 with a point between thousands"),
    ],
)
def test_a_whole_number_grouped_by_thousands_is_told_so_not_called_no_whole_number(
    value: str, mark: str | None, told: str
) -> None:
    # found by a tester (t22b): voucher 1.001 in a decimal-comma file was rejected "not a whole number: '1.001'"
    assert whole_reason(value, mark) == f"{told}: write the whole number without separators"


@pytest.mark.parametrize(
    ("value", "mark", "told"),
    [
        (
            "1.234",
            ".",
            "'1.234' is 1.234 with the file's decimal point (no whole number), or 1234 with a point between",
        ),
        (
            "1,234",
            ",",
            "'1,234' is 1.234 with the file's decimal comma (no whole number), or 1234 with a comma between",
        ),
        (
            "12.345.678",
            ".",
            "'12.345.678' is 12345678 with points between thousands (read with the file's decimal point",
        ),
        ("1,234,567", ",", "'1,234,567' is 1234567 with commas between thousands (read with the file's decimal comma"),
    ],
)
def test_a_whole_number_grouped_by_the_files_own_mark_is_told_as_the_thousands_it_may_be(
    value: str, mark: str, told: str
) -> None:
    # found by a tester (t70i): 1.234 in a HaloPSA integer field was "not a whole number: '1.234'", where the same
    # cell in a decimal-comma file was told as 1234 with a point between thousands: one reason for every file
    assert whole_reason(value, mark).startswith(told)
    assert whole_reason(value, mark).endswith(": write the whole number without separators")


@pytest.mark.parametrize(
    ("value", "mark", "expected"),
    [
        ("1010,00", ",", 1010),  # found by a tester: refused in a decimal-comma file, where 1010.00 was read
        ("1005,0", ",", 1005),
        ("-7,0", ",", -7),
        ("1010", ",", 1010),
        ("1010.00", ",", None),  # no number the file's way: a point is no decimal mark in it
        ("1010,00", ".", None),
        ("1010.00", ".", 1010),
        ("4,000", ",", None),  # 4 with a decimal comma, 4000 with a comma between thousands: in any file
        ("4.000", ",", None),
        ("4,000", ".", None),
        ("1,5", ",", None),
        ("1.000,00", ",", None),  # thousands grouped: written out, not guessed
        (Decimal("50.0"), ",", 50),  # a JSON number proves no mark
        ("1010,00", None, 1010),  # a group key: either mark, as every process reads it before the file's decision
        ("1010.00", None, 1010),
        ("4,000", None, None),
        ("1.0,0", None, None),
    ],
)
def test_a_whole_number_has_its_zero_fraction_after_the_files_mark(
    value: object, mark: str | None, expected: int | None
) -> None:
    assert whole_number(value, mark) == expected


def test_a_whole_number_written_with_the_other_mark_is_told_why() -> None:
    assert whole_reason("1010.00", ",") == (
        "'1010.00' has a decimal point, but the file's numbers have a decimal comma: read the file's way it is no "
        "number (write 1010)"
    )
    # the file's mark not known (a file whose numbers show none, t57b): no point the file does not show is named
    assert whole_reason("1010,00") == (
        "'1010,00' has a decimal comma, which no number of the file shows to be its decimal mark: write 1010"
    )
    assert (
        whole_reason("16.0")
        == "'16.0' has a decimal point, which no number of the file shows to be its decimal mark: write 16"
    )
    assert whole_reason("4,000", ",") == (
        "'4,000' is 4 with a decimal comma, 4000 with a comma between thousands (as a file with a decimal point "
        "writes it): write the whole number without separators"
    )
    assert whole_reason("1,5", ",") == "not a whole number: '1,5'"


# --- the money decides: other decimal columns (an exchange rate) are read with its mark --------------------------


def decide_money(amounts: list[str], rates: list[str], given: str | None = None) -> NumberFormat:
    """What a file whose amount cells are `amounts` and whose exchangeRate cells are `rates` (line by line from
    line 2 on) decides."""
    money, others = NumberEvidence(), NumberEvidence()
    for line, text in enumerate(amounts, start=2):
        money.add(text, line, "amount")
    for line, text in enumerate(rates, start=2):
        others.add(text, line, "exchangeRate")
    return money.decide(given, "entries.csv", others)


def test_a_rate_does_not_decide_the_mark_of_amounts_that_read_both_ways() -> None:
    # found by a tester: every amount 1.500 EUR (a Danish 1.500,00) and an exchangeRate 7.4550 written by another
    # system: the rate decided a decimal point, and 1.500 was booked as 1.50 EUR, exit 0
    with pytest.raises(ConfigError) as info:
        decide_money(["1.500", "-1.500"], ["7.4550", "7.4550"])
    assert str(info.value) == (
        "entries.csv: line 2: amount '1.500' could be 1.5 or 1500, and no other amount in the file shows which "
        "decimal mark it uses (line 2 exchangeRate '7.4550' has a decimal point, but it is no amount: it does not "
        "show how the amounts are written): give --decimal . or --decimal , (for --decimal , exchangeRate must be "
        "written with a decimal comma too, '7,4550': a file is read with one mark)"
    )


@pytest.mark.parametrize(("amount", "rate", "mark"), [("1.500,00", "7.4550", ","), ("1500.00", "7,4550", ".")])
def test_a_rate_with_the_other_mark_than_the_amounts_refuses_the_file(amount: str, rate: str, mark: str) -> None:
    names = {".": "decimal point", ",": "decimal comma"}
    other = "," if mark == "." else "."
    for told in (None, mark, other):
        with pytest.raises(ConfigError) as info:
            decide_money(["10", amount], ["", "", rate], told)
        if told == other:  # the amount contradicts the mark given first
            assert f"but line 3 amount {amount!r} has a {names[mark]}" in str(info.value)
            continue
        assert str(info.value) == (
            f"entries.csv: line 4: exchangeRate {rate!r} has a {names[other]}, but the file's amounts have a "
            f"{names[mark]} (line 3 amount {amount!r}): a file is read with one decimal mark, and read with a "
            f"{names[mark]} {rate!r} is no number. Write exchangeRate with a {names[mark]} ({swapped(rate)!r}), as "
            f"the amounts are, or the amounts with a {names[other]} (line 3 amount {amount!r} as "
            f"{swapped(amount)!r}){f' and give --decimal {other}' if told else ''}; nothing was sent"
        )
    # the way on works when followed: either column rewritten, the file is read with one mark
    assert decide_money(["10", amount], ["", "", swapped(rate)]).decimal == mark
    assert decide_money(["10", swapped(amount)], ["", "", rate]).decimal == other
    assert decide_money(["10", swapped(amount)], ["", "", rate], other).decimal == other


def swapped(text: str) -> str:
    return text.translate(str.maketrans(".,", ",."))


@pytest.mark.parametrize("given", [".", ","])
def test_a_given_mark_a_rate_contradicts_where_amounts_read_both_ways_says_how_to_fix_the_file(given: str) -> None:
    # found by a tester: amounts 1.500 (1500 EUR, a thousands point) beside an exchangeRate 745.50: without an
    # option told "give --decimal . or --decimal ,", given --decimal , told "give --decimal .", which books 1.5:
    # the advice went round in a circle, where the file mixes marks and must be rewritten in one
    names = {".": "decimal point", ",": "decimal comma"}
    other = "," if given == "." else "."
    rate = "745.50" if given == "," else "745,50"
    as_given, as_other = ("1500", "1.5") if given == "," else ("1.5", "1500")
    written = "1500" if given == "," else "1,5"  # the amount as given, with the other mark
    with pytest.raises(ConfigError) as info:
        decide_money(["1.500", "-1.500"], [rate, rate], given)
    assert str(info.value) == (
        f"entries.csv: --decimal {given} reads the file's numbers with a {names[given]}, but line 2 exchangeRate "
        f"{rate!r} has a {names[other]}. If the amounts are written with a {names[other]} too (line 2 amount "
        f"'1.500' is {as_other}), give --decimal {other}; if they are written with a {names[given]} ({as_given}), "
        f"the file writes its numbers two ways, and one mark reads them all: write exchangeRate with a "
        f"{names[given]} ({swapped(rate)!r}), or the amounts with a {names[other]} (line 2 amount '1.500' as "
        f"{written!r}) and give --decimal {other}; nothing was sent"
    )
    # each way on works when followed
    assert decide_money(["1.500"], [rate], other).decimal == other
    assert decide_money(["1.500"], [swapped(rate)], given).decimal == given
    assert decide_money([written], [rate], other).decimal == other


@pytest.mark.parametrize("mark", [".", ","])
def test_a_rate_that_reads_both_ways_is_read_with_the_amounts_mark(mark: str) -> None:
    proof = "12.50" if mark == "." else "12,50"
    fmt = decide_money(["1.500", proof], ["7.455", "7,455"])
    assert fmt == NumberFormat(mark, f"{'decimal point' if mark == '.' else 'decimal comma'} (line 3 amount {proof!r})")


def test_where_no_amount_has_a_mark_the_other_numbers_decide() -> None:
    # the mark matters to the rates alone then: no amount is read either way
    assert decide_money(["1500", "-1500"], ["7.4550"]) == NumberFormat(
        ".", "decimal point (line 2 exchangeRate '7.4550')"
    )
    with pytest.raises(ConfigError, match="line 2: exchangeRate '7.455' could be 7.455 or 7455"):
        decide_money(["1500"], ["7.455"])
    with pytest.raises(ConfigError, match="the file uses both decimal marks"):
        decide_money(["1500", "10"], ["7.4550", "7,4550"])


def test_every_kind_names_its_amounts_among_its_numbers() -> None:
    # the file's decimal mark is decided from the amounts alone: e-conomic's exchangeRate is read with their mark
    from bulkload.targets.economic_entries import DraftEntries
    from bulkload.targets.halopsa_records import Resource
    from bulkload.targets.payorcrm_records import Customers, Invoices
    from bulkload.targets.visma_core_records import Costs, Entries

    amounts = {
        DraftEntries(): {"amount"},
        Entries(): {"amount"},
        Costs(): {"Amount"},
        Invoices(): {"invoiceAmount", "localAmount", "balanceAmount"},
        Customers(): set(),
        Resource("XeroDetails"): set(),  # no HaloPSA field is a decimal number, nor money
    }
    for kind, money in amounts.items():
        assert kind.money_fields == money, kind
        assert kind.money_fields <= kind.number_fields, kind
        assert set(kind.amount_places) == kind.money_fields, kind
    assert DraftEntries().number_fields - DraftEntries().money_fields == {"exchangeRate"}


@pytest.mark.parametrize(
    ("text", "mark", "places", "refused"),
    [
        # an amount, whose mark the file's amounts show: read as decimals, refused where it has more than it takes
        (
            "1.500",
            ".",
            (2, "EUR"),
            "'1.500' read with the file's decimal point is 1.500 EUR, 3 decimals where EUR has 2",
        ),
        ("-1,500", ",", (2, "DKK"), "is -1,500 DKK, 3 decimals where DKK has 2: written so, it is also how a file of "),
        ("(1.500)", ".", (2, ""), "is -1.500, 3 decimals where amount has 2"),  # the API's own decimals (Visma Core)
        ("1.500", ".", (3, "KWD"), None),
        ("1.505", ".", (2, "EUR"), None),  # more decimals than EUR's, and no zeros: the kind names them
        ("1,500", ".", (2, "EUR"), None),  # 1500, as the amounts' mark reads it
        ("1234.500", ".", (2, "EUR"), None),  # reads one way only
        ("0.500", ".", (2, "EUR"), None),
        # a number of no amount (a rate), which another system may have written: read as thousands, refused
        ("745.500", ",", None, "'745.500' read with the file's decimal comma is 745500, with a point between "),
        (
            "7,455",
            ".",
            None,
            "with a decimal comma it is 7.455, and which is meant cannot be told. Write 7455 if that ",
        ),
        ("7.455", ".", None, None),
        ("745,500", ",", None, None),
        ("7.455,50", ",", None, None),
        ("1.234.500", ",", None, None),
    ],
)
def test_a_number_that_reads_both_ways_is_refused_where_its_reading_is_a_guess(
    text: str, mark: str, places: tuple[int, str] | None, refused: str | None
) -> None:
    # found by a tester: Visma Core's 1.500 (2 decimals), PayorCRM's localAmount 1.500 DKK and e-conomic's
    # exchangeRate 745.500 in a file of decimal commas (745500) were each booked as one reading, exit 0
    read = NumberFormat(mark).parse(text)
    reason = guessed("amount" if places is not None else "exchangeRate", text, read, mark, places)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason, reason


@pytest.mark.parametrize(
    ("text", "mark", "written"),
    [
        ("1.500", ",", "1,50"),  # 1,500 reads 1500 too: written so, a reload of the rejects file alone cannot tell
        ("-1.500", ".", "-1.50"),
        ("1.234", ",", "1,234"),  # no zero to leave out: read with the file's mark, 1.234
        ("1234.500", ",", "1234,500"),  # reads one way only
        ("0.500", ",", "0,500"),
        ("250.00", ",", "250,00"),
        ("1500", ",", "1500"),
        ("1.5e2", ",", "1.5e2"),  # refused where a number is read, as the line's own is
    ],
)
def test_a_json_number_is_written_as_the_files_decimal_mark_reads_it_back(text: str, mark: str, written: str) -> None:
    # found by a tester: the rejects file of a JSONL file of decimal commas wrote the JSON number 1.500 as 1.500,
    # which its reload read as 1500
    assert json_number_text(text, mark) == written
    if "e" not in text:
        assert NumberFormat(mark).parse(written) == Decimal(text)


@pytest.mark.parametrize(
    ("fmt", "text", "told"),
    [
        (POINT, "- 100.00", "'- 100.00' has a space between its sign '-' and its digits, which a number is read "
         "without: write '-100.00'"),
        (POINT, "100.00 -", "'100.00 -' has a space between its sign '-' and its digits, which a number is read "
         "without: write '-100.00'"),
        (COMMA, "- 1.234,50", "'- 1.234,50' has a space between its sign '-' and its digits, which a number is read "
         "without: write '-1234,50'"),
        (POINT, "+ 5", "'+ 5' has a space between its sign '+' and its digits, which a number is read without: "
         "write '5'"),
        (POINT, "($100.00)", "'($100.00)' holds the currency '$' inside the parentheses of an accounting negative: "
         "write the number alone, with a minus ('-100.00'; where the target takes a currency, it belongs in its own "
         "column)"),
        (COMMA, "(1.234,50 EUR)", "'(1.234,50 EUR)' holds the currency 'EUR' inside the parentheses of an "
         "accounting negative: write the number alone, with a minus ('-1234,50'; where the target takes a currency, "
         "it belongs in its own column)"),
        (POINT, "1,23,456.00", "'1,23,456.00' is grouped in lakhs and crores (Indian digit grouping: two digits a "
         "group above the thousands), which is read only in groups of three: write '123456.00'"),
        (POINT, "-12,34,56,789", "'-12,34,56,789' is grouped in lakhs and crores (Indian digit grouping: two digits "
         "a group above the thousands), which is read only in groups of three: write '-123456789'"),
        (COMMA, "1.000,-", "'1.000,-' writes its decimals as '-', as a whole price is written: write '1000,00'"),
        (COMMA, "-50,--", "'-50,--' writes its decimals as '--', as a whole price is written: write '-50,00'"),
        (POINT, "1'000.\u2013", "\"1'000.\u2013\" writes its decimals as '\u2013', as a whole price is written: "
         "write '1000.00'"),
        (COMMA, "\u20131.234,56", "'\u20131.234,56' has the dash '\u2013' (U+2013) where a minus belongs, as a word "
         "processor writes one: which it means is not read from a dash; write '-1234,56'"),
        (POINT, "12.50\u2014", "'12.50\u2014' has the dash '\u2014' (U+2014) where a minus belongs, as a word "
         "processor writes one: which it means is not read from a dash; write '-12.50'"),
        (COMMA, "1.234,50 \u20ac-", "'1.234,50 \u20ac-' holds the currency '\u20ac': write the number alone (where the "
         "target takes a currency, it belongs in its own column)"),
        # Excel's Accounting format writes 0 as " -   " (the cell read stripped): told, not "not a number: '-'"
        (COMMA, "-", "not a number: '-' is how a spreadsheet's accounting format shows zero, and a dash is also "
         "written for no amount: which it means is not read from a dash; write 0 where zero is meant"),
        (POINT, "\u2013", "not a number: '\u2013' is how a spreadsheet's accounting format shows zero, and a dash is "
         "also written for no amount: which it means is not read from a dash; write 0 where zero is meant"),
        (POINT, "'1.234,50", "\"'1.234,50\" starts with an apostrophe, which a spreadsheet writes before a number to "
         "keep it as text ('1.234,50' is shown): whether the apostrophe is part of the value cannot be told; write the "
         "value without it"),
    ],
)  # fmt: skip
def test_a_sign_apart_a_currency_in_parentheses_and_lakhs_are_told_what_to_write(
    fmt: NumberFormat, text: str, told: str
) -> None:
    """Tester t73c: `- 100.00` and `100.00 -` (a space between sign and digits), `($100.00)` (US Excel's Accounting
    format) and `1,23,456.00` (Indian grouping) were told only "not a number" and the forms a number is read in; so
    were `1.000,-` (a whole price, Danish and German), an en or em dash for the minus, a currency before SAP's
    trailing minus (`1.234,50 €-`) and a spreadsheet's text apostrophe (`'1.234,50`)."""
    with pytest.raises(ValueError) as info:
        fmt.parse(text)
    assert str(info.value) == told


@pytest.mark.parametrize("text", ["($1,234.50)", "(1,234.50 USD)", "$(1,234.50)"])
def test_a_currency_in_parentheses_shows_the_files_mark(text: str) -> None:
    # its row is refused for the currency, but it shows how the file writes numbers, as "$1,234.50" does
    evidence = NumberEvidence()
    evidence.add(text, 2, "amount")
    evidence.add("1.500", 3, "amount")
    assert evidence.decide(None, "f.csv").decimal == "."


@pytest.mark.parametrize("text", ["5,", "--5,00", "(-5,00)", "5%", "1.2.3,4,5", "- 5,00-", "- (5,00)"])
def test_digits_that_read_as_no_number_are_told_how_a_number_is_read(text: str) -> None:
    """Tester t67c: cells of digits written another way than the file's numbers (a mark with no decimals after it, a
    space after the sign, two signs, a sign inside parentheses, a percentage) were told only "not a number"; they are
    told the forms a number is read in, with the file's own decimal mark. Text that is no number is told no more."""
    with pytest.raises(ValueError) as info:
        NumberFormat(",").parse(text)
    assert str(info.value) == (
        f"not a number: {text!r} (a number is read as digits with ',' before its decimals, signed by - or + before it, "
        "- after it or parentheses around it, its thousands grouped by '.', a space or an apostrophe)"
    )
    with pytest.raises(ValueError) as info:
        NumberFormat(",").parse("1,2x")
    assert str(info.value) == "not a number: '1,2x'"
