"""Visma e-conomic draft entries: the lines of vouchers as POST /draft-entries/bulk takes them, checked as
the API checks them, grouped by voucher, and found again among what a journal holds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal, localcontext
from itertools import compress, repeat
from operator import attrgetter, is_not, itemgetter
from typing import Annotated, Any, Literal
from zlib import adler32, crc32

import msgspec
from msgspec.structs import astuple, replace

from ..cursors import CursorTrail
from ..dates import at_offset, instant_reason, listed_day
from ..errors import APIError, RowInvalid
from ..http import decoded, keepable_ids, unreadable
from ..model import Chunk, Partly, Totals
from ..money import (
    DECIMALS,
    FACTORS,
    HUNDRED,
    PastLimit,
    Places,
    answered_units,
    decimals,
    iso_code,
    minor_units,
    nearest_double,
)
from ..numbers import whole_reason
from .base import Elsewhere, GroupKey, IdsUntold, RecordKind, Unreadable, int_fields, key_number, required_fields
from .protocols import Sender
from .reasons import Untold, converted, errors_counted

Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
Positive32 = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


#: the most digits an amount may have (seed 002: "The amount cannot be more than 18 digits")
MAX_DIGITS = 18
#: the most minor units of an amount: a signed 64-bit integer, as the ledger's totals and line checks keep them
MAX_UNITS = 2**63 - 1
#: an amount's quantum with 2 decimals
_CENT = Decimal("0.01")
#: how seed 002 documents the numbering of a refusal's `errors`, as a reason says it
_ERRORS_UNSAID = "seed 002 gives an error answer's `errors` as `[ ]`, its items unsaid"
#: voucher numbers per `$in:` list (the API takes at most 200 values)
IN_LIST = 200
#: 10 ** a line's currency's decimals (HUNDRED where it has 2): a line's ISO 4217 code is written as ISO 4217 writes
#: it, upper case (DraftEntry refuses another case), so it is looked up as written
_factor = FACTORS.get


class DraftEntry(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A draft entry as POST /draft-entries/bulk takes it. Absent fields are left out, never sent as null."""

    entryTypeNumber: Literal[2, 3, 4, 5, 10]
    journalNumber: Positive32
    voucherNumber: Positive32
    date: str
    amount: Decimal
    currency: Annotated[str, msgspec.Meta(min_length=1)]
    accountNumber: Int32 | None = None
    contraAccountNumber: Int32 | None = None
    contraVatCode: str | None = None
    costTypeNumber: Int32 | None = None
    customerInvoiceNumber: str | None = None
    customerNumber: Int32 | None = None
    dueDate: str | None = None
    exchangeRate: Decimal | None = None
    projectNumber: Int32 | None = None
    supplierInvoiceNumber: str | None = None
    supplierNumber: Int32 | None = None
    supplierPaymentBank: str | None = None
    supplierPaymentMessage: str | None = None
    supplierPaymentType: Literal[-1, 1, 2, 5, 7, 10, 14, 17] | None = None
    text: str | None = None
    vatCode: str | None = None

    def __post_init__(self) -> None:
        amount, rate = self.amount, self.exchangeRate
        # the common line, an amount written with 2 decimals in a currency of 2 written in upper case, passes on its
        # exponent and magnitude alone: 2 decimals and a first digit at most 10^15 is at most 18 digits (as_tuple
        # costs more)
        if (
            amount.same_quantum(_CENT)
            and amount.adjusted() <= MAX_DIGITS - 3
            and self.currency not in DECIMALS
            and self.currency.isupper()
            and (rate is None or rate.is_finite() and rate > 0)
        ):
            return
        code = iso_code(self.currency)
        if code is not None and code != self.currency:
            # seed 002 says of currency only "string non-empty": whether e-conomic takes jpy for JPY (of no
            # decimals), and lists it as sent or as JPY, is not documented
            raise ValueError(
                f"{self.currency!r} is {code} written in another case than ISO 4217's: whether e-conomic takes it for "
                f"{code}, of {decimals(code)} decimals, is not documented; write {code} - at `$.currency`"
            )
        _, digits, exponent = amount.as_tuple()
        # msgspec reads "nan" and "inf" as Decimals (the engine's reader never gives one; a caller might): their
        # exponent is a letter
        if not isinstance(exponent, int):
            raise ValueError(f"not a number: {amount} - at `$.amount`")
        if rate is not None and not rate.is_finite():
            raise ValueError(f"not a number: {rate} - at `$.exchangeRate`")
        if rate is not None and rate <= 0:
            # a rate is the base currency's price of 100 of the line's currency (seed 002): never 0 or below. One
            # written in accounting's parentheses or with a minus, (745.50), would be booked as a negative price,
            # and the voucher said to balance where both its lines post the same way
            raise ValueError(
                f"{rate} is no exchange rate: a rate is the base currency's price of 100 of the line's currency, "
                "more than 0 (a rate written in parentheses or with a minus is read as negative): write the rate "
                "without a sign - at `$.exchangeRate`"
            )
        if len(digits) > MAX_DIGITS:
            raise ValueError(f"{amount} has {len(digits)} digits; e-conomic takes at most {MAX_DIGITS} - at `$.amount`")
        try:
            # no more decimals than the currency has (it cannot be booked as written), and minor units a 64-bit
            # integer holds: the ledger's control totals and line checks keep them so (18 digits of DKK without
            # decimals are 10^20 øre)
            minor_units(amount, self.currency, MAX_UNITS)
        except PastLimit:
            raise ValueError(
                f"{amount} {self.currency} is more than {MAX_UNITS:,} minor units, the most bulkload keeps exactly "
                "- at `$.amount`"
            ) from None
        except ValueError as exc:
            raise ValueError(f"{exc} - at `$.amount`") from None


