"""HaloPSA runs into one resource one at a time: a run decides by what it listed before its first call (what
--match-on matches), so two side by side both create the records whose match keys they share. Found by a tester:
two loads of one file with --match-on tenant_id, started together, made 390 records of 200 tenant ids. The first
load is held by the real sandbox (a middleware keeps its uploads waiting) while the second starts, never by timing;
and reconciliation names the records another writer created twice."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import sqlite3
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from operator import methodcaller
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.abc
import pytest
from aiohttp import web
from conftest import bulkload_cmd, child_env, sandbox_read, serving
from msgspec import UNSET

from bulkload import Job, load, reconcile, resume, rollback
from bulkload.alongside import committing
from bulkload.errors import GoneUnsettled, LeftCommitting, ListedBeforeAnother, RunStopped, UnderWayAlongside
from bulkload.ledger import Ledger, OpenCall
from bulkload.report import print_summary
from bulkload.sandbox import SandboxOptions, build_app
from bulkload.targets.halopsa import HaloPSA

ENV = {"HALO_CLIENT_ID": "alongside-client", "HALO_CLIENT_SECRET": "alongside-secret"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def tenants(path: Path, n: int) -> Path:
    """A XeroDetails file of `n` creates, one tenant id each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "tenant_id", "tenant_name"])
        for i in range(n):
            w.writerow([f"Acme {i:03d}", f"tenant-{i:03d}", f"Tenant {i}"])
    return path


@asynccontextmanager
async def stopped_while_held(
    held: HeldUploads, path: Path, url: str, stop: Callable[[anyio.abc.Process], None] = methodcaller("kill")
) -> AsyncIterator[anyio.abc.Process]:
    """The command line's load of `path` into `url`, stopped (`stop`: kill -9, or terminate) once it has listed the
    resource and the sandbox holds its first upload; that upload is let through as the block ends (a late commit).
    Yields the stopped process."""
    first = await anyio.open_process(command(path, url), env=child_env(ENV), stderr=subprocess.DEVNULL, cwd=path.parent)
    async with first:
        try:
            await held.holding.wait()  # it has listed the resource, and its first upload waits
            stop(first)
            await first.wait()
            yield first
        finally:
            held.released.set()


def two_copies(tmp_path: Path, n: int) -> tuple[Path, Path]:
    """The same file of `n` creates (tenants) in two folders, A and B: one run's input, and another's."""
    first = tenants(tmp_path / "A" / "XeroDetails.csv", n)
    second = tmp_path / "B" / "XeroDetails.csv"
    second.parent.mkdir()
    second.write_bytes(first.read_bytes())
    return first, second


def job(data: Path, url: str) -> Job:
    return Job(
        target="halopsa",
        files=[str(data)],
        base_url=url,
        ledger=str(data.with_suffix(".sqlite")),
        batch_size=10,
        target_options={"resources": ["XeroDetails"], "match_on": "tenant_id"},
    )


def command(data: Path, url: str) -> list[str]:
    """The load of `data` at `url`, one call in flight at a time: killed while one is held, no other is on its way
    (found by CI: a second call, recorded as sending and cut by the kill before it reached the sandbox, left the
    resume waiting out the settle delay, as it must)."""
    return bulkload_cmd(
        "load", "halopsa", str(data), "--match-on", "tenant_id", "--base-url", url, "--batch-size", "10",
        "--concurrency", "1", "--no-progress",
    )  # fmt: skip


