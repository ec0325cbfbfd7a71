"""An exchange rate is the base currency's price of 100 of the line's currency (seed 002), where banks and most
systems quote the price of 1. Found by a tester (t70d): a voucher of EUR 100.00 at `7,4553` against DKK -745.53 was
booked so, EUR 100.00 worth DKK 7.46, with exit 0 and a line saying one voucher does not balance; the voucher
balances exactly at each rate times 100, which shows the file meant the price of 1. Such a voucher is refused whole,
naming the rate, never booked at a hundredth of its worth."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import CREDS
from test_load_economic import RATED, job, rated, read_csv, remote_entries

from bulkload import load
from bulkload.sandbox import SandboxOptions, running


async def test_a_voucher_that_balances_only_at_its_rates_times_100_is_refused_whole(tmp_path: Path) -> None:
    assert RATED.split(";")[6] == "exchangeRate"
    data = rated(
        tmp_path / "rates.csv",
        "5;1;901;31-10-2026;100,00;EUR;7,4553;5610;per unit",
        "5;1;901;31-10-2026;-745,53;DKK;;5600;x",
        "5;1;902;31-10-2026;-33,33;USD;6,90;5610;per unit, rounded",
        "5;1;902;31-10-2026;-66,67;USD;6,90;5610;per unit, rounded",
        "5;1;902;31-10-2026;690,00;DKK;;5600;x",
        "5;1;903;31-10-2026;100,00;EUR;745,53;5610;per 100",
        "5;1;903;31-10-2026;-745,53;DKK;;5600;x",
        "5;1;904;31-10-2026;100,00;EUR;745,53;5610;per 100, out of balance as the file has it",
        "5;1;904;31-10-2026;-700,00;DKK;;5600;x",
    )
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions()) as url:
            report = await load(job(tmp_path, [data], url), env=CREDS)
            held = await remote_entries(url)
    assert sorted((e["voucherNumber"], e["currency"], e.get("exchangeRate")) for e in held) == [
        (903, "DKK", None),
        (903, "EUR", 745.53),
        (904, "DKK", None),
        (904, "EUR", 745.53),
    ], held
    assert (report.loaded, report.rejected, report.exit_code) == (4, 5, 1), report
    reasons = {(r["line"], r["field"]): r["reason"] for r in read_csv(tmp_path / "rejects.csv", ";")}
    assert reasons[("2", "exchangeRate")].startswith(
        "the voucher does not balance at its exchange rates, and does at each of them times 100: they are written as "
        "the price of 1 EUR, where e-conomic takes a rate as the base currency's price of 100"
    ), reasons
    assert reasons[("3", "")].startswith("voucher 901 (journal 1) rejected: line 2 exchangeRate: "), reasons
    assert "the price of 1 USD" in reasons[("4", "exchangeRate")], reasons
    assert {line for line, _ in reasons} == {"2", "3", "4", "5", "6"}, reasons
