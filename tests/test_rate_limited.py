"""429s the run will not wait out: a Retry-After longer than a call may wait stops the run at once, before any
call pauses for it; 429s to every try until a call's time is spent stop it too, saying so. Either way, in setup as
in the uploads, the run ends with its summary, its report and one way to resume."""

from __future__ import annotations

import email.utils
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import serving
from hostile import CREDENTIALS, Answer, Hostile, environment, load_args, report_of, served

from bulkload.cli import main
from bulkload.dispatch import Dispatcher, RetryPolicy
from bulkload.errors import RunStopped, Throttled
from bulkload.http import Client
from bulkload.limits import Limits
from bulkload.meters import DailyQuota, RateMeter, WindowMeter
from bulkload.side_by_side import side_by_side
from bulkload.targets import TARGETS


@asynccontextmanager
async def limited(
    retry_after: str | None,
    sent: list[str],
    slept: list[float],
    headers: Callable[[], dict[str, str]] | None = None,
    refused: float = math.inf,
    window: int = 0,
) -> AsyncIterator[Dispatcher]:
    """A dispatcher whose calls are answered 429 (with `retry_after`, or the `headers` drawn for each), the first
    `refused` of them (every one by default; 200 after), counting the sends in `sent`; its rate meter's pauses are
    noted in `slept` and pass at once on a clock of the test's own (the calls' time too), as do the waits of a
    rolling `window` of that many calls a minute (0: none)."""

    async def handle(request: web.Request) -> web.Response:
        sent.append(request.method)
        if len(sent) > refused:
            return web.json_response({})
        said = headers() if headers is not None else {"Retry-After": retry_after} if retry_after is not None else {}
        return web.json_response({"message": "slow down"}, status=429, headers=said)

    clock = [0.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    app = web.Application()
    app.router.add_route("*", "/things", handle)
    async with serving(app) as origin, Client(origin, {}) as client:
        windows = [WindowMeter(window, 60.0, clock=lambda: clock[0], sleep=sleep)] if window else []
        limits = Limits(quota=DailyQuota(0), rate=RateMeter(None, lambda: clock[0], sleep), windows=windows)
        policy = RetryPolicy(total_s=600.0)
        yield Dispatcher(
            client, TARGETS["economic"].from_options({}), limits=limits, policy=policy, clock=lambda: clock[0]
        )


@pytest.mark.parametrize(("header", "said"), [("700", "700 s"), ("1e400", "longer than a day")])
async def test_a_retry_after_longer_than_a_call_waits_stops_at_once_and_pauses_no_call(header: str, said: str) -> None:
    sent: list[str] = []
    slept: list[float] = []
    async with limited(header, sent, slept) as dispatcher:
        with pytest.raises(RunStopped) as stopped:
            await dispatcher.send("GET", "/things", authorized=False)
        # the other calls are not held for a wait the run will not make (before: every call paused 700 s)
        assert dispatcher.limits.rate.on_rate_limited(None) < 1.0
    assert len(sent) == 1 and slept == []
    assert f"GET /things: the API answered 429 asking to wait {said}" in str(stopped.value)
    assert "inf" not in str(stopped.value)


@pytest.mark.parametrize("ahead_s", [3600, -3600, 0], ids=["server-ahead", "server-behind", "clocks-agree"])
async def test_a_retry_after_date_is_read_against_the_servers_own_date_not_our_clock(ahead_s: int) -> None:
    """A 429 whose Retry-After is an HTTP date 2 s past the answer's own Date header pauses the calls 2 s however
    far the server's clock is from ours (RFC 9110 §10.2.3: the date less the Date header). Before, it was read
    against our clock: a tester's server 30 s ahead paused the calls 31.7 s (a 1,200-row load took 38 s, not 8),
    one 30 s behind paused them 0.0 s; here an hour ahead stopped the run (asking 3602 s) and an hour behind
    paused none."""

    def skewed() -> dict[str, str]:
        server_now = int(time.time()) + ahead_s
        return {
            "Date": email.utils.formatdate(server_now, usegmt=True),
            "Retry-After": email.utils.formatdate(server_now + 2, usegmt=True),
        }

    sent: list[str] = []
    slept: list[float] = []
    async with limited(None, sent, slept, headers=skewed, refused=1) as dispatcher:
        await dispatcher.send("GET", "/things", authorized=False)
    assert sent == ["GET", "GET"] and slept == [2.0], slept


async def test_a_429_at_a_full_window_logs_that_no_call_pauses_and_why_not_that_it_followed_the_retry_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 429 with Retry-After: 1 s while the window is full is the server's clock and ours disagreeing: by design no
    call pauses for it (the window widens; docs/guarantees.md). `-v` says so (before: "calls pause 0.0 s (its
    Retry-After)", which a tester read as the Retry-After followed; repro fast-429-pace-loss)."""
    sent: list[str] = []
    slept: list[float] = []
    async with limited("1", sent, slept, refused=1, window=1) as dispatcher:
        with caplog.at_level(logging.INFO, logger="bulkload.dispatch"):
            await dispatcher.send("GET", "/things", authorized=False)
    assert sent == ["GET", "GET"]
    (said,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("429 #1")]
    assert "Retry-After" in said and "its Retry-After)" not in said and "pause 0.0 s" not in said, said
    assert "no call pauses for its Retry-After of 1.0 s" in said and "the window was full" in said, said


async def test_429s_to_every_try_stop_the_call_saying_so_and_the_log_tells_of_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[str] = []
    slept: list[float] = []
    async with limited(None, sent, slept) as dispatcher:
        dispatcher.policy = RetryPolicy(total_s=1.0)  # the pauses (0.25 s, 0.5 s, ...) pass it within a few
        with caplog.at_level(logging.INFO, logger="bulkload.dispatch"), pytest.raises(RunStopped) as stopped:
            await dispatcher.send("GET", "/things", authorized=False)
    assert len(sent) == 3 and slept[:2] == [0.25, 0.5], (sent, slept)  # the third pause (1 s) passes 1 s
    said = str(stopped.value)
    assert said.startswith("GET /things: the API answered 429 to every try for ") and "(bulkload waits 1 s" in said
    assert "`bulkload resume`" in said
    waiting = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "429" in r.getMessage()]
    # numbered in the run and in the call: three lines of "429 #1" read as one 429 said three times (tester t62b)
    assert waiting and waiting[0].startswith("429 #1 of the run (the call's #1) to GET /things in "), waiting
    assert waiting[1].startswith("429 #2 of the run (the call's #2) to GET /things in "), waiting