class HeldUploads:
    """The sandbox, holding the uploads of the first run that uploads (told by its token) until `released`;
    `holding` is set once its first upload waits. Every request that comes while one is held is kept in `later`
    (method, path, whether it bears the held run's token). Let through, a held upload commits whether or not its
    sender is still there (`landed` once every one held has: the run may have had several in flight)."""

    def __init__(self) -> None:
        self.holding, self.released, self.landed = anyio.Event(), anyio.Event(), anyio.Event()
        self.held = 0  # uploads held and not yet through
        self.token: str | None = None
        self.later: list[tuple[str, str, bool]] = []
        self.app = build_app("halopsa", SandboxOptions(window_limit=0))
        self.app.middlewares.insert(0, self.middleware)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        auth = request.headers.get("Authorization")
        if self.holding.is_set() and not self.released.is_set():
            self.later.append((request.method, request.path, auth == self.token))
        if request.method == "POST" and request.path == "/api/XeroDetails":
            self.token = self.token or auth
            if auth == self.token and not self.released.is_set():
                await request.read()  # the whole body in: it commits once let through, its sender gone or not
                self.held += 1
                self.holding.set()
                await self.released.wait()
                try:  # let through: it commits, its sender there or not (killed: as a late commit lands)
                    return await handler(request)
                finally:
                    self.held -= 1
                    if not self.held:  # (before: set by the first through, and a look raced the others' commits)
                        self.landed.set()
        return await handler(request)


def per_tenant(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(r["tenant_id"]) for r in records)


@pytest.mark.slow
async def test_a_match_on_load_is_refused_while_another_into_the_resource_is_under_way(tmp_path: Path) -> None:
    first_file, second_file = two_copies(tmp_path, 200)
    held = HeldUploads()
    reports = []
    with anyio.fail_after(120):
        async with serving(held.app) as url:
            async with anyio.create_task_group() as tg:

                async def first() -> None:
                    reports.append(await load(job(first_file, url), env=ENV))

                tg.start_soon(first)
                await held.holding.wait()  # it has listed the resource, and its first upload waits
                try:
                    second = await anyio.run_process(
                        command(second_file, url), env=child_env(ENV), check=False, cwd=second_file.parent
                    )
                finally:
                    held.released.set()
            records = await sandbox_read(url, "records/XeroDetails")
    err = second.stderr.decode()
    assert second.returncode == 2, err
    first_ledger = str(first_file.with_suffix(".sqlite"))
    assert f"another run loads into {url} (resource XeroDetails) now (ledger {first_ledger}" in err, err
    assert "Load this file again once it has ended; nothing was sent" in err, err
    assert "Traceback" not in err, err
    # refused before its first call: no token asked for, no listing, no upload
    assert [r for r in held.later if not r[2]] == [], held.later
    assert not (second_file.parent / "XeroDetails.csv.ledger.sqlite").exists()
    (report,) = reports
    assert (report.loaded, report.reconcile.ok) == (200, True), report.reconcile
    assert len(records) == 200 and set(per_tenant(records).values()) == {1}, per_tenant(records).most_common(3)


@pytest.mark.slow
async def test_a_run_killed_with_its_upload_in_flight_blocks_loads_until_resumed(tmp_path: Path) -> None:
    # a tester: a load 3 s after a kill -9 listed before the killed run's creates committed, and made 40 records
    # of 20. Here the killed run's upload is held by the sandbox until the second load has been refused; let
    # through then, it commits as a late commit would
    first_file, second_file = two_copies(tmp_path, 50)
    first_ledger = str(first_file.parent / "XeroDetails.csv.ledger.sqlite")  # the command line's own
    held = HeldUploads()
    with anyio.fail_after(120):
        async with serving(held.app) as url:
            async with stopped_while_held(held, first_file, url) as first:
                with pytest.raises(LeftCommitting) as refused:
                    await load(job(second_file, url), env=ENV)
            await held.landed.wait()
            settled = await resume(first_ledger, env=ENV)  # its look finds what its upload created
            report = await load(job(second_file, url), env=ENV)  # and updates it: --match-on
            records = await sandbox_read(url, "records/XeroDetails")
    assert first.returncode == -signal.SIGKILL
    said = str(refused.value)
    assert refused.value.exit_code == 2
    assert f"a run that loaded into {url} (resource XeroDetails) (ledger {first_ledger}, on record since " in said
    assert "left 1 call in flight when it stopped (killed?)" in said, said
    assert f"`bulkload resume --ledger {first_ledger}` looks them up" in said, said
    assert "then load this file again. Where you know what became of them" in said, said
    assert "--allow-duplicate-load loads without waiting for them; nothing was sent" in said, said
    assert [r for r in held.later if not r[2]] == [], held.later  # refused before its first call
    assert (settled.loaded, settled.reconcile.ok) == (50, True), settled.reconcile
    assert (report.loaded, report.reconcile.ok) == (50, True), report.reconcile
    assert len(records) == 50 and set(per_tenant(records).values()) == {1}, per_tenant(records).most_common(3)


