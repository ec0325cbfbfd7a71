"""PayorCRM upload API: customers and invoices as array uploads, customers first.

No idempotency key: an upload whose answer was lost is in doubt and is not sent again without the user's
word. An invoice whose customer did not load (rejected, in doubt) is rejected with that reason. The API documents
no answer to an upload: any 2xx is success, and ids and amounts are taken where the answer has them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import msgspec

from ..errors import APIError, ConfigError
from ..money import decimals
from ..sources import BadRow
from .base import NO_ID, RowInvalid, Target, Totals, errors_by_index, row_invalid

if TYPE_CHECKING:
    from ..sources import Source

class Customer(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    emailaddress1: str
    customerno: str
    companyname: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    phoneno: str | None = None
    cocode: str | None = None


class Invoice(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    customerNumber: str
    invoiceNumber: str
    invoiceAmount: int
    companyCode: str | None = None
    profitCenter: str | None = None
    customerName: str | None = None
    accountingDocNumber: str | None = None
    postDate: str | None = None
    dueDate: str | None = None
    paymentTerms: str | None = None
    documentType: str | None = None
    postingKey: str | None = None
    debitCreditIndicator: str | None = None
    balanceAmount: str | None = None
    billAddr: dict[str, Any] | None = None
    shipAddr: dict[str, Any] | None = None
    currency: str | None = None
    reasonCode: str | None = None
    reasonCodeDescription: str | None = None
    fiscalYear: str | None = None
    invoiceDate: str | None = None
    reference1: str | None = None
    reference2: str | None = None
    localAmount: int | None = None
    itemText: str | None = None
    fiscalPeriod: str | None = None
    issueDate: str | None = None
    soldTo: str | None = None
    lineItem: str | None = None
    referenceDocNo: str | None = None
    status: str | None = None


_DATES = ("postDate", "dueDate", "invoiceDate", "issueDate")
_KINDS: dict[str, type[msgspec.Struct]] = {"customers": Customer, "invoices": Invoice}
_encode = msgspec.json.Encoder().encode


class Said(NamedTuple):
    """What a 2xx answer to an upload says (seed 004 documents no answer): the records' ids and invoice amounts
    when it lists records that all have them, and how many it stored when it says; None where it does not."""

    ids: list[int] | None = None
    amounts: list[int] | None = None
    stored: int | None = None


_decode_any = msgspec.json.Decoder().decode


def _whole(value: Any) -> int | None:
    return value if type(value) is int else None


def _every(records: list[Any], field: str) -> list[int] | None:
    """Each record's integer `field`, or None when any record lacks it."""
    found = [_whole(r.get(field)) if isinstance(r, dict) else None for r in records]
    return None if None in found else [v for v in found if v is not None]


def read_answer(body: bytes) -> Said:
    """Read any 2xx answer tolerantly: ``{"results": [...]}``, a bare array of records (with or without ``id``),
    ``{"success": true, "count": n}``, an empty body or text all mean the upload was stored. Only an answer that
    says ``"success": false`` is not read as success (ValueError: the call arrived, its outcome is unknown)."""
    try:
        value = _decode_any(body) if body.strip() else None
    except (msgspec.DecodeError, RecursionError):  # RecursionError: JSON nested past msgspec's depth
        return Said()  # not JSON ("OK"): a 2xx all the same
    if isinstance(value, dict):
        if value.get("success") is False:
            raise ValueError(f"the API answered success: false ({body[:200].decode(errors='replace')})")
        records = value.get("results")
        if not isinstance(records, list):
            return Said(stored=_whole(value.get("count")))
    elif isinstance(value, list):
        records = value
    else:
        return Said()
    return Said(_every(records, "id"), _every(records, "invoiceAmount"), len(records))


_decoders = {kind: msgspec.json.Decoder(list[cls]).decode for kind, cls in _KINDS.items()}  # type: ignore[valid-type]


def minor_units(value: Any, currency: str | None, unit: str, field: str) -> int:
    """An amount (read by the engine as a Decimal, or a JSON integer) as an integer of the currency's minor
    unit, exactly, or RowInvalid."""
    digits = decimals(currency)
    try:
        amount = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise RowInvalid(field, f"not a number: {value!r}") from None
    if not amount.is_finite():
        raise RowInvalid(field, f"not a number: {value!r}")
    if unit == "major":
        amount = amount.scaleb(digits)
    if amount != amount.to_integral_value():
        what = f"{value} {currency or ''}".strip()
        if unit == "major":
            raise RowInvalid(field, f"{what} has more than {digits} decimals: cannot convert to minor units exactly")
        raise RowInvalid(field, f"{what} is not a whole number of minor units (is the input in major units?)")
    return int(amount)


