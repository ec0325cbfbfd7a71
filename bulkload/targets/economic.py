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
from decimal import Decimal
from itertools import repeat
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import msgspec

from ..errors import APIError, ConfigError, Conflict
from ..money import FACTORS, HUNDRED, minor_units, significant_digits
from .base import Listed, RowInvalid, Target, Totals, errors_by_index, row_invalid

if TYPE_CHECKING:
    from ..dispatch import Dispatcher

Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
Positive32 = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


#: the most digits an amount may have (seed 002: "The amount cannot be more than 18 digits")
MAX_DIGITS = 18
#: voucher numbers per `$in:` list (the API takes at most 200 values)
IN_LIST = 200


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
        for name in ("amount", "exchangeRate"):
            value = getattr(self, name)
            if value is not None and not value.is_finite():  # msgspec reads "nan" and "inf" as Decimals
                raise ValueError(f"not a number: {value} - at `$.{name}`")
        if significant_digits(self.amount) > MAX_DIGITS:
            raise ValueError(f"{self.amount} has {significant_digits(self.amount)} digits; e-conomic takes at most "
                             f"{MAX_DIGITS} - at `$.amount`")
        try:
            minor_units(self.amount, self.currency)
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


class _Page(msgspec.Struct):
    items: list[_Listed] = []
    cursor: str | None = None


class _Created(msgspec.Struct):
    entryNumber: int


_decode_page = msgspec.json.Decoder(_Page).decode
_entry_number, _voucher, _currency, _amount = (
    operator.attrgetter(f) for f in ("entryNumber", "voucherNumber", "currency", "amount")
)
_decode_created = msgspec.json.Decoder(list[_Created]).decode


#: the fields of the group key (journal:voucher)
_KEY_FIELDS = ("journalNumber", "voucherNumber")


def _plain(value: Any) -> str:
    """A key part as read: an integer without sign or leading zeros stands for its number ("0050" is 50)."""
    text = str(value).strip()
    return str(int(text)) if text.isascii() and text.isdigit() else text


