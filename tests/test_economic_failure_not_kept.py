"""An e-conomic server that stores a bulk create, then answers 500, and keeps no failure under the call's
Idempotency-Key (seed 002 and the seeds README say a key's answer is cached for an hour, not that a 5xx is: the
sandbox's own cache keeps none). Found by tester t74b's server: the retry with the same key was carried out anew, and
the call's vouchers were in the journal twice, `remote count 60, expected 50`, exit 3. A keyed call answered a 5xx
that is not replayed is looked for in its journal before it is sent again: found whole, it is loaded as found.
Against the independent e-conomic server (written from seed 002)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
from conftest import CREDS, economic_job, serving
from economic_independent_server import STORE, Opts, make_app
from test_reconcile_refused import entries, summary

from bulkload import load
from bulkload.results import Report


async def loaded_past_a_5xx(tmp_path: Path, opts: Opts, **settings: Any) -> tuple[Report, list[dict[str, Any]]]:
    """A load of 6 vouchers of 2 lines (12 entries, 3 calls of 4, one at a time) into the independent server with
    `opts`, its first call answered 500 after its entries were stored; `settings`: the Job's others (settle_s). The
    report and the entries the server stored."""
    data = tmp_path / "e.csv"
    entries(data, 6, ())
    app = make_app(replace(opts, fail_after_commit={1}, cache_errors=False))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=4, concurrency=1, **settings)
            report = await load(job, env=CREDS, raise_on_stop=False)
            return report, list(app[STORE].entries.values())  # type: ignore[attr-defined]


def once_each(stored: list[dict[str, Any]]) -> None:
    lines = Counter((entry["voucherNumber"], str(entry["amount"])) for entry in stored)
    assert len(stored) == 12 and set(lines.values()) == {1}, lines


async def test_a_5xx_after_the_entries_were_stored_is_not_sent_again_once_a_look_finds_them(tmp_path: Path) -> None:
    report, stored = await loaded_past_a_5xx(tmp_path, Opts())
    once_each(stored)
    assert report.exit_code == 0 and report.loaded == 12 and report.in_doubt == 0, report.stop_reason
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile


async def test_a_5xx_whose_entries_are_listed_late_is_looked_for_again_after_the_settle_delay(tmp_path: Path) -> None:
    # the entries stored, then the 500, listed a second later (a read replica, or a commit that lands after the
    # answer): the look at once found nothing, and the call was sent again with its key at once, --settle-s 3 or
    # not; the server keeps no failure, so it stored the vouchers again: 16 entries, exit 0 (tester t74g)
    report, stored = await loaded_past_a_5xx(tmp_path, Opts(list_lag_ms=1000), settle_s=3)
    once_each(stored)
    assert report.exit_code == 0 and report.loaded == 12 and report.in_doubt == 0, report.stop_reason


async def test_a_call_sent_again_after_a_5xx_a_look_found_nothing_of_is_counted_and_said(tmp_path: Path) -> None:
    # at the default --settle-s 0, a call answered 500 whose commit lands 2 s later: the look at once found nothing,
    # the call was sent again with its key and stored again, and the load's reconciliation passed before the late
    # commit was listed: exit 0, and nothing said of it (tester t74j). It is counted, and the summary says what to do
    report, stored = await loaded_past_a_5xx(tmp_path, Opts(late_commit_ms=2000))
    assert len(stored) == 16 and report.exit_code == 0, report  # the double, not yet listed when the load reconciled
    assert report.resent_unfound == 1
    said = summary(report)
    assert "1 keyed call was sent again with its key after a 5xx, a look having found nothing of it" in said
    assert f"run `bulkload reconcile --ledger {tmp_path / 'run.sqlite'}` again in a while" in said, said
    assert "give the next load --settle-s SECONDS" in said, said
