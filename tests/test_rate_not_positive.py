"""An exchange rate is the base currency's price of 100 of the line's currency (seed 002): never 0 or below. Found by a
tester: a rate written in accounting's parentheses, `(745.50)`, was read as -745.50 and booked so, exit 0, and its
voucher (EUR 100.00 on 5610 and DKK 745.50 on 5600, both lines debits) counted as balancing; a rate of 0 made EUR
100.00 against DKK 0.00 balance too."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import CREDS
from test_load_economic import RATED, job, rated, read_csv, remote_entries

from bulkload import load
from bulkload.sandbox import SandboxOptions, running


async def test_a_rate_of_0_or_below_is_refused_with_its_voucher_and_never_booked(tmp_path: Path) -> None:
    assert RATED.split(";")[6] == "exchangeRate"
    data = rated(
        tmp_path / "rates.csv",
        "5;1;901;31-10-2026;100,00;EUR;(745,50);5610;in parentheses",
        "5;1;901;31-10-2026;745,50;DKK;;5600;x",
        "5;1;902;31-10-2026;100,00;EUR;745,50-;5610;trailing minus",
        "5;1;902;31-10-2026;745,50;DKK;;5600;x",
        "5;1;903;31-10-2026;100,00;EUR;0;5610;zero",
        "5;1;903;31-10-2026;0,00;DKK;;5600;x",
        "5;1;904;31-10-2026;100,00;EUR;745,50;5610;good",
        "5;1;904;31-10-2026;-745,50;DKK;;5600;x",
    )
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions()) as url:
            report = await load(job(tmp_path, [data], url), env=CREDS)
            held = await remote_entries(url)
    assert sorted((e["voucherNumber"], e["currency"], e.get("exchangeRate")) for e in held) == [
        (904, "DKK", None),
        (904, "EUR", 745.5),
    ], held
    assert (report.loaded, report.rejected, report.exit_code) == (2, 6, 1), report
    reasons = {(r["line"], r["field"]): r["reason"] for r in read_csv(tmp_path / "rejects.csv", ";")}
    for line, rate in (("2", "-745,50"), ("4", "-745,50"), ("6", "0")):
        assert reasons[(line, "exchangeRate")].lstrip("'").startswith(f"{rate} is no exchange rate: "), reasons
    assert reasons[("3", "")].startswith("voucher 901 (journal 1) rejected: line 2 exchangeRate: "), reasons