class Economic(Target):
    name = "economic"
    idempotent = True
    key_ttl_s = 3600.0  # e-conomic caches a key's answer for one hour
    max_items = 500
    default_base_url = "https://apis.e-conomic.com/journalsapi/v11.0.2"
    credential_env = ("ECONOMIC_APP_SECRET_TOKEN", "ECONOMIC_AGREEMENT_GRANT_TOKEN")
    fields: ClassVar[frozenset[str]] = _FIELDS
    number_fields = frozenset({"amount", "exchangeRate"})
    date_fields = frozenset({"date", "dueDate"})
    group_name = "voucher"
    scope_name = "journal"
    id_name = "entryNumber"
    path = "/draft-entries/bulk"
    option_names = ("journal",)

    def __init__(self, journal: int | None = None) -> None:
        self.journal = journal
        if journal is None:
            self.validate = self._convert  # type: ignore[method-assign]  # per row: skip the journal check

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

    def validate(self, row: dict[str, Any]) -> DraftEntry:
        given = row.setdefault("journalNumber", self.journal)
        if _plain(given) != str(self.journal):
            raise RowInvalid("journalNumber", f"row names journal {given} but --journal {self.journal} was given")
        return self._convert(row)

    @staticmethod
    def _convert(row: dict[str, Any]) -> DraftEntry:
        # journal and voucher are read the way group_key reads them, so a line is sent in the voucher it was
        # grouped in: msgspec alone takes "42.0" and "1e2" as 42 and 100 but refuses "0042"
        for name in _KEY_FIELDS:
            value = row.get(name)
            if type(value) is str:
                if not (value.isascii() and value.isdigit()):
                    raise RowInvalid(name, f"Expected `int` written with the digits 0-9, got {value!r}")
                row[name] = int(value)
            elif type(value) is float:  # a JSON number with a fraction (42.0)
                raise RowInvalid(name, f"Expected `int`, got {value!r}")
        try:
            return msgspec.convert(row, DraftEntry, strict=False)
        except msgspec.ValidationError as exc:
            raise row_invalid(exc) from None

    def group_key(self, row: Mapping[str, Any]) -> str | None:
        """"journal:voucher" as read, so that the lines of a voucher whose other lines are bad still find it."""
        voucher = row.get("voucherNumber")
        if voucher is None:
            return None
        journal = row.get("journalNumber", self.journal)
        return f"{'' if journal is None else _plain(journal)}:{_plain(voucher)}"

    def group_label(self, key: str) -> str:
        journal, _, voucher = key.partition(":")
        return f"voucher {voucher} (journal {journal})" if journal else f"voucher {voucher}"

    def units(self, record: DraftEntry) -> int:
        return minor_units(record.amount, record.currency)

    def imbalance(self, records: Sequence[DraftEntry]) -> int:
        """A line posts its amount to its account side (account, customer or supplier) and the opposite to its
        contra account; a voucher balances when what is left over sums to zero in each currency."""
        net: dict[str, int] = {}
        for r in records:
            side = (r.accountNumber is not None or r.customerNumber is not None or r.supplierNumber is not None) - (
                r.contraAccountNumber is not None
            )
            if side:
                net[r.currency] = net.get(r.currency, 0) + side * minor_units(r.amount, r.currency)
        return sum(map(abs, net.values()))

    def encode(self, records: Sequence[Any]) -> bytes:
        return _encoder.encode(records)

    def decode(self, body: bytes) -> list[DraftEntry]:
        return _decode_entries(body)

    def created_ids(self, body: bytes, n: int) -> list[int]:
        ids = [item.entryNumber for item in _decode_created(body)]
        if len(ids) != n:
            raise ValueError(f"the API answered {len(ids)} entry numbers for {n} entries")
        return ids

    def retryable(self, error: APIError) -> bool:
        # a retry that overtakes its own first attempt: the key is still being processed
        if isinstance(error, Conflict):
            return error.error_code == "IdempotencyKeyInUse"
        return error.retryable

    def bad_items(self, error: APIError, n: int) -> dict[int, tuple[str, str]] | None:
        return errors_by_index(error, n, field_key="property", code_key="errorCode")

    def summarize(self, records: Sequence[DraftEntry]) -> dict[str, Totals]:
        out: dict[str, Totals] = {}
        for r in records:
            per = out.setdefault(str(r.journalNumber), {}).setdefault(r.currency, [0, 0, 0])
            units = minor_units(r.amount, r.currency)
            per[0] += 1
            per[1] += units
            if units > 0:
                per[2] += units
        return out

    # --- before the first call: the vouchers of the input that the journal already holds -----------------
    async def groups_already_there(
        self, client: Dispatcher, keys: Callable[[], Iterator[str]]
    ) -> AsyncIterator[tuple[str, str]]:
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
            if not int(await client.get_json("/draft-entries/count", {"filter": flt})):
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

    async def _present(self, client: Dispatcher, journal: str, vouchers: list[str]) -> AsyncIterator[tuple[str, str]]:
        flt = f"journalNumber$eq:{journal}$and:voucherNumber$in:[{','.join(vouchers)}]"
        params = {"filter": flt}
        entries: dict[int, list[int]] = {}
        while True:
            page = _decode_page((await client.send("GET", "/draft-entries", params=params)).body)
            for item in page.items:
                entries.setdefault(item.voucherNumber, []).append(item.entryNumber)
            if not page.cursor:
                break
            params = {"filter": flt, "cursor": page.cursor}
        for voucher, numbers in sorted(entries.items()):
            shown = ", ".join(map(str, numbers[:5])) + (", …" if len(numbers) > 5 else "")
            yield (f"{journal}:{voucher}", f"voucher {voucher} (journal {journal}) is already in the journal "
                   f"(draft entries {shown}): not created again")

    # --- rollback: draft entries are deleted one by one, by the numbers the API gave ---------------------
    can_delete = True

    def delete_path(self, scope: str, record_id: int) -> str:
        return f"/draft-entries/{record_id}"

    # --- reconciliation: count endpoint, newest entry number, cursor walk ---------------------------
    async def count(self, client: Dispatcher, scope: str) -> int:
        return int(await client.get_json("/draft-entries/count", {"filter": f"journalNumber$eq:{int(scope)}"}))

    async def baseline(self, client: Dispatcher, scope: str) -> dict[str, int]:
        # entry numbers only grow: everything above today's newest one is created from now on
        page = await client.get_json(
            "/draft-entries/paged",
            {"filter": f"journalNumber$eq:{int(scope)}", "sort": "-entryNumber", "pageSize": "1"},
        )
        items = page.get("items") or [] if isinstance(page, dict) else page
        newest = int(items[0]["entryNumber"]) if items else 0
        return {"count": await self.count(client, scope), "max_id": newest}

    async def walk(
        self, client: Dispatcher, scope: str, after: int, upto: int | None
    ) -> AsyncIterator[Listed]:
        flt = f"journalNumber$eq:{int(scope)}$and:entryNumber$gt:{int(after)}"
        if upto is not None:
            flt += f"$and:entryNumber$lte:{int(upto)}"
        params = {"filter": flt}
        prefix = f"{int(scope)}:"
        while True:
            page = _decode_page((await client.send("GET", "/draft-entries", params=params)).body)
            items = page.items
            currencies = list(map(_currency, items))
            exact = list(map(operator.mul, map(_amount, items), map(FACTORS.get, currencies, repeat(HUNDRED))))
            units = list(map(int, exact))
            yield Listed(
                list(map(_entry_number, items)),
                currencies,
                units,
                list(map(prefix.__add__, map(str, map(_voucher, items)))),
                sum(map(operator.ne, exact, units)),
            )
            if not page.cursor:
                return
            params = {"filter": flt, "cursor": page.cursor}
