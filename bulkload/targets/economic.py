"""Visma e-conomic Journals API v11.0.2: draft entries in bulk, keyed, reconciled by count and cursor walk.

Amounts are exact decimals from the file to the API: read as `Decimal`, sent as JSON numbers with exactly the
digits read (the API takes at most 18 digits: seed 002, `JournalEntryAmountExceedsDigitLimit`), and refused when
they have more decimals than the currency's minor unit (they could not be booked as written). A voucher
(journal, voucherNumber) is a group: its lines travel in one call and load whole or not at all.
"""

from __future__ import annotations

import argparse
import operator
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Annotated, Any, Literal
from zlib import crc32

import msgspec

from ..cursors import CursorTrail
from ..errors import APIError, ConfigError, Conflict, RowInvalid
from ..http import decoded
from ..model import Chunk, Known, Listed, Totals, group_digest
from ..money import DECIMALS, FACTORS, HUNDRED, minor_units
from .base import Api, Credentials, RecordKind, Target
from .protocols import Sender
from .reasons import errors_by_index, row_invalid

Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
Positive32 = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


#: the most digits an amount may have (seed 002: "The amount cannot be more than 18 digits")
MAX_DIGITS = 18
#: voucher numbers per `$in:` list (the API takes at most 200 values)
IN_LIST = 200
#: the longest answer of a count, or of a page of one entry (the baseline)
COUNT_BYTES = 64 * 1024
#: a currency's decimals; e-conomic's codes are ISO 4217, upper case (money.decimals() also takes lower case)
_decimals = DECIMALS.get


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
        # msgspec reads "nan" and "inf" as Decimals (the engine's reader never gives one; a caller might)
        if not amount.is_finite() or rate is not None and not rate.is_finite():
            raise ValueError(f"not a number: {amount if not amount.is_finite() else rate} - at "
                             f"`$.{'amount' if not amount.is_finite() else 'exchangeRate'}`")
        _, digits, exponent = amount.as_tuple()
        if len(digits) > MAX_DIGITS:
            raise ValueError(f"{amount} has {len(digits)} digits; e-conomic takes at most {MAX_DIGITS} - at `$.amount`")
        # the common case, a currency of 2 decimals and at most 2 written, needs no more
        if not isinstance(exponent, int) or exponent < -2 or self.currency in DECIMALS:
            try:
                minor_units(amount, self.currency)
            except ValueError as exc:  # more decimals than the currency has: it cannot be booked as written
                raise ValueError(f"{exc} - at `$.amount`") from None


_FIELDS = frozenset(DraftEntry.__struct_fields__)
#: Decimals go out as JSON numbers with the digits as read
_encoder = msgspec.json.Encoder(decimal_format="number")
_decode_entries = msgspec.json.Decoder(list[DraftEntry]).decode


class _Listed(msgspec.Struct):
    """The fields of a listed entry that reconciliation compares; the rest is skipped by the decoder."""

    entryNumber: int
    voucherNumber: int = 0
    currency: str = ""
    amount: Decimal = Decimal(0)
    accountNumber: int | None = None
    contraAccountNumber: int | None = None
    date: str = ""
    text: str | None = None


class _Page(msgspec.Struct):
    items: list[_Listed] = []
    cursor: str | None = None


class _Created(msgspec.Struct):
    entryNumber: int


class _Paged(msgspec.Struct):
    """`GET /draft-entries/paged` as an object (the sandbox answers the bare list)."""

    items: list[_Created] = []


#: what the count endpoint answers: a number of entries
_Count = Annotated[int, msgspec.Meta(ge=0)]
_entry_number, _voucher, _currency, _amount, _account, _contra, _date, _text = (
    operator.attrgetter(f)
    for f in ("entryNumber", "voucherNumber", "currency", "amount", "accountNumber", "contraAccountNumber", "date",
              "text")
)
#: a page of the cursor walk: 1000 entries (the API's page size) at up to 4 KB each
PAGE_BYTES = 4 * 1024 * 1024


