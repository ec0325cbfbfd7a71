"""PayorCRM answers whose records name their invoices but give each another's amount (tester t46b): the per-currency
control totals are the same (a swap within one currency), yet the API says invoice I2 holds I3's amount and I3 I2's.
Each record paired with its row by its invoiceNumber is compared with the amount that row sent: a call whose record
gives its invoice another amount is named in calls_differing (exit 3), never reconciled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_payorcrm_figures import answering, loaded


def swapped(items: list[dict[str, Any]], real: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's answer, its records' invoiceAmount turned round among the records of a call of one currency."""
    records = real["results"]
    if not all("invoiceAmount" in r for r in records):  # the customers' upload
        return real
    by_currency: dict[str, list[dict[str, Any]]] = {}
    for item, record in zip(items, records, strict=True):
        by_currency.setdefault(item.get("currency", ""), []).append(record)
    for same in by_currency.values():
        amounts = [r["invoiceAmount"] for r in same]
        for record, amount in zip(same, amounts[1:] + amounts[:1]):
            record["invoiceAmount"] = amount
    return real


async def test_records_giving_their_invoices_each_others_amounts_differ(tmp_path: Path) -> None:
    report, printed = await loaded(tmp_path, answering(swapped))
    rec = report.reconcile
    assert rec is not None
    assert rec.ok is False, printed
    differing = rec.calls_differing
    assert differing and all("invoiceAmount" in call["fields_differing"] for call in differing), differing
    assert report.exit_code == 3


async def test_records_giving_their_invoices_their_own_amounts_reconcile(tmp_path: Path) -> None:
    report, printed = await loaded(tmp_path, answering(lambda items, real: real))
    assert report.reconcile is not None and report.reconcile.ok is True, printed
    assert report.exit_code == 0
