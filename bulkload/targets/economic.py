"""Visma e-conomic Journals API v11.0.2: draft entries in bulk, keyed, reconciled by count and cursor walk."""

from __future__ import annotations

import argparse
import math
import operator
from collections.abc import AsyncIterator, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import msgspec

from ..errors import APIError, ConfigError, Conflict
from .base import Listed, RowInvalid, Target, Totals, errors_by_index, iso_date, row_invalid

if TYPE_CHECKING:
    from ..dispatch import Dispatcher

Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
Positive32 = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


def _iso_date(value: str, field: str) -> str:
    try:
        return iso_date(value)
    except ValueError:
        raise ValueError(f"not a valid date: {value!r} (use YYYY-MM-DD) - at `$.{field}`") from None


class DraftEntry(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A draft entry as POST /draft-entries/bulk takes it. Absent fields are left out, never sent as null."""

    entryTypeNumber: Literal[2, 3, 4, 5, 10]
    journalNumber: Positive32
    voucherNumber: Positive32
    date: str
    amount: float
    currency: Annotated[str, msgspec.Meta(min_length=1)]
    accountNumber: Int32 | None = None
    contraAccountNumber: Int32 | None = None
    contraVatCode: str | None = None
    costTypeNumber: Int32 | None = None
    customerInvoiceNumber: str | None = None
    customerNumber: Int32 | None = None
    dueDate: str | None = None
    exchangeRate: float | None = None
    projectNumber: Int32 | None = None
    supplierInvoiceNumber: str | None = None
    supplierNumber: Int32 | None = None
    supplierPaymentBank: str | None = None
    supplierPaymentMessage: str | None = None
    supplierPaymentType: Literal[-1, 1, 2, 5, 7, 10, 14, 17] | None = None
    text: str | None = None
    vatCode: str | None = None

    def __post_init__(self) -> None:
        self.date = _iso_date(self.date, "date")
        if self.dueDate is not None:
            self.dueDate = _iso_date(self.dueDate, "dueDate")
        # msgspec reads "nan"/"inf" as floats and would encode them as null, which the API refuses
        if not math.isfinite(self.amount):
            raise ValueError("amount must be a finite number - at `$.amount`")
        if self.exchangeRate is not None and not math.isfinite(self.exchangeRate):
            raise ValueError("exchangeRate must be a finite number - at `$.exchangeRate`")


_FIELDS = frozenset(DraftEntry.__struct_fields__)
_encoder = msgspec.json.Encoder()
_decode_entries = msgspec.json.Decoder(list[DraftEntry]).decode


class _Listed(msgspec.Struct):
    """The fields of a listed entry that reconciliation compares; the rest is skipped by the decoder."""

    entryNumber: int
    currency: str = ""
    amount: float = 0.0


class _Page(msgspec.Struct):
    items: list[_Listed] = []
    cursor: str | None = None


class _Created(msgspec.Struct):
    entryNumber: int


_decode_page = msgspec.json.Decoder(_Page).decode
_entry_number, _currency, _amount = (operator.attrgetter(f) for f in ("entryNumber", "currency", "amount"))
_decode_created = msgspec.json.Decoder(list[_Created]).decode


class Economic(Target):
    name = "economic"
    idempotent = True
    key_ttl_s = 3600.0  # e-conomic caches a key's answer for one hour
    max_items = 500
    default_base_url = "https://apis.e-conomic.com/journalsapi/v11.0.2"
    credential_env = ("ECONOMIC_APP_SECRET_TOKEN", "ECONOMIC_AGREEMENT_GRANT_TOKEN")
    fields: ClassVar[frozenset[str]] = _FIELDS
    group_name = "voucher"
    scope_name = "journal"
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
        if str(given).strip() != str(self.journal):
            raise RowInvalid("journalNumber", f"row names journal {given} but --journal {self.journal} was given")
        return self._convert(row)

    @staticmethod
    def _convert(row: dict[str, Any]) -> DraftEntry:
        try:
            return msgspec.convert(row, DraftEntry, strict=False)
        except msgspec.ValidationError as exc:
            raise row_invalid(exc) from None

    #: (journalNumber, voucherNumber), read in C: this runs once per row
    group_of = staticmethod(operator.attrgetter("journalNumber", "voucherNumber"))

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
            cents = round(r.amount * 100)
            per[0] += 1
            per[1] += cents
            if cents > 0:
                per[2] += cents
        return out

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
        while True:
            page = _decode_page((await client.send("GET", "/draft-entries", params=params)).body)
            items = page.items
            yield Listed(
                list(map(_entry_number, items)),
                list(map(_currency, items)),
                list(map(round, map(operator.mul, map(_amount, items), repeat(100.0)))),
            )
            if not page.cursor:
                return
            params = {"filter": flt, "cursor": page.cursor}
