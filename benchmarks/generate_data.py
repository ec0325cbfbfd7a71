"""Realistic month-end draft entries for the e-conomic sandbox, streamed to CSV or JSONL (optionally gzip).

    python -m benchmarks.generate_data --rows 1000000 --format csv --gzip --bad-every 5000 --seed 1 OUT

Vouchers have 2–4 adjacent lines whose amounts sum to zero: finance vouchers (type 5: rent, salaries,
bank fees, accruals, depreciation, cash sales), supplier invoices (type 3, with supplier number, invoice
number and due date) and customer payments (type 2, with customer number). Journals 1–3, voucher numbers
increasing per journal, dates rising through one month, accounts from the sandbox's CHART, mostly DKK
with some EUR at an exchange rate. With ``--bad-every K`` every K-th row is wrong the way real files
are: an account the API does not know (9999), a missing amount, entry type 7, 30 February, a long text.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import gzip as gz
import io
import random
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from bulkload.sandbox.economic_model import CHART

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


def generate_rows(
    rows: int, *, seed: int = 0, bad_every: int = 0, year: int = 2026, month: int = 11
) -> Iterator[Row]:
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
    return [
        {**base, "accountNumber": 3620, "contraAccountNumber": 5600, "amount": amount, "text": "Bankgebyr"}
    ]


def write_file(
    out: str | Path,
    rows: int,
    *,
    fmt: str = "csv",
    compress: bool = False,
    bad_every: int = 0,
    seed: int = 0,
    year: int = 2026,
    month: int = 11,
) -> int:
    """Write the rows to ``out`` (gzip when ``compress``); returns how many were written."""
    raw = gz.open(out, "wb", compresslevel=5) if compress else open(out, "wb")  # noqa: SIM115
    written = 0
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        source = generate_rows(rows, seed=seed, bad_every=bad_every, year=year, month=month)
        if fmt == "csv":
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(FIELDS)
            for row in source:
                writer.writerow([_csv(row.get(f)) for f in FIELDS])
                written += 1
        elif fmt == "jsonl":
            encode = msgspec.json.Encoder().encode
            for row in source:
                text.write(encode(row).decode())
                text.write("\n")
                written += 1
        else:
            raise ValueError(f"unknown format {fmt!r} (csv or jsonl)")
    return written


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument(
        "--bad-every", type=int, default=0, metavar="K", help="every K-th row is bad (0: none)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--month", type=int, default=11)
    ns = parser.parse_args(argv)
    n = write_file(
        ns.out,
        ns.rows,
        fmt=ns.format,
        compress=ns.gzip,
        bad_every=ns.bad_every,
        seed=ns.seed,
        year=ns.year,
        month=ns.month,
    )
    print(f"wrote {n} rows to {ns.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