@pytest.mark.slow
async def test_a_run_killed_with_its_upload_in_flight_whose_ledger_is_gone_blocks_loads(tmp_path: Path) -> None:
    # found by a tester: a load killed -9 with uploads in flight, its ledger deleted, the same file loaded again at
    # once (at the same ledger path): it listed before the killed run's creates committed, 30 records twice (exit 3).
    # Without the ledger no look can settle those calls: refused until it is put back, or the user says (--forget-
    # ledger) that they have landed
    first_file, _ = two_copies(tmp_path, 50)
    first_ledger = str(first_file.parent / "XeroDetails.csv.ledger.sqlite")  # the command line's own
    held = HeldUploads()
    with anyio.fail_after(120):
        async with serving(held.app) as url:
            reload = replace(job(first_file, url), ledger=first_ledger)
            async with stopped_while_held(held, first_file, url):
                for name in Path(first_file.parent).glob("XeroDetails.csv.ledger.sqlite*"):
                    name.unlink()
                with pytest.raises(GoneUnsettled) as refused:
                    await load(reload, env=ENV)
            await held.landed.wait()  # checked in the API: the user's word, then
            report = await load(replace(reload, forget_ledger=[first_ledger]), env=ENV)
            records = await sandbox_read(url, "records/XeroDetails")
    said = str(refused.value)
    assert refused.value.exit_code == 2
    assert f"the ledger of a run that loaded into {url} (resource XeroDetails) is gone: {first_ledger} (" in said
    assert "That run never finished (killed, or stopped)" in said, said
    assert "pass --forget-ledger with its path" in said and said.endswith("nothing was sent"), said
    assert [r for r in held.later if not r[2]] == [], held.later  # refused before its first call
    assert (report.loaded, report.reconcile.ok) == (50, True), report.reconcile
    assert len(records) == 50 and set(per_tenant(records).values()) == {1}, per_tenant(records).most_common(3)


@pytest.mark.slow
async def test_a_run_stopped_by_sigterm_with_its_upload_in_flight_is_told_as_stopped_so(tmp_path: Path) -> None:
    # the run handled the signal and wrote its ending: its call left in flight is told as left by that stop, not as
    # a kill's ("(killed?)")
    first_file, second_file = two_copies(tmp_path, 50)
    held = HeldUploads()
    with anyio.fail_after(120):
        async with serving(held.app) as url:
            async with stopped_while_held(held, first_file, url, methodcaller("terminate")) as first:
                with pytest.raises(LeftCommitting) as refused:
                    await load(job(second_file, url), env=ENV)
            await held.landed.wait()
    assert first.returncode == 4
    said = str(refused.value)
    # one upload held, and another may have left by the signal (.ci/run found 2): the count is the run's timing's
    assert re.search(r"left [12] calls? in flight when it was stopped by SIGTERM\. ", said), said
    assert "killed" not in said, said


