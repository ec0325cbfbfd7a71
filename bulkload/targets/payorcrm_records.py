"""PayorCRM's records: customers and invoices as the upload API takes them, and what its answers say."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from ..dates import at_offset, instant_reason
from ..errors import APIError, RowInvalid
from ..model import BY_PLACE, ECHOED, NO_ID, ONE_ID, Chunk, Totals
from ..money import JSON_SAFE_INTEGER, FractionLeft, PastLimit, Places, decimals, iso_code
from ..money import minor_units as exact_units
from .base import RecordKind, folded, invisible, key_text, required_fields
from .payorcrm_answers import Fields, Reading, echoes, named, read
from .reasons import Untold, converted, errors_counted


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
#: a nested value's numbers (billAddr, shipAddr: read as exact Decimals) go out as the JSON numbers written
_encode = msgspec.json.Encoder(decimal_format="number").encode


#: why an amount in major units cannot be converted without its currency, by field
_NO_CURRENCY = {
    "invoiceAmount": (
        "currency",
        "no currency: invoiceAmount is in major units (--amount-unit major), and how many decimals the invoice's "
        "minor unit has cannot be told without its currency",
    ),
    "localAmount": (
        "localAmount",
        "localAmount is in the company's own currency, which need not be the invoice's: give --local-currency "
        "CODE to convert it from major units",
    ),
}


#: an amount the row does not give (Invoices.validate)
_UNREAD: Any = object()


def minor_units(value: Any, currency: str | None, unit: str, field: str) -> int:
    """An amount (read by the engine as a Decimal, or a JSON integer) as an integer of the currency's minor
    unit, exactly, or RowInvalid; in major units, `currency` (its ISO 4217 decimals) is needed. The API's
    amounts are JSON integers (seed 004): one past JSON_SAFE_INTEGER is refused, as a reader may round it."""
    if unit == "major" and currency is None:
        raise RowInvalid(*_NO_CURRENCY.get(field, (field, f"{field} is in major units and has no currency")))
    if unit == "major" and iso_code(currency) is None:
        where = "currency" if field == "invoiceAmount" else field
        raise RowInvalid(
            where,
            f"{currency!r} is no ISO 4217 currency with a minor unit: how many decimals {field} has in minor units "
            "(major units, --amount-unit major) cannot be told",
        )
    if type(value) is bool:  # a JSON true is no amount, though Python's bool is an int
        raise RowInvalid(field, f"not a number: {'true' if value else 'false'}")
    what = f"{value} {currency or ''}".strip()
    try:
        amount = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip())
        return exact_units(amount, currency, JSON_SAFE_INTEGER, places=None if unit == "major" else 0)
    except FractionLeft:
        if unit == "major":
            raise RowInvalid(
                field, f"{what} has more than {decimals(currency)} decimals: cannot convert to minor units exactly"
            ) from None
        raise RowInvalid(field, f"{what} is not a whole number of minor units (is the input in major units?)") from None
    except PastLimit:
        raise RowInvalid(
            field,
            f"{what} is more than {JSON_SAFE_INTEGER:,} minor units, the largest whole number every JSON reader "
            "keeps exactly (2^53 - 1): the API might store another amount",
        ) from None
    except (InvalidOperation, ValueError):  # no number, or none that is finite
        raise RowInvalid(field, f"not a number: {value!r}") from None


def _within_minor_unit(balance: Decimal | int, currency: str) -> None:
    """RowInvalid unless `balance` has at most as many decimals as the ISO 4217 `currency`'s minor unit: an amount
    of a fraction of a cent (1234.505 DKK) cannot be booked as written, as invoiceAmount's cannot. Not converted:
    balanceAmount is text to the API, sent as the number written, in whatever unit the file has it."""
    try:
        exact_units(Decimal(balance), currency)
    except FractionLeft:
        raise RowInvalid(
            "balanceAmount",
            f"{balance} {currency} has more than {decimals(currency)} decimals, the currency's minor unit: it cannot "
            "be booked as written",
        ) from None
    except ValueError:  # no finite number
        raise RowInvalid("balanceAmount", f"not a number: {balance}") from None


class Upload(RecordKind):
    """What both uploads share: an array of records to /jsonApi/upload/{name}, any 2xx answer a success."""

    group_name = "record"
    ids_optional = True  # seed 004 documents no answer: a 2xx naming no ids confirms its records without them
    #: text fields that hold a whole number, not a name (an invoice's fiscalPeriod): a record echoing `1` for "01"
    #: echoes the value sent (payorcrm_answers.Fields.same)
    counted_fields: frozenset[str] = frozenset()
    #: text fields that name a record or refer to one, beside the key (an invoice's customerNumber, reference1): a
    #: record echoing one with its words spaced otherwise (`PO12` for "PO 12") echoes another, where other text's
    #: spaces are its formatting (Fields.same)
    naming_fields: frozenset[str] = frozenset()

    def __init__(self, name: str, struct: type[msgspec.Struct], key_field: str) -> None:
        self.name = name
        #: the field that names a record (its group key)
        self.key_field = key_field
        #: how an answer's records are read: by their key, and the fields that hold numbers, dates, whole numbers as
        #: text, names of records, and keys (the key, and the records it refers to: compared exactly)
        keys = self.reference_fields | {key_field}
        self.answered_as = Fields(
            key_field, self.number_fields, self.date_fields, self.counted_fields, self.naming_fields | keys, keys
        )
        self.path = f"/jsonApi/upload/{name}"
        self.fields = frozenset(struct.__struct_fields__)
        self._required = required_fields(struct)
        # a nested value's numbers as sent, exactly: a part of a refused chunk is encoded again from these
        self._decode = msgspec.json.Decoder(list[struct], float_hook=Decimal).decode  # type: ignore[valid-type]
        #: the answer read last: (its body, its chunk, what it says)
        self._last: tuple[bytes, Chunk, Reading] | None = None

    def destination(self) -> dict[str, str]:
        return {"kind": self.name}

    def required(self) -> list[tuple[str, ...]]:
        return [(name,) for name in self._required]

    def group_key(self, row: Mapping[str, Any]) -> str | None:
        """An invoice by its number, a customer by its customerno: what a later load must not upload again. The
        number as its text (base.key_text: a JSONL line's `"invoiceNumber": 1.0` is invoice "1", rejected with it)."""
        number = row.get(self.key_field)
        return None if number is None else f"{self.name[:-1]} {key_text(number)}"

    def group_label(self, key: str) -> str:
        return key

    def group_fault(self, records: Sequence[Any]) -> tuple[int, str, str] | None:
        """A record given twice (one invoice number, no line item to tell the rows apart; one customerno, a customer
        having no line items): both would be uploaded, and which the file means cannot be told. So are two line items
        alike but for case, spaces, Unicode form, leading zeros or a zero fraction (base.folded: `01` and `1`, the
        same invoice exported twice and joined, once through a spreadsheet: tester t52b, uploaded at twice its amount,
        exit 0; `1.0` and `1`, once through a float column: tester t69a, alike)."""
        seen: set[Any] = set()
        written: dict[str, str] = {}  # each line item folded -> as the first line giving it wrote it
        for i, record in enumerate(records):
            apart = getattr(record, "lineItem", None)  # an invoice's lines are told apart by their line item
            if apart is not None and written.setdefault(folded(apart), apart) != apart:
                return (
                    i,
                    "lineItem",
                    f"line items {(first := written[folded(apart)])!r}{invisible(first)} and {apart!r}"
                    f"{invisible(apart)} are one but for case, spaces, Unicode form or leading zeros, or a zero "
                    "fraction: one line written two ways (a spreadsheet drops the zeros of a number it shows, a float "
                    "column's export writes 1 as 1.0, and two exports joined give the invoice twice), or two lines, "
                    "which cannot be told; write each line's lineItem one way, or the two apart",
                )
            if apart in seen:
                if self.single_record_groups:
                    what, fix = "", f"keep the row meant, or give the other {self.name[:-1]} a number of its own"
                elif apart is not None:
                    what, fix = " and line item", "give each line a lineItem of its own, or keep one of the two rows"
                else:
                    what = " and no line item to tell them apart"
                    fix = (
                        "where they are its lines, give each a lineItem of its own (1, 2, …); where one row is the "
                        "other given again, keep one"
                    )
                return (
                    i,
                    self.key_field,
                    f"given twice, with one {self.key_field}{what}: which is meant cannot be told; {fix}",
                )
            seen.add(apart)
        if None in seen and len(seen) > 1:
            return self._unnamed_line(records)
        return None

    @staticmethod
    def _unnamed_line(records: Sequence[Any]) -> tuple[int, str, str]:
        """The fault of an invoice one of whose lines names no lineItem while its others name theirs: a total row an
        export or a spreadsheet adds below an invoice's lines (its amount their sum), or a line whose lineItem was
        lost; uploaded, a total row counts the invoice twice (tester t42a: lines of 100.00 and 50.00 and a row
        "Total" of 150.00 were uploaded as an invoice of 300.00, exit 0)."""
        i = next(i for i, record in enumerate(records) if record.lineItem is None)
        others = sum(record.invoiceAmount for j, record in enumerate(records) if j != i)
        total = " and its invoiceAmount is the sum of theirs" if records[i].invoiceAmount == others else ""
        return (
            i,
            "lineItem",
            f"no lineItem, where the invoice's other lines name theirs{total}: a total row of the export, or a line "
            "whose lineItem was lost; which it is cannot be told. Remove a total row, or give the line its lineItem",
        )

    def encode(self, records: Sequence[Any]) -> bytes:
        return _encode(records)

    def decode(self, body: bytes) -> list[Any]:
        return self._decode(body)

    def _read(self, body: bytes, chunk: Chunk) -> Reading:
        """The answer `body` read against `chunk` (payorcrm_answers.read), once: the engine asks `created_ids`,
        `failed_items` and `returned_totals` of one answer in turn, and the answer it read last is kept."""
        last = self._last
        if last is None or last[0] is not body or last[1] is not chunk:
            last = self._last = (body, chunk, read(body, chunk.entries(self), self.answered_as))
        return last[2]

    def created_ids(self, body: bytes, chunk: Chunk) -> list[int]:
        """The ids when the answer lists a record with an id for each row: by key where its records name theirs
        (payorcrm_answers.pairing; ValueError when those keys are not the ones sent), else in request order, unless
        what the records carry says they are in another (`Reading.misplaced`). Otherwise the rows are loaded all
        the same (the API said 2xx) with NO_ID, and reconciliation compares what the answer did say (its amounts).
        ValueError (in doubt) for an answer that says it stored another number of records than the rows sent, or
        that the upload failed; RefusedInAnswer for one whose `errors` refuse rows by index (payorcrm_answers.read)."""
        reading, n = self._read(body, chunk), len(chunk)
        ids, paired = reading.said.ids, reading.paired
        if ids is None or reading.misplaced:
            return [NO_ID] * n
        if paired is None:
            return ids
        return [ids[j] if told else NO_ID for j, told in zip(paired.order, paired.told)]

    def failed_items(self, body: bytes, chunk: Chunk) -> dict[int, tuple[str, str]]:
        """The rows whose records say they failed (`"success": false`, an error, a `status` of failure, no id beside
        the others' ids: payorcrm_answers._failure; seed 004 documents no status per record, so what became of them
        cannot be told)."""
        return self._read(body, chunk).failed

    def bad_items(self, error: APIError, rows: Sequence[Any]) -> dict[int, tuple[str, str]] | Untold | None:
        """The rows a refusal's `errors` name by index, which seed 004 does not say it counts from 0 or from 1
        (reasons.errors_counted: Untold where which cannot be told)."""
        return errors_counted(error, rows, field_key="field", unsaid="seed 004 documents no error answer")

    def returned_totals(self, body: bytes, sent: dict[str, Totals], chunk: Chunk) -> dict[str, Totals] | None:
        """As RecordKind.returned_totals, and beside the totals the rows whose ids were taken by their place in the
        answer (model.BY_PLACE), whether the fields the records echo of those sent are the values sent
        (model.ECHOED: payorcrm_answers.echoes), and where the records' amounts could not be placed, whether they are
        the amounts sent (ECHOED `invoiceAmount`). An amount answered is read by its value (`1000.0` and `"1000"` are
        the 1000 minor units sent); one that is no whole number of minor units, or no number (`1000.5`, `"ten"`), is
        no amount sent: the call's amounts differ (ECHOED `invoiceAmount`), its rows counted only. The lines of an
        invoice answered with one id are counted beside them (model.ONE_ID)."""
        reading = self._read(body, chunk)
        totals = self._totals(reading, sent, chunk)
        fields = echoes(reading, chunk.entries(self), self.answered_as)
        if totals is not None and fields:
            totals[ECHOED] = {**fields, **totals.get(ECHOED, {})}
        if totals is not None and (one_id := _lines_one_id(self.created_ids(body, chunk))):
            totals[ONE_ID] = {"": one_id}
        return totals

    def _totals(self, reading: Reading, sent: dict[str, Totals], chunk: Chunk) -> dict[str, Totals] | None:
        """The control totals of `returned_totals`, beside them BY_PLACE and ECHOED `invoiceAmount`."""
        (kind,) = sent  # customers or invoices: one kind a call
        said = reading.said
        if said.stored is None:
            return None  # an empty 2xx, or one that lists nothing: nothing to compare
        with_ids = said.ids is not None and not reading.misplaced
        by_place = {BY_PLACE: {"": [len(chunk)]}} if reading.by_place and with_ids else {}
        if kind == "customers":  # customers carry no amounts: a count is all there is
            return {kind: {"": [said.stored, 0, 0]}, **by_place}
        # invoices: per currency, as summarize (an answer of another count than sent is refused: read)
        records = chunk.entries(self)
        if said.amounts is None:
            return {kind: _counted(sent[kind]), **by_place}
        amounts = [a for a in said.amounts if a is not None]
        if len(amounts) < len(said.amounts):
            return {kind: _counted(sent[kind]), ECHOED: {"invoiceAmount": [0]}, **by_place}
        if reading.paired is None:
            return {**self._unnamed(amounts, said.records or [], records, sent, reading.misplaced), **by_place}
        paired = reading.paired
        amounts = [amounts[j] for j in paired.order]
        currencies = [r.currency or "" for r in records]
        totals = _per_currency(currencies, amounts)
        # a currency holding a line whose amount cannot be placed (its invoice's records cannot be told apart):
        # counted only, its amounts not compared, neither matched nor differing
        for currency, placed in zip(currencies, paired.placed):
            if not placed:
                totals[currency] = totals[currency][:1]
        # each placed record against its own row, where the totals agree: amounts turned round among a currency's
        # invoices (I2 answered with I3's, I3 with I2's) sum as sent, yet the API holds each invoice otherwise
        turned = any(p and a != r.invoiceAmount for a, r, p in zip(amounts, records, paired.placed))
        if turned and all(figures == sent[kind].get(c) for c, figures in totals.items() if len(figures) > 1):
            return {kind: totals, ECHOED: {"invoiceAmount": [0]}}
        return {kind: totals}

    @staticmethod
    def _unnamed(
        amounts: list[int], listed: list[Any], records: Sequence[Any], sent: dict[str, Totals], misplaced: bool
    ) -> dict[str, Totals]:
        """The returned totals of invoices whose records name no key (`listed`, with their `amounts`, as many as
        `records` sent), which their order does not decide where it can be helped: by the currency each record
        gives, where they give theirs; in the call's one currency; by place, as the rows were sent, where nothing
        the records carry says they are in another order; else counted only (which currency each amount is in cannot
        be told), with ECHOED `invoiceAmount`: whether the amounts are those sent, in any order."""
        (kind,) = sent
        if any(isinstance(r, dict) and "currency" in r for r in listed):
            return {kind: _per_currency([named(r.get("currency")) or "" for r in listed], amounts)}
        if len(sent[kind]) == 1 or not misplaced:
            return {kind: _per_currency([r.currency or "" for r in records], amounts)}
        alike = Counter(amounts) == Counter(r.invoiceAmount for r in records)
        return {kind: _counted(sent[kind]), ECHOED: {"invoiceAmount": [int(alike)]}}


class Customers(Upload):
    group_name = "customer"
    group_fields = frozenset({"customerno"})
    single_record_groups = True  # one customerno given twice is refused (group_fault): a customer has no lines
    numeral_fields = frozenset({"phoneno", "cocode"})  # a spreadsheet shows a long one so: "4.51234E+11"

    def __init__(self) -> None:
        super().__init__("customers", Customer, "customerno")

    def validate(self, row: dict[str, Any]) -> Any:
        return converted(row, Customer, self.read_fields)

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        return {"customers": {"": [len(records), 0, 0]}}


class Invoices(Upload):
    group_name = "invoice"
    row_options = {"amount_unit": "--amount-unit", "local_currency": "--local-currency"}
    group_fields = frozenset({"invoiceNumber"})
    filled_down = ("invoiceNumber",)
    filled_alike = ("customerNumber",)
    # balanceAmount is a string to the API (seed 004), but an amount in the file: read with the file's decimal mark
    number_fields = money_fields = frozenset({"invoiceAmount", "localAmount", "balanceAmount"})
    amount_places = {"invoiceAmount": Places(field="currency"), "balanceAmount": Places(field="currency")}
    date_fields = frozenset(_DATES)
    reference_fields = frozenset({"customerNumber"})  # the customer an invoice is of
    # seed 004 types both as string, but each holds a number, a year and a period of it: "01" is the period 1
    counted_fields = whole_text_fields = frozenset({"fiscalYear", "fiscalPeriod"})
    naming_fields = reference_fields | {
        "accountingDocNumber",
        "referenceDocNo",
        "reference1",
        "reference2",
        "soldTo",
        "lineItem",
    }
    # numbers as text a spreadsheet may show in exponent form, its last digits dropped (tester t57b)
    numeral_fields = (naming_fields - reference_fields) | {"companyCode", "profitCenter"}
    nested_fields = frozenset({"billAddr", "shipAddr"})
    line_names = ("lineItem",)  # what tells an invoice's lines apart (group_fault)
    # seed 004 does not say whether an invoiceNumber is the account's or its customer's: lines of one number naming
    # two customers are two invoices given one number, or one split between them, which cannot be told; so are
    # lines of two currencies (or of one and none), whose sum is an amount in no currency, and of two document types
    # (an invoice RV and its credit note DG given its number: merged, an invoice of their sum, 0.00)
    agreed_fields = ("customerNumber", "currency", "documentType")
    # an invoiceNumber is written by hand and edited in spreadsheets (a number shown without its leading zeros): 0042
    # and 42 of one customer are one invoice split in two, or two invoices, which cannot be told (tester t49a);
    # of two customers they are two invoices (tester t35: PayorCRM compares numbers exactly)
    text_keys = True
    alike_within = "customerNumber"

    def __init__(
        self, amount_unit: str = "minor", require_customers: bool = False, local_currency: str | None = None
    ) -> None:
        super().__init__("invoices", Invoice, "invoiceNumber")
        self.amount_unit = amount_unit
        if amount_unit == "minor":  # an amount written "1500.00" is in major units: the whole file is refused
            self.minor_unit_fields = frozenset({"invoiceAmount", "localAmount"})
            self.minor_unit_advice = (
                "Give --amount-unit major (amounts converted exactly by each invoice's currency), or write whole minor "
                "units (150000 for 1500.00 SEK)"
            )
        #: the company's own currency, which localAmount is in (needed to convert it from major units): no row names it
        self.local_currency = local_currency
        self.amount_places = {**Invoices.amount_places, "localAmount": Places(currency=local_currency)}
        self.require_customers = require_customers
        #: customer number -> why it did not load; customer numbers that did (from the earlier phase: `given`)
        self.failed: dict[str, str] = {}
        self.known: set[str] | None = None
        #: the customers file's numbers by how they read written otherwise (`_written_otherwise`)
        self._by_fold: dict[str, str] = {}

    def given(self, failed: Mapping[str, str], known: Iterable[str] | None) -> None:
        """The customers the customers file gave, as the phase before read them: those that did not load (number ->
        why) and those that did (None: no customers file)."""
        self.failed = dict(failed)
        self.known = None if known is None else set(known)
        given = [*self.failed, *(self.known or ())]
        self._by_fold = {folded(k): k for k in given}

    def _written_otherwise(self, customer: str) -> str | None:
        """The customers file's customer whose number is `customer`'s written otherwise (base.folded: "00777" where
        an invoice says "777", "d4" where it says "D4"; and a zero fraction, "231231201.0" where it says "231231201",
        as a float column's export writes a whole number), where `customer` is none of the file's; None where there
        is none."""
        if self.known is None or customer in self.known or customer in self.failed:
            return None
        return self._by_fold.get(folded(customer))

    def required(self) -> list[tuple[str, ...]]:
        """The fields an invoice must have; its currency too where amounts are in major units (minor_units)."""
        return [*super().required(), *([("currency",)] if self.amount_unit == "major" else [])]

    def validate(self, row: dict[str, Any]) -> Any:
        currency = row.get("currency") if isinstance(row.get("currency"), str) else None
        amount = local = _UNREAD
        try:
            if "invoiceAmount" in row:
                amount = row["invoiceAmount"]
                row["invoiceAmount"] = minor_units(amount, currency, self.amount_unit, "invoiceAmount")
            # sent, and totalled, as ISO 4217 writes it ("eur" is EUR) in either unit; another code as it is given
            if (code := iso_code(currency)) is not None:
                row["currency"] = code
            if "localAmount" in row:
                local = row["localAmount"]
                row["localAmount"] = minor_units(local, self.local_currency, self.amount_unit, "localAmount")
            balance = row.get("balanceAmount")
            if type(balance) is Decimal or type(balance) is int:  # sent as the number the file means, as written
                if code is not None:
                    _within_minor_unit(balance, code)
                row["balanceAmount"] = format(balance, "f")
            for field in _DATES:  # the API's date fields take dates: a date-time is cut to its date, an instant refused
                if isinstance(written := row.get(field), str):
                    if at_offset(written):
                        raise RowInvalid(field, instant_reason(written, "PayorCRM", "seed 004"))
                    row[field] = written[:10]
            self.read_nested(row)
            invoice: Invoice = converted(row, Invoice, self.read_fields)
            customer = key_text(invoice.customerNumber)  # as the customers file's customerno is read (CustomersFirst)
            if (why := self.failed.get(customer)) is not None and why.startswith("in doubt: "):
                # said so that it stays true once a resend settles the customer: the invoice is then loaded as it is
                doubt = why.removeprefix("in doubt: ")
                raise RowInvalid(
                    "customerNumber",
                    f"customer {customer} was in doubt when this invoice was to be sent ({doubt}), so the invoice "
                    "was not sent: once the customer is settled (the run's rows in doubt resent, or found in "
                    "PayorCRM), load this row again as it is",
                )
            if why is not None:
                raise RowInvalid("customerNumber", f"customer {customer} did not load ({why})")
            if (alike := self._written_otherwise(customer)) is not None:
                # a spreadsheet shows a number without its leading zeros, and saves it so; a person types another case:
                # which customer is meant cannot be told (another customer may be numbered so in PayorCRM, and seed 004
                # does not say whether it tells numbers apart by case)
                raise RowInvalid(
                    "customerNumber",
                    f"customer {customer}{invisible(customer)} is not in the customers file, which has customer "
                    f"{alike}{invisible(alike)}: the same number but for its letter case, leading zeros (a spreadsheet "
                    "drops them from a number it shows), a zero fraction (.0, as a float column's export writes a "
                    "whole number), spaces, Unicode form or an invisible character: which "
                    "is meant cannot be told (PayorCRM may hold the one, the other, or take them for one: seed 004 "
                    "does not say); write the number as the customers file does",
                )
            if self.require_customers and (self.known is None or customer not in self.known):
                raise RowInvalid(
                    "customerNumber",
                    f"customer {customer} is not in the customers file (--require-customers): give the file that "
                    "has it with --customers beside --invoices (one loaded before is taken as loaded: not sent again)",
                )
            return invoice
        except RowInvalid:
            # the amounts as given: a refused row is read again for its other fields (chunking.Reading.every_fault),
            # and an amount in major units is converted to minor units once
            if amount is not _UNREAD:
                row["invoiceAmount"] = amount
            if local is not _UNREAD:
                row["localAmount"] = local
            raise

    def record_of(self, index: int, record: Any) -> Hashable:
        """An invoice's lines are one record in the books, its invoiceNumber (the group they load whole in): a server
        may answer each line with the invoice's id. Two invoices are two records, as two customers are."""
        invoice_number: str = record.invoiceNumber
        return invoice_number

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        """Per currency ("" for an invoice without one): minor units of two currencies add up to no amount."""
        return {"invoices": _per_currency([r.currency or "" for r in records], [r.invoiceAmount for r in records])}


def _lines_one_id(ids: Sequence[int]) -> list[int]:
    """[rows, records] of the ids given to more than one row (an invoice's lines, record_of), [] where none is: a
    server keyed by invoiceNumber may answer each line with the id of the record the line before it was replaced in
    (t42b: 360.00 held where 720.00 was sent, every count and id as sent)."""
    given = Counter(i for i in ids if i != NO_ID)
    shared = [n for n in given.values() if n > 1]
    return [sum(shared), len(shared)] if shared else []


def _counted(totals: Totals) -> Totals:
    """`totals` with their rows alone: an answer that says how many, not which amounts."""
    return {currency: figures[:1] for currency, figures in totals.items()}


def _per_currency(currencies: Sequence[str], amounts: Sequence[int]) -> Totals:
    """[rows, total, debit] of `amounts` (minor units) by the currency at the same place."""
    totals: Totals = {}
    for currency, amount in zip(currencies, amounts, strict=True):
        figures = totals.setdefault(currency, [0, 0, 0])
        figures[0] += 1
        figures[1] += amount
        figures[2] += max(amount, 0)
    return totals
