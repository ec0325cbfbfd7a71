"""HaloPSA: a create whose answer is lost, looked up in a listing whose `record_count` lags and whose first page holds
as many records as it counts (the sandbox's `count_lag` and `page_size`; a tester's server counted only records a
minute old and gave 10 records unasked). The listing lacked the records the run had been answered for, yet was taken
for every record: the lost call's records "absent", the call sent again, every one of them created twice, and the
run said 30 loaded, 0 in doubt. A listing shown short by what the run itself holds proves no absence: the call is in
doubt, nothing is doubled, and reconciliation names no record missing that the short listing left out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web
from conftest import serving
from test_halopsa_answers import Handler, halo_app

from bulkload import Job, load, reconcile
from bulkload.report import print_summary
from bulkload.sandbox import SandboxOptions, running

ENV = {"HALO_CLIENT_ID": "lag-client", "HALO_CLIENT_SECRET": "lag-secret"}


def write(path: Path, n: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "tenant_id"])
        w.writerows([f"Lakeside {i:02d} – Xero NZ", f"t-{i:02d}"] for i in range(n))
    return path


async def records(url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/records/XeroDetails") as r:
        body: list[dict[str, Any]] = await r.json()
        return body


@pytest.mark.parametrize(
    ("count_lag", "why"),
    [
        # record_count 0 while the first page holds 10: a count below what is listed
        (1000, "its record_count (0) is below the 10 records it listed"),
        # record_count 10 for a first page of 10: whole by the count, but the look's listing leaves out the 10 records
        # the run was answered for, and the reconciliation's counts fewer than the 20 it created
        (20, "its record_count (10) is below the 20 records this run created"),
    ],
)
async def test_a_lost_create_looked_up_in_a_short_listing_is_in_doubt_never_sent_again(
    tmp_path: Path, count_lag: int, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = write(tmp_path / "XeroDetails.csv", 30)
    # seed 2 drops the answer of the 3rd POST of 3 (10 rows each), after the server stored its 10 records
    options = SandboxOptions(window_limit=0, drop_rate=0.3, seed=2, count_lag=count_lag, page_size=10)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "x.sqlite"),
                report=str(tmp_path / "x.json"),
                batch_size=10,
                concurrency=1,
                settle_s=0.2,
                target_options={"match_on": "name"},
            )
            report = await load(job, env=ENV)
            stored = await records(url)
            later = await reconcile(str(tmp_path / "x.sqlite"), env=ENV)
    names = [r["name"] for r in stored]
    assert len(names) == 30 and len(set(names)) == 30, f"{len(names) - len(set(names))} records created twice"
    assert (report.loaded, report.in_doubt, report.rejected) == (20, 10, 0), report
    assert "a look showed the call was not carried out" not in caplog.text
    rec = later.reconcile
    assert not rec.ok and rec.missing_count == 0 and rec.duplicates_count == 0, rec
    assert f"XeroDetails could not be listed whole ({why}" in str(rec.note), rec.note


async def test_a_listing_not_whole_says_what_was_listed_never_that_the_api_holds_it(tmp_path: Path) -> None:
    # found by a tester: all 10 records created and held, the count lagging and the listing a first page of 3;
    # the note said the listing was not whole, yet the summary said "remote count 3, expected 10", "the API holds 3"
    # and "control totals ... expected 10, the API holds 3": read as 7 missing. No answer said how many it holds
    data = write(tmp_path / "XeroDetails.csv", 10)
    options = SandboxOptions(window_limit=0, count_lag=100, page_size=3)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = Job(
                target="halopsa", files=[str(data)], base_url=url, ledger=str(tmp_path / "x.sqlite"), settle_s=0.2
            )
            report = await load(job, env=ENV, raise_on_stop=False)
            stored = await records(url)
    printed = io.StringIO()
    print_summary(report, printed)
    said = printed.getvalue()
    rec = report.reconcile
    assert len(stored) == 10 and report.loaded == 10 and report.exit_code == 3, said  # not proven: a mismatch
    assert "the API holds 3" not in said and "remote count 3" not in said, said
    assert "3 listed; how many the API holds is not known (not listed whole)" in said, said
    assert (rec.expected_count, rec.remote_count) == (10, None), rec
    assert rec.remote_totals == {"per_scope": {"XeroDetails": {"records": None}}}, rec.remote_totals
    assert rec.scopes["XeroDetails"]["listed"] == 3 and "remote" not in rec.scopes["XeroDetails"], rec.scopes


async def test_a_count_that_lags_is_never_said_to_be_what_the_api_holds_in_the_note(tmp_path: Path) -> None:
    # found by a tester: 5 records created and held, the count lagging by 2 (3, as many as the first page lists): the
    # note said "3 of the 3 records it holds were listed"
    data = write(tmp_path / "XeroDetails.csv", 5)
    options = SandboxOptions(window_limit=0, count_lag=2, page_size=3)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = Job(
                target="halopsa", files=[str(data)], base_url=url, ledger=str(tmp_path / "x.sqlite"), settle_s=0.2
            )
            report = await load(job, env=ENV, raise_on_stop=False)
    note = str(report.reconcile.note)
    assert "records it holds" not in note and "3 records were listed, its record_count giving 3" in note, note


async def test_a_count_that_lags_behind_the_load_and_catches_up_reconciles_after_the_settle_delay(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by tester t69b: a server whose `record_count` counts a record only some time after storing it (its
    listing shows it at once) ended the load exit 3, "could not be listed whole (its record_count (0) is below the
    … records it listed …)", though every record was there and counted a moment later: a record of the run not
    listed was listed again after --settle-s, a count that lagged was not. Here the count lags through the first
    listing after the load (the first page of each of its two walks counts none), and is right from the next: the
    run lists again once the settle delay has passed, and reconciles."""
    data = write(tmp_path / "XeroDetails.csv", 5)
    posted: list[int] = []
    lagged: list[int] = []

    async def counts_late(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method == "POST":
            posted.append(1)
            return answer
        listing = request.method == "GET" and request.path == "/api/XeroDetails"
        if not (posted and listing and isinstance(answer, web.Response) and isinstance(answer.body, bytes)):
            return answer
        if request.query.get("page_no", "1") == "1":
            lagged.append(1)
        if len(lagged) > 2:  # the two walks of the first listing after the load
            return answer
        body = json.loads(answer.body)
        return web.json_response({**body, "record_count": 0}, status=answer.status)

    with anyio.fail_after(60):
        async with serving(halo_app(tmp_path, [], counts_late)) as url:
            job = Job(
                target="halopsa", files=[str(data)], base_url=url, ledger=str(tmp_path / "x.sqlite"), settle_s=0.2
            )
            report = await load(job, env=ENV, raise_on_stop=False)
    rec = report.reconcile
    assert (report.loaded, report.exit_code) == (5, 0), report
    assert rec.ok and (rec.expected_count, rec.remote_count) == (5, 5), rec
    assert "is below the records listed or created (it lags): listed again" in caplog.text