async def _page(client: Sender, params: Mapping[str, str]) -> _Page:
    """One page of `GET /draft-entries`: BadAnswer (naming the call and what was wrong) for anything else."""
    page: _Page = decoded((await client.send("GET", "/draft-entries", params=params, max_bytes=PAGE_BYTES)).body,
                          _Page, "GET /draft-entries")
    return page


def _line_check(units: int, account: int | None, contra: int | None, day: str, text: str | None) -> int:
    """What a line books, as one number: its amount in minor units, its account and contra account, its date
    (the API writes dates as date-times: the date part counts) and its text."""
    return (units * 1_000_003 + (account or 0) * 7_919 + (contra or 0) * 104_729
            + int(day[:10].replace("-", "") or 0) + (crc32(text.encode()) if text else 0) * 15_485_863) % (1 << 62)


#: the fields of the group key (journal:voucher)
_KEY_FIELDS = ("journalNumber", "voucherNumber")


def _plain(value: Any) -> str:
    """A key part as read, a number written any way standing for that number ("0050", "+50", "50.0", 5e1 and
    50.0 are all 50), so that lines the API would take for one voucher are grouped as one, and a line whose
    number is written oddly (and refused) takes its voucher with it. Only ASCII is a number: Decimal also reads
    other scripts' digits ("٤٢") and Python's "4_2", which no export writes for a number and the amounts refuse;
    reading them as 42 would be a guess, so they stay text (and are refused)."""
    if type(value) is int:
        return str(value)
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return str(int(text))
    if not text.isascii() or "_" in text:
        return text
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    # a voucher or journal number is an int32: anything larger is no number of one, whatever it reads as
    if number.is_finite() and number == number.to_integral_value() and abs(number) < 2**31:
        return str(int(number))
    return text


