"""What the e-conomic sandbox knows: the chart of accounts, currencies, journals, the DraftEntry and
Journal schemas (with their filterable properties) and the per-entry validation with the seed's codes.

Money is kept exactly: ``amount`` and ``exchangeRate`` are ``Decimal`` with the digits the client sent,
served back as JSON numbers with the same digits (seed 002, Journals API v11.0.2: both are JSON numbers,
and "JournalEntryAmountExceedsDigitLimit: The amount cannot be more than 18 digits")."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from bulkload.sandbox.filters import COMPARE, Field

#: A Danish-style chart of accounts (number → name), as on a small e-conomic agreement.
CHART: dict[int, str] = {
    1010: "Salg af varer/ydelser m/moms",
    1020: "Salg af varer/ydelser u/moms",
    1030: "Salg af varer til EU",
    1040: "Salg af ydelser til EU",
    1050: "Salg til udlandet",
    1310: "Varekøb m/moms",
    1320: "Varekøb EU",
    1330: "Varekøb udland",
    1350: "Fragt og told",
    1410: "Lagerregulering",
    2210: "Lønninger",
    2220: "Pension",
    2230: "ATP og sociale bidrag",
    2250: "Personaleomkostninger",
    2410: "Annoncer og reklame",
    2420: "Repræsentation",
    2510: "Rejseudgifter",
    2610: "Brændstof og bilomkostninger",
    2750: "Husleje",
    2760: "El, vand og varme",
    2770: "Rengøring",
    2800: "Kontorartikler",
    2810: "Telefon og internet",
    2820: "IT-software og abonnementer",
    2830: "Porto og gebyrer",
    2850: "Revisor og advokat",
    2860: "Forsikringer",
    2900: "Småanskaffelser",
    3010: "Afskrivninger",
    3510: "Renteindtægter",
    3610: "Renteudgifter",
    3620: "Bankgebyrer",
    5110: "Driftsmidler",
    5210: "Varelager",
    5510: "Kasse",
    5600: "Bank",
    5610: "Bank EUR-konto",
    5810: "Salgsmoms",
    5820: "Købsmoms",
    5830: "Moms af varekøb i EU",
    5840: "Moms af ydelseskøb i udlandet",
    5850: "Momsafregning",
    6010: "Egenkapital primo",
    6110: "Overført resultat",
    6820: "Skyldig A-skat",
    6830: "Skyldig AM-bidrag",
    6840: "Skyldige feriepenge",
    6900: "Kreditorer",
    7100: "Debitorer",
    7200: "Periodeafgrænsningsposter",
}
#: the currencies the agreement has: e-conomic keeps ISO 4217 codes; these include ones with 0 and 3 decimals
#: and the large-nominal ones (IDR, VND, KRW) that opening-balance migrations bring
CURRENCIES: frozenset[str] = frozenset(
    {
        "DKK",
        "EUR",
        "USD",
        "SEK",
        "NOK",
        "GBP",
        "ISK",
        "CHF",
        "PLN",
        "CZK",
        "HUF",
        "JPY",
        "CNY",
        "INR",
        "IDR",
        "VND",
        "KRW",
        "KWD",
        "BHD",
        "AUD",
        "CAD",
        "NZD",
        "ZAR",
        "BRL",
        "MXN",
        "SGD",
        "HKD",
        "THB",
        "TRY",
    }
)
BASE_CURRENCY = "DKK"
#: VAT codes are stored as given; these are the ones a Danish agreement has.
VAT_CODES: dict[str, str] = {
    "I25": "Købsmoms 25%",
    "U25": "Salgsmoms 25%",
    "IEUV": "Moms af varekøb i EU",
    "IEUY": "Moms af ydelseskøb i EU",
    "UEUV": "Salg af varer til EU",
    "UEUY": "Salg af ydelser til EU",
    "IVV": "Moms af ydelseskøb udenfor EU",
    "REP": "Repræsentation (25% fradrag)",
}
DEFAULT_JOURNALS: dict[int, str] = {
    1: "Daily journal",
    2: "Month-end accruals",
    3: "Bank reconciliation",
    4: "Supplier invoices",
    5: "Customer payments",
    6: "Payroll",
    7: "VAT settlement",
    8: "Fixed assets",
    9: "Year-end closing",
    10: "Migration import",
}
ENTRY_TYPES = frozenset({2, 3, 4, 5, 10})
SUPPLIER_PAYMENT_TYPES = frozenset({-1, 1, 2, 5, 7, 10, 14, 17})
MAX_TEXT = 250
#: |amount| must stay below this (in the entry's currency), and be written with at most MAX_DIGITS
#: significant digits: the seed's JournalEntryAmountExceedsDigitLimit
MAX_AMOUNT = Decimal("1E16")
MAX_DIGITS = 18
# Rounding to MAX_DIGITS signals Rounded exactly when the coefficient has more digits, even dropped zeros
# (as written: 0.10 has 2 digits, 1.000…0 with 18 zeros has 19); 4x cheaper than counting as_tuple().digits,
# which shows on a 500-entry bulk. The widest exponents keep a tiny amount from rounding as a subnormal.
_DIGITS = decimal.Context(prec=MAX_DIGITS, Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX, traps=[decimal.Rounded])


class DraftEntry(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A draft entry as e-conomic reads and writes it (seed 002). UNSET (not None) marks an absent field
    so that an explicit ``null`` in a request is refused, as the real API does. ``amount`` is in the
    entry's ``currency``; ``exchangeRate`` is the price of 100 units of it in the base currency (so 100
    for DKK); both exact, with the digits they were sent with."""

    entryNumber: int | UnsetType = UNSET
    entryTypeNumber: int
    voucherNumber: int
    journalNumber: int
    date: str
    accountNumber: int | UnsetType = UNSET
    vatCode: str | UnsetType = UNSET
    amount: Decimal
    currency: str
    exchangeRate: Decimal | UnsetType = UNSET
    contraAccountNumber: int | UnsetType = UNSET
    contraVatCode: str | UnsetType = UNSET
    text: str | UnsetType = UNSET
    projectNumber: int | UnsetType = UNSET
    costTypeNumber: int | UnsetType = UNSET
    customerNumber: int | UnsetType = UNSET
    customerInvoiceNumber: str | UnsetType = UNSET
    supplierNumber: int | UnsetType = UNSET
    supplierInvoiceNumber: str | UnsetType = UNSET
    supplierPaymentType: int | UnsetType = UNSET
    supplierPaymentBank: str | UnsetType = UNSET
    supplierPaymentMessage: str | UnsetType = UNSET
    dueDate: str | UnsetType = UNSET
    objectVersion: str | UnsetType = UNSET