async def test_429s_each_asking_a_short_wait_stop_the_call_when_its_time_is_up_saying_they_kept_coming() -> None:
    """Every try answered 429 with Retry-After: 1 until the call's 600 s are nearly spent: the last 1 s wait passes
    them, and the run stops saying the API kept answering 429, not that a 1 s wait is longer than the 600 s bulkload
    waits (a tester's server, repro 429-forever-message)."""
    sent: list[str] = []
    slept: list[float] = []
    async with limited("1", sent, slept) as dispatcher:
        with anyio.fail_after(10), pytest.raises(RunStopped) as stopped:
            await dispatcher.send("GET", "/things", authorized=False)
    said = str(stopped.value)
    assert len(sent) > 100 and "asking to wait" not in said, (len(sent), said)
    assert said.startswith("GET /things: the API answered 429 to every try for 10 min"), said
    assert "(bulkload waits 600 s for a call in all)" in said and "`bulkload resume`" in said


def run(args: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capfd.readouterr()
    with environment(CREDENTIALS["economic"]):
        code = main(args)
    out = capfd.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("calls", ["GET", "POST"], ids=["setup", "upload"])
def test_a_long_retry_after_stops_the_load_with_its_summary_report_and_one_resume_hint(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], calls: str
) -> None:
    """In setup (every look answered 429, Retry-After 900) and in the uploads (700): exit 4 at once, the summary
    and the report say why, and the stop line names `bulkload resume --ledger` once (before: in setup, only
    `bulkload: HTTP 429: Too Many Requests`; in the uploads, every other call paused 700 s first)."""
    wait = "900" if calls == "GET" else "700"
    answer = Answer(status=429, headers=(("Retry-After", wait),))
    api = Hostile("economic", lambda method, path, n: answer if method == calls else None)
    with served(api.app()) as origin:
        code, out = run(load_args("economic", origin, tmp_path, "--batch-size", "2"), capfd)
    assert code == 4, out
    report = report_of(tmp_path)
    assert report is not None and report["status"] == "stopped", out
    reason = report["stop_reason"]
    assert f"the API answered 429 asking to wait {wait} s" in reason, reason
    assert reason.count("bulkload resume") == 1 and f"bulkload resume --ledger {tmp_path / 'run.sqlite'}" in reason
    assert f"stopped: {reason}" in out and "Traceback" not in out
    assert report["in_doubt"] == 0 and report["in_doubt_file"] is None
    assert not (tmp_path / "e.csv.in_doubt.csv").exists()
    # the calls under way (the look-ups go side by side, two uploads at most) were answered 429 once each, and none
    # was sent again: nothing waited
    assert sum(1 for method, _ in api.calls if method == calls) <= (4 if calls == "GET" else 2), api.calls


async def test_look_ups_side_by_side_end_with_the_first_throttled_not_after_the_others_waits() -> None:
    """The start-up look-ups go side by side; one stopped by 429s stops them all: the others would only wait out
    the same 429s (before: the run lived on until each had spent its own 10 minutes, 678 s in the trial)."""
    waited: list[str] = []

    async def throttled() -> None:
        raise Throttled("GET /count: the API answered 429 to every try for 10 min")

    async def waiting() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            waited.append("cancelled")

    with anyio.fail_after(5), pytest.raises(Throttled):
        await side_by_side([waiting, throttled, waiting])
    assert waited == ["cancelled", "cancelled"]


async def test_a_calls_time_counts_from_when_it_first_leaves_not_from_its_wait_for_a_place_in_the_window() -> None:
    """A call that waited 400 s for its place in a rolling window (HaloPSA: 300 calls a rolling 5 minutes), then met
    a 429 asking for 300 s, has waited 300 s of the API's, not 700 s: it waits and is answered (before: stopped as
    a call 429'd past the 600 s it may wait, while the API had held it back 300 s). The run's own clock is a test
    clock, so the waits pass at once."""
    sent: list[float] = []
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    async def handle(request: web.Request) -> web.Response:
        sent.append(clock[0])
        if len(sent) == 1:
            return web.json_response({"message": "slow down"}, status=429, headers={"Retry-After": "300"})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/things", handle)
    now = lambda: clock[0]  # noqa: E731 - the test's clock
    window = WindowMeter(1, 400.0, margin_s=0.0, clock=now, sleep=sleep)
    limits = Limits(quota=DailyQuota(0), rate=RateMeter(None, now, sleep), windows=[window])
    limits.answered(await limits.acquire())  # another call took the window's one place at 0 s
    async with serving(app) as origin, Client(origin, {}) as client:
        dispatcher = Dispatcher(
            client, TARGETS["economic"].from_options({}), limits=limits, policy=RetryPolicy(), clock=now
        )
        with anyio.fail_after(10):
            response = await dispatcher.send("GET", "/things", authorized=False)
    assert response.status == 200
    assert len(sent) == 2 and sent[0] >= 400.0 and sent[1] >= sent[0] + 300.0, sent