class DraftEntries(RecordKind):
    """The lines of vouchers, sent as draft entries in bulk with an idempotency key."""

    fields = _FIELDS
    number_fields = frozenset({"amount", "exchangeRate"})
    date_fields = frozenset({"date", "dueDate"})
    group_name = "voucher"
    group_fields = frozenset(_KEY_FIELDS)
    rows_grouped = True  # every entry is a voucher's line
    path = "/draft-entries/bulk"
    repeatable = True  # keyed: the API answers a key it has seen from its cache

    def __init__(self, journal: int | None = None) -> None:
        self.journal = journal
        self._last_key: tuple[Any, Any, str] = (None, None, "")
        if journal is None:
            self.validate = self._convert  # type: ignore[method-assign]  # per row: skip the journal check

    def validate(self, row: dict[str, Any]) -> DraftEntry:
        given = row.setdefault("journalNumber", self.journal)
        if _plain(given) != str(self.journal):
            raise RowInvalid("journalNumber", f"row names journal {given} but --journal {self.journal} was given")
        return self._convert(row)

    @staticmethod
    def _convert(row: dict[str, Any]) -> DraftEntry:
        # the journal and voucher are sent as the group key reads them ("0042" is voucher 42, and so is a JSON
        # 42.0, which the reader keeps as the Decimal written): a line is sent in the voucher it was grouped in
        for name in _KEY_FIELDS:
            value = row.get(name)
            if type(value) is Decimal or type(value) is str and not (
                    value.isdigit() and value[0] != "0" and value.isascii()):
                row[name] = _plain(value)
        try:
            return msgspec.convert(row, DraftEntry, strict=False)
        except msgspec.ValidationError as exc:
            raise row_invalid(exc, row, DraftEntry) from None


    def group_key(self, row: Mapping[str, Any]) -> str | None:
        """"journal:voucher" as read, so that the lines of a voucher whose other lines are bad still find it."""
        voucher = row.get("voucherNumber")
        if voucher is None:
            return None
        journal = row.get("journalNumber", self.journal)
        last_voucher, last_journal, last_key = self._last_key
        if voucher == last_voucher and journal == last_journal:  # a voucher's lines follow each other
            return last_key
        key = self._key(voucher, journal)
        self._last_key = (voucher, journal, key)
        return key

    @staticmethod
    def _key(voucher: Any, journal: Any) -> str:
        # runs twice a row: a number as the file usually writes it (no sign, no leading zero) is taken as it is
        if not (type(voucher) is str and voucher.isdigit() and voucher[0] != "0" and voucher.isascii()):
            voucher = _plain(voucher)
        if journal is None:
            journal = ""
        elif not (type(journal) is str and journal.isdigit() and journal[0] != "0" and journal.isascii()):
            journal = _plain(journal)
        return f"{journal}:{voucher}"

    def group_label(self, key: str) -> str:
        journal, _, voucher = key.partition(":")
        return f"voucher {voucher} (journal {journal})" if journal else f"voucher {voucher}"

    def units(self, record: DraftEntry) -> int:
        # validated: the amount has no more decimals than its currency
        return int(record.amount.scaleb(_decimals(record.currency, 2)))

    def line_check(self, record: DraftEntry, units: int) -> int:
        return _line_check(units, record.accountNumber, record.contraAccountNumber, record.date, record.text)

    def imbalance(self, records: Sequence[DraftEntry], units: Sequence[int]) -> int:
        """A line posts its amount to its account side (account, customer or supplier) and the opposite to its
        contra account; a voucher balances when what is left over sums to zero in each currency."""
        net: dict[str, int] = {}
        for r, u in zip(records, units):
            side = (r.accountNumber is not None or r.customerNumber is not None or r.supplierNumber is not None) - (
                r.contraAccountNumber is not None
            )
            if side:
                net[r.currency] = net.get(r.currency, 0) + side * u
        return sum(map(abs, net.values()))

    def encode(self, records: Sequence[Any]) -> bytes:
        return _encoder.encode(records)

    def decode(self, body: bytes) -> list[DraftEntry]:
        return _decode_entries(body)

    def created_ids(self, body: bytes, n: int) -> list[int]:
        created: list[_Created] = decoded(body, list[_Created], f"POST {self.path}", acted_on=True)
        ids = [item.entryNumber for item in created]
        if len(ids) != n:
            raise ValueError(f"the API answered {len(ids)} entry numbers for {n} entries")
        return ids

    def bad_items(self, error: APIError, n: int) -> dict[int, tuple[str, str]] | None:
        return errors_by_index(error, n, field_key="property", code_key="errorCode")

    def summarize(self, records: Sequence[DraftEntry]) -> dict[str, Totals]:
        out: dict[str, Totals] = {}
        units_of = self.units
        for r in records:
            per = out.setdefault(str(r.journalNumber), {}).setdefault(r.currency, [0, 0, 0])
            units = units_of(r)
            per[0] += 1
            per[1] += units
            if units > 0:
                per[2] += units
        return out

    async def find_sent(
        self, client: Sender, chunk: Chunk, baselines: Mapping[str, Mapping[str, int]]
    ) -> list[int] | None:
        """A call whose key the API no longer keeps (seed 002's changelog: an answer is cached for one hour):
        look for its vouchers among the entries created in their journals since the run's baseline, line for
        line (amount, accounts, date). Every line found once: the ids. Anything else — nothing found (not carried
        out, or booked or deleted since), a line missing, a line more (someone else's) — cannot be told: None."""
        want: dict[tuple[str, int], list[int]] = {}  # (voucher key, line check) -> indexes in the call
        for i, record in enumerate(chunk.entries(self)):
            key = f"{record.journalNumber}:{record.voucherNumber}"
            want.setdefault((key, self.line_check(record, self.units(record))), []).append(i)
        journals: dict[int, set[int]] = {}
        for record in chunk.entries(self):
            journals.setdefault(record.journalNumber, set()).add(record.voucherNumber)
        ids: list[int | None] = [None] * len(chunk)
        for journal, vouchers in journals.items():
            base = baselines.get(str(journal))
            if base is None:
                return None  # no baseline: what the run created cannot be told from what was there
            ordered = sorted(vouchers)
            for start in range(0, len(ordered), IN_LIST):
                flt = (f"journalNumber$eq:{journal}$and:entryNumber$gt:{int(base['max_id'])}"
                       f"$and:voucherNumber$in:[{','.join(map(str, ordered[start:start + IN_LIST]))}]")
                params = {"filter": flt}
                trail = CursorTrail(f"the look for a call's entries in journal {journal}")
                while True:
                    page = await _page(client, params)
                    for item in page.items:
                        units = int(item.amount.scaleb(_decimals(item.currency, 2)))
                        check = _line_check(units, item.accountNumber, item.contraAccountNumber, item.date, item.text)
                        slots = want.get((f"{journal}:{item.voucherNumber}", check))
                        if not slots:
                            return None  # a line the call did not send, or sent fewer times
                        ids[slots.pop()] = item.entryNumber
                    if not page.cursor:
                        break
                    params = {"filter": flt, "cursor": trail.follow(page.cursor, [i.entryNumber for i in page.items])}
        found = [i for i in ids if i is not None]
        return found if len(found) == len(ids) else None


