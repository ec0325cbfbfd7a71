"""Tests for money.py: amounts to minor units exactly, whatever their size, or refused; minor units shown back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkload.money import (
    CURRENCIES,
    DECIMALS,
    EXACT,
    JSON_SAFE_INTEGER,
    FractionLeft,
    PastLimit,
    answered_units,
    currencies_named,
    double_keeps,
    factor,
    local_currency_named,
    minor_units,
    money,
    named_currency,
    nearest_double,
)
from bulkload.reconcile import _totals_view
from bulkload.targets.economic import Economic
from bulkload.targets.payorcrm import PayorCRM

# units far past Decimal's default 28 digits, where scaling in the default context rounds
UNITS = st.integers(min_value=-(10**60), max_value=10**60)
CODES = st.sampled_from(sorted(CURRENCIES))


@given(UNITS, CODES, st.integers(min_value=0, max_value=5))
def test_an_amount_goes_to_minor_units_and_back_exactly(units: int, currency: str, zeros: int) -> None:
    digits = DECIMALS.get(currency, 2)
    amount = Decimal(units).scaleb(-digits, EXACT)
    written = Decimal(f"{amount:f}{'' if digits or not zeros else '.'}{'0' * zeros}")  # trailing zeros change nothing
    assert minor_units(written, currency) == units
    assert Decimal(money(units, currency)) == amount
    assert minor_units(Decimal(money(units, currency)), currency.lower()) == units


@given(UNITS, CODES, st.integers(min_value=1, max_value=9))
def test_an_amount_with_a_fraction_of_the_minor_unit_is_refused(units: int, currency: str, last: int) -> None:
    digits = DECIMALS.get(currency, 2)
    amount = Decimal(f"{Decimal(units).scaleb(-digits, EXACT):f}{'' if digits else '.'}{last}")
    with pytest.raises(FractionLeft, match="has more decimals than"):
        minor_units(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        # found by a tester: scaled in the default context, these were rounded to …567.90 and …679000
        ("123456789012345678901234567.89", "EUR", 12345678901234567890123456789),
        ("1234567890123456789012345678.9", "KWD", 1234567890123456789012345678900),
        ("-0.001", "KWD", -1),
        ("1500", "jpy", 1500),
    ],
)
def test_minor_units_are_never_rounded(amount: str, currency: str, units: int) -> None:
    assert minor_units(Decimal(amount), currency) == units


def test_a_limit_refuses_what_is_past_it_and_keeps_what_is_not() -> None:
    largest = Decimal(JSON_SAFE_INTEGER).scaleb(-2)
    assert minor_units(largest, "EUR", JSON_SAFE_INTEGER) == JSON_SAFE_INTEGER
    assert minor_units(-largest, "EUR", JSON_SAFE_INTEGER) == -JSON_SAFE_INTEGER
    for past in (largest + Decimal("0.01"), -largest - Decimal("0.01"), Decimal("1E+40")):
        with pytest.raises(PastLimit, match="more than 9,007,199,254,740,991 minor units"):
            minor_units(past, "EUR", JSON_SAFE_INTEGER)
    assert minor_units(Decimal("1234"), None, 10**4, places=0) == 1234
    with pytest.raises(FractionLeft, match="1.5 has more than 0 decimals"):
        minor_units(Decimal("1.5"), None, places=0)
    # digits past any amount are refused whatever the limit, never made an int (a billion digits took minutes)
    for past in ("1e999999999", "-1E+999999999", "1E+100"):
        with pytest.raises(PastLimit, match="has more than 100 digits"):
            minor_units(Decimal(past), "EUR")
    assert minor_units(Decimal("1E+97"), "EUR") == 10**99
    for nothing in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="not a number"):
            minor_units(Decimal(nothing), "EUR")


def test_totals_of_a_currency_whose_minor_unit_is_unknown_are_shown_as_minor_units() -> None:
    # found by a tester: an unknown code's (YEN) and a missing currency's totals were shown with 2 decimals
    totals = {"invoices": {"YEN": [1, 1234, 1234], "": [2, -250, 0], "JPY": [1, 1500, 1500], "KWD": [1, 1, 1]}}
    assert _totals_view(totals, PayorCRM(["invoices"])) == {
        "invoices": {
            "": {"rows": 2, "minor_units": -250, "debit_minor_units": 0},
            "JPY": {"rows": 1, "amount": "1500", "debit": "1500"},
            "KWD": {"rows": 1, "amount": "0.001", "debit": "0.001"},
            "YEN": {"rows": 1, "minor_units": 1234, "debit_minor_units": 1234},
        }
    }
    # e-conomic's are shown as before, whatever the code: amounts of 2 decimals where ISO 4217 names no other
    assert _totals_view({"1": {"DKK": [1, 125000, 125000], "XYZ": [1, 5, 5]}}, Economic()) == {
        "1": {
            "DKK": {"rows": 1, "amount": "1250.00", "debit": "1250.00"},
            "XYZ": {"rows": 1, "amount": "0.05", "debit": "0.05"},
        }
    }


# --- what an API that holds a number as a double gives back (money.nearest_double, money.double_keeps) -------


def test_a_double_does_not_hold_the_docs_old_example_it_holds_the_cent_below() -> None:
    # found by a tester: e-conomic types amount `number <double>` (seed 002); 99999999999999.99 was stored as …98
    assert not double_keeps(Decimal("99999999999999.99"))
    assert nearest_double(Decimal("-99999999999999.99")) == Decimal("-99999999999999.98")
    assert double_keeps(Decimal("99999999999999.98")) and double_keeps(Decimal("9999999999999.99"))
    assert double_keeps(Decimal("100.00")) and double_keeps(Decimal("1E+2")) and double_keeps(Decimal("0.1"))
    assert not double_keeps(Decimal("745.123456789012345"))  # a rate of 18 digits
    # a JSON integer: every one up to JSON_SAFE_INTEGER, the limit PayorCRM's amounts keep, and only some past it
    assert double_keeps(JSON_SAFE_INTEGER) and double_keeps(-JSON_SAFE_INTEGER) and double_keeps(2**53)
    assert not double_keeps(2**53 + 1) and nearest_double(2**53 + 1) == 2**53


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), st.integers(min_value=-20, max_value=20))
def test_every_number_of_up_to_15_significant_digits_is_held(digits: int, exponent: int) -> None:
    assert double_keeps(Decimal(digits).scaleb(exponent))


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1), st.integers(min_value=-4, max_value=0))
def test_a_number_not_held_is_given_back_as_another_of_its_nearest_double(digits: int, exponent: int) -> None:
    number = Decimal(digits).scaleb(exponent)
    back = nearest_double(number)
    assert float(back) == float(number)  # the very double the API stores
    assert double_keeps(number) == (back == number)
    assert double_keeps(back)  # what it gives back, sent again, comes back as that


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_what_a_double_is_written_as_is_held(value: float) -> None:
    assert double_keeps(Decimal(repr(value)))


def test_one_predicate_says_whether_an_amount_given_back_is_the_amount_sent() -> None:
    # the look after a lost cost PATCH and a create's answer (Visma Core) each compared nearest doubles on their own
    from bulkload.money import same_amount

    assert same_amount(Decimal("2129.9499999999998"), Decimal("2129.95"))
    assert same_amount(Decimal("100.0"), 100)
    assert not same_amount(Decimal("2129.96"), Decimal("2129.95"))


def test_an_answered_double_is_the_amount_of_the_currencys_decimals_it_is_the_double_of() -> None:
    # found with a server written from seed 002 that writes doubles with 17 digits: 1234.57 as 1234.5699999999999
    # was read as 123456 cents (truncated), and 1234.575 as 123457
    assert answered_units(Decimal("1234.5699999999999"), 2) == 123457
    assert answered_units(Decimal("-1234.5699999999999"), 2) == -123457
    assert answered_units(Decimal("0.10000000000000001"), 2) == 10
    assert answered_units(Decimal("1234.57"), 2) == 123457
    assert answered_units(Decimal("1235.0000000000002"), 0) is None  # the next double: another amount
    assert answered_units(Decimal("99999999999999.984"), 2) == 9999999999999998
    # more decimals than the currency has, and no double of an amount that has not: a difference
    assert answered_units(Decimal("1234.575"), 2) is None
    assert answered_units(Decimal("1234.5700000000002"), 2) is None  # the double after 1234.57's
    assert answered_units(Decimal("1e999999999"), 2, 2**63 - 1) is None
    assert answered_units(Decimal("NaN"), 2) is None


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), st.sampled_from([0, 2, 3]))
def test_every_amount_a_double_holds_comes_back_from_its_double_written_long(units: int, places: int) -> None:
    amount = Decimal(units).scaleb(-places)
    assert answered_units(Decimal(format(float(amount), ".17g")), places) == units
    assert answered_units(Decimal(repr(float(amount))), places) == units


def test_a_currencys_factor_is_its_iso_4217_codes_in_any_case() -> None:
    # the e-conomic walk counted a listed 100 jpy as 10000 (looked up as written) where money() shows jpy as JPY
    assert (factor("JPY"), factor("jpy"), factor("Kwd"), factor("DKK"), factor("eur")) == (1, 1, 1000, 100, 100)
    assert (factor("ısk"), factor("xyz"), factor(None)) == (100, 100, 100)  # no ISO 4217 code: 2 decimals


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Beløb DKK", "DKK"),
        ("Amount (EUR)", "EUR"),
        ("EUR_amount", "EUR"),
        ("Belopp i SEK", "SEK"),
        ("AMOUNT", None),  # capitals, but no code: AMO is no word of its own
        ("Beløb dkk", None),  # a code is written in capitals; a lower-case word may be any word
        ("Amount EUR/DKK", None),  # two: which cannot be told
        ("Amount XYZ", None),  # no ISO 4217 code
        ("Beløb", None),
    ],
)
def test_a_column_name_gives_the_currency_it_writes_as_a_word_of_capitals(name: str, code: str | None) -> None:
    assert named_currency(name) == code


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Amount (LCY)", "LCY"),
        ("Amount (ACY)", "ACY"),
        ("Amount in LC", "LC"),
        ("Betrag in HW", "HW"),
        ("Local currency amount", "Local currency"),
        ("Amount_base_currency", "base_currency"),
        ("Betrag Hauswährung", "Hauswährung"),
        ("Beløb i basisvaluta", "basisvaluta"),
        ("Amount (DKK)", None),
        ("Amount", None),
        ("Balance", None),  # lc inside a word, in small letters, is no LC
        ("Currency", None),
        ("Lcy amount", None),  # LCY only in capitals, as Business Central writes it
    ],
)
def test_a_column_named_as_holding_local_currency_amounts_is_told(name: str, words: str | None) -> None:
    assert local_currency_named(name) == words


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("Beløb DKK", ("DKK", ("DKK",))),
        ("Amount (€)", ("€", ("EUR",))),
        ("£ amount", ("£", ("GBP",))),
        ("Beløb kr.", ("kr", ("DKK", "NOK", "SEK", "ISK"))),
        ("Belopp (KR)", ("KR", ("DKK", "NOK", "SEK", "ISK"))),
        ("Kwota zł", ("zł", ("PLN",))),
        ("Amount", None),
        ("Kredit", None),  # kr inside a word is no krone
        ("Amount €/$", None),  # two currencies: which one cannot be told
    ],
)
def test_a_column_named_with_its_currencys_sign_names_the_currencies_it_stands_for(
    name: str, named: tuple[str, tuple[str, ...]] | None
) -> None:
    assert currencies_named(name) == named