_FIELDS = frozenset(DraftEntry.__struct_fields__)
_REQUIRED = required_fields(DraftEntry)
#: Decimals go out as JSON numbers with the digits as read
_encoder = msgspec.json.Encoder(decimal_format="number")
_decode_entries = msgspec.json.Decoder(list[DraftEntry]).decode


#: what a line books beside its amount, dates and exchange rate: the voucher it is a line of (two lines moved between
#: vouchers leave each voucher's totals as they were) and every other field e-conomic keeps as it was sent (seed 002's
#: draft entry)
_BOOKED = (
    "voucherNumber",
    "accountNumber",
    "contraAccountNumber",
    "text",
    "currency",
    "entryTypeNumber",
    "vatCode",
    "contraVatCode",
    "customerNumber",
    "supplierNumber",
    "projectNumber",
    "costTypeNumber",
    "customerInvoiceNumber",
    "supplierInvoiceNumber",
    "supplierPaymentType",
    "supplierPaymentBank",
    "supplierPaymentMessage",
)


class _Listed(msgspec.Struct, kw_only=True):
    """The fields of a listed entry that reconciliation compares; the rest is skipped by the decoder. Those of
    `_BOOKED` come first, in its order: a walk reads them of a page's lines as the first of their values
    (`_listed_booked`, a third of what as many `_booked` cost)."""

    voucherNumber: int = 0
    accountNumber: int | None = None
    contraAccountNumber: int | None = None
    text: str | None = None
    currency: str = ""
    entryTypeNumber: int | None = None
    vatCode: str | None = None
    contraVatCode: str | None = None
    customerNumber: int | None = None
    supplierNumber: int | None = None
    projectNumber: int | None = None
    costTypeNumber: int | None = None
    customerInvoiceNumber: str | None = None
    supplierInvoiceNumber: str | None = None
    supplierPaymentType: int | None = None
    supplierPaymentBank: str | None = None
    supplierPaymentMessage: str | None = None
    entryNumber: int
    journalNumber: int | None = None
    amount: Decimal = Decimal(0)
    date: str = ""
    dueDate: str | None = None
    exchangeRate: Decimal | None = None


class _Page(msgspec.Struct):
    """A page of `GET /draft-entries`: `items` "Array of objects or null" (seed 002): null, or left out, is no
    entry; `cursor` not returned once no more items are left."""

    listed: list[_Listed] | None = msgspec.field(default=None, name="items")
    cursor: str | None = None

    @property
    def items(self) -> list[_Listed]:
        return self.listed or []


class _Created(msgspec.Struct):
    entryNumber: int


#: a page of the cursor walk: 1000 entries (the API's page size) at up to 4 KB each
PAGE_BYTES = 4 * 1024 * 1024
#: the longest answer of a count, or of a page of one entry (the baseline)
COUNT_BYTES = 64 * 1024

#: what the count endpoint answers: a number of entries
_Count = Annotated[int, msgspec.Meta(ge=0)]


async def _page(client: Sender, params: Mapping[str, str]) -> _Page:
    """One page of `GET /draft-entries`: BadAnswer (naming the call and what was wrong) for anything else, and for
    an entry number the ledger cannot keep (http.keepable_ids: the walks, looks and checks of vouchers read here)."""
    call = "GET /draft-entries"
    body = (await client.send("GET", "/draft-entries", params=params, max_bytes=PAGE_BYTES)).body
    page: _Page = decoded(body, _Page, call)
    if page.listed is None or page.cursor is None:  # no entries, or the last page: or named in another case?
        _keys_as_documented(body, call)
    keepable_ids(call, body, [item.entryNumber for item in page.items])
    return page


def _keys_as_documented(body: bytes, call: str) -> None:
    """BadAnswer where a page (a JSON object) names `items` or `cursor` in another case than seed 002 (`Items`,
    `Cursor`, as a .NET server may write them): read as left out, such a page was taken for an empty one, or the last,
    and the run's entries the API holds were said to be missing, booked or deleted (tester t71c)."""
    for key in msgspec.json.decode(body, type=dict[str, msgspec.Raw]):
        if (documented := key.lower()) in ("items", "cursor") and key != documented:
            why = f"it gives its {documented} under the key {key!r}, where seed 002 names it {documented!r}"
            raise unreadable(call, body, why)


async def _counted(client: Sender, flt: str) -> int:
    """`GET /draft-entries/count` of the entries `flt` filters ("": every draft entry of the agreement)."""
    params = {"filter": flt} if flt else None
    count: int = await client.get("/draft-entries/count", params, into=_Count, max_bytes=COUNT_BYTES)
    return count


def _from(flt: str, at: str) -> str:
    """`flt` narrowed to the entries numbered `at` or above (`entryNumber$gte:`; `flt` itself where `at` is "")."""
    return f"{flt}$and:entryNumber$gte:{int(at)}" if at else flt