class LostUpload:
    """The sandbox, losing the answer of the first upload (a 503 once its body is in) and failing every look of
    that run after it (a 503 for each GET): the run finds the call in doubt at once and ends. The upload commits
    only once `commit` is called, as a late commit would. While `busy`, every other upload is answered 429 with a
    Retry-After of a day (the run stops, resumable, having listed). `uploads`: the uploads that came, in order."""

    def __init__(self) -> None:
        self.app = build_app("halopsa", SandboxOptions(window_limit=0))
        self.app.middlewares.insert(0, self.middleware)
        self.token: str | None = None
        self.kept: tuple[web.Request, Handler] | None = None
        self.busy = False
        self.uploads = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        auth = request.headers.get("Authorization")
        if request.method == "POST" and request.path == "/api/XeroDetails":
            self.uploads += 1
            if self.busy and self.token is not None:
                return web.Response(status=429, headers={"Retry-After": "86400"})
        if request.method == "POST" and request.path == "/api/XeroDetails" and self.token is None:
            self.token = auth
            await request.read()
            self.kept = (request, handler)
            return web.Response(status=503)
        if self.token is not None and auth == self.token and request.method == "GET":
            return web.Response(status=503)
        return await handler(request)

    async def commit(self) -> None:
        assert self.kept is not None
        request, handler = self.kept
        await handler(request)


@pytest.mark.slow
async def test_a_load_waits_for_the_calls_a_run_that_ended_left_in_doubt_to_land(tmp_path: Path) -> None:
    # found in doubt at once (its look failed), a lost create may yet commit until the settle delay has passed
    first_file, second_file = two_copies(tmp_path, 10)
    lost = LostUpload()
    with anyio.fail_after(120):
        async with serving(lost.app) as url:
            first = await load(replace(job(first_file, url), attempts=2), env=ENV, raise_on_stop=False)
            with pytest.raises(LeftCommitting) as refused:
                await load(job(second_file, url), env=ENV)
            await lost.commit()  # it lands late
            records = await sandbox_read(url, "records/XeroDetails")
    assert (first.loaded, first.in_doubt) == (0, 10), first  # its reconciliation failed as well: the GETs
    said = str(refused.value)
    assert f"(ledger {first_file.with_suffix('.sqlite')}, on record since " in said, said
    assert "left calls in doubt that the API may commit until " in said, said
    assert len(records) == 10 and set(per_tenant(records).values()) == {1}


@pytest.mark.slow
async def test_a_resume_that_only_looks_its_call_in_doubt_up_writes_nothing(tmp_path: Path) -> None:
    # a resume that settles a call in doubt by looking (a GET) sends no write: the time of the run's last write,
    # which a resume of another run that listed since goes by (ListedBeforeAnother), stays its upload's. Before, the
    # look counted as a write, and refused the resume of a run that had listed after the upload landed
    data = tenants(tmp_path / "A" / "XeroDetails.csv", 10)
    ledger = str(data.with_suffix(".sqlite"))
    lost = LostUpload()
    with anyio.fail_after(120):
        async with serving(lost.app) as url:
            first = await load(replace(job(data, url), attempts=2, settle_s=0), env=ENV, raise_on_stop=False)
            wrote = Ledger.last_write(ledger)
            await lost.commit()  # it lands late
            uploads = lost.uploads
            settled = await resume(ledger, env=ENV)  # its look finds what the upload created
            records = await sandbox_read(url, "records/XeroDetails")
    assert (first.loaded, first.in_doubt) == (0, 10), first
    assert (settled.loaded, settled.in_doubt, settled.reconcile.ok) == (10, 0, True), settled
    assert lost.uploads == uploads, "the resume sent an upload"
    assert wrote is not None and Ledger.last_write(ledger) == wrote
    assert len(records) == 10 and set(per_tenant(records).values()) == {1}


