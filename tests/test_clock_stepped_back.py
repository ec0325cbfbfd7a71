"""A wall clock stepped back (NTP correcting a clock that ran ahead, a VM restored from a snapshot, another machine's
clock resuming a PostgreSQL ledger) after a call was sent: its ledger's `sent_at` lies in the future. Its age cannot be
told, so its Idempotency-Key is not trusted to deduplicate (seed 002: kept for one hour): the call is looked for, as
one whose key is older than the API keeps one (docs/guarantees.md#exactly-once)."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from conftest import CREDS, economic_job, serving
from test_reconcile_refused import entries, held

from bulkload import instants, load, resume, rollback
from bulkload.instants import BOOT_ID, Instant, age
from bulkload.pipeline import KEY_TTL_MARGIN_S, key_kept
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app

HOUR = 3600.0


def test_a_key_is_trusted_only_for_an_age_the_clock_can_tell() -> None:
    sent = Instant(1_000_000.0)  # no clock since boot kept (a ledger from before it, a system without one)
    assert key_kept(sent, Instant(sent.wall + 60), HOUR)
    assert not key_kept(sent, Instant(sent.wall + HOUR - KEY_TTL_MARGIN_S), HOUR)  # the margin: a clock a little off
    assert not key_kept(sent, Instant(sent.wall - 1), HOUR)  # sent "in the future": the clock was stepped back since
    assert not key_kept(sent, Instant(sent.wall - 2 * HOUR), HOUR)
    assert not key_kept(None, sent, HOUR)  # never sent: no key the API holds
    assert key_kept(sent, Instant(sent.wall + 10 * HOUR), float("inf"))  # an API that never forgets a key


def test_a_keys_age_is_told_by_the_clock_since_boot_whatever_the_wall_clock_did() -> None:
    # found by tester t70c: a resume after the API forgot its keys, the wall clock stepped back meanwhile, judged the
    # keys by the wall clock alone: young, replayed, carried out again (3,989 of 20,000 rows doubled)
    sent = Instant(1_000_000.0, "boot-a 500.000")
    stepped_back = Instant(sent.wall + 600, "boot-a 7700.000")  # two hours on, the wall clock says ten minutes
    assert age(sent, stepped_back) == 7200.0
    assert not key_kept(sent, stepped_back, HOUR)
    assert key_kept(sent, Instant(sent.wall + 600, "boot-a 1100.000"), HOUR)  # ten minutes by both
    assert age(sent, Instant(sent.wall - 7200, "boot-a 600.000")) == 100.0  # stepped back past the send: still told
    assert age(sent, Instant(sent.wall + 7200, "boot-a 600.000")) == 7200.0  # stepped forward: the older, safe side
    assert age(sent, Instant(sent.wall + 60, "boot-a 400.000")) is None  # restored from a snapshot: cannot be told
    # across a reboot the wall clock spans it, never for less than the time since this boot began
    assert age(sent, Instant(sent.wall + 1800, "boot-b 120.000")) == 1800.0
    assert age(sent, Instant(sent.wall + 1800, "boot-b 7200.000")) is None
    assert not key_kept(sent, Instant(sent.wall + 1800, "boot-b 7200.000"), HOUR)
    assert age(sent, Instant(sent.wall + 60)) == 60.0  # this system tells no boot clock: the wall clock's


def test_this_moment_is_told_by_both_clocks() -> None:
    now = Instant.now()
    assert abs(now.wall - time.time()) < 60
    if sys.platform == "linux":
        boot_id, _, seconds = str(now.boot).partition(" ")
        assert boot_id == BOOT_ID.read_text().strip() and float(seconds) > 0, now


def _sent_in_the_future(ledger: Path, app: object) -> list[int]:
    """As if the answer of the call that loaded voucher 2 was lost (in flight at a kill -9) and the wall clock was
    then stepped back two hours: the ledger has it `sending`, sent two hours from now. Its entries stay in the
    journal (it was carried out). Returns their entry numbers."""
    with sqlite3.connect(ledger) as db:
        ((seq,),) = db.execute("SELECT seq FROM chunks WHERE state = 'done' ORDER BY seq LIMIT 1 OFFSET 1")
        # sent on another boot (or machine), whose clock since boot tells nothing here
        db.execute(
            "UPDATE chunks SET state = 'sending', sent_at = sent_at + 7200, sent_boot = ? WHERE seq = ?",
            ("another-boot 5.0", seq),
        )
        db.execute("DELETE FROM created WHERE loc IN (4, 5)")  # voucher 2's lines: their answer never came back
    return held(app)[2]


async def test_a_resume_after_the_clock_was_stepped_back_looks_for_the_call_not_sends_it_again(tmp_path: Path) -> None:
    # found by a tester: the key's age read as negative was "younger than 55 minutes": the call was sent again with a
    # key the API had forgotten, and voucher 2 was in the journal twice
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    entries(data, 4, ())
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)  # keys forgotten at once: as hours later
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, ledger, batch_size=2, rejects=str(tmp_path / "rejects.csv"))
            assert (await load(job, env=CREDS)).loaded == 8
            _sent_in_the_future(ledger, app)
            again = await resume(str(ledger), env=CREDS, raise_on_stop=False)
            journal = held(app)
    assert [len(journal[v]) for v in (1, 2, 3, 4)] == [2, 2, 2, 2], journal  # voucher 2 once, found by its look
    assert again.loaded == 8 and again.in_doubt == 0, again
    assert again.reconcile is not None and again.reconcile.duplicates_count == 0, again.reconcile


async def test_a_rollback_after_the_clock_was_stepped_back_does_not_replay_the_key(tmp_path: Path) -> None:
    # rollback replayed the key alike: the forgotten key created voucher 2 again, and the rollback deleted the new
    # entries, leaving those the lost call made in the journal
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    entries(data, 4, ())
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, ledger, batch_size=2, rejects=str(tmp_path / "rejects.csv"))
            assert (await load(job, env=CREDS)).loaded == 8
            lost = _sent_in_the_future(ledger, app)
            undone = await rollback(str(ledger), env=CREDS)
            journal = held(app)
    # the entries the lost call made are found by a look, never deleted on its word (another writer's made alike
    # cannot be told from them): kept and named, the rollback unsettled, not "complete" beside them
    assert journal == {2: lost}, journal
    assert undone.exit_code == 1 and [u.get("found") for u in undone.unsettled] == [2], undone
    assert "how long ago cannot be told: the clock ran backwards since" in undone.unsettled[0]["reason"], undone


class Clock:
    """The `time` module as instants sees it, `ahead_s` seconds on (the wall clock and the clock since boot alike),
    the rest as it is."""

    def __init__(self) -> None:
        self.ahead_s = 0.0

    def time(self) -> float:
        return time.time() + self.ahead_s

    def clock_gettime(self, clock: int) -> float:
        return time.clock_gettime(clock) + self.ahead_s

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


async def test_a_replayed_key_is_not_sent_once_the_api_may_have_forgotten_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by a tester: a resume 50 minutes after a kill replays a call in flight with its key (trusted: younger
    # than 55 minutes); its attempt fails (a 503, or a 429 pause) and the retry leaves 11 minutes later, after the
    # API forgot the key: the call was carried out again, voucher 2 twice. Each attempt leaves only while the key is
    # surely kept: here the call is put in doubt, and the next resume finds it by a look
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    entries(data, 4, ())
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)  # keys forgotten at once: as an hour later
    clock, armed = Clock(), {"on": False}

    @web.middleware
    async def late(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        if armed["on"] and request.method == "POST":  # the replay's first attempt: paused, and time passes
            armed["on"] = False
            clock.ahead_s += 11 * 60
            # a 429, not a 5xx: a keyed call's 5xx is looked for before its retry (test_economic_failure_not_kept),
            # which finds voucher 2 at once; a 429 did nothing, and the call waits to be sent again with its key
            return web.json_response({"message": "slow down"}, status=429, headers={"Retry-After": "0"})
        return await handler(request)

    app.middlewares.insert(0, late)
    monkeypatch.setattr(instants, "time", clock)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, ledger, batch_size=2, rejects=str(tmp_path / "rejects.csv"))
            assert (await load(job, env=CREDS)).loaded == 8
            with sqlite3.connect(ledger) as db:  # killed with voucher 2's call in flight 50 minutes ago; it landed
                ((seq,),) = db.execute("SELECT seq FROM chunks WHERE state = 'done' ORDER BY seq LIMIT 1 OFFSET 1")
                db.execute("UPDATE chunks SET state = 'sending', sent_at = sent_at - 3000 WHERE seq = ?", (seq,))
                db.execute("DELETE FROM created WHERE loc IN (4, 5)")
            armed["on"] = True
            again = await resume(str(ledger), env=CREDS, raise_on_stop=False)
            held_then = held(app)
            last = await resume(str(ledger), env=CREDS, raise_on_stop=False)
            journal = held(app)
    assert [len(held_then[v]) for v in (1, 2, 3, 4)] == [2, 2, 2, 2], held_then  # not sent again: voucher 2 once
    assert again.in_doubt == 2 and again.loaded == 6, again
    assert journal == held_then and last.loaded == 8 and last.in_doubt == 0, (journal, last)  # found by its look


async def test_a_rollback_does_not_replay_a_key_its_retries_outlived(tmp_path: Path) -> None:
    # rollback's replay was judged once too: its retry 11 minutes on created voucher 2 again with the forgotten key,
    # the rollback deleted the new entries and said complete (exit 0) beside the lost call's, left in the journal
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    entries(data, 4, ())
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)
    clock, armed = Clock(), {"on": False}

    @web.middleware
    async def late(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        if armed["on"] and request.method == "POST":
            armed["on"] = False
            clock.ahead_s += 11 * 60
            return web.json_response({"message": "unavailable"}, status=503)
        return await handler(request)

    app.middlewares.insert(0, late)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, ledger, batch_size=2, rejects=str(tmp_path / "rejects.csv"))
            assert (await load(job, env=CREDS)).loaded == 8
            with sqlite3.connect(ledger) as db:
                ((seq,),) = db.execute("SELECT seq FROM chunks WHERE state = 'done' ORDER BY seq LIMIT 1 OFFSET 1")
                db.execute("UPDATE chunks SET state = 'sending', sent_at = sent_at - 3000 WHERE seq = ?", (seq,))
                db.execute("DELETE FROM created WHERE loc IN (4, 5)")
            lost = held(app)[2]
            armed["on"] = True
            undone = await rollback(str(ledger), env=CREDS, clock=clock.time)
            journal = held(app)
    assert journal == {2: lost}, journal  # found by a look, kept: never deleted on a look's word
    assert undone.exit_code == 1 and [u.get("found") for u in undone.unsettled] == [2], undone


async def test_a_resume_after_the_api_forgot_its_keys_and_the_clock_was_stepped_back_looks_not_replays(
    tmp_path: Path,
) -> None:
    # found by tester t70c: killed with calls in flight, resumed two hours later (the API had forgotten their keys),
    # the wall clock stepped back 110 minutes meanwhile: by it the keys were 10 minutes old, so the resume replayed
    # them and the API carried them out again (3,989 of 20,000 rows doubled, found only by reconciliation, exit 3).
    # By the clock since boot they are two hours old: looked for, found, loaded once
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    entries(data, 4, ())
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)  # keys forgotten at once: as two hours later
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, ledger, batch_size=2, rejects=str(tmp_path / "rejects.csv"))
            assert (await load(job, env=CREDS)).loaded == 8
            with sqlite3.connect(ledger) as db:  # voucher 2's call in flight at the kill; it landed
                ((seq, mark),) = db.execute(
                    "SELECT seq, sent_boot FROM chunks WHERE state = 'done' ORDER BY seq LIMIT 1 OFFSET 1"
                )
                boot_id, _, since = str(mark).partition(" ")
                assert boot_id == BOOT_ID.read_text().strip(), mark  # kept as the call was sent
                db.execute(
                    "UPDATE chunks SET state = 'sending', sent_at = ?, sent_boot = ? WHERE seq = ?",
                    (time.time() - 600, f"{boot_id} {float(since) - 7200:.3f}", seq),
                )
                db.execute("DELETE FROM created WHERE loc IN (4, 5)")
            again = await resume(str(ledger), env=CREDS, raise_on_stop=False)
            journal = held(app)
    assert [len(journal[v]) for v in (1, 2, 3, 4)] == [2, 2, 2, 2], journal  # voucher 2 once, found by its look
    assert again.loaded == 8 and again.in_doubt == 0 and again.exit_code == 0, again
    assert again.reconcile is not None and again.reconcile.duplicates_count == 0, again.reconcile