async def _pages(client: Sender, flt: str, what: str) -> AsyncIterator[list[_Listed]]:
    """The pages of `GET /draft-entries` of the entries `flt` filters, cursor after cursor, each without the items
    the page before listed already, wherever it lists them (CursorTrail.page: WalkStalled for a cursor that loops or
    a page that goes back). `what`: the walk as messages name it. Pages of nothing new (empty, or only the ids the
    page before listed) are followed while their cursor is new; each time their run doubles from
    cursors.ASK_AFTER, one count more asks the API what is left (`entryNumber$gte:` the cursor, or past the last
    entry listed where that is further, where the cursor is a number; else all `flt` filters, against what the walk
    listed): nothing is a walk that would not end (CursorTrail.ahead). A page that brings nothing new under the
    cursor that led to it ends the walk where the API counts nothing from the entry after the last listed on
    (CursorTrail.past, CursorTrail.ended)."""
    trail = CursorTrail(what)
    params = {"filter": flt}
    while True:
        page = await _page(client, params)
        repeated = trail.page([item.entryNumber for item in page.items], page.cursor or "")
        if trail.repeating:  # the same page again under the same cursor: the end, if nothing lies past it
            trail.ended(await _counted(client, _from(flt, trail.past)))
            return
        if (asking := trail.asking) is not None:
            # a cursor that is no number tells nothing of how far it got: the agreement's entries bound the pages
            trail.ahead(await _counted(client, _from(flt, asking)), None if asking else await _counted(client, ""))
        yield [item for item in page.items if item.entryNumber not in repeated] if repeated else page.items
        if not page.cursor:
            return
        params = {"filter": flt, "cursor": page.cursor}


#: a line's `_BOOKED` fields
_booked = attrgetter(*_BOOKED)
#: a listed line's `_BOOKED` fields, as `_booked` reads them: the first of its values (`_Listed`)
_listed_booked = itemgetter(slice(len(_BOOKED)))
_rate = attrgetter("exchangeRate")
_date, _due = attrgetter("date"), attrgetter("dueDate")
_pack = msgspec.msgpack.Encoder().encode


def _line_check(units: int | Decimal, entry: DraftEntry | _Listed, rate: Decimal | None) -> int:
    """What a line books, as one number (62 bits): its amount in minor units (a Decimal for an amount listed that is
    no whole number of them, listed_units: packed as text, the check of no line sent), its date and due date (the
    date each names: one listed as dates.listed_day reads it, for the API writes dates as date-times, and may write
    midnight in its zone as UTC's "2026-10-31T23:00:00Z" for 1 November; one sent by its first 10 characters, as in
    checks version 6, as DraftEntries sends no date-time with an offset, so the checks of earlier ledgers stand),
    the exchange rate `rate` (None: none compared) and the fields of `_booked`, packed and hashed together. A line
    sent and the same line listed give one check (`listed_checks`); a corrected currency, VAT code, account,
    voucher, customer, text, date or rate sent gives another. A field not set is null or absent in what the API
    lists (seed 002: each is "or null"), as in what is sent (an empty cell is absent). Hashed, not summed: a sum let
    two changes cancel (a date 93 days later and a due date 3 days earlier gave the check before). A rate by its
    value: 745.50 sent is 745.5 listed (a JSON double)."""
    due = entry.dueDate
    if type(entry) is _Listed:
        day, due_day = listed_day(entry.date), listed_day(due) if due else None
    else:
        day, due_day = entry.date[:10], due[:10] if due else None
    packed = _pack((units, day, due_day, None if rate is None else rate.normalize(), _booked(entry)))
    return (crc32(packed) << 30) ^ adler32(packed)


def listed_line_checks(units: Sequence[int], items: Sequence[_Listed]) -> tuple[list[int], list[int | None] | None]:
    """`listed_checks` of a page the walk listed (`units`: each item's amount in minor units), as columns: each
    line's check without a rate, and with the rate it lists (None for a line that lists none; None for all where no
    line does). Made column by column in loops that run in C, and each line's booked fields read by their place
    (`_listed_booked`): a page's `_line_check`s and `rated_check`s cost 1.3-1.9 µs a line, the walk's largest
    cost after reading the answer; this ~25 % less."""
    days = list(map(listed_day, map(_date, items)))
    dues = [listed_day(due) if due else None for due in map(_due, items)]
    booked = list(map(_listed_booked, map(astuple, items)))
    bare = _hashed(zip(units, days, dues, repeat(None), booked))
    rates = list(map(_rate, items))
    if rates.count(None) == len(rates):
        return bare, None
    rated = list(map(is_not, rates, repeat(None)))
    with_rate = iter(
        _hashed(
            zip(
                compress(units, rated),
                compress(days, rated),
                compress(dues, rated),
                (_held(rate).normalize() for rate in compress(rates, rated)),
                compress(booked, rated),
            )
        )
    )
    return bare, [next(with_rate) if r else None for r in rated]


def _hashed(fields: Iterable[tuple[Any, ...]]) -> list[int]:
    """`_line_check` of lines given as what it packs (units, day, due day, normalized rate, `_booked`)."""
    packed = list(map(_pack, fields))
    return [(crc << 30) ^ adler for crc, adler in zip(map(crc32, packed), map(adler32, packed))]