@pytest.mark.slow
async def test_a_rollback_that_only_looked_its_call_up_leaves_a_later_listing_standing(tmp_path: Path) -> None:
    # the first run's upload is lost and never lands; a second run lists the resource (nothing of the first's) and
    # is stopped; the first run is rolled back, which looks its call up (a GET: not carried out) and deletes nothing.
    # No write came after the second run listed: its resume goes on (before, the look counted as a write, and the
    # resume was refused as listed before another run's write)
    first_file, second_file = two_copies(tmp_path, 10)
    first_ledger = str(first_file.with_suffix(".sqlite"))
    lost = LostUpload()
    with anyio.fail_after(120):
        async with serving(lost.app) as url:
            first = await load(replace(job(first_file, url), attempts=2, settle_s=0), env=ENV, raise_on_stop=False)
            lost.busy = True
            with pytest.raises(RunStopped):  # it listed, and its upload is put off by a day
                await load(replace(job(second_file, url), settle_s=0), env=ENV)
            lost.busy = False
            undone = await rollback(first_ledger, env=ENV)
            second = await resume(str(second_file.with_suffix(".sqlite")), env=ENV)
            records = await sandbox_read(url, "records/XeroDetails")
    assert (first.loaded, first.in_doubt) == (0, 10), first
    assert (undone.settled.looked_up, undone.settled.not_carried_out) == (1, 1), undone.settled
    assert (second.loaded, second.reconcile.ok) == (10, True), second.reconcile
    assert len(records) == 10 and set(per_tenant(records).values()) == {1}


def test_what_a_run_that_ended_left_committing() -> None:
    # in flight: until a look settles it, however long ago; in doubt: until the settle delay has passed since
    def call(state: str, at: float) -> OpenCall:
        return OpenCall(0, "k", state, at, [2], "h", at)

    assert committing([call("sending", 0.0)], 120.0, 10_000.0) == "1 call in flight when it stopped (killed?)"
    assert committing([call("sending", 0.0)], 120.0, 10_000.0, "stopped by SIGHUP") == (
        "1 call in flight when it was stopped by SIGHUP"
    )
    assert committing([call("sending", 0.0)], 120.0, 10_000.0, "") == "1 call in flight when it stopped"
    assert committing([call("in_doubt", 9_000.0), call("done", 9_990.0)], 120.0, 10_000.0) is None
    young = committing([call("in_doubt", 9_990.0), call("sending", 0), call("sending", 1)], 120.0, 10_000.0)
    assert young is not None and young.startswith("2 calls in flight when it stopped (killed?) and calls in doubt that")


@pytest.mark.slow
async def test_reconciliation_names_the_records_another_writer_created_twice(tmp_path: Path) -> None:
    data = tenants(tmp_path / "XeroDetails.csv", 30)
    with anyio.fail_after(60):
        async with serving(build_app("halopsa", SandboxOptions(window_limit=0))) as url:
            first = await load(job(data, url), env=ENV)
            ours = {str(r["tenant_id"]): r["id"] for r in await sandbox_read(url, "records/XeroDetails")}
            async with aiohttp.ClientSession() as s:  # another writer creates tenants 3 and 7 again
                form = {"grant_type": "client_credentials", **dict(zip(("client_id", "client_secret"), ENV.values()))}
                async with s.post(f"{url}/auth/token", data=form) as r:
                    token = (await r.json())["access_token"]
                doubles = [{"name": f"Again {i}", "tenant_id": f"tenant-{i:03d}"} for i in (3, 7)]
                headers = {"Authorization": f"Bearer {token}"}
                async with s.post(f"{url}/api/XeroDetails", json=doubles, headers=headers) as r:
                    made = [item["id"] for item in await r.json()]
            again = await reconcile(str(data.with_suffix(".sqlite")), env=ENV)
    assert first.reconcile.ok and first.loaded == 30, first.reconcile
    rec = again.reconcile
    assert not rec.ok and rec.duplicates_count == 2, rec
    assert rec.duplicates == [
        {"id": made[0], "scope": "XeroDetails", "of": ours["tenant-003"], "file": str(data), "line": 5},
        {"id": made[1], "scope": "XeroDetails", "of": ours["tenant-007"], "file": str(data), "line": 9},
    ]
    assert rec.note == (
        "XeroDetails holds 2 records more than were there before and this run created: another writer created them "
        "while this run loaded or since (another load of the same records side by side creates each twice); 2 of "
        "them share their --match-on fields (tenant_id) with a record this run created: created twice "
        "(`duplicates` names each, with the record and the row it doubles)"
    )


