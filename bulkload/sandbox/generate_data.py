"""Realistic input files for the sandboxes, streamed to CSV or JSONL (optionally gzip).

    python -m bulkload.sandbox.generate_data --rows 1000000 --format csv --gzip --bad-every 5000 --seed 1 OUT
    python -m bulkload.sandbox.generate_data --kind payorcrm-invoices --customers 2000 --rows 50000 OUT

``--kind economic`` (the default) writes month-end draft entries for e-conomic:

Vouchers have 2–4 adjacent lines whose amounts sum to zero: finance vouchers (type 5: rent, salaries,
bank fees, accruals, depreciation, cash sales), supplier invoices (type 3, with supplier number, invoice
number and due date) and customer payments (type 2, with customer number). Journals 1–3, voucher numbers
increasing per journal, dates rising through one month, accounts from the sandbox's CHART, mostly DKK
with some EUR at an exchange rate. With ``--bad-every K`` every K-th row is wrong the way real files
are: an account the API does not know (9999), a missing amount, entry type 7, 30 February, a long text.

The other kinds, each with its own bad rows (see their generators below):
``visma-core`` bookkeeping lines of a real-estate broker, ``visma-core-costs`` patches of the Visma Core
sandbox's own seller/buyer costs, ``payorcrm-customers`` and ``payorcrm-invoices`` (whose
``customerNumber`` points at the customers file made with the same ``--customers`` and bad-row spacing),
``halopsa`` records of one HaloPSA ``--resource`` (nested fields as JSON text in CSV cells).
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime
import gzip as gz
import io
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from bulkload.sandbox.economic_model import CHART
from bulkload.sandbox.visma_core import DEFAULT_DEFINITIONS, FIRST_CASE
from bulkload.sandbox.visma_core_costs import case_costs
from bulkload.targets.halopsa_schema import RESOURCES, Field, canonical_resource

FIELDS = (
    "entryTypeNumber",
    "journalNumber",
    "voucherNumber",
    "date",
    "amount",
    "currency",
    "accountNumber",
    "contraAccountNumber",
    "text",
    "vatCode",
    "exchangeRate",
    "customerNumber",
    "supplierNumber",
    "supplierInvoiceNumber",
    "dueDate",
)
BAD_KINDS = ("unknown_account", "missing_amount", "bad_entry_type", "bad_date", "long_text")
EUR_RATE = 746.02  # DKK per 100 EUR, e-conomic's convention
SUPPLIERS = {
    60001: ("TDC Erhverv", 2810),
    60002: ("Ørsted Salg & Service", 2760),
    60003: ("Lyreco Danmark", 2800),
    60004: ("Circle K Danmark", 2610),
    60005: ("Microsoft Ireland", 2820),
    60006: ("Dansk Revision", 2850),
    60007: ("Tryg Forsikring", 2860),
    60008: ("Ejendomsselskabet Havnegade", 2750),
}
MONTHS_DA = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
assert all(account in CHART for _, account in SUPPLIERS.values())

Row = dict[str, Any]


class _Month:
    """What every voucher of one run shares: the rng, the month and the per-journal voucher counters."""

    def __init__(self, rng: random.Random, year: int, month: int) -> None:
        self.rng = rng
        self.year, self.month = year, month
        self.days = calendar.monthrange(year, month)[1]
        self.name = MONTHS_DA[month - 1]
        self.next_voucher = {1: 1001, 2: 5001, 3: 8001}
        self.invoice = 20_000

    def day(self, progress: float) -> str:
        return f"{self.year:04d}-{self.month:02d}-{1 + min(int(progress * self.days), self.days - 1):02d}"

    def due(self) -> str:
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return f"{year:04d}-{month:02d}-{self.rng.choice((1, 8, 15)):02d}"

    def money(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 2)


def _lines(base: Row, *parts: tuple[int, float, dict[str, Any]]) -> list[Row]:
    return [{**base, "accountNumber": account, "amount": amount, **extra} for account, amount, extra in parts]


# Each template makes one balanced voucher: (lines, template); the base row carries the shared fields.
def _rent(m: _Month, base: Row) -> list[Row]:
    gross = m.money(8_000, 45_000)
    return _lines(
        base,
        (2750, gross, {"vatCode": "I25", "text": f"Husleje {m.name} {m.year}"}),
        (5600, -gross, {"text": f"Husleje {m.name} {m.year}"}),
    )


def _cash_sale(m: _Month, base: Row) -> list[Row]:
    net = m.money(500, 25_000)
    vat = round(net * 0.25, 2)
    text = f"Kontantsalg uge {m.rng.randint(1, 52)}"
    return _lines(
        base,
        (5600, round(net + vat, 2), {"text": text}),
        (1010, -net, {"text": text}),
        (5810, -vat, {"text": "Salgsmoms"}),
    )


def _salary(m: _Month, base: Row) -> list[Row]:
    gross = m.money(25_000, 60_000)
    tax, am = round(gross * 0.36, 2), round(gross * 0.08, 2)
    text = f"Løn {m.name} medarbejder {m.rng.randint(1, 40)}"
    return _lines(
        base,
        (2210, gross, {"text": text}),
        (6820, -tax, {"text": "A-skat"}),
        (6830, -am, {"text": "AM-bidrag"}),
        (5600, round(-(gross - tax - am), 2), {"text": text}),
    )


def _small_cost(m: _Month, base: Row) -> list[Row]:
    account, text = m.rng.choice(
        (
            (3620, "Bankgebyr"),
            (2420, "Forretningsfrokost"),
            (2830, "Porto"),
            (2900, "Småanskaffelser"),
            (2250, "Kaffe og frugt"),
        )
    )
    amount = m.money(25, 2_500)
    return _lines(base, (account, amount, {"text": text}), (5600, -amount, {"text": text}))


def _accrual(m: _Month, base: Row) -> list[Row]:
    account, text = m.rng.choice(
        (
            (2860, "Periodisering forsikring"),
            (3010, "Afskrivning driftsmidler"),
            (2850, "Hensat revisorhonorar"),
        )
    )
    amount = m.money(1_000, 30_000)
    other = 5110 if account == 3010 else 7200
    return _lines(base, (account, amount, {"text": f"{text} {m.name}"}), (other, -amount, {"text": text}))


def _supplier_invoice(m: _Month, base: Row, *, split_vat: bool) -> list[Row]:
    number = m.rng.choice(tuple(SUPPLIERS))
    name, account = SUPPLIERS[number]
    m.invoice += m.rng.randint(1, 9)
    net = m.money(200, 40_000)
    vat = round(net * 0.25, 2)
    party = {
        "entryTypeNumber": 3,
        "supplierNumber": number,
        "supplierInvoiceNumber": f"F-{m.invoice}",
        "dueDate": m.due(),
        "text": f"Faktura F-{m.invoice} fra {name}",
    }
    if not split_vat:  # VAT code on the cost line: e-conomic splits the VAT off itself
        return _lines(
            base,
            (6900, round(-(net + vat), 2), party),
            (account, round(net + vat, 2), {"entryTypeNumber": 3, "vatCode": "I25", "text": name}),
        )
    return _lines(
        base,
        (6900, round(-(net + vat), 2), party),
        (account, net, {"entryTypeNumber": 3, "text": name}),
        (5820, vat, {"entryTypeNumber": 3, "text": "Købsmoms"}),
    )


def _customer_payment(m: _Month, base: Row) -> list[Row]:
    amount = m.money(500, 80_000)
    invoice = m.rng.randint(10_000, 19_999)
    party = {
        "entryTypeNumber": 2,
        "customerNumber": m.rng.randint(10_001, 10_200),
        "text": f"Indbetaling faktura {invoice}",
    }
    return _lines(
        base,
        (5600, amount, {"entryTypeNumber": 2, "text": f"Indbetaling faktura {invoice}"}),
        (7100, -amount, party),
    )


Template = Callable[[_Month, Row], list[Row]]
#: (template, journal, weight, line count)
TEMPLATES: tuple[tuple[Template, int, int, int], ...] = (
    (partial(_supplier_invoice, split_vat=False), 1, 15, 2),
    (partial(_supplier_invoice, split_vat=True), 1, 15, 3),
    (_customer_payment, 3, 20, 2),
    (_small_cost, 1, 15, 2),
    (_cash_sale, 1, 10, 3),
    (_rent, 1, 5, 2),
    (_salary, 2, 8, 4),
    (_accrual, 2, 12, 2),
)


def _eur(m: _Month, lines: list[Row]) -> None:
    """Turn a voucher into EUR (bank lines move to the EUR bank account)."""
    for line in lines:
        line["currency"] = "EUR"
        line["exchangeRate"] = EUR_RATE
        if line["accountNumber"] == 5600:
            line["accountNumber"] = 5610


def _spoil(row: Row, kind: str, m: _Month) -> None:
    if kind == "unknown_account":
        row["accountNumber"] = 9999  # well-formed: only the API can tell it is not in the chart
    elif kind == "missing_amount":
        row.pop("amount", None)
    elif kind == "bad_entry_type":
        row["entryTypeNumber"] = 7
    elif kind == "bad_date":
        row["date"] = f"{m.year:04d}-02-30"
    else:
        row["text"] = (row.get("text", "Notat") + " — ") * 40


def generate_rows(rows: int, *, seed: int = 0, bad_every: int = 0, year: int = 2026, month: int = 11) -> Iterator[Row]:
    """``rows`` entries, voucher by voucher (a final short voucher keeps the count exact)."""
    rng = random.Random(seed)
    m = _Month(rng, year, month)
    weights = [w for _, _, w, _ in TEMPLATES]
    produced = bad_seen = 0
    while produced < rows:
        left = rows - produced
        template, journal, _, size = rng.choices(TEMPLATES, weights)[0]
        # never leave a single row for the last voucher: pick a template that fits what is left
        if left < size or left - size == 1:
            fits = [t for t in TEMPLATES if t[3] == left] or [t for t in TEMPLATES if t[3] <= left - 2]
            if not fits:
                template, journal, size = _single, 1, 1
            else:
                template, journal, _, size = rng.choice(fits)
        voucher = m.next_voucher[journal]
        m.next_voucher[journal] += 1
        base: Row = {
            "entryTypeNumber": 5,
            "journalNumber": journal,
            "voucherNumber": voucher,
            "date": m.day(produced / max(rows, 1)),
            "currency": "DKK",
        }
        lines = template(m, base)
        if rng.random() < 0.08:
            _eur(m, lines)
        for line in lines:
            produced += 1
            if bad_every and produced % bad_every == 0:
                _spoil(line, BAD_KINDS[bad_seen % len(BAD_KINDS)], m)
                bad_seen += 1
            yield line


def _single(m: _Month, base: Row) -> list[Row]:
    amount = m.money(25, 500)
    return [{**base, "accountNumber": 3620, "contraAccountNumber": 5600, "amount": amount, "text": "Bankgebyr"}]


# -- Visma Core -------------------------------------------------------------------------------------

VISMA_CORE_FIELDS = ("caseId", "accountingCostType", "amount", "description", "note", "entryDate", "orderId")
VISMA_CORE_BAD = ("missing_amount", "unknown_cost_type", "booked_without_date", "unknown_case")
#: cost type → (line texts, lowest and highest amount in kroner); every type is one of the sandbox's defaults
_BROKER_LINES: dict[str, tuple[tuple[str, ...], int, int]] = {
    "SALARY": (("Vederlag meglerfullmektig", "Vederlag oppgjørsansvarlig"), 3_000, 25_000),
    "FEE": (("Tilretteleggingsgebyr", "Visningsgebyr", "Oppgjørsgebyr"), 2_500, 15_000),
    "OUTLAY": (("Grunnboksutskrift", "Attester kommune", "Eiendomsverdi", "Tinglysingsgebyr", "Porto"), 80, 1_500),
    "COMMISSION": (("Meglerprovisjon", "Tillegg provisjon", "Timehonorar", "Minsteprovisjon"), 5_000, 60_000),
    "MARKETING": (("Foto og video", "Finn-annonse", "Prospekt trykk", "Visningsannonse", "Budsjekk-SMS"), 300, 9_000),
}
assert set(_BROKER_LINES) <= set(DEFAULT_DEFINITIONS)
_MERGED = tuple(t for t, d in DEFAULT_DEFINITIONS.items() if d.MergeOrderLinesToOneEntry and t in _BROKER_LINES)
_ORDER_LINES = 4  # the most lines an order has: a merging type has a text for each (an order names a line once)
assert all(len(_BROKER_LINES[t][0]) >= _ORDER_LINES for t in _MERGED)
_STREETS = ("Storgata", "Kirkeveien", "Bygdøy allé", "Thereses gate", "Strandveien", "Parkveien", "Vestre vei")


def _kroner(rng: random.Random, low: int, high: int) -> str:
    cents = rng.randint(low * 100, high * 100)
    return f"{cents // 100}.{cents % 100:02d}"


def visma_core_rows(
    rows: int, *, seed: int = 0, bad_every: int = 0, year: int = 2026, month: int = 11, **_: Any
) -> Iterator[Row]:
    """Bookkeeping lines case by case: single lines of any cost type and orders of 2–4 adjacent lines of
    one merging type sharing ``(caseId, orderId)``, each its own description: the loader refuses an order that
    gives one cost type and description twice in a row as a copy with edits (docs/visma-core.md), and a file's
    only bad rows are the ``bad_every`` ones. Booked types carry an entry date, drafts now and then.
    ``bad_every`` spoils rows in turn: no amount, cost type NOPE, a booked type without entry date, case 999.
    """
    rng = random.Random(seed)
    days = calendar.monthrange(year, month)[1]
    case, order, produced, bad_seen = FIRST_CASE + rng.randrange(0, 4000), 0, 0, 0
    while produced < rows:
        case += rng.randint(1, 9)
        address = f"{rng.choice(_STREETS)} {rng.randint(1, 120)}"
        for _job in range(rng.randint(1, 3)):
            size = rng.randint(2, _ORDER_LINES) if rng.random() < 0.35 else 1
            size = min(size, rows - produced)
            cost_type = rng.choice(_MERGED) if size > 1 else rng.choice(tuple(_BROKER_LINES))
            order_id = ""
            if size > 1:
                order += 1
                order_id = f"O-{year}-{order:06d}"
            booked = not DEFAULT_DEFINITIONS[cost_type].IsDraft
            day = f"{year:04d}-{month:02d}-{min(1 + produced * days // max(rows, 1), days):02d}"
            texts, low, high = _BROKER_LINES[cost_type]
            for text in rng.sample(texts, size):
                row: Row = {
                    "caseId": case,
                    "accountingCostType": cost_type,
                    "amount": _kroner(rng, low, high),
                    "description": f"{text}, {address}",
                    "note": f"Oppdrag {case}-{year % 100}",
                }
                if booked or rng.random() < 0.5:
                    row["entryDate"] = day
                if order_id:
                    row["orderId"] = order_id
                produced += 1
                if bad_every and produced % bad_every == 0:
                    _spoil_visma(row, VISMA_CORE_BAD[bad_seen % len(VISMA_CORE_BAD)])
                    bad_seen += 1
                yield row
            if produced >= rows:
                return


def _spoil_visma(row: Row, kind: str) -> None:
    if kind == "missing_amount":
        row.pop("amount")
    elif kind == "unknown_cost_type":
        row["accountingCostType"] = "NOPE"
    elif kind == "booked_without_date":
        row["accountingCostType"] = "FEE"
        row.pop("entryDate", None)
    else:
        row["caseId"] = 999  # well-formed: only the API can tell the case does not exist


VISMA_CORE_COST_FIELDS = ("caseId", "type", "costId", "IsOptional", "Amount", "Comment")
VISMA_CORE_COST_BAD = ("not_editable", "unknown_cost")
_COST_COMMENTS = ("Justert etter avtale med kjøper", "Redusert etter reklamasjon", "Ny pris fra leverandør", "")


def visma_core_cost_rows(rows: int, *, seed: int = 0, bad_every: int = 0, **_: Any) -> Iterator[Row]:
    """PATCH rows for the editable costs of the Visma Core sandbox's deterministic cases, each cost once.
    ``bad_every`` aims rows in turn at the case's cost that is not editable and at a cost id that is not there.
    """
    rng = random.Random(seed)
    definition_ids = sorted(d.Id for d in DEFAULT_DEFINITIONS.values())
    case, produced, bad_seen = FIRST_CASE + rng.randrange(0, 4000), 0, 0
    while produced < rows:
        case += rng.randint(1, 9)
        for kind, costs in case_costs(case, definition_ids).items():
            for cost in costs:
                if not cost.Editable or rng.random() < 0.3:
                    continue
                row: Row = {"caseId": case, "type": kind, "costId": cost.Id}
                what = rng.choice(("IsOptional", "Amount", "both", "all"))
                if what != "Amount":
                    row["IsOptional"] = rng.choice(("true", "false"))
                if what != "IsOptional":
                    row["Amount"] = _kroner(rng, int(cost.Amount * 8 // 10), int(cost.Amount * 12 // 10))
                if what == "all" and (comment := rng.choice(_COST_COMMENTS)):
                    row["Comment"] = comment
                produced += 1
                if bad_every and produced % bad_every == 0:
                    if VISMA_CORE_COST_BAD[bad_seen % 2] == "not_editable":
                        row["costId"] = next(c.Id for c in costs if not c.Editable)
                    else:
                        row["costId"] = case * 100 + 9
                    bad_seen += 1
                yield row
                if produced >= rows:
                    return


# -- PayorCRM ----------------------------------------------------------------------------------------

PAYORCRM_CUSTOMER_FIELDS = ("customerno", "emailaddress1", "companyname", "firstname", "lastname", "phoneno", "cocode")
PAYORCRM_INVOICE_FIELDS = (
    "customerNumber",
    "invoiceNumber",
    "invoiceAmount",
    "currency",
    "postDate",
    "dueDate",
    "invoiceDate",
    "documentType",
    "paymentTerms",
    "customerName",
    "companyCode",
    "fiscalYear",
    "fiscalPeriod",
    "reference1",
    "itemText",
    "status",
)
PAYORCRM_CUSTOMER_BAD = ("missing_email", "bad_email")
PAYORCRM_INVOICE_BAD = ("missing_customer_number", "inexact_amount", "bad_customer", "unknown_customer")
_FIRST = ("John", "Maria", "David", "Linda", "James", "Patricia", "Robert", "Jennifer", "Ahmed", "Mei", "Carlos")
_LAST = ("Doe", "Smith", "Johnson", "Garcia", "Miller", "Davis", "Martinez", "Nguyen", "Patel", "Kim", "Lopez")
_NAME_A = ("Blue", "Summit", "Harbor", "Granite", "Pioneer", "Evergreen", "Lakeside", "Redwood", "Silver", "Prairie")
_NAME_B = ("Logistics", "Dental", "Foods", "Builders", "Analytics", "Outfitters", "Medical", "Motors", "Print", "Farms")
_SUFFIX = ("LLC", "Inc.", "Corp.", "Co.", "Group")
_ITEMS = ("Subscription", "Consulting hours", "Hardware", "Support plan", "Freight", "Licenses", "Installation")


def customer_number(i: int) -> str:
    """The customerno of the ``i``-th customer (from 1), the same whatever the seed."""
    return str(231_231_200 + i)


def company_name(i: int) -> str:
    """The ``i``-th customer's company, the same whatever the seed (invoices repeat it)."""
    a, b = _NAME_A[i % len(_NAME_A)], _NAME_B[(i // len(_NAME_A)) % len(_NAME_B)]
    return f"{a} {b} {_SUFFIX[(i // 100) % len(_SUFFIX)]}"


def _bad_customer(i: int, bad_every: int) -> bool:
    return bool(bad_every) and i % bad_every == 0


def payorcrm_customer_rows(rows: int, *, seed: int = 0, bad_every: int = 0, **_: Any) -> Iterator[Row]:
    """Customers ``customer_number(1)`` … ``customer_number(rows)``; ``bad_every`` spoils every K-th in
    turn: no email address (caught locally), an email address without @ (only the API refuses it)."""
    rng = random.Random(seed)
    for i in range(1, rows + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company = company_name(i)
        domain = company.split()[0].lower() + company.split()[1].lower() + ".com"
        row: Row = {
            "customerno": customer_number(i),
            "emailaddress1": f"{first}.{last}@{domain}".lower(),
            "companyname": company,
            "firstname": first,
            "lastname": last,
            "phoneno": f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}",
            "cocode": rng.choice(("US01", "US01", "US02", "CA01")),
        }
        if _bad_customer(i, bad_every):
            if PAYORCRM_CUSTOMER_BAD[(i // bad_every - 1) % 2] == "missing_email":
                row.pop("emailaddress1")
            else:
                row["emailaddress1"] = f"{first}.{last}(at){domain}".lower()
        yield row


def payorcrm_invoice_rows(
    rows: int,
    *,
    seed: int = 0,
    bad_every: int = 0,
    year: int = 2026,
    month: int = 11,
    customers: int = 1000,
    customers_bad_every: int = 0,
    **_: Any,
) -> Iterator[Row]:
    """Invoices for the good customers of a customers file of ``customers`` rows made with
    ``--bad-every customers_bad_every``; amounts in major units (``1234.50``). ``bad_every`` spoils rows
    in turn: no customerNumber, an amount of 12.345 (not a whole number of cents), a customer whose own
    row is bad, a customer that is not in the file at all (999999999)."""
    rng = random.Random(seed)
    good = [i for i in range(1, customers + 1) if not _bad_customer(i, customers_bad_every)]
    spoiled = [i for i in range(1, customers + 1) if _bad_customer(i, customers_bad_every)]
    if not good:
        raise ValueError("every customer is bad: no invoice can point at a good one")
    days = calendar.monthrange(year, month)[1]
    for n in range(1, rows + 1):
        i = rng.choice(good)
        day = 1 + min((n - 1) * days // rows, days - 1)
        issued = f"{year:04d}-{month:02d}-{day:02d}"
        terms = rng.choice((15, 30, 30, 45, 60))
        due = _date_plus(year, month, day, terms)
        cents = rng.randint(2_500, 2_500_000)
        row: Row = {
            "customerNumber": customer_number(i),
            "invoiceNumber": f"INV-{year}-{n:07d}",
            "invoiceAmount": f"{cents // 100}.{cents % 100:02d}",
            "currency": rng.choices(("USD", "CAD", "EUR"), (85, 10, 5))[0],
            "postDate": issued,
            "dueDate": due,
            "invoiceDate": issued,
            "documentType": "RV",
            "paymentTerms": f"NET{terms}",
            "customerName": company_name(i),
            "companyCode": "US01",
            "fiscalYear": str(year),
            "fiscalPeriod": f"{month:02d}",
            "reference1": f"PO-{rng.randint(10_000, 99_999)}",
            "itemText": rng.choice(_ITEMS),
            "status": "open",
        }
        if bad_every and n % bad_every == 0:
            kind = PAYORCRM_INVOICE_BAD[(n // bad_every - 1) % len(PAYORCRM_INVOICE_BAD)]
            if kind == "bad_customer" and not spoiled:
                kind = "unknown_customer"
            if kind == "missing_customer_number":
                row.pop("customerNumber")
            elif kind == "inexact_amount":
                row["invoiceAmount"] = "12.345"
            elif kind == "bad_customer":
                row["customerNumber"] = customer_number(rng.choice(spoiled))
                row["customerName"] = company_name(int(row["customerNumber"]) - 231_231_200)
            else:
                row["customerNumber"] = "999999999"
                row.pop("customerName")
        yield row


def _date_plus(year: int, month: int, day: int, days: int) -> str:
    return (datetime.date(year, month, day) + datetime.timedelta(days=days)).isoformat()


# -- HaloPSA ----------------------------------------------------------------------------------------

HALOPSA_BAD = ("bad_int", "bad_json", "unknown_id")
#: an update names a record created at least this many rows earlier, so chunks sent side by side never
#: update a record whose create is still on its way
HALOPSA_UPDATE_GAP = 20
_MSPS = (
    "Acme MSP",
    "Northwind IT",
    "Contoso Managed Services",
    "Bluewave Technology",
    "Harbour IT Solutions",
    "Pinnacle Networks",
    "Brightpath MSP",
    "Ironclad Support",
    "Cloudnine IT",
    "Lakeside Systems",
)
#: resource → (the accounting system as users name it, its regions)
_SYSTEMS = {
    "XeroDetails": ("Xero", ("UK", "AU", "NZ", "US")),
    "QuickBooksDetails": ("QuickBooks Online", ("US", "CA", "UK")),
    "SageBusinessCloudDetails": ("Sage Business Cloud", ("UK", "IE", "ES")),
    "MYOBdetails": ("MYOB AccountRight", ("AU", "NZ")),
    "KashflowDetails": ("Kashflow", ("UK",)),
    "FortnoxDetails": ("Fortnox", ("SE",)),
    "ExactDetails": ("Exact Online", ("NL", "BE", "UK")),
    "BusinessCentralDetails": ("Business Central", ("US", "UK", "DK")),
    "AvalaraDetails": ("Avalara AvaTax", ("US", "CA")),
}
_ENTITIES = ("Clients", "Suppliers", "Items", "Invoices", "Purchase Orders", "Payments", "Tax Rates")
_GROUPS = ("Hardware", "Software Licences", "Managed Services", "Professional Services", "Cloud Backup")
_LOCALES = {"NL": "nl-NL", "BE": "nl-BE", "UK": "en-GB"}
_CODES = ("SRV", "HW", "LIC", "MSP")


def halopsa_columns(resource: str) -> tuple[str, ...]:
    """A HaloPSA load file's columns: the resource's fields but the server's and the triggers (``_x``)."""
    return tuple(f.name for f in RESOURCES[canonical_resource(resource)] if not f.read_only and f.name[0] != "_")


def _halopsa_value(rng: random.Random, field: Field, ctx: dict[str, str]) -> Any:
    """A realistic value for one field, chosen by its name and kind (``ctx``: the row's msp, system, region)."""
    name, kind = field.name, field.kind
    msp, region = ctx["msp"], ctx["region"]
    if field.secret:
        return f"sk_test_{rng.getrandbits(96):024x}"  # obviously fake, and easy to grep for in any output
    if kind == "bool":
        return rng.random() < 0.85 if "author" in name or "sync" in name else rng.random() < 0.4
    if kind == "datetime":
        day, minute = rng.randint(1, 28), rng.randint(0, 24 * 60 - 1)
        return f"2026-{rng.randint(11, 12)}-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"
    if kind == "array":
        if "mappings" in name:
            return [
                {"halo_id": rng.randint(1, 900), "third_party_id": str(_uuid(rng)), "name": rng.choice(_MSPS)}
                for _ in range(rng.randint(1, 3))
            ]
        picked = rng.sample(range(len(_ENTITIES)), rng.randint(1, 4))
        return [{"id": i + 1, "name": _ENTITIES[i]} for i in sorted(picked)]
    if kind == "object":
        if name == "division_object":
            return {"code": ctx["division"], "description": f"{msp} {region}", "current": True}
        if name == "environment":
            return {"name": "Production", "type": "Production", "country": region}
        return {"id": str(_uuid(rng)) if name == "company" else rng.randint(100_000, 999_999), "name": msp}
    if kind == "int":
        if name in ("environment", "app_type", "instance_type", "suppliernamefield", "address_mapping_type"):
            return rng.randint(0, 1)
        if name == "division":
            return int(ctx["division"])
        if name in ("group_increment", "line_increment"):
            return 10_000 if name[0] == "g" else 100
        if name in ("companyid", "rounding_adjustment_account_code", "generalledgeraccount"):
            return rng.randint(1_000, 9_999) if name != "companyid" else rng.randint(100_000, 999_999)
        return rng.randint(1, 60)
    return _halopsa_text(rng, name, ctx)


def _halopsa_text(rng: random.Random, name: str, ctx: dict[str, str]) -> str:
    msp, system, region, slug = ctx["msp"], ctx["system"], ctx["region"], ctx["slug"]
    if name == "name":
        return f"{msp} \u2013 {system} {region}"
    if name in ("tenant_id",) or (name == "company_id" and system == "Business Central"):
        return str(_uuid(rng))
    if name == "client_id":
        return str(_uuid(rng)) if system == "Business Central" else f"{rng.getrandbits(128):032X}"
    if name in ("tenant_name", "company_name", "default_customer_name"):
        return f"{msp} Ltd" if region in ("UK", "IE", "AU", "NZ") else f"{msp} Inc."
    if name == "company_id":
        return str(rng.randint(10**17, 10**18 - 1)) if system.startswith("Quick") else str(_uuid(rng))
    if name in ("redirect_uri", "redirecturi", "redirect_url"):
        return f"https://{slug}.halopsa.com/oauth/{system.lower().replace(' ', '')}"
    if "url" in name or name == "graph_host":
        host = {"Business Central": "api.businesscentral.dynamics.com", "QuickBooks Online": "quickbooks.intuit.com"}
        return f"https://{host.get(system, 'api.' + system.split()[0].lower() + '.com')}/{slug}"
    if name in ("country",):
        return region
    if name in ("environment_name", "environment_type"):
        return "Production"
    if name == "locale":
        return _LOCALES.get(region, "en-GB")
    if name == "username":
        return f"finance@{slug}.example"
    if "entities" in name:
        return ",".join(rng.sample(("clients", "suppliers", "items", "invoices", "payments"), 3))
    if "group" in name or "top_level" in name:
        return rng.choice(_GROUPS) if "group" in name else ("Customers" if "client" in name else "Suppliers")
    if "tax" in name:
        return rng.choice(("P0000000", "SR", "GST", "VAT20", "EXEMPT"))
    if "item" in name:
        code = f"{rng.choice(_CODES)}-{rng.randint(1, 999):03d}"
        return "Managed Services - Monthly" if name.endswith("_name") else code
    if "account" in name:
        return str(rng.choice((4000, 4010, 5000, 5100))) if "name" not in name else "Sales - Services"
    if "customercode" in name:
        return f"CUST-{rng.randint(1, 9999):04d}"
    if name == "company_version":
        return "24.0"
    if "template" in name:
        return f"{name.split('_')[0].upper()}-DEFAULT"
    if name == "halo_integrator_import_list":
        return "clients;suppliers;items"
    return f"{msp} {region}"  # division names and the like


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def halopsa_rows(
    rows: int, *, seed: int = 0, bad_every: int = 0, resource: str = "XeroDetails", updates: bool = True, **_: Any
) -> Iterator[Row]:
    """``rows`` records for one HaloPSA resource, creates (no ``id``) with every 5th row an update of a
    record created :data:`HALOPSA_UPDATE_GAP` or more rows earlier (the id it gets in a sandbox that is
    empty when the file is loaded). bulkload rejects such an update before it sends it, as any update of a
    record that was not there before the load (the ids are the API's to give: a call refused and sent again
    later shifts them); loaded a second time, into the sandbox the first load filled, they update. Nested
    fields are lists and dicts (JSON text in a CSV cell). ``bad_every`` spoils rows in turn: text in an
    integer field, broken JSON in a nested field (a resource without one: "maybe" in a boolean field), an
    update of id 999999.
    """
    resource = canonical_resource(resource)
    system, regions = _SYSTEMS[resource]
    fields = [f for f in RESOURCES[resource] if f.name in halopsa_columns(resource) and f.name != "id"]
    first_int = next(f.name for f in fields if f.kind == "int")
    nested = next((f.name for f in fields if f.kind in ("array", "object")), None)
    a_bool = next(f.name for f in fields if f.kind == "bool")
    rng = random.Random(seed)
    created = 0
    # names identify records (--match-on name): unique, and an update keeps the name of what it updates
    names: list[str] = []
    used: dict[str, int] = {}
    for n in range(1, rows + 1):
        msp = rng.choice(_MSPS)
        ctx = {
            "msp": msp,
            "system": system,
            "region": rng.choice(regions),
            "slug": msp.split()[0].lower() + "-" + msp.split()[-1].lower(),
            "division": str(rng.randint(100_000, 999_999)),
        }
        row: Row = {}
        if updates and n % 5 == 0 and created > HALOPSA_UPDATE_GAP:
            row["id"] = rng.randint(1, created - HALOPSA_UPDATE_GAP)
        row.update((f.name, _halopsa_value(rng, f, ctx)) for f in fields)
        if "name" in row:
            if "id" in row and 0 < int(row["id"]) <= len(names):
                row["name"] = names[int(row["id"]) - 1]
            else:
                seen = used[row["name"]] = used.get(row["name"], 0) + 1
                if seen > 1:
                    row["name"] = f"{row['name']} ({seen})"
        if bad_every and n % bad_every == 0:
            kind = HALOPSA_BAD[(n // bad_every - 1) % len(HALOPSA_BAD)]
            if kind == "bad_int":
                row[first_int] = "twelve"
            elif kind == "bad_json" and nested is not None:
                row[nested] = '[{"id": 1, "name": "Clients"'
            elif kind == "bad_json":
                row[a_bool] = "maybe"
            else:
                row["id"] = 999_999
        elif "id" not in row:
            created += 1  # a bad row creates nothing, so the ids after it do not shift
            names.append(str(row.get("name", "")))
        yield row


#: kind → (CSV columns, row generator taking ``rows`` and keyword options)
KINDS: dict[str, tuple[tuple[str, ...], Callable[..., Iterator[Row]]]] = {
    "economic": (
        FIELDS,
        lambda rows, seed, bad_every, year, month, **_: generate_rows(
            rows, seed=seed, bad_every=bad_every, year=year, month=month
        ),
    ),
    "visma-core": (VISMA_CORE_FIELDS, visma_core_rows),
    "visma-core-costs": (VISMA_CORE_COST_FIELDS, visma_core_cost_rows),
    "payorcrm-customers": (PAYORCRM_CUSTOMER_FIELDS, payorcrm_customer_rows),
    "payorcrm-invoices": (PAYORCRM_INVOICE_FIELDS, payorcrm_invoice_rows),
    "halopsa": ((), halopsa_rows),  # the columns are the --resource's: see halopsa_columns
}


def write_file(
    out: str | Path,
    rows: int,
    *,
    kind: str = "economic",
    fmt: str = "csv",
    compress: bool = False,
    bad_every: int = 0,
    seed: int = 0,
    year: int = 2026,
    month: int = 11,
    customers: int = 1000,
    customers_bad_every: int | None = None,
    resource: str = "XeroDetails",
    updates: bool = True,
) -> int:
    """Write ``rows`` rows of ``kind`` to ``out`` (gzip when ``compress``); returns how many were written.

    ``customers`` and ``customers_bad_every`` (default: ``bad_every``) describe the customers file the
    ``payorcrm-invoices`` rows point at. The rows go to ``.OUT.partial`` beside ``out``, moved to ``out`` once all
    are written: stopped part way (Ctrl-C, an error), nothing is left at ``out`` that a load could take for the
    whole file. Raises ValueError for an unknown ``kind`` or ``fmt``, OSError where ``out`` cannot be written.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} ({', '.join(KINDS)})")
    fields, make = KINDS[kind]
    if kind == "halopsa":
        fields = halopsa_columns(resource)
    source = make(
        rows,
        seed=seed,
        bad_every=bad_every,
        year=year,
        month=month,
        customers=customers,
        customers_bad_every=bad_every if customers_bad_every is None else customers_bad_every,
        resource=resource,
        updates=updates,
    )
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown format {fmt!r} (csv or jsonl)")
    out = Path(out)
    partial_out = out.with_name(f".{out.name}.partial")
    raw = gz.open(partial_out, "wb", compresslevel=5) if compress else open(partial_out, "wb")  # noqa: SIM115
    written = 0
    try:
        with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            if fmt == "csv":
                writer = csv.writer(text, lineterminator="\n")
                writer.writerow(fields)
                for row in source:
                    writer.writerow([_csv(row.get(f)) for f in fields])
                    written += 1
            else:
                encode = msgspec.json.Encoder().encode
                for row in source:
                    text.write(encode(row).decode())
                    text.write("\n")
                    written += 1
        partial_out.replace(out)
    except BaseException:
        partial_out.unlink(missing_ok=True)
        raise
    return written


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    if isinstance(value, float):
        return f"{value:.2f}"
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bulkload.sandbox.generate_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--kind", choices=tuple(KINDS), default="economic", help="what to write (default: economic)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--bad-every", type=int, default=0, metavar="K", help="every K-th row is bad (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--month", type=int, default=11)
    parser.add_argument(
        "--customers", type=int, default=1000, metavar="N", help="payorcrm-invoices: customers in the customers file"
    )
    parser.add_argument(
        "--customers-bad-every",
        type=int,
        default=None,
        metavar="K",
        help="payorcrm-invoices: the customers file's --bad-every (default: this --bad-every)",
    )
    parser.add_argument(
        "--resource", default="XeroDetails", help="halopsa: the resource (XeroDetails, AvalaraDetails, ...)"
    )
    ns = parser.parse_args(argv)
    try:
        n = write_file(
            ns.out,
            ns.rows,
            kind=ns.kind,
            customers=ns.customers,
            customers_bad_every=ns.customers_bad_every,
            fmt=ns.format,
            compress=ns.gzip,
            bad_every=ns.bad_every,
            seed=ns.seed,
            year=ns.year,
            month=ns.month,
            resource=ns.resource,
        )
    except KeyboardInterrupt:
        print(f"interrupted (Ctrl-C): {ns.out} was not written", file=sys.stderr)
        return 130  # as a shell reports a command stopped by SIGINT
    print(f"wrote {n} rows to {ns.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
