"""Money as the books keep it: exact decimals, and integers of a currency's minor unit for control totals.

Minor units follow ISO 4217: two decimals for most currencies, none for JPY, ISK, KRW…, three for KWD, BHD….
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from functools import lru_cache
from typing import Any, NamedTuple

#: ISO 4217 currencies whose minor unit is not a hundredth; every other currency has 2 decimals
DECIMALS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
#: the ISO 4217 codes of money with a minor unit (list one, 2024; not gold, silver, SDR or test codes), by which
#: an amount in major units can be converted: any other code gives no number of decimals to convert by
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD
    CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
    GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG ZWL""".split()  # noqa: SIM905 - a table, read as one
)
#: 10 ** decimals as a Decimal, per currency with other than 2 decimals (a walked page multiplies by these)
FACTORS = {currency: Decimal(10) ** d for currency, d in DECIMALS.items()}
HUNDRED = Decimal(100)
#: where money is scaled and multiplied: a context that never rounds (the default one keeps 28 digits and rounds
#: past them, silently: 123456789012345678901234567.89 EUR became …567.90)
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
#: the largest whole number every JSON reader keeps exactly (RFC 8259 §6, I-JSON RFC 7493 §2.2): one that reads
#: numbers as IEEE 754 doubles, as JavaScript's does, may store a larger one as another number
JSON_SAFE_INTEGER = 2**53 - 1
#: the most significant digits a JSON number with decimals keeps through such a reader (a double keeps 15)
JSON_SAFE_DIGITS = 15


def nearest_double(number: Decimal | int) -> Decimal:
    """What an API that holds `number` as an IEEE 754 binary64 double gives back: the nearest double (as a JSON
    reader takes a number, RFC 8259 §6), written as the shortest decimal that reads as it again (as JavaScript,
    .NET Core 3.0+ and Python write a double). Infinity past the largest double."""
    return Decimal(repr(float(number)))


def same_amount(a: Decimal | int, b: Decimal | int) -> bool:
    """Whether an amount an API gives back (`a`) is the amount `b`, as an API holding amounts as doubles keeps them:
    their nearest doubles are one (2129.9499999999998 is 2129.95: `nearest_double`). Both finite."""
    return nearest_double(a) == nearest_double(b)


def double_keeps(number: Decimal | int) -> bool:
    """Whether a double holds `number` as written: its nearest double gives it back (`nearest_double`), as every
    number of up to JSON_SAFE_DIGITS significant digits does (99999999999999.99, of 16, comes back as …98)."""
    if type(number) is int and -JSON_SAFE_INTEGER <= number <= JSON_SAFE_INTEGER:
        return True
    return nearest_double(number) == number  # a Decimal compares by value: 100.00 is 100.0


class FractionLeft(ValueError):
    """An amount with more decimals than the minor unit it is converted to: it cannot be booked as written."""


class PastLimit(ValueError):
    """An amount of more minor units than an API keeps exactly."""


#: a reconciliation walk reads a currency's decimals for every entry listed (listed_units, the journal walk), of a
#: few currencies: remembered, 50 ns a read against 145 ns (iso_code's checks); bounded, as a hostile API may list
#: any text as a currency
_CURRENCIES_KEPT = 256


@lru_cache(maxsize=_CURRENCIES_KEPT)
def decimals(currency: str | None) -> int:
    """Digits after the decimal mark in the currency's minor unit (2 when the code is not known: see CURRENCIES for
    where that must not be guessed)."""
    return DECIMALS.get(iso_code(currency) or "", 2)


@lru_cache(maxsize=_CURRENCIES_KEPT)
def factor(currency: str | None) -> Decimal:
    """10 ** the currency's decimals, as a Decimal: its ISO 4217 code in any case (`decimals`), HUNDRED where it is
    none."""
    return FACTORS.get(iso_code(currency) or "", HUNDRED)


