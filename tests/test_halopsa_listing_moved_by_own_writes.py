"""A lost HaloPSA create is looked up in the resource's listing, read page by page until two walks agree: while the
run's own other creates land, the listing moves under the walks and is not whole, and what it leaves out is not
proven absent, so the call is in doubt. Found by tester t69a (a 16,004-row load with drops, faults and commit delays,
killed and resumed): 650 rows of 13 such calls were left in doubt although the API held none of them, their reason
the call's 503 alone; a second `bulkload resume`, nothing else writing, settled them at once. The call's reason now
says why the look could not tell, and the run looks for such calls once more when its own writes have landed
(after the last one and its settle delay, before reconciling): whole then, the look settles them in the same run.
Judged by what the sandbox holds, and by the in-doubt file."""

from __future__ import annotations

import asyncio
import csv
import logging
from collections import Counter
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import serving
from test_halopsa_answers import ENV, Handler, halo_app, held, is_listing, job, write

from bulkload import Job, load, resume
from bulkload.sandbox.halopsa import HALOPSA_KEY
from bulkload.targets.halopsa_listing import PAGE_SIZE

#: the rows of the file, one call each; the POSTs answered 503 with nothing saved (by arrival, from 1)
ROWS = 40
FAILING = {2, 3}
#: someone's records, there before the run: 3 pages of 10 with the run's first
THERE = [{"name": f"Someone's {i:02d}", "tenant_id": f"theirs-{i:02d}"} for i in range(1, 26)]


def tenants(n: int) -> list[dict[str, str]]:
    return [{"name": f"Tenant {i:02d}", "tenant_id": f"tid-{i:02d}"} for i in range(1, n + 1)]


class OwnWritesLanding:
    """The sandbox behind a rule: the POSTs of `failing` (by arrival) are answered 503 with nothing saved, and while
    the run's first round of creates is under way (not all `calls` of them arrived, or some still in flight) each
    page of the listing is read only once another of them has landed, as the run's own creates land between the
    page reads of a look on a busy server. Its listings then move under their walks; once the run's writes have
    landed they are still. `other_writer`: from the first POST on, another writer creates a record before each page
    is read too, up to the end of the first listing begun once the run's writes have landed (the look for the calls
    in doubt then: that listing moves whatever the run does)."""

    def __init__(self, calls: int, failing: set[int]) -> None:
        self.calls, self.failing = calls, failing
        self.posts = self.in_flight = self.landed = self.seen = self.others = 0
        self.other_writer = False
        #: listings begun (their first page asked for PAGE_SIZE records) once the run's writes had landed
        self.after = 0
        self.moved = asyncio.Condition()

    def writing(self) -> bool:
        return self.posts < self.calls or self.in_flight > 0

    async def rule(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path == "/api/XeroDetails":
            self.posts += 1
            if self.posts in self.failing:
                return web.json_response({"error": "Injected fault: nothing was done."}, status=503)
            self.in_flight += 1
            try:
                return await handler(request)
            finally:
                self.in_flight -= 1
                self.landed += 1
                async with self.moved:
                    self.moved.notify_all()
        if is_listing(request) and "page_no" in request.query and self.posts:
            async with self.moved:
                await self.moved.wait_for(lambda: self.landed > self.seen or not self.writing())
            self.seen = self.landed
            if not self.writing() and request.query.get("page_size") == str(PAGE_SIZE):
                self.after += 1
            if self.other_writer and self.after <= 1:
                self.others += 1
                other = {"name": f"Someone's {self.others}", "tenant_id": f"other-{self.others}"}
                request.app[HALOPSA_KEY].store.save("XeroDetails", [other])
        return await handler(request)


def creates(tmp_path: Path, data: Path, url: str) -> Job:
    """The load of `data`, a call a row, four at a time, matched on tenant_id."""
    return job(tmp_path, data, url, batch_size=1, concurrency=4, settle_s=0.2, target_options={"match_on": "tenant_id"})


def in_doubt_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


async def test_a_create_left_in_doubt_by_a_listing_its_own_writes_moved_is_settled_once_they_have_landed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # two creates answered 503 with nothing saved while the other 38 land between the pages their looks read: before,
    # both stayed in doubt (exit 1, "HTTP 503: …" their only reason) though the API held neither; now their looks say
    # why they cannot tell, and once the run's last write has landed a look finds them absent in a whole listing and
    # they are sent again: every row loaded once, in the same run
    server = OwnWritesLanding(ROWS, FAILING)
    data = write(tmp_path / "XeroDetails.csv", tenants(ROWS))
    with anyio.fail_after(120):
        async with serving(halo_app(tmp_path, THERE, server.rule)) as url:
            run = creates(tmp_path, data, url)
            with caplog.at_level(logging.INFO, logger="bulkload"):
                report = await load(run, env=ENV, raise_on_stop=False)
            after = await held(url)
    counts = Counter(r["tenant_id"] for r in after if r["tenant_id"].startswith("tid-"))
    assert len(counts) == ROWS and set(counts.values()) == {1}, counts.most_common(3)
    assert (report.exit_code, report.loaded, report.in_doubt) == (0, ROWS, 0), report
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(
        "whether the API carried it out cannot be told: its listing of XeroDetails was not whole: it moved while its "
        "pages were read" in m
        for m in said
    ), said


async def test_a_create_in_doubt_for_a_listing_that_is_not_whole_says_so_and_a_resume_settles_it(
    tmp_path: Path,
) -> None:
    # another writer keeps the listing moving after the run's writes have landed too: the two calls stay in doubt,
    # and their reason says why the look could not tell and what may settle it, not only the 503 (before: "HTTP 503:
    # Injected fault: nothing was done.", nothing of the listing); with nothing else writing, a resume settles them
    server = OwnWritesLanding(ROWS, FAILING)
    server.other_writer = True
    data = write(tmp_path / "XeroDetails.csv", tenants(ROWS))
    with anyio.fail_after(120):
        async with serving(halo_app(tmp_path, THERE, server.rule)) as url:
            run = creates(tmp_path, data, url)
            report = await load(run, env=ENV, raise_on_stop=False)
            rows = in_doubt_rows(Path(run.in_doubt_path))
            again = await resume(str(tmp_path / "run.sqlite"), env=ENV, raise_on_stop=False)
            after = await held(url)
    assert report.in_doubt == 2 and len(rows) == 2, (report, rows)
    for row in rows:
        why = row["last_error"]
        assert why.startswith("HTTP 503"), why
        assert (
            "the look for its records could not tell whether it was carried out: its listing of XeroDetails was not "
            "whole: it moved while its pages were read" in why
        ), why
        assert (
            "it was so still when looked for again once the run's own writes had landed: a `bulkload resume` once "
            "nothing else writes to XeroDetails may settle it" in why
        ), why
    ours = Counter(r["tenant_id"] for r in after if r["tenant_id"].startswith("tid-"))
    assert len(ours) == ROWS and set(ours.values()) == {1}, ours.most_common(3)
    assert (again.loaded, again.in_doubt) == (ROWS, 0), again