def listed_units(item: _Listed) -> int | None:
    """A listed entry's amount in its currency's minor units (money.decimals: an ISO 4217 code in any case, as an
    API that keeps a code as sent lists one someone else wrote so): the API holds it as a double and may write it
    with 17 significant digits (seed 002: `number <double>`; 1234.57 listed as 1234.5699999999999 is 123457 øre).
    None where it is the double of no amount of the currency's decimals (money.answered_units): no line sent has
    it."""
    return answered_units(item.amount, decimals(item.currency), MAX_UNITS)


def listed_checks(units: int, item: _Listed) -> tuple[int, int | None]:
    """A listed line's checks: as a line sent without an exchange rate (e-conomic sets its own where none is sent,
    seed 002, 8.0.0, and what it lists cannot tell that from one sent), and as one sent with the rate it lists (None
    where it lists none). The line sent (`DraftEntries.line_check`) is one of them where the API holds it as sent."""
    return _line_check(units, item, None), rated_check(units, item)


def rated_check(units: int, item: _Listed) -> int | None:
    """A listed line's check as one sent with the exchange rate it lists; None where it lists none. The rate as the
    double the API holds it as (seed 002: `number <double>`): 745.53 sent may be listed as 745.52999999999997."""
    rate = item.exchangeRate
    return None if rate is None else _line_check(units, item, _held(rate))


def _held(rate: Decimal) -> Decimal:
    """A listed exchange rate as the double the API holds (`rated_check`); one not finite as it is."""
    return nearest_double(rate) if rate.is_finite() else rate


def _side(r: DraftEntry) -> int:
    """Where a line posts its amount: 1 to its account side (account, customer or supplier) alone, -1 to its contra
    account alone, 0 to both (it balances itself) or neither."""
    return (r.accountNumber is not None or r.customerNumber is not None or r.supplierNumber is not None) - (
        r.contraAccountNumber is not None
    )


#: how far from half way a line converted, in minor units, may be and still be a tie, relative to its size: the API
#: holds amount and rate as doubles (seed 002), whose product is good to about 2**-52 of itself
_DOUBLE_HAIR = Decimal(2) ** -48


def _balances_at_rates(records: Sequence[DraftEntry]) -> bool:
    """Whether a voucher of several currencies balances at the exchange rates its lines give. e-conomic takes a
    line's rate as the base currency's price of 100 of the line's currency (seed 002: "Exchange rate must be 100
    for base currency"): the line is amount × rate / 100 in the base currency. The lines without a rate must be of
    one currency, taken for the base, whose lines with a rate give 100 and no other currency's do: False where
    they are of several, of one whose line gives another rate (it is no base), or beside another currency at 100
    (that one may be the base). A line without a rate in a currency other than the base is at e-conomic's own rate
    (seed 002, 8.0.0: set by the entry's date and currency), which no line says: its worth cannot be told. Each
    line converted is rounded to the base's minor unit when booked, and the voucher balances where those sum to
    zero: never by a tolerance of half a minor unit a line (three lines of 248.491815, booked 248.49 each, do not
    balance 745.49). Which way a line exactly half way is rounded is not documented: either way may be booked."""
    bases = {r.currency for r in records if r.exchangeRate is None}
    if len(bases) > 1:
        return False
    if bases:
        (base,) = bases
        if any((r.currency == base) != (r.exchangeRate == HUNDRED) for r in records if r.exchangeRate is not None):
            return False
    places = decimals(next(iter(bases))) if bases else 2
    low = high = Decimal(0)  # the sum in the base's minor units, each line converted rounded down or up at a tie
    with localcontext() as exact:
        exact.prec = 2 * MAX_DIGITS + 10  # 18 digits of amount by a rate's digits, never rounded
        for r in records:
            side = _side(r)
            if not side:
                continue
            if r.exchangeRate is None:
                low += (side * r.amount).scaleb(places)
                high += (side * r.amount).scaleb(places)
                continue
            units = (side * r.amount * r.exchangeRate).scaleb(places - 2)
            down = units.to_integral_value(ROUND_FLOOR)
            twice = 2 * (units - down)  # 1 half way; a hair from it may be a tie in the double the API holds
            tie = abs(twice - 1) <= abs(units) * _DOUBLE_HAIR
            low += down + (twice > 1 and not tie)
            high += down + (twice > 1 or tie)
        return low <= 0 <= high


def _rates_differ(records: Sequence[DraftEntry]) -> set[str]:
    """The currencies of a voucher whose lines that post an amount (`_side`) give different exchange rates, or some a
    rate and some none (at e-conomic's own rate, seed 002, 8.0.0). A rate by its value: 745.50 is 745.5."""
    rates: dict[str, Decimal | None] = {}
    out: set[str] = set()
    for r in records:
        if _side(r) and rates.setdefault(r.currency, r.exchangeRate) != r.exchangeRate:
            out.add(r.currency)
    return out


def _posted(records: Sequence[DraftEntry], units: Sequence[int], currencies: Collection[str]) -> dict[str, int]:
    """What the lines of each of `currencies` post each way, in its minor units (those lines sum to zero)."""
    out = dict.fromkeys(currencies, 0)
    for r, u in zip(records, units):
        if r.currency in out and (n := _side(r) * u) > 0:
            out[r.currency] += n
    return out


