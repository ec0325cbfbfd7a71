"""e-conomic supplier payment details written as a spreadsheet writes a long number (tester t42a): a Plus71 payment
id has 15 digits, which Excel shows as 1,23457E+14 and saves so in a CSV. It was sent as the supplier payment
message, exit 0: a payment to no such id. Now it is rejected with its voucher, as an invoice number so written is;
the id written in full loads."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
from conftest import CREDS, economic_job, serving

from bulkload import load
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app

HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;supplierNumber;{}"


async def test_a_payment_id_written_with_an_exponent_is_refused_with_its_voucher(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    rows = [
        HEADER.format("supplierPaymentType;supplierPaymentMessage;supplierPaymentBank"),
        "3;1;1;31-10-2026;-1.000,00;DKK;6900;60002;1;1,23457E+14;",
        "3;1;1;31-10-2026;1.000,00;DKK;2760;;;;",
        "3;1;2;31-10-2026;-500,00;DKK;6900;60002;7;Faktura 12;1.23457E+13",
        "3;1;2;31-10-2026;500,00;DKK;2760;;;;",
        "3;1;3;31-10-2026;-200,00;DKK;6900;60002;1;000001234567890;",
        "3;1;3;31-10-2026;200,00;DKK;2760;;;;",
    ]
    data.write_text("\n".join(rows) + "\n")
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:
            report = await load(economic_job(data, origin, tmp_path / "run.sqlite"), env=CREDS)
    held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    assert (report.loaded, report.rejected) == (2, 4), report
    assert {e["voucherNumber"] for e in held} == {3}, held
    assert [e.get("supplierPaymentMessage") for e in held if "supplierPaymentMessage" in e] == ["000001234567890"]
    reasons = (tmp_path / "e.csv.rejects.csv").read_text()
    assert "supplierPaymentMessage;'1,23457E+14' is written with an exponent" in reasons, reasons
    assert "supplierPaymentBank;'1.23457E+13' is written with an exponent" in reasons, reasons