def iso_code(currency: str | None) -> str | None:
    """The ISO 4217 code `currency` names, in upper case ("eur" is EUR), where CURRENCIES lists it; None otherwise,
    and for text that is not ASCII letters: "ısk" (a dotless ı) is no ISK, though Python's upper() makes it one."""
    if not currency or not currency.isascii():
        return None
    code = currency.upper()
    return code if code in CURRENCIES else None


#: a word of three capital letters alone, as an export writes the currency into a column's name
_CODE_WORD = re.compile(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])")


def named_currency(name: str) -> str | None:
    """The ISO 4217 currency a column's name says its amounts are in, as exports write it: a code in capitals as a
    word of its own ("Beløb DKK", "Amount (EUR)", "EUR_amount"); None where the name writes none, or more than one
    ("EUR/DKK")."""
    codes = {code for code in _CODE_WORD.findall(name) if code in CURRENCIES}
    return codes.pop() if len(codes) == 1 else None


#: a currency's sign an export writes into an amount column's name ("Amount (€)", "Beløb kr."), case folded, and
#: the ISO 4217 currencies it stands for: one (€ EUR) or several (kr DKK, NOK, SEK, ISK), of which a row names one
SIGNS: Mapping[str, tuple[str, ...]] = {
    "€": ("EUR",),
    "£": ("GBP",),
    "₹": ("INR",),
    "₽": ("RUB",),
    "₺": ("TRY",),
    "₩": ("KRW",),
    "₪": ("ILS",),
    "zł": ("PLN",),
    "kč": ("CZK",),
    "ft": ("HUF",),
    "kr": ("DKK", "NOK", "SEK", "ISK"),
    "¥": ("JPY", "CNY"),
    "$": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN", "ARS", "CLP", "COP", "BRL"),
}
_SIGN = re.compile(r"[€£₹₽₺₩₪¥$]|(?<![^\W\d_])(?:kr|zł|kč|ft)(?![^\W\d_])", re.IGNORECASE).findall


def currencies_named(name: str) -> tuple[str, tuple[str, ...]] | None:
    """(what the name writes, the ISO 4217 currencies it stands for) of a column's name that says the currency of
    its amounts: an ISO code (named_currency: "Beløb DKK", itself alone), else one currency's sign (SIGNS: "Amount
    (€)" EUR, "Beløb kr." DKK, NOK, SEK or ISK); None where it says none, or more than one."""
    if (code := named_currency(name)) is not None:
        return code, (code,)
    signs = {sign.casefold(): sign for sign in _SIGN(name)}
    if len(signs) != 1:
        return None
    ((folded, sign),) = signs.items()
    return sign, SIGNS[folded]


def listed(codes: tuple[str, ...]) -> str:
    """ISO 4217 codes as a message lists them: "DKK", "DKK, NOK, SEK or ISK"."""
    return codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} or {codes[-1]}"


#: what an export writes into an amount column's name for the books' own currency, which the name does not give:
#: Business Central's "Amount (LCY)" and "(ACY)", SAP's "Amount in LC" and "Betrag in HW" (capitals, a word of
#: their own), and "Local currency amount", "Base currency", "Hauswährung", "Basisvaluta" in any case
_LOCAL_CODE = re.compile(r"(?<![A-Za-z])(?:LCY|ACY|LC|HW)(?![A-Za-z])").search
_LOCAL_WORDS = re.compile(
    r"(?<![^\W\d_])(?:(?:local|base|home|company|functional|reporting)[\s_-]*(?:currency|curr\.?|ccy)|"
    r"hausw(?:ä|ae)hrung|basisvaluta|lokal[\s_-]*valuta|regnskabsvaluta)(?![^\W\d_])",
    re.IGNORECASE,
).search


def local_currency_named(name: str) -> str | None:
    """The words of a column's name that say its amounts are in the local currency (the books' own, which the name
    does not give: "Amount (LCY)", "Betrag in HW", "Local currency amount"), as written; None where it says none."""
    found = _LOCAL_CODE(name) or _LOCAL_WORDS(name)
    return None if found is None else found[0]