#: the scope and currency of an entry, as summarize totals it
_scope = attrgetter("journalNumber", "currency")
#: the fields of the group key (journal:voucher)
_KEY_FIELDS = ("journalNumber", "voucherNumber")
#: why a voucher's line naming neither account, beside lines that do, is refused before the first call
_NO_ACCOUNT = (
    "no accountNumber and no contraAccountNumber, where the voucher's other lines have one: e-conomic refuses an "
    "entry with neither (JournalEntryAccountAndContraAccountNotSet, seed 002); it may be the export's total row: "
    "remove it if it is one, else give its account"
)


def _no_account(record: DraftEntry) -> str:
    """Why a voucher's line naming neither account (beside lines that do) is refused: a line naming a customer or a
    supplier is no total row, and is told what it lacks, not to be removed (its voucher would then load without it,
    out of balance by its amount)."""
    if record.customerNumber is not None:
        who, number = "customer", record.customerNumber
    elif record.supplierNumber is not None:
        who, number = "supplier", record.supplierNumber
    else:
        return _NO_ACCOUNT
    return (
        f"no accountNumber and no contraAccountNumber on the line of {who} {number}: e-conomic refuses an entry with "
        "neither (JournalEntryAccountAndContraAccountNotSet, seed 002), whatever else it names. It is no total row: "
        "do not remove it (the voucher would load without it, out of balance by its amount); give it the account it "
        f"posts to (the {who}'s collective account as accountNumber, or the account it is booked against as "
        "contraAccountNumber)"
    )


def _positive(value: Any) -> str | None:
    """A journal or voucher number as key_number reads it; None where it is none, or not positive. One written as
    a file usually writes it (digits, no sign, no leading zero, below 2**31 by its length) is taken as it is."""
    if type(value) is str and value.isdigit() and value[0] != "0" and len(value) < 10 and value.isascii():
        return value
    number = key_number(value)
    return None if number is None or number.startswith("-") or number == "0" else number


def _shown(value: Any) -> str:
    """A key's value as a reason quotes it: text as written (cut), a JSON number or true as JSON writes it."""
    if type(value) is str:
        return repr(value if len(value) <= 40 else value[:40] + "…")
    return "true" if value is True else "false" if value is False else str(value)


#: the fields that take a day: a line's date and its due date
_DATE_FIELDS = ("date", "dueDate")


#: the fields that name the invoice a line settles
_SETTLES = ("customerInvoiceNumber", "supplierInvoiceNumber")


