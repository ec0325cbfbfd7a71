"""The machinery every sandbox shares, on a tiny app of its own: windows, stats, drops, 404s, flags."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bulkload.cli import main
from bulkload.sandbox.common import (
    RollingWindow,
    SandboxOptions,
    SandboxStats,
    SlidingRate,
    add_arguments,
    json_response,
    new_app,
    options_from_args,
)

Client = TestClient[Any, Any]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_rate_allows_rate_per_any_second() -> None:
    clock = FakeClock()
    meter = SlidingRate(3, clock)
    assert [meter.try_acquire() for _ in range(3)] == [0, 0, 0]
    clock.now += 0.4
    assert meter.try_acquire() == pytest.approx(0.6)  # the first slot frees 1 s after it was taken
    clock.now += 0.6
    assert meter.try_acquire() == 0
    slow = SlidingRate(0.5, clock)  # below 1/s: one request per 2 s
    assert slow.try_acquire() == 0
    assert slow.try_acquire() == pytest.approx(2.0)


def test_rolling_window_frees_slots_after_the_window() -> None:
    clock = FakeClock()
    quota = RollingWindow(2, 10.0, clock)
    assert quota.try_acquire() == 0 and quota.try_acquire() == 0
    wait = quota.try_acquire()
    assert 10.0 <= wait <= 11.0
    clock.now += wait
    assert quota.try_acquire() == 0


def test_stats_keep_the_busiest_second_without_keeping_every_arrival() -> None:
    clock = FakeClock()
    stats = SandboxStats(clock)
    for i in range(50):
        clock.now += 0.1 if i < 40 else 0.01  # 10/s, then a burst of 10 in 0.1 s
        stats.arrived("POST" if i % 5 else "GET")
    assert stats.requests == 50
    assert stats.max_per_second >= 15
    assert len(stats._last_second) <= 20


def test_stats_give_the_span_of_arrivals_per_method() -> None:
    clock = FakeClock()
    stats = SandboxStats(clock)
    flights = []
    for method, at in [("GET", 1.0), ("POST", 2.0), ("POST", 3.5), ("GET", 7.0)]:
        clock.now = at
        stats.arrived(method)
        flights.append(stats.flight(method))  # the two POSTs overlap, the GETs do not
        if method == "GET":
            flights.pop()[0] -= 1
    out = stats.to_dict()
    assert out["by_method"] == {
        "GET": {"requests": 2, "span_s": 6.0, "max_in_flight": 1},
        "POST": {"requests": 2, "span_s": 1.5, "max_in_flight": 2},
    }
    assert out["arrivals_span_s"] == 6.0


@pytest.fixture
async def tiny() -> AsyncIterator[tuple[Client, list[str]]]:
    """A sandbox with one read and one write route; the write records what it did."""
    done: list[str] = []

    async def read(request: web.Request) -> web.Response:
        return json_response({"ok": True})

    async def write(request: web.Request) -> web.Response:
        done.append(await request.text())
        return json_response({"stored": len(done)}, 201)

    app = new_app(SandboxOptions(drop_rate=1.0), extra_stats=lambda: {"stored": len(done)})
    app.router.add_get("/things", read)
    app.router.add_post("/things", write)
    client: Client = TestClient(TestServer(app), timeout=aiohttp.ClientTimeout(total=10))
    await client.start_server()
    yield client, done
    await client.close()


async def test_commit_then_drop_only_hits_writes(tiny: tuple[Client, list[str]]) -> None:
    client, done = tiny
    assert (await client.get("/things")).status == 200  # reads are never dropped
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await client.post("/things", data="one")
    assert done == ["one"]  # the handler ran to the end before the connection went
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["faults"]["drop"] == 1
    assert stats["stored"] == 1
    assert stats["by_status"] == {"200": 1}


async def test_unknown_routes_answer_problem_json(tiny: tuple[Client, list[str]]) -> None:
    client, _ = tiny
    resp = await client.get("/nowhere")
    assert resp.status == 404
    assert (await resp.json(content_type=None))["status"] == 404
    assert (await client.request("OPTIONS", "/things")).status == 405  # not a write: not dropped


BAD_SANDBOX_FLAGS = [
    ("--rate-limit", "-1", "a number of at least 0"),
    ("--latency-ms", "-100", "a number of at least 0"),
    ("--fault-rate", "2", "a number from 0 to 1"),
    ("--drop-rate", "nan", "a number from 0 to 1"),
    ("--page-size", "0", "a whole number of at least 1"),
    ("--window-s", "0", "a number greater than 0"),
    ("--time-factor", "0", "a number greater than 0"),  # was an internal error (a ZeroDivisionError)
    ("--port", "99999", "a whole number from 0 to 65535"),  # was an internal error (OverflowError)
    ("--window-limit", "many", "a whole number of at least 0"),
]


@pytest.mark.parametrize(("flag", "value", "said"), BAD_SANDBOX_FLAGS, ids=[f for f, _, _ in BAD_SANDBOX_FLAGS])
def test_a_sandbox_flag_out_of_range_is_refused_exit_2_saying_the_range(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, said: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "halopsa", flag, value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: {said}, not {value!r}" in err, err
    assert "internal error" not in err


def test_flags_make_options() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    ns = parser.parse_args(
        [
            "--port",
            "8080",
            "--rate-limit",
            "20",
            "--drop-rate",
            "0.1",
            "--seed",
            "3",
            "--opaque-errors",
            "--page-size",
            "50",
            "--daily-quota",
            "100",
        ]
    )
    options = options_from_args(ns)
    assert ns.host == "127.0.0.1" and ns.port == 8080
    assert options == SandboxOptions(
        rate_limit=20, drop_rate=0.1, seed=3, opaque_errors=True, page_size=50, daily_quota=100
    )
    assert parser.parse_args([]).port == 0