class Places(NamedTuple):
    """What gives an amount field its decimals (RecordKind.amount_places): the ISO 4217 currency its row names in
    the field `field`, else the one `currency` every row's amount is in (an option's: PayorCRM's --local-currency),
    else the `decimals` the API takes (Visma Core's 2)."""

    field: str | None = None
    currency: str | None = None
    decimals: int | None = None

    def of(self, row: Mapping[str, Any]) -> tuple[int, str] | None:
        """(decimals, the currency that has them, "" for the API's own) of the amount of `row`; None where no currency
        of the ISO 4217 list gives them (none named or given, or another code: the kind names that)."""
        if self.decimals is not None:
            return self.decimals, ""
        currency = row.get(self.field) if self.field is not None else self.currency
        code = iso_code(currency) if type(currency) is str else None
        return None if code is None else (decimals(code), code)


#: digits no amount of money has, whatever the caller's limit: past them an amount is refused, never made an int
MAX_DIGITS_EVER = 100


def minor_units(amount: Decimal, currency: str | None, limit: int | None = None, *, places: int | None = None) -> int:
    """The amount as an integer of the currency's minor unit (`places` decimals where given, else the currency's:
    see decimals), exactly, whatever its size: never rounded.

    ValueError for no finite number; FractionLeft (a ValueError) when it has more decimals than the minor unit (it
    cannot be booked as written); PastLimit (a ValueError) when `limit` is given and the amount is more than
    `limit` minor units in size, or it has `MAX_DIGITS_EVER` digits or more (an answer's `1e999999999`).
    """
    if not amount.is_finite():
        raise ValueError(f"not a number: {amount}")
    digits = decimals(currency) if places is None else places
    units = amount.scaleb(digits, EXACT)
    if units != units.to_integral_value(context=EXACT):
        if places is None:
            raise FractionLeft(f"{amount} has more decimals than {currency or 'the currency'}'s {digits}")
        raise FractionLeft(f"{amount} has more than {places} decimals")
    if limit is not None and units.copy_abs() > limit:  # exactly (abs() rounds to the context's, and overflows)
        raise PastLimit(f"{amount} is more than {limit:,} minor units in size")
    if units.adjusted() >= MAX_DIGITS_EVER:  # `1e999999999` as an int would take a billion digits, and minutes
        raise PastLimit(f"{amount} has more than {MAX_DIGITS_EVER} digits")
    return int(units)


def answered_units(amount: Decimal, places: int, limit: int | None = None) -> int | None:
    """An amount answered by an API that holds amounts as doubles, as an integer of minor units of `places`
    decimals: as written where it is a whole number of them, else the amount of `places` decimals whose double it
    is, which the API may write with 17 significant digits (1234.5699999999999 is the double of 1234.57: 123457).
    None where it is neither (1234.575, or 1234.5700000000002, the double after 1234.57's: the API holds another
    amount than any of `places` decimals sent), is not a finite number, or is more than `limit` minor units in size
    (minor_units). Every amount sent is the shortest writing of its double (chunking refuses any other before the
    first call: double_keeps), so the double answered for it gives it back (`nearest_double`)."""
    try:
        return minor_units(amount, None, limit, places=places)
    except FractionLeft:
        pass
    except ValueError:
        return None
    try:
        return minor_units(nearest_double(amount), None, limit, places=places)
    except ValueError:
        return None


def value_text(number: Decimal | int) -> str:
    """A number as its value, whatever its trailing zeros or exponent, exactly at any size: 100.50, 100.5 and
    1.005E+2 are "100.5"; 200.00, 200 and 2E+2 are "200"; -0.00 is "0". A number that is not finite as str() says."""
    if isinstance(number, int) or not number.is_finite():
        return str(number)
    text = format(number, "f")  # no precision given: exact, never rounded
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def money(units: int, currency: str = "") -> str:
    """Minor units shown as an amount: 125000 DKK → "1250.00", 1500 JPY → "1500"."""
    d = decimals(currency)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**d)
    return f"{sign}{whole}.{frac:0{d}d}" if d else f"{sign}{whole}"