class Economic(Target):
    name = "economic"
    api = Api(
        idempotent=True,
        key_ttl_s=3600.0,  # e-conomic caches a key's answer for one hour
        max_items=500,
        # a bulk answer: 500 entries at up to 4 KB each (a walk's page has its own cap, PAGE_BYTES)
        answer_bytes=2 * 1024 * 1024,
        default_base_url="https://apis.e-conomic.com/journalsapi/v11.0.2",
        scope_name="journal",
        id_name="entryNumber",
        # rollback: draft entries are deleted one by one, by the numbers the API gave; booking a journal takes its
        # drafts out of the draft list: a draft of ours that is gone may be in the books
        can_delete=True,
        gone_means="possibly booked (booking takes drafts out of the journal): reverse it in the books",
    )
    credentials = Credentials(
        ("ECONOMIC_APP_SECRET_TOKEN", "ECONOMIC_AGREEMENT_GRANT_TOKEN"),
        agreement=("ECONOMIC_AGREEMENT_GRANT_TOKEN",),  # fair use is the agreement's, whichever app calls
    )
    option_names = ("journal",)

    def __init__(self, journal: int | None = None) -> None:
        self.journal = journal
        self.entries = DraftEntries(journal)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--journal",
            type=int,
            help="journal number for rows that do not name one; a row naming another journal is rejected",
        )

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Economic:
        journal = options.get("journal")
        if journal is not None and journal < 1:
            raise ConfigError("--journal must be a positive journal number")
        return cls(journal=journal)

    def options(self) -> dict[str, Any]:
        return {"journal": self.journal}

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {
            "X-AppSecretToken": credentials["ECONOMIC_APP_SECRET_TOKEN"],
            "X-AgreementGrantToken": credentials["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
            "Accept": "application/json",
        }

    def kind_of(self, file_idx: int) -> DraftEntries:
        return self.entries

    def retryable(self, error: APIError) -> bool:
        # a retry that overtakes its own first attempt: the key is still being processed
        if isinstance(error, Conflict):
            return error.error_code == "IdempotencyKeyInUse"
        return error.retryable

    # --- before the first call: the vouchers of the input that the journal already holds -----------------
    async def groups_already_there(
        self, client: Sender, keys: Callable[[], Iterator[str]]
    ) -> AsyncIterator[Known]:
        """Per journal, one count of the entries whose voucher number lies in the input's range; only when there
        are any, the input's vouchers are asked for by `voucherNumber$in:` lists of at most 200."""
        ranges: dict[str, list[int]] = {}
        for key in keys():
            journal, _, voucher = key.partition(":")
            if journal.isdigit() and voucher.isdigit():
                span = ranges.setdefault(journal, [int(voucher), int(voucher)])
                span[0], span[1] = min(span[0], int(voucher)), max(span[1], int(voucher))
        for journal, (lo, hi) in ranges.items():
            flt = f"journalNumber$eq:{journal}$and:voucherNumber$gte:{lo}$and:voucherNumber$lte:{hi}"
            if not await client.get("/draft-entries/count", {"filter": flt}, into=_Count, max_bytes=COUNT_BYTES):
                continue
            batch: list[str] = []
            for key in keys():
                j, _, voucher = key.partition(":")
                if j == journal and voucher.isdigit():
                    batch.append(voucher)
                    if len(batch) == IN_LIST:
                        async for found in self._present(client, journal, batch):
                            yield found
                        batch = []
            if batch:
                async for found in self._present(client, journal, batch):
                    yield found

    async def _present(self, client: Sender, journal: str, vouchers: list[str]) -> AsyncIterator[Known]:
        flt = f"journalNumber$eq:{journal}$and:voucherNumber$in:[{','.join(vouchers)}]"
        params = {"filter": flt}
        # voucher -> (entry numbers, amounts in minor units, line checks)
        found: dict[int, tuple[list[int], list[int], list[int]]] = {}
        trail = CursorTrail(f"the look for vouchers already in journal {journal}")
        while True:
            page = await _page(client, params)
            for item in page.items:
                numbers, units, checks = found.setdefault(item.voucherNumber, ([], [], []))
                numbers.append(item.entryNumber)
                units.append(unit := int(item.amount.scaleb(_decimals(item.currency, 2))))
                checks.append(_line_check(unit, item.accountNumber, item.contraAccountNumber, item.date, item.text))
            if not page.cursor:
                break
            params = {"filter": flt, "cursor": trail.follow(page.cursor, [i.entryNumber for i in page.items])}
        for voucher, (numbers, units, checks) in sorted(found.items()):
            there = f"voucher {voucher} (journal {journal}) is already in the journal (draft entries " \
                    f"{', '.join(map(str, numbers[:5]))}{', …' if len(numbers) > 5 else ''})"
            total = sum(units)
            yield Known(f"{journal}:{voucher}", "skipped", f"{there}: not created again", len(units), total,
                        (sum(map(abs, units)) + total) // 2,
                        f"{there} with other lines than this file has (amounts, accounts, dates or texts): not "
                        "created again; correct it in e-conomic (or delete those drafts), then load the file again",
                        group_digest(checks))

    # --- rollback: draft entries are deleted one by one, by the numbers the API gave ---------------------
    def delete_path(self, scope: str, record_id: int) -> str:
        return f"/draft-entries/{record_id}"

    # --- reconciliation: count endpoint, newest entry number, cursor walk ---------------------------
    async def count(self, client: Sender, scope: str) -> int:
        count: int = await client.get("/draft-entries/count", {"filter": f"journalNumber$eq:{int(scope)}"},
                                      into=_Count, max_bytes=COUNT_BYTES)
        return count

    async def baseline(self, client: Sender, scope: str) -> dict[str, int]:
        # entry numbers only grow: everything above today's newest one is created from now on
        page: list[_Created] | _Paged = await client.get(
            "/draft-entries/paged",
            {"filter": f"journalNumber$eq:{int(scope)}", "sort": "-entryNumber", "pageSize": "1"},
            into=list[_Created] | _Paged, max_bytes=COUNT_BYTES,
        )
        items = page.items if isinstance(page, _Paged) else page
        newest = items[0].entryNumber if items else 0
        return {"count": await self.count(client, scope), "max_id": newest}

    async def walk(
        self, client: Sender, scope: str, after: int, upto: int | None
    ) -> AsyncIterator[Listed]:
        flt = f"journalNumber$eq:{int(scope)}$and:entryNumber$gt:{int(after)}"
        if upto is not None:
            flt += f"$and:entryNumber$lte:{int(upto)}"
        params = {"filter": flt}
        prefix = f"{int(scope)}:"
        trail = CursorTrail(f"the walk of journal {int(scope)} after entry {int(after)}")
        while True:
            page = await _page(client, params)
            items = page.items
            ids = list(map(_entry_number, items))
            currencies = list(map(_currency, items))
            exact = list(map(operator.mul, map(_amount, items), map(FACTORS.get, currencies, repeat(HUNDRED))))
            units = list(map(int, exact))
            yield Listed(
                ids,
                currencies,
                units,
                list(map(prefix.__add__, map(str, map(_voucher, items)))),
                sum(map(operator.ne, exact, units)),
                list(map(_line_check, units, map(_account, items), map(_contra, items), map(_date, items),
                         map(_text, items))),
            )
            if not page.cursor:
                return
            params = {"filter": flt, "cursor": trail.follow(page.cursor, ids)}