class PayorCRM(Target):
    name = "payorcrm"
    idempotent = False
    max_items = 1000
    default_batch = 200
    default_base_url = ""
    credential_env = ("PAYORCRM_API_KEY", "PAYORCRM_API_SECRET")
    group_name = "record"
    scope_name = "kind"
    reconcile_by = "responses"
    option_names = ("kind", "customers", "invoices", "amount_unit", "require_customers")
    fields: ClassVar[frozenset[str]] = frozenset(Invoice.__struct_fields__) | frozenset(Customer.__struct_fields__)
    number_fields = frozenset({"invoiceAmount", "localAmount"})
    date_fields = frozenset(_DATES)

    def __init__(self, file_kinds: Sequence[str], amount_unit: str = "minor", require_customers: bool = False) -> None:
        if not file_kinds or any(k not in _KINDS for k in file_kinds):
            raise ConfigError("payorcrm needs --kind customers|invoices with files, or --customers/--invoices")
        if amount_unit not in ("minor", "major"):
            raise ConfigError("--amount-unit must be minor or major")
        self.file_kinds = list(file_kinds)
        self.amount_unit = amount_unit
        self.require_customers = require_customers
        self.kind = self.file_kinds[0]
        #: customer number -> why it did not load; customer numbers that did (from the earlier phase)
        self.failed: dict[str, str] = {}
        self.known: set[str] | None = None

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--kind", choices=tuple(_KINDS), help="what the FILEs hold")
        parser.add_argument("--customers", metavar="FILE", help="customers file, loaded first")
        parser.add_argument("--invoices", metavar="FILE", help="invoices file, loaded after the customers")
        parser.add_argument("--amount-unit", choices=("minor", "major"),
                            help="invoiceAmount/localAmount in the input: minor units (default) or major units, "
                            "converted exactly by the currency's decimals")
        parser.add_argument("--require-customers", action="store_true", default=None,
                            help="reject an invoice whose customer is not in the customers file")

    @classmethod
    def arrange_files(cls, files: list[str], options: dict[str, Any]) -> list[str]:
        """`--customers C --invoices I` → [C, I] with their kinds; else the FILEs, all of --kind."""
        customers, invoices = options.pop("customers", None), options.pop("invoices", None)
        if not (customers or invoices) and options.get("file_kinds"):
            return files  # arranged already (a resumed run's stored options)
        if customers or invoices:
            if files:
                raise ConfigError("give the files either as --customers/--invoices or as FILE... with --kind")
            arranged = [(p, k) for p, k in ((customers, "customers"), (invoices, "invoices")) if p]
            options["file_kinds"] = [k for _, k in arranged]
            return [p for p, _ in arranged]
        if not options.get("kind"):
            raise ConfigError("payorcrm needs --kind customers|invoices for FILE..., or --customers/--invoices")
        options.setdefault("file_kinds", [options["kind"]] * len(files))
        return files

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PayorCRM:
        kinds = options.get("file_kinds") or ([options["kind"]] if options.get("kind") else [])
        return cls(kinds, options.get("amount_unit") or "minor", bool(options.get("require_customers")))

    def options(self) -> dict[str, Any]:
        return {"file_kinds": self.file_kinds, "amount_unit": self.amount_unit,
                "require_customers": self.require_customers}

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {"api_key": credentials["PAYORCRM_API_KEY"], "api_secret": credentials["PAYORCRM_API_SECRET"]}

    def fields_of(self, file_idx: int) -> frozenset[str]:
        return frozenset(_KINDS[self.file_kinds[file_idx]].__struct_fields__)

    # --- customers first --------------------------------------------------------------------------------
    def phases(self, n_files: int) -> list[list[int]]:
        customers = [i for i in range(n_files) if self.file_kinds[i] == "customers"]
        invoices = [i for i in range(n_files) if self.file_kinds[i] == "invoices"]
        return [p for p in (customers, invoices) if p]

    def before_phase(
        self, files: Sequence[int], unsettled: Mapping[int, Mapping[int, str]], sources: Sequence[Source]
    ) -> dict[str, Any]:
        if not unsettled:
            return {}
        failed: dict[str, str] = {}
        known: list[str] = []
        for file_idx, lines in unsettled.items():
            for item in sources[file_idx]:
                if isinstance(item, BadRow):
                    continue
                line, row = item
                number = row.get("customerno")
                if not isinstance(number, str):
                    continue
                if line in lines:
                    failed[number] = lines[line]
                else:
                    known.append(number)
        return {"failed": failed, "known": known}

    def use_context(self, context: Mapping[str, Any]) -> None:
        self.failed = dict(context.get("failed", {}))
        self.known = set(context["known"]) if "known" in context else None

    def begin_file(self, file_idx: int) -> None:
        self.kind = self.file_kinds[file_idx]
        self.path = f"/jsonApi/upload/{self.kind}"  # type: ignore[misc]

    # --- per row -----------------------------------------------------------------------------------
    def validate(self, row: dict[str, Any]) -> Any:
        if self.kind == "customers":
            return self._convert(row, Customer)
        currency = row.get("currency") if isinstance(row.get("currency"), str) else None
        for field in ("invoiceAmount", "localAmount"):
            if field in row:
                row[field] = minor_units(row[field], currency, self.amount_unit, field)
        for field in _DATES:  # the API's date fields take dates: a date-time is cut to its date
            if isinstance(row.get(field), str):
                row[field] = row[field][:10]
        for field in ("billAddr", "shipAddr"):
            if isinstance(row.get(field), str):  # a CSV cell holding JSON
                try:
                    row[field] = msgspec.json.decode(row[field])
                except ValueError as exc:
                    raise RowInvalid(field, f"not valid JSON: {exc}") from None
        invoice: Invoice = self._convert(row, Invoice)
        customer = invoice.customerNumber
        if customer in self.failed:
            raise RowInvalid("customerNumber", f"customer {customer} did not load ({self.failed[customer]})")
        if self.require_customers and (self.known is None or customer not in self.known):
            raise RowInvalid("customerNumber", f"customer {customer} is not in the customers file "
                             "(--require-customers)")
        return invoice

    @staticmethod
    def _convert(row: dict[str, Any], kind: type[Any]) -> Any:
        try:
            return msgspec.convert(row, kind, strict=False)
        except msgspec.ValidationError as exc:
            raise row_invalid(exc, row, kind) from None

    def numbers_of(self, file_idx: int) -> frozenset[str]:
        return self.number_fields if self.file_kinds[file_idx] == "invoices" else frozenset()

    def dates_of(self, file_idx: int) -> frozenset[str]:
        return self.date_fields if self.file_kinds[file_idx] == "invoices" else frozenset()

    group_fields = frozenset({"invoiceNumber", "customerno"})

    def group_key(self, row: Mapping[str, Any]) -> str | None:
        """An invoice by its number, a customer by its customerno: what a later load must not upload again."""
        number = row.get("invoiceNumber" if self.kind == "invoices" else "customerno")
        return None if number is None else f"{self.kind[:-1]} {str(number).strip()}"

    def group_label(self, key: str) -> str:
        return key

    def encode(self, records: Sequence[Any]) -> bytes:
        return _encode(records)

    def decode(self, body: bytes) -> list[Any]:
        return _decoders[self.kind](body)

    def created_ids(self, body: bytes, n: int) -> list[int]:
        """The ids when the answer lists n records that have them; otherwise the rows are loaded all the same (the
        API said 2xx) with NO_ID, and reconciliation compares what the answer did say (its count, its amounts)."""
        ids = read_answer(body).ids
        return ids if ids is not None and len(ids) == n else [NO_ID] * n

    def retryable(self, error: APIError) -> bool:
        return error.retryable

    def bad_items(self, error: APIError, n: int) -> dict[int, tuple[str, str]] | None:
        return errors_by_index(error, n, field_key="field")

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        if self.kind == "customers":
            return {"customers": {"": [len(records), 0, 0]}}
        total = sum(r.invoiceAmount for r in records)
        return {"invoices": {"": [len(records), total, sum(max(r.invoiceAmount, 0) for r in records)]}}

    def returned_totals(self, body: bytes, sent: dict[str, Totals]) -> dict[str, Totals] | None:
        (kind,) = sent  # customers or invoices: one kind a call
        said = read_answer(body)
        if said.stored is None:
            return None  # an empty 2xx, or one that lists nothing: nothing to compare
        if kind == "customers":  # customers carry no amounts: a count is all there is
            return {kind: {"": [said.stored, 0, 0]}}
        if said.amounts is None:
            return {kind: {"": [said.stored]}}
        return {kind: {"": [said.stored, sum(said.amounts), sum(max(a, 0) for a in said.amounts)]}}