@pytest.mark.slow
async def test_a_resume_is_refused_while_a_load_into_the_resource_is_under_way(tmp_path: Path) -> None:
    stopped_file = tenants(tmp_path / "C" / "XeroDetails.csv", 20)
    first_file = tenants(tmp_path / "A" / "XeroDetails.csv", 20)
    held = HeldUploads()
    with anyio.fail_after(120):
        async with serving(held.app) as url:
            with pytest.raises(RunStopped):  # its quota spent on its look-ups: it created nothing
                await load(replace(job(stopped_file, url), daily_quota=1), env=ENV)
            async with anyio.create_task_group() as tg:
                tg.start_soon(partial(load, job(first_file, url), env=ENV))
                await held.holding.wait()
                try:
                    with pytest.raises(UnderWayAlongside) as refused:
                        await resume(str(stopped_file.with_suffix(".sqlite")), env=ENV, daily_quota=1000)
                finally:
                    held.released.set()
            records = await sandbox_read(url, "records/XeroDetails")
    assert refused.value.exit_code == 2
    said = str(refused.value)
    assert f"(ledger {first_file.with_suffix('.sqlite')}, on record since " in said, said
    assert f"Resume this run again (`bulkload resume --ledger {stopped_file.with_suffix('.sqlite')}`)" in said, said
    assert [r for r in held.later if not r[2]] == [], held.later
    assert len(records) == 20


@pytest.mark.slow
async def test_records_the_runs_own_calls_in_doubt_created_are_not_another_writers(tmp_path: Path) -> None:
    # a tester: every answer lost, the one call of Dup, Dup, Solo in doubt (two creates of one call found as one);
    # reconciliation took its three records for another writer's, and the user might delete the only copies. The two
    # Dup rows send the same values: no look tells their records apart (two that differ in another value are told
    # apart by it since, t56c: test_halopsa_lost_creates_alike)
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name,tenant_name\nDup,a\nDup,a\nSolo,c\n", encoding="utf-8")
    lossy = build_app("halopsa", SandboxOptions(window_limit=0, drop_rate=1, seed=1))
    with anyio.fail_after(60):
        async with serving(lossy) as url:
            run = replace(job(data, url), settle_s=0, target_options={"resources": ["XeroDetails"]})
            report = await load(run, env=ENV)
            made = sorted(r["id"] for r in await sandbox_read(url, "records/XeroDetails"))  # lines 2, 3, 4
            async with aiohttp.ClientSession() as s:  # then another writer creates one more Dup
                form = {"grant_type": "client_credentials", **dict(zip(("client_id", "client_secret"), ENV.values()))}
                async with s.post(f"{url}/auth/token", data=form) as r:
                    token = (await r.json())["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                with pytest.raises(aiohttp.ServerDisconnectedError):  # committed, its answer dropped too
                    await s.post(f"{url}/api/XeroDetails", json=[{"name": "Dup"}], headers=headers)
            (theirs,) = {r["id"] for r in await sandbox_read(url, "records/XeroDetails")} - set(made)
            again = await reconcile(str(data.with_suffix(".sqlite")), env=ENV)
    # what the run's calls sent, not a mismatch: rows in doubt (exit 1) until resume records them
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 3, 1), report
    rec = report.reconcile
    assert rec.ok and rec.in_doubt_found_count == 3 and rec.duplicates_count == 0, rec
    assert rec.in_doubt_found == [
        {"id": made[0], "scope": "XeroDetails", "file": str(data), "line": 2},
        {"id": made[1], "scope": "XeroDetails", "file": str(data), "line": 3},
        {"id": made[2], "scope": "XeroDetails", "file": str(data), "line": 4},
    ]
    assert rec.scopes["XeroDetails"] == {"before": 0, "loaded": 0, "expected": 0, "remote": 3, "in_doubt": 3}
    assert rec.note is UNSET, rec.note
    said = io.StringIO()
    print_summary(report, said)
    summary = said.getvalue()
    assert "yes, + 3 of calls in doubt (not yet recorded)" in summary and "another writer" not in summary, summary
    assert "remote count 3 = 0 there before + 0 loaded + 3 of calls in doubt" in summary, summary
    assert f"calls in doubt landed: 3 entries (e.g. id {made[0]}, {data} line 2)" in summary, summary
    assert "idempotency key" not in summary, summary
    # only what no row of the run accounts for is another writer's: the third Dup
    rec = again.reconcile
    assert rec.ok and rec.in_doubt_found_count == 3 and rec.duplicates_count == 0, rec
    assert theirs not in {item["id"] for item in rec.in_doubt_found}, rec.in_doubt_found
    # counted as another writer's (not a mismatch: model.scope_holds); the calls in doubt landed are what is left
    assert rec.others == [{"id": theirs, "scope": "XeroDetails"}] and rec.note is UNSET, rec
    said = io.StringIO()
    print_summary(again, said)
    assert "yes, + 3 of calls in doubt (not yet recorded)" in said.getvalue(), said.getvalue()
    assert "remote count 4 = 0 there before + 0 loaded + 1 added by others + 3 of calls in doubt" in said.getvalue()