class IncomingEntry(DraftEntry, kw_only=True, omit_defaults=True, gc=False):
    """A draft entry as a client sends it, before :meth:`Rules.check` makes its money Decimal.

    Decoded with ``float_hook=Decimal``, a JSON number arrives as an exact Decimal (or an int) and a JSON
    string stays a str, so check can refuse it: a ``Decimal`` field would take ``"12.50"`` too, and the
    seed documents numbers (the float model refused strings as well)."""

    amount: Any
    exchangeRate: Any = UNSET


class Journal(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A journal; false booleans are omitted on the wire like everywhere in e-conomic."""

    number: int | UnsetType = UNSET
    name: str
    type: int = 1
    balancingBehavior: bool = False
    autoApprove: bool = False
    isStandingJournal: bool = False
    requireAdminApproval: bool = False
    lockVatCodes: bool = False
    allowPartialBooking: bool = False
    requireBalancePerVoucherId: bool = False
    repeatText: bool = False
    nextVoucherNumber: int | UnsetType = UNSET
    minimumVoucherNumber: int | UnsetType = UNSET
    maximumVoucherNumber: int | UnsetType = UNSET
    customerContraAccount: int | UnsetType = UNSET
    supplierContraAccount: int | UnsetType = UNSET
    customerPaymentText: str | UnsetType = UNSET
    supplierPaymentText: str | UnsetType = UNSET
    paymentMessageText: str | UnsetType = UNSET
    priority: int | UnsetType = UNSET
    defaultDepartment: int | UnsetType = UNSET
    objectVersion: str | UnsetType = UNSET


#: Filterable properties and operators, as the seed's "Filterable:" lines list them.
ENTRY_FILTERS: dict[str, Field] = {
    "entryNumber": Field("int"),
    "entryTypeNumber": Field("int"),
    "journalNumber": Field("int"),
    "voucherNumber": Field("int"),
    "accountNumber": Field("int"),
    "contraAccountNumber": Field("int"),
    "customerNumber": Field("int"),
    "supplierNumber": Field("int"),
    "projectNumber": Field("int"),
    "currency": Field("str"),
    "date": Field("datetime", COMPARE),
}
JOURNAL_FILTERS: dict[str, Field] = {
    "number": Field("int"),
    "type": Field("int"),
    "balancingBehavior": Field("bool", COMPARE),
    "isStandingJournal": Field("bool", COMPARE),
}
ENTRY_SORTABLE = frozenset({"entryNumber", "entryTypeNumber", "journalNumber", "voucherNumber"})
JOURNAL_SORTABLE = frozenset({"number"})

#: One bad property of one entry: (property, errorCode, message).
Problem = tuple[str, str, str]


class Rules:
    """The agreement's reference data an entry is checked against."""

    def __init__(
        self,
        accounts: frozenset[int],
        currencies: frozenset[str],
        journals: dict[int, Journal],
        years: tuple[int, int],
    ) -> None:
        self.accounts = accounts
        self.currencies = currencies
        self.journals = journals
        self.years = years
        # month-end files repeat a few dozen dates a million times: parse each once
        self._dates: dict[str, tuple[str, int] | None] = {}

    def date(self, text: str) -> tuple[str, int] | None:
        """``(normalized date-time, year)`` for an ISO date or date-time, None when it is no date."""
        hit = self._dates.get(text, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        try:
            day = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
            parsed: tuple[str, int] | None = (f"{day.isoformat()}T00:00:00", day.year)
        except ValueError:
            parsed = None
        if len(self._dates) > 10_000:
            self._dates.clear()
        self._dates[text] = parsed
        return parsed

    def check(self, e: IncomingEntry) -> list[Problem]:
        """Everything wrong with one entry (empty when it may be stored); normalizes its dates and makes
        its money Decimal."""
        bad: list[Problem] = []
        add = bad.append
        if e.entryTypeNumber not in ENTRY_TYPES:
            add(
                (
                    "entryTypeNumber",
                    "JournalEntryTypeNotCorrect",
                    f"Entry type {e.entryTypeNumber} is not 2|3|4|5|10.",
                )
            )
        if e.journalNumber not in self.journals:
            add(("journalNumber", "JournalNotFound", f"Journal {e.journalNumber} does not exist."))
        account, contra = e.accountNumber, e.contraAccountNumber
        if account is UNSET and contra is UNSET:
            add(
                (
                    "accountNumber",
                    "JournalEntryAccountAndContraAccountNotSet",
                    "Neither account nor contra is set.",
                )
            )
        if account is not UNSET and account not in self.accounts:
            add(("accountNumber", "JournalEntryAccountNotFound", f"Account {account} could not be found."))
        if contra is not UNSET and contra not in self.accounts:
            add(
                (
                    "contraAccountNumber",
                    "JournalEntryContraAccountNotFound",
                    f"Account {contra} could not be found.",
                )
            )
        rate = None if e.exchangeRate is UNSET else exact_number("exchangeRate", e.exchangeRate, add)
        if rate is not None:
            e.exchangeRate = rate
            if not rate.is_finite():  # no JSON number is; refused so that none can reach the encoder
                add(("exchangeRate", "JournalEntryExchangeRateError", f"{rate} is not an exchange rate."))
                rate = None
        currency = e.currency
        if not currency:
            add(("currency", "JournalEntryCurrencyNotSet", "The currency is not set."))
        elif currency not in self.currencies:
            add(("currency", "JournalEntryCurrencyNotFound", f"Currency {currency!r} could not be found."))
        elif currency == BASE_CURRENCY and rate is not None and rate != 100:
            add(
                (
                    "exchangeRate",
                    "JournalEntryExchangeRateMustBeOneHundredForBaseCurrency",
                    "Must be 100 for DKK.",
                )
            )
        amount = exact_number("amount", e.amount, add)
        if amount is not None:
            e.amount = amount
            if not within_digit_limit(amount):
                add(("amount", "JournalEntryAmountExceedsDigitLimit", "The amount cannot be more than 18 digits."))
        if e.text is not UNSET and len(e.text) > MAX_TEXT:
            add(
                (
                    "text",
                    "JournalEntryTextTooLong",
                    f"The text has {len(e.text)} characters; at most {MAX_TEXT}.",
                )
            )
        payment = e.supplierPaymentType
        if payment is not UNSET and payment not in SUPPLIER_PAYMENT_TYPES:
            add(
                (
                    "supplierPaymentType",
                    "JournalEntrySupplierPaymentTypeNotValid",
                    f"{payment} is not a payment type.",
                )
            )
        day = self.date(e.date)
        if day is None:
            add(("date", "InvalidDate", f"{e.date!r} is not a valid date."))
        elif not self.years[0] <= day[1] <= self.years[1]:
            add(("date", "JournalEntryDateAccountingYearDoesNotExist", f"No accounting year for {e.date}."))
        else:
            e.date = day[0]
        if e.dueDate is not UNSET:
            due = self.date(e.dueDate)
            if due is None:
                add(("dueDate", "InvalidDate", f"{e.dueDate!r} is not a valid date."))
            else:
                e.dueDate = due[0]
        return bad


#: the JSON name of a decoded value's type, for "Expected `number`, got `str`"
_JSON_TYPES = {str: "str", bool: "bool", list: "array", dict: "object"}


def exact_number(prop: str, value: Any, add: Callable[[Problem], None]) -> Decimal | None:
    """``value`` of an IncomingEntry as an exact Decimal when it came as a JSON number; otherwise (null, a
    string, …) the problem goes to ``add`` and the answer is None."""
    if isinstance(value, Decimal):
        return value
    if type(value) is int:  # a JSON integer (not a bool); float_hook made every other number a Decimal
        return Decimal(value)
    if value is None:
        add(null_problem(prop))
    else:
        kind = _JSON_TYPES.get(type(value), type(value).__name__)
        add((prop, "InvalidPropertyValue", f"Expected `number`, got `{kind}`"))
    return None


def within_digit_limit(amount: Decimal) -> bool:
    """True when ``amount`` is finite, below MAX_AMOUNT in size and written with at most MAX_DIGITS
    significant digits (leading zeros not counted, trailing ones counted): the seed's
    JournalEntryAmountExceedsDigitLimit. 1234567890123456.78 and 9999999999999999.99 (18 digits) pass."""
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:  # is_finite first: NaN does not compare
        return False
    try:
        _DIGITS.plus(amount)
    except decimal.Rounded:
        return False
    return True


def null_problem(prop: str) -> Problem:
    return prop, "NullNotAllowed", f"null is not accepted for {prop}: leave the property out instead."


def error_item(index: int, problem: Problem) -> dict[str, Any]:
    """One element of the ``errors`` array of a 400 answer."""
    prop, code, message = problem
    return {"index": index, "property": prop, "errorCode": code, "message": message}


def decode_problem(exc: msgspec.ValidationError) -> Problem:
    """The (property, errorCode, message) of a msgspec type error on one entry."""
    message = str(exc)
    if message.startswith("Object missing required field `"):
        prop = message.split("`")[1]
        code = {
            "amount": "JournalEntryEitherAmountsNotSet",
            "currency": "JournalEntryCurrencyNotSet",
            "entryTypeNumber": "JournalEntryTypeNotCorrect",
        }.get(prop, "RequiredPropertyMissing")
        return prop, code, f"The property {prop} is required."
    prop = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else ""
    prop = prop.split(".", 1)[0].split("[", 1)[0]
    if "got `null`" in message:
        return null_problem(prop)
    return prop, "InvalidPropertyValue", message