class DraftEntries(RecordKind):
    """The lines of vouchers, sent as draft entries in bulk with an idempotency key."""

    fields = _FIELDS
    money_fields = frozenset({"amount"})
    number_fields = money_fields | {"exchangeRate"}  # a rate is read with the amounts' decimal mark
    amount_places = {"amount": Places(field="currency")}
    double_fields = number_fields  # seed 002: amount and exchangeRate are `number <double>`
    date_fields = frozenset(_DATE_FIELDS)
    # seed 002: a draft entry has one amount, its side by its sign (isCredit is gone since 11.0.0)
    signed_fields = frozenset({"amount"})
    signed_advice = (
        "e-conomic takes one signed amount a line, debits positive and credits negative, and bulkload reads no "
        "debit and credit columns: where the two are a debit and a credit, give the file one column of debit minus "
        "credit (in a spreadsheet ={first}2-{second}2 where the debit is column {first} and the credit {second}) "
        'mapped to amount, and map the two to "" '
        '(or remove them); else map one of them to another field, or to "" to drop it'
    )
    whole_fields = int_fields(DraftEntry)  # the journal and voucher too: read the file's way, as the group key is
    group_name = "voucher"
    group_fields = frozenset(_KEY_FIELDS)
    # the invoice a line settles, and where a supplier invoice is paid: a payment id (Plus71's 15 digits, which a
    # spreadsheet shows as 1,23457E+14: sent so, exit 0; tester t42a) and the bank account it goes to
    reference_fields = frozenset(_SETTLES) | {"supplierPaymentMessage", "supplierPaymentBank"}
    rows_grouped = True  # every entry is a voucher's line
    filled_down = ("voucherNumber",)
    filled_alike = ("journalNumber",)
    totals_fields = frozenset({"journalNumber", "text", "currency"})
    subtotal_fields = ("voucherNumber", "journalNumber", "entryTypeNumber")
    currency_field = "currency"
    #: what a line books, whatever its amount and text: its kind and date, and where it posts, in what currency
    line_names = (
        "entryTypeNumber",
        "date",
        "currency",
        "accountNumber",
        "contraAccountNumber",
        "customerNumber",
        "supplierNumber",
        *_SETTLES,
    )
    # seed 002's update (PUT /draft-entries/bulk) names an entry there by these; a load only creates entries
    not_taken = dict.fromkeys(
        ("entryNumber", "objectVersion"),
        "entryNumber and objectVersion name a draft entry already in e-conomic, to update it (seed 002's PUT), and "
        "bulkload does not update entries: a load creates them, and has no update mode (docs/economic.md). Correct "
        "those entries in e-conomic, or roll back the run that loaded them (bulkload rollback) and load the "
        "corrected file without these columns",
    )
    path = "/draft-entries/bulk"
    repeatable = True  # keyed: the API answers a key it has seen from its cache

    def __init__(self, journal: int | None = None) -> None:
        self.journal = journal
        self._last_key: tuple[Any, Any, GroupKey] = (None, None, "")
        if journal is None:
            self.validate = self._convert  # type: ignore[method-assign]  # per row: skip the journal check

    def required(self) -> list[tuple[str, ...]]:
        """Every field an entry must have; the journal only where no --journal gives rows without one theirs."""
        return [(name,) for name in _REQUIRED if name != "journalNumber" or self.journal is None]

    def validate(self, row: dict[str, Any]) -> DraftEntry:
        given = row.setdefault("journalNumber", self.journal)
        if key_number(given) != str(self.journal):
            raise RowInvalid("journalNumber", f"row names journal {given} but --journal {self.journal} was given")
        return self._convert(row)

    def _convert(self, row: dict[str, Any]) -> DraftEntry:
        # the journal and voucher are sent as the group key reads them ("0042" is voucher 42, and so is a JSON
        # 42.0, which the reader keeps as the Decimal written): a line is sent in the voucher it was grouped in;
        # one the key cannot read ("1.5e3", "7,101") is refused, and its voucher with it (Unreadable)
        for name in _KEY_FIELDS:
            value = row.get(name)
            if (
                type(value) is Decimal
                or type(value) is str
                and not (value.isdigit() and value[0] != "0" and value.isascii())
            ):
                number = key_number(value)
                if number is None:
                    raise RowInvalid(name, whole_reason(value))
                row[name] = number
        for name in _DATE_FIELDS:
            value = row.get(name)
            if type(value) is str and at_offset(value):
                raise RowInvalid(name, instant_reason(value, "e-conomic", "seed 002"))
        return converted(row, DraftEntry, self.read_fields)

    def group_key(self, row: Mapping[str, Any]) -> GroupKey:
        """ "journal:voucher" as read, so that the lines of a voucher whose other lines are bad still find it;
        Unreadable where the journal or voucher is no number of one, or the journal is neither in the row nor
        given (--journal): the line may be any neighbouring voucher's. Elsewhere where the journal is another than
        the one given: the line names its voucher in full, and is refused with it (and with the voucher of its
        number in the journal given, next to it: its journal may be a slip)."""
        voucher = row.get("voucherNumber")
        if voucher is None:
            return None
        journal = row.get("journalNumber", self.journal)
        last_voucher, last_journal, last_key = self._last_key
        # a voucher's lines follow each other; the types too, as JSON's true == 1 in Python but keys "True"
        if (
            voucher == last_voucher
            and journal == last_journal
            and type(voucher) is type(last_voucher)
            and type(journal) is type(last_journal)
        ):
            return last_key
        key = self._key(voucher, journal)
        self._last_key = (voucher, journal, key)
        return key

    def _key(self, voucher: Any, journal: Any) -> str | Unreadable | Elsewhere:
        number = _positive(voucher)
        if number is None:
            return Unreadable(f"voucher number {_shown(voucher)} is no positive whole number")
        if journal is None:
            return Unreadable("no journalNumber, and no --journal given")
        journal_number = _positive(journal)
        if journal_number is None:
            return Unreadable(f"journal number {_shown(journal)} is no positive whole number")
        journal, voucher = journal_number, number
        if self.journal is not None and journal != str(self.journal):
            return Elsewhere(f"{journal}:{voucher}", f"{self.journal}:{voucher}", f"not --journal {self.journal}")
        return f"{journal}:{voucher}"

    def destination(self) -> dict[str, str]:
        # --journal: rows that name no journal go to it, and rows that name another are rejected, so two loads with
        # different journals given never book into one journal; without it each row's own journal decides
        return {} if self.journal is None else {"journal": str(self.journal)}

    def group_label(self, key: str) -> str:
        journal, _, voucher = key.partition(":")
        return f"voucher {voucher} (journal {journal})" if journal else f"voucher {voucher}"

    def units(self, record: DraftEntry) -> int:
        # validated: the amount has no more decimals than its currency, and at most 18 digits, so the product is
        # exact (a multiplication costs less than scaleb)
        return int(record.amount * _factor(record.currency, HUNDRED))

    def line_check(self, record: DraftEntry, units: int) -> int:
        """`_line_check` with the exchange rate where the line is sent with one: it is kept as sent."""
        return _line_check(units, record, record.exchangeRate)

    def group_checks(self, records: Sequence[DraftEntry], units: Sequence[int], checks: list[int]) -> list[int]:
        """Its lines' checks without their exchange rates: a group's digest is compared with the one made from what
        the journal holds (Journals.groups_already_there), which cannot tell a rate sent from the API's own. The
        rate of a line that gives one is compared apart (model.Known.also): with the rates the journal lists, or
        those the earlier run sent."""
        rates = list(map(_rate, records))
        if rates.count(None) == len(rates):
            return checks
        return [c if r is None else _line_check(u, e, None) for c, r, u, e in zip(checks, rates, units, records)]

    def imbalance(self, records: Sequence[DraftEntry], units: Sequence[int]) -> dict[str, int]:
        """A line posts its amount to its account side (account, customer or supplier) and the opposite to its
        contra account; a voucher balances when what is left over sums to zero in each currency and the lines of
        each currency give one exchange rate, or none (what a currency posts is then worth one multiple of it in the
        base currency). Otherwise it balances where it does at the rates its lines give (`_balances_at_rates`). Out
        of balance: what is left over in each currency that has some, and for each that has none but whose lines
        give different rates (or some a rate and some none), what its lines post each way, as its worth in the base
        currency may not balance (EUR 100.00 at 745 against EUR -100.00 at 746 is 745.00 against -746.00)."""
        first = records[0].currency if records else ""
        rate = records[0].exchangeRate if records else None
        one_rate = True  # whether every line gives the first line's rate (or none, as it does): mostly so
        left = 0  # what is left over in the first line's currency (a voucher's lines mostly share one)
        others: dict[str, int] = {}  # and in each other currency
        for r, u in zip(records, units):
            side = _side(r)
            if side:
                if r.currency == first:
                    left += side * u
                else:
                    others[r.currency] = others.get(r.currency, 0) + side * u
            if r.exchangeRate is not rate and r.exchangeRate != rate:
                one_rate = False
        rated = () if one_rate else _rates_differ(records)
        if not (left or others or rated) or ((others or rated) and _balances_at_rates(records)):
            return {}
        out = {first: abs(left)} if left else {}
        out.update((currency, abs(n)) for currency, n in others.items() if n)
        if even := [c for c in rated if c not in out]:
            out.update(_posted(records, units, even))
        return out

    def group_fault(self, records: Sequence[DraftEntry]) -> tuple[int, str, str] | None:
        """A voucher of which a line names neither accountNumber nor contraAccountNumber while another names one
        (an export's total row: the API refuses it): (its index, "accountNumber", the reason). A voucher whose
        exchange rates are written per 1 of their currency, as banks and most systems quote them,
        where e-conomic takes the price of 100 (seed 002): it does not balance at the rates given and does at each a
        hundred times (EUR 100.00 at 7.4553 against DKK -745.53). Booked as written, its lines in another currency
        would be worth a hundredth of what the file means (7.46 DKK for EUR 100.00), so it is refused, not guessed:
        (the index of its first line with a rate, "exchangeRate", the reason); None for any other voucher."""
        unposted = [i for i, r in enumerate(records) if r.accountNumber is None and r.contraAccountNumber is None]
        if unposted and len(unposted) < len(records):
            # an export's sum row among lines that post: the API refuses it whatever its type (seed 002,
            # JournalEntryAccountAndContraAccountNotSet), and sent, its refusal's index may name the line beside it
            return unposted[0], "accountNumber", _no_account(records[unposted[0]])
        rated = [i for i, r in enumerate(records) if r.exchangeRate is not None]
        if not rated or not self.imbalance(records, list(map(self.units, records))):
            return None
        scaled = [r if r.exchangeRate is None else replace(r, exchangeRate=r.exchangeRate * HUNDRED) for r in records]
        if not _balances_at_rates(scaled):
            return None
        currencies = ", ".join(sorted({records[i].currency for i in rated}))
        return (
            rated[0],
            "exchangeRate",
            "the voucher does not balance at its exchange rates, and does at each of them times 100: they are written "
            f"as the price of 1 {currencies}, where e-conomic takes a rate as the base currency's price of 100 of the "
            "line's currency (seed 002), and would book these lines at a hundredth of their worth; write each rate "
            "times 100",
        )

    def sort_account(self, record: DraftEntry) -> tuple[int | None, int | None, int | None]:
        """The account side a line posts to (account, customer, supplier), as imbalance reads it."""
        return record.accountNumber, record.customerNumber, record.supplierNumber

    def encode(self, records: Sequence[Any]) -> bytes:
        return _encoder.encode(records)

    def decode(self, body: bytes) -> list[DraftEntry]:
        return _decode_entries(body)

    def created_ids(self, body: bytes, chunk: Chunk) -> list[int]:
        """One entry number an entry, in request order, from an array of `{"entryNumber": N}`; or from the one
        object seed 002's sample answers a bulk create with (`{"entryNumber": 0}`), which numbers one entry: a call
        of one entry is given it, one of more is stored without saying which number each entry got (IdsUntold: its
        entries are looked for line for line). ValueError for an array of another length, BadAnswer (acted on) for
        anything else."""
        n = len(chunk)
        created: list[_Created] | _Created = decoded(
            body, list[_Created] | _Created, f"POST {self.path}", acted_on=True
        )
        if isinstance(created, _Created):
            if n == 1:
                return [created.entryNumber]
            raise IdsUntold(
                f"the API answered one entry number ({created.entryNumber}, an object as seed 002's sample) for {n} "
                "entries: which entry is which line it does not say"
            )
        ids = [item.entryNumber for item in created]
        if len(ids) != n:
            raise ValueError(f"the API answered {len(ids)} entry numbers for {n} entries")
        return ids

    def bad_items(self, error: APIError, rows: Sequence[Any]) -> dict[int, tuple[str, str]] | Untold | None:
        """The entries a 400's `errors` name by `index`, where the answer tells how it counts them (seed 002 gives
        `errors` as `[ ]`: reasons.errors_counted); Untold where it does not (read as an earlier answer of the run
        showed, else the vouchers it names either way are rejected, or the call is split until the refused voucher is
        alone: a refusal stores nothing)."""
        return errors_counted(error, rows, field_key="property", code_key="errorCode", unsaid=_ERRORS_UNSAID)

    def summarize(self, records: Sequence[DraftEntry]) -> dict[str, Totals]:
        by: dict[tuple[int, str], list[int]] = {}  # (journal, currency) -> the units of its entries
        for scope, units in zip(map(_scope, records), map(self.units, records)):
            if (same := by.get(scope)) is None:
                by[scope] = [units]
            else:
                same.append(units)
        out: dict[str, Totals] = {}
        for (journal, currency), amounts in by.items():
            total = sum(amounts)
            out.setdefault(str(journal), {})[currency] = [len(amounts), total, (sum(map(abs, amounts)) + total) // 2]
        return out

    async def find_sent(
        self, client: Sender, chunk: Chunk, baselines: Mapping[str, Mapping[str, int]], taken: Collection[int]
    ) -> list[int] | Partly | None:
        """A call whose key the API no longer keeps (seed 002's changelog: an answer is cached for one hour), or for
        which it replays a failure: look for its vouchers among the entries created in their journals since the
        run's baseline, line for line (`_line_check`), by `voucherNumber$in:` lists of at most 200 (IN_LIST). Every
        line found once: the ids. Some found once and the others not: model.Partly, None for a line not found, which
        proves no absence here (not carried out, or booked or deleted since: the look for that line alone cannot
        tell either, so it is sent again only on the user's word), while a line found is stored. Anything else —
        nothing found, a line more (someone else's) — cannot be told: None. An entry the ledger holds for another
        line of the run (`taken`) is not this call's."""
        filters: dict[int, list[str]] = {}
        for journal, vouchers in _vouchers(chunk.entries(self)).items():
            base = baselines.get(str(journal))
            if base is None:
                return None  # no baseline: what the run created cannot be told from what was there
            ordered = sorted(vouchers)
            filters[journal] = [
                f"journalNumber$eq:{journal}$and:entryNumber$gt:{int(base['max_id'])}"
                f"$and:voucherNumber$in:[{','.join(map(str, ordered[start : start + IN_LIST]))}]"
                for start in range(0, len(ordered), IN_LIST)
            ]
        ids = await self._matched(client, chunk, filters, taken)
        if ids is None or all(n is None for n in ids):
            return None
        return Partly(tuple(ids)) if None in ids else [n for n in ids if n is not None]

    async def find_stored(
        self, client: Sender, chunk: Chunk, since: Mapping[str, int], taken: Collection[int]
    ) -> Partly | None:
        """A call the API refused (seed 002 never says a refused bulk call stores nothing: a server that writes as
        it checks keeps the entries before the first bad one): its lines among the entries created in its journals
        since it left, line for line (`_line_check`). `since`: journal → the newest entry number the run knew when
        the call left (entry numbers only grow). Cost: one `GET /draft-entries` a journal, of the entries numbered
        above that whose voucher numbers lie between the call's lowest and highest (a page of up to 1,000 entries;
        more pages only where more were created meanwhile); entries of vouchers the call did not carry are passed
        over. Per line the entry found, or None (certainly not stored); None where a look cannot tell (a journal
        without `since`, a line more than the call sent, an amount no line has). `taken` as `find_sent`'s."""
        filters: dict[int, list[str]] = {}
        for journal, vouchers in _vouchers(chunk.entries(self)).items():
            after = since.get(str(journal))
            if after is None:
                return None
            filters[journal] = [
                f"journalNumber$eq:{journal}$and:entryNumber$gt:{int(after)}"
                f"$and:voucherNumber$gte:{min(vouchers)}$and:voucherNumber$lte:{max(vouchers)}"
            ]
        ids = await self._matched(client, chunk, filters, taken)
        return None if ids is None else Partly(tuple(ids))

    async def _matched(
        self, client: Sender, chunk: Chunk, filters: Mapping[int, list[str]], taken: Collection[int]
    ) -> list[int | None] | None:
        """Per line of the call, the entry the listings of `filters` (journal → filters of `GET /draft-entries`)
        hold for it, matched by voucher and `_line_check` (with the rate it lists, else without one), or None; None
        for all where a listed entry of one of the call's vouchers is no line the call sent (or one more than it
        sent), or has an amount no line sent has. Entries of `taken`, and of vouchers the call did not carry, are
        passed over."""
        want: dict[tuple[str, int], list[int]] = {}  # (voucher key, line check) -> indexes in the call
        for i, record in enumerate(chunk.entries(self)):
            key = f"{record.journalNumber}:{record.voucherNumber}"
            want.setdefault((key, self.line_check(record, self.units(record))), []).append(i)
        carried = {key for key, _ in want}
        ids: list[int | None] = [None] * len(chunk)
        for journal, listings in filters.items():
            for flt in listings:
                async for items in _pages(client, flt, f"the look for a call's entries in journal {journal}"):
                    for item in items:
                        key = f"{journal}:{item.voucherNumber}"
                        if item.entryNumber in taken or key not in carried:
                            continue
                        units = listed_units(item)
                        if units is None:
                            return None  # an amount no line sent has
                        bare, rated = listed_checks(units, item)
                        # sent with the rate it lists, else without one (the API's own)
                        slots = (rated is not None and want.get((key, rated))) or want.get((key, bare))
                        if not slots:
                            return None  # a line the call did not send, or sent fewer times
                        ids[slots.pop()] = item.entryNumber
        return ids


def _vouchers(records: Iterable[DraftEntry]) -> dict[int, set[int]]:
    """The voucher numbers of `records`, by journal."""
    journals: dict[int, set[int]] = {}
    for record in records:
        journals.setdefault(record.journalNumber, set()).add(record.voucherNumber)
    return journals