@pytest.mark.slow
async def test_a_resume_is_refused_once_another_run_wrote_into_the_resource_since_it_listed(tmp_path: Path) -> None:
    # a tester: a load of a file with --match-on tenant_id killed after 100 of 300 creates, then a load of the same
    # rows (the killed run's calls settled: allowed), then the resume of the killed run, which matched its rows
    # against its listing from before its first call, and created the other run's 200 records again. Here the
    # first run is stopped by its quota after its first upload (its calls settled), never by timing
    first_file, second_file = two_copies(tmp_path, 30)
    first_ledger = str(first_file.with_suffix(".sqlite"))
    with anyio.fail_after(120):
        async with serving(build_app("halopsa", SandboxOptions(window_limit=0))) as url:
            with pytest.raises(RunStopped) as stopped:  # its quota: a token, a listing, one upload of 10
                await load(replace(job(first_file, url), daily_quota=3, concurrency=1), env=ENV)
            second = await load(job(second_file, url), env=ENV)  # it lists the first run's 10, and updates them
            with pytest.raises(ListedBeforeAnother) as refused:
                await resume(first_ledger, env=ENV, daily_quota=1000)
            kept = await sandbox_read(url, "records/XeroDetails")
            # the way on it gives: the run rolled back, its file loaded again matches what the second run loaded
            await rollback(first_ledger, env=ENV)
            again = await load(replace(job(first_file, url), ledger=str(tmp_path / "again.sqlite")), env=ENV)
            records = await sandbox_read(url, "records/XeroDetails")
    assert stopped.value.report is not None and stopped.value.report.loaded == 10, stopped.value.report
    assert (second.loaded, second.reconcile.ok) == (30, True), second.reconcile
    assert len(kept) == 30 and set(per_tenant(kept).values()) == {1}, per_tenant(kept).most_common(3)
    said = str(refused.value)
    assert refused.value.exit_code == 2
    second_ledger = second_file.with_suffix(".sqlite")
    assert f"another run wrote into {url} (resource XeroDetails) (ledger {second_ledger}, on record since " in said
    assert "after this run listed the records there at " in said, said
    assert f"Roll this run back (`bulkload rollback --ledger {first_ledger}`), then load its files again" in said
    assert said.endswith("; nothing was sent"), said
    in_manifest = refused.value.in_manifest("j", "bulkload run m.toml --resume")
    assert f"(`bulkload rollback --ledger {first_ledger}`), then run the manifest again" in in_manifest, in_manifest
    assert (again.loaded, again.reconcile.ok) == (30, True), again.reconcile
    assert len(records) == 30 and set(per_tenant(records).values()) == {1}, per_tenant(records).most_common(3)


