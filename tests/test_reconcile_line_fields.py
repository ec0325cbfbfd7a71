"""Reconciliation of e-conomic lines changed in the API behind bulkload's back where no voucher's totals show it:
a line moved to another voucher, the exchange rate a line was sent with; and not a rate the API set itself on a
line sent without one (seed 002, 8.0.0). Against the sandbox on loopback, changed through its PUT route."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest
from conftest import CREDS

from bulkload import Job, load, reconcile
from bulkload.model import CHECKS_VERSION, also_differs, checks_alike
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, running
from bulkload.targets.economic_entries import DraftEntries, DraftEntry, _Listed, listed_checks, listed_line_checks

HEADERS = {
    "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
    "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
}
HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,exchangeRate,accountNumber,text"
#: two vouchers of 100.00 each, booking other account pairs
SWAPPABLE = [
    "5,1,201,2026-01-31,100.00,DKK,,1010,sale A",
    "5,1,201,2026-01-31,-100.00,DKK,,5600,sale A",
    "5,1,202,2026-01-31,100.00,DKK,,2750,sale B",
    "5,1,202,2026-01-31,-100.00,DKK,,5510,sale B",
]
#: a line in EUR sent with its rate against DKK, and a voucher in EUR whose lines leave the rate to the API
RATED = [
    "5,1,301,2026-01-31,100.00,EUR,745.50,1010,eur sale",
    "5,1,301,2026-01-31,-745.50,DKK,,5600,eur sale",
    "5,1,302,2026-01-31,50.00,EUR,,1010,eur without rate",
    "5,1,302,2026-01-31,-50.00,EUR,,5600,eur without rate",
]
_encode = msgspec.json.Encoder(decimal_format="number").encode


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


async def change(url: str, changes: dict[int, dict[str, Any]]) -> None:
    """Change entries in the API as a user would: read each (its objectVersion too), then PUT them in one call."""
    async with aiohttp.ClientSession(headers=HEADERS) as s:
        changed = []
        for number, fields in changes.items():
            async with s.get(f"{url}/draft-entries/{number}") as r:
                assert r.status == 200, await r.text()
                changed.append({**json.loads(await r.read(), parse_float=Decimal), **fields})
        async with s.put(
            f"{url}/draft-entries/bulk", data=_encode(changed), headers={"Content-Type": "application/json"}
        ) as r:
            assert r.status == 200, await r.text()


async def load_change_reconcile(data: Path, changes: dict[int, dict[str, Any]]) -> tuple[Report, Report]:
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = await load(Job(target="economic", files=[str(data)], base_url=url), env=CREDS)
            assert first.exit_code == 0 and first.reconcile and first.reconcile.ok, first
            await change(url, changes)
            return first, await reconcile(first.ledger, env=CREDS)


@pytest.mark.slow
async def test_two_lines_swapped_between_vouchers_are_lines_changed(tmp_path: Path) -> None:
    # found by a tester: each voucher's sum and debit stayed, so reconciliation said reconciled (exit 0) though
    # voucher 201 now booked 2750 against 5600 and 202 booked 1010 against 5510
    data = write(tmp_path / "swap.csv", SWAPPABLE)
    _, again = await load_change_reconcile(data, {1: {"voucherNumber": 202}, 3: {"voucherNumber": 201}})
    rec = again.reconcile
    assert again.exit_code == 3 and rec is not None and rec.groups_differing_count == 0  # the totals cannot tell
    assert rec.lines_changed_count == 2 and [(c["id"], c["line"]) for c in rec.lines_changed] == [(1, 2), (3, 4)]


@pytest.mark.slow
async def test_an_exchange_rate_sent_and_changed_in_the_api_is_a_line_changed(tmp_path: Path) -> None:
    # found by a tester: EUR 100.00 sent at 745.50 against DKK -745.50, the rate changed to 700.00: reconciled, exit 0
    data = write(tmp_path / "rate.csv", RATED)
    _, again = await load_change_reconcile(data, {1: {"exchangeRate": Decimal("700.00")}})
    rec = again.reconcile
    assert again.exit_code == 3 and rec is not None
    assert rec.lines_changed_count == 1 and [(c["id"], c["line"]) for c in rec.lines_changed] == [(1, 2)]


@pytest.mark.slow
async def test_a_rate_the_api_sets_on_lines_sent_without_one_is_no_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the real API sets its own rate where none is sent (seed 002, 8.0.0): 100 for DKK, the day's rate for EUR; the
    # sandbox sets none, so it is set here as the API would. The rate sent (745.50) is as sent. Then the same file
    # loaded again, from the journal alone (no ledger of the first load): each voucher is there as the file has it
    data = write(tmp_path / "rate.csv", RATED)
    set_by_api = {2: {"exchangeRate": 100}, 3: {"exchangeRate": Decimal("744.10")}, 4: {"exchangeRate": 744.1}}
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = await load(Job(target="economic", files=[str(data)], base_url=url), env=CREDS)
            await change(url, set_by_api)
            again = await reconcile(first.ledger, env=CREDS)
            other = tmp_path / "elsewhere"
            other.mkdir()
            monkeypatch.setenv("XDG_CACHE_HOME", str(other))  # another machine: no record of the first load
            twice = await load(
                Job(target="economic", files=[str(write(other / "rate.csv", RATED))], base_url=url), env=CREDS
            )
    assert again.exit_code == 0 and again.reconcile is not None and again.reconcile.lines_changed_count == 0
    assert (twice.skipped, twice.loaded, twice.rejected, twice.exit_code) == (4, 0, 0, 0), twice


@pytest.mark.slow
async def test_a_ledger_of_the_previous_line_check_version_reconciles_without_lines_changed(tmp_path: Path) -> None:
    # its line checks were made another way (before the voucher and the rate sent were in them): taken for this
    # version's, every line would read as changed; they are not compared (lines by their amounts, groups by totals).
    # The latest version e-conomic's line checks changed after (a later one changed only others': checks_alike)
    previous = max(v for v in range(1, CHECKS_VERSION) if checks_alike(v, "line") != CHECKS_VERSION)
    data = write(tmp_path / "swap.csv", SWAPPABLE)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = await load(Job(target="economic", files=[str(data)], base_url=url), env=CREDS)
            with sqlite3.connect(first.ledger) as db:
                db.execute("UPDATE meta SET value = ? WHERE key = 'checks'", (str(previous),))
                db.execute("UPDATE created SET line_check = line_check + 1")
                db.execute("UPDATE groups SET digest = digest + 1")
            db.close()
            again = await reconcile(first.ledger, env=CREDS)
    assert again.exit_code == 0 and again.reconcile is not None and again.reconcile.lines_changed_count == 0, again


def _sent(**kw: Any) -> DraftEntry:
    line = {"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 7, "date": "2026-01-31"}
    return DraftEntry(**{**line, "amount": Decimal("100.00"), "currency": "EUR", "accountNumber": 1010, **kw})


def _listed(**kw: Any) -> _Listed:
    line = {"entryNumber": 1, "voucherNumber": 7, "date": "2026-01-31T00:00:00", "entryTypeNumber": 5}
    return _Listed(**{**line, "amount": Decimal("100.0"), "currency": "EUR", "accountNumber": 1010, **kw})


def test_a_line_sent_and_listed_as_sent_has_one_check_whatever_the_rates_digits() -> None:
    kind = DraftEntries()
    assert kind.line_check(_sent(), 10000) in listed_checks(10000, _listed())
    sent = kind.line_check(_sent(exchangeRate=Decimal("745.50")), 10000)
    assert sent in listed_checks(10000, _listed(exchangeRate=Decimal("745.5")))


def test_a_line_moved_to_another_voucher_or_sent_rate_changed_has_another_check() -> None:
    kind = DraftEntries()
    assert kind.line_check(_sent(), 10000) not in listed_checks(10000, _listed(voucherNumber=8))
    sent = kind.line_check(_sent(exchangeRate=Decimal("745.50")), 10000)
    assert sent not in listed_checks(10000, _listed(exchangeRate=Decimal("700")))
    assert sent not in listed_checks(10000, _listed())  # the rate taken out
    assert sent != kind.line_check(_sent(), 10000)


def test_a_walked_page_s_checks_are_each_line_s_listed_checks() -> None:
    # listed_line_checks makes a page's checks as columns, reading each line's booked fields by their place in
    # _Listed: every field of a check counts, a line without a rate has none with one, a page without any none
    page = [
        _listed(),
        _listed(exchangeRate=Decimal("745.52999999999997"), date="2026-10-31T23:00:00Z", dueDate="2026-12-01"),
        _listed(voucherNumber=8, text="x", vatCode="I25", supplierPaymentType=1, exchangeRate=Decimal(0)),
        _listed(currency="jpy", customerNumber=3, projectNumber=4, supplierPaymentMessage="m", date=""),
    ]
    units = [10000, 74553, -5, 0]
    bare, rated = zip(*map(listed_checks, units, page))
    assert listed_line_checks(units, page) == (list(bare), list(rated))
    assert rated[0] is None and len(set(bare + rated[1:])) == 7
    assert listed_line_checks(units[:1], page[:1]) == ([bare[0]], None)
    assert listed_line_checks([], []) == ([], None)


def test_a_rate_the_api_set_on_a_line_sent_without_one_is_not_compared() -> None:
    check = DraftEntries().line_check(_sent(), 10000)
    assert check in listed_checks(10000, _listed(exchangeRate=Decimal("744.10")))
    assert check not in listed_checks(10000, _listed(exchangeRate=Decimal("744.10"), accountNumber=1020))


def test_a_voucher_s_rates_are_compared_where_its_file_gives_them_and_only_there() -> None:
    # a group's digest leaves every rate out (what the journal holds cannot tell a rate sent from the API's own): a
    # line that gives one must be a line listed with it (Known.also), as often as the voucher gives it
    kind = DraftEntries()
    eur, dkk = _sent(exchangeRate=Decimal("745.50")), _sent(currency="DKK", amount=Decimal("-7455.00"))
    records, units = [eur, dkk], [100000, -745500]
    checks = [kind.line_check(r, u) for r, u in zip(records, units)]
    bare = kind.group_checks(records, units, checks)
    listed = [_listed(exchangeRate=Decimal("745.5")), _listed(currency="DKK", amount=Decimal("-7455"))]
    as_listed = tuple(c for u, item in zip(units, listed) if (c := listed_checks(u, item)[1]) is not None)
    assert not also_differs(checks, bare, as_listed)  # 745.50 sent is 745.5 listed; the DKK line gives no rate
    # the API's own rate on the DKK line (100) is not compared; one listed on the EUR line other than the file's is
    api_set = (*as_listed, listed_checks(-745500, _listed(currency="DKK", exchangeRate=Decimal(100)))[1] or 0)
    assert not also_differs(checks, bare, api_set)
    other = listed_checks(100000, _listed(exchangeRate=Decimal("746.5")))[1]
    assert other is not None and also_differs(checks, bare, (other,))
    assert also_differs(checks, bare, ())  # listed without a rate: the file's is not there
    assert also_differs(checks + [checks[0]], bare + [bare[0]], as_listed)  # given twice, there once
    assert not also_differs(bare, bare, ())  # a voucher that gives no rate: the digest alone decides