def listed_later(ledger: str, by_s: float) -> None:
    """Move the time the run of `ledger` listed (its target's `listed_at`) `by_s` seconds on: as if the wall clock
    was stepped back by that much after it listed (NTP correcting a clock that ran ahead)."""
    with sqlite3.connect(ledger) as db:
        ((raw,),) = db.execute("SELECT value FROM meta WHERE key = 'run'")
        run = json.loads(raw)
        run["options"]["listed_at"] += by_s
        db.execute("UPDATE meta SET value = ? WHERE key = 'run'", (json.dumps(run),))


@pytest.mark.slow
async def test_a_resume_is_refused_once_another_run_wrote_since_it_listed_though_the_clock_was_stepped_back(
    tmp_path: Path,
) -> None:
    # found by a tester: the clock stepped back two hours after the first run listed dated the second run's writes
    # before that listing: the resume went ahead, matched against its old listing, and created the second run's 20
    # records again (exit 3). The second run was put on record after the first: it wrote after the listing
    first_file, second_file = two_copies(tmp_path, 30)
    first_ledger = str(first_file.with_suffix(".sqlite"))
    with anyio.fail_after(120):
        async with serving(build_app("halopsa", SandboxOptions(window_limit=0))) as url:
            with pytest.raises(RunStopped):  # its quota: a token, a listing, one upload of 10
                await load(replace(job(first_file, url), daily_quota=3, concurrency=1), env=ENV)
            listed_later(first_ledger, 7200)
            await load(job(second_file, url), env=ENV)
            with pytest.raises(ListedBeforeAnother) as refused:
                await resume(first_ledger, env=ENV, daily_quota=1000)
            records = await sandbox_read(url, "records/XeroDetails")
    assert len(records) == 30 and set(per_tenant(records).values()) == {1}, per_tenant(records).most_common(3)
    assert "though the clock dates that write earlier" in str(refused.value), refused.value


@pytest.mark.slow
async def test_a_resume_is_refused_once_a_run_whose_ledger_is_gone_was_put_on_record_since_it_listed(
    tmp_path: Path,
) -> None:
    # found by a tester: the second run's ledger deleted, the resume of the first could not read when it wrote, went
    # ahead against its old listing and created the second run's 20 records again
    first_file, second_file = two_copies(tmp_path, 30)
    first_ledger = str(first_file.with_suffix(".sqlite"))
    with anyio.fail_after(120):
        async with serving(build_app("halopsa", SandboxOptions(window_limit=0))) as url:
            with pytest.raises(RunStopped):  # its quota: a token, a listing, one upload of 10
                await load(replace(job(first_file, url), daily_quota=3, concurrency=1), env=ENV)
            await load(job(second_file, url), env=ENV)
            second_file.with_suffix(".sqlite").unlink()
            with pytest.raises(ListedBeforeAnother) as refused:
                await resume(first_ledger, env=ENV, daily_quota=1000)
            records = await sandbox_read(url, "records/XeroDetails")
    assert len(records) == 30 and set(per_tenant(records).values()) == {1}, per_tenant(records).most_common(3)
    assert "its ledger gone: when it wrote, unknown) after this run listed" in str(refused.value), refused.value


def test_a_ledger_that_does_not_say_when_its_run_listed_listed_before_any_other_write() -> None:
    # one made before the time was kept: its listing may be older than any other run's writes
    listed = {"resources": ["XeroDetails"], "match_on": "tenant_id", "before": {"XeroDetails": 0}}
    assert HaloPSA.from_options(listed).books.listed_at == 0.0
    assert HaloPSA.from_options({**listed, "listed_at": 12.5}).books.listed_at == 12.5
    assert HaloPSA.from_options({"resources": ["XeroDetails"]}).books.listed_at is None  # not listed yet
