"""Scenario 9: pace at the limit, judged by the sandbox, each case run `Scale.pace_repeat` times (`--repeat N`):
per case the lowest share of the limit any run reached, and the 429s the sandbox answered in all runs together.

- steady rates: e-conomic and Visma Core at 100/s with 50 ms latency; the share is the sandbox's requests over
  the seconds from its first arrival to its last, against 100/s; and, to tell the pacing from the run's start and
  end (look-ups and the walk's last pages, one round trip after another), the uploads' own: the sandbox's POSTs
  over their first to last arrival (the walk's GETs among them not counted: a floor);
- HaloPSA's rolling window (300 per 5 minutes, 100 times faster: 300 per 3 s); the share is the window's
  minimum for the run's calls, (⌈calls / 300⌉ − 1) windows, over the sandbox's first to last arrival;
- the same window shared with another integration that takes `OTHER_RATE`/s of it, the 429s without
  Retry-After: the minimum counts the window's calls the other one leaves, over the load's elapsed time (the
  sandbox's arrivals are the other's too), and the 429s are the load's own;
- the same window taken whole by another integration that stops a window into the load: its calls leave the
  window by the second window, and the minimum counts the load's calls from there, over its elapsed time;
- the same window, 90 % of it taken by another integration that shrinks to 10 % a window into the load: its
  calls leave the window by the second window, and the minimum counts the load's calls from there at the 90 % it
  leaves, over its elapsed time;
- e-conomic without `--rate` (it publishes no limit) against a server of `UNSET_LIMIT` calls a rolling second
  answering 429 without Retry-After: the least time for the calls it took over the first to last arrival.
"""

from __future__ import annotations

import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from benchmarks.bench_halopsa import halopsa_files
from benchmarks.common import ENV, Sandbox, bulkload, data_file, sandbox
from benchmarks.scenarios import Scale, Scenario

RATE = 100
WINDOW, TIME_FACTOR = 300, 100.0
WINDOW_S = 300 / TIME_FACTOR
OTHER_RATE = 50.0  # the other integration's calls per second: half the shared window
UNSET_LIMIT = 20  # calls a rolling second of the server a load without --rate meets


class Run(NamedTuple):
    """One run of a case, as the sandbox saw it: the share of the limit over the run, the 429s it answered, and the
    share while the load uploaded (None where the sandbox cannot tell the uploads from the other calls)."""

    share: float
    refused: int
    uploading: float | None = None


#: one run of a case: its work directory and the tree to measure → what the sandbox saw
Case = Callable[[Scale, Path, "Path | None"], Run]


def _refused(box: Sandbox) -> int:
    faults = box.stats()["faults"]
    return int(faults["rate_limited"] + faults["window"])


def _steady(box: Sandbox) -> Run:
    stats = box.stats()
    posts = stats["by_method"]["POST"]
    uploading = (posts["requests"] - 1) / posts["span_s"] / RATE
    return Run((stats["requests"] - 1) / stats["arrivals_span_s"] / RATE, _refused(box), uploading)


def steady_economic(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    path = data_file("economic", scale.pace_rows)
    with sandbox("economic", "--latency-ms", "50", "--rate-limit", str(RATE)) as box:
        flags = ("--rate", str(RATE), "--concurrency", "16", "--batch-size", "3")
        bulkload(workdir, "economic", "economic", str(path), "--base-url", box.url, *flags, tree=tree)
        return _steady(box)


def steady_visma(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    path = data_file("visma-core", scale.pace_rows // 2)
    with sandbox("visma-core", "--latency-ms", "50", "--rate-limit", str(RATE)) as box:
        flags = ("--rate", str(RATE), "--concurrency", "16")
        bulkload(workdir, "visma", "visma-core", str(path), "--base-url", box.url, *flags, tree=tree)
        return _steady(box)


def unset_economic(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    """No `--rate` (e-conomic publishes no limit: a new user's load), a server of `UNSET_LIMIT` calls a rolling
    second answering 429 without Retry-After: the share is the least time for the calls it took (its requests but
    the 429s) over its first-to-last arrival."""
    path = data_file("economic", scale.pace_rows)
    flags = ("--latency-ms", "50", "--rate-limit", str(UNSET_LIMIT), "--no-retry-after")
    with sandbox("economic", *flags) as box:
        bulkload(workdir, "economic", "economic", str(path), "--base-url", box.url, "--batch-size", "6", tree=tree)
        stats, refused = box.stats(), _refused(box)
        return Run((stats["requests"] - refused) / UNSET_LIMIT / stats["arrivals_span_s"], refused)


def _halopsa(box: Sandbox, workdir: Path, tree: Path | None, records: int) -> tuple[float, int, int]:
    """The load's elapsed seconds (the report's: the child's start-up is no part of the pace), the calls it
    needed (its requests but the 429s: a client that draws more of them needs no more calls) and its 429s."""
    workdir.mkdir(parents=True, exist_ok=True)
    files = map(str, halopsa_files(workdir, records))
    flags = ("--batch-size", "2", "--concurrency", "8", "--window-s", str(WINDOW_S))
    report = bulkload(workdir, "halo", "halopsa", *files, "--base-url", box.url, *flags, tree=tree)
    if report.get("exit") != 0:
        raise RuntimeError(f"bulkload load halopsa exited {report.get('exit')}")
    refused = int(report["rate_limited"])
    return float(report["elapsed_s"]), int(report["requests"]) - refused, refused


def window_halopsa(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    with sandbox("halopsa", "--time-factor", str(TIME_FACTOR)) as box:
        _, calls, _ = _halopsa(box, workdir, tree, scale.pace_records)
        stats = box.stats()
        minimum = (math.ceil(calls / WINDOW) - 1) * WINDOW_S
        return Run(minimum / stats["arrivals_span_s"], _refused(box))


@contextmanager
def other_integration(
    box: Sandbox, rate: float, for_s: float | None = None, then_rate: float = 0.0, cycle_s: float | None = None
) -> Iterator[None]:
    """Another client of the same instance, calling `rate` times a second (a token, then cheap GETs) until the
    block ends or for `for_s` seconds, then `then_rate` times (0: none; it stops, unless `cycle_s`), and where
    `cycle_s` is given, again from the start each `cycle_s` seconds; its 429s its own concern."""
    stop = threading.Event()
    form = f"grant_type=client_credentials&client_id=other&client_secret=other-{ENV['HALO_CLIENT_ID']}".encode()
    origin = box.url.rsplit("/api", 1)[0]

    def call(request: urllib.request.Request) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return bytes(resp.read())
        except urllib.error.HTTPError:
            return b""

    def run() -> None:
        token = b""
        while not token and not stop.is_set():
            token = call(urllib.request.Request(f"{origin}/auth/token", data=form))
        bearer = token.split(b'"access_token": "', 1)[-1].split(b'"', 1)[0].decode()
        get = urllib.request.Request(f"{box.url}/XeroDetails/0", headers={"Authorization": f"Bearer {bearer}"})
        due = began = time.monotonic()
        while not stop.is_set():
            since = time.monotonic() - began
            if cycle_s:
                since %= cycle_s
            now = rate if for_s is None or since < for_s else then_rate
            if not now:
                if not cycle_s:
                    return
                due = time.monotonic() + cycle_s - since  # the next cycle's first call
                stop.wait(cycle_s - since)
                continue
            call(get)
            due += 1 / now
            stop.wait(max(0.0, due - time.monotonic()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def shared_halopsa(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    with sandbox("halopsa", "--time-factor", str(TIME_FACTOR), "--no-retry-after") as box:
        with other_integration(box, OTHER_RATE):
            time.sleep(WINDOW_S)  # the other integration was there first: its share of the window is taken
            elapsed, calls, refused = _halopsa(box, workdir, tree, scale.pace_records // 2)
        left = WINDOW - OTHER_RATE * WINDOW_S
        minimum = (math.ceil(calls / left) - 1) * WINDOW_S
        return Run(minimum / elapsed, refused)


def stopping_halopsa(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    with sandbox("halopsa", "--time-factor", str(TIME_FACTOR), "--no-retry-after") as box:
        with other_integration(box, WINDOW / WINDOW_S, for_s=2 * WINDOW_S):
            time.sleep(WINDOW_S)  # the other integration was there first: it holds the whole window
            elapsed, calls, refused = _halopsa(box, workdir, tree, scale.pace_records)
        minimum = 2 * WINDOW_S + (math.ceil(calls / WINDOW) - 1) * WINDOW_S
        return Run(minimum / elapsed, refused)


def shrinking_halopsa(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    full = WINDOW / WINDOW_S
    with sandbox("halopsa", "--time-factor", str(TIME_FACTOR), "--no-retry-after") as box:
        with other_integration(box, 0.9 * full, for_s=2 * WINDOW_S, then_rate=0.1 * full):
            time.sleep(WINDOW_S)  # the other integration was there first: it holds 90 % of the window
            elapsed, calls, refused = _halopsa(box, workdir, tree, scale.pace_records)
        minimum = 2 * WINDOW_S + (math.ceil(calls / (0.9 * WINDOW)) - 1) * WINDOW_S
        return Run(minimum / elapsed, refused)


def coming_and_going_halopsa(scale: Scale, workdir: Path, tree: Path | None) -> Run:
    full = WINDOW / WINDOW_S
    # the window counts the calls it refuses (as HaloPSA's may: "300 Requests per rolling 5 minute window"), so a
    # 429 costs both clients a place: without, the load takes the other's room at each of its returns
    flags = ("--time-factor", str(TIME_FACTOR), "--no-retry-after", "--window-counts-refused")
    with sandbox("halopsa", *flags) as box:
        with other_integration(box, 0.9 * full, for_s=2 * WINDOW_S, cycle_s=4 * WINDOW_S):
            began = time.monotonic()
            time.sleep(WINDOW_S)  # the other integration was there first: it holds 90 % of the window
            elapsed, calls, refused = _halopsa(box, workdir, tree, scale.pace_records)
            ended = time.monotonic() - began
        # the room it left over the load's own span: 10 % of the window while it calls, all of it while it does
        # not (two windows of it: its calls leave as the load's come), a millisecond at a time
        step_s = 0.001
        room = sum(
            (0.1 if (ended - elapsed + i * step_s) % (4 * WINDOW_S) < 2 * WINDOW_S else 1.0) * full * step_s
            for i in range(int(elapsed / step_s))
        )
        return Run(calls / room, refused)


CASES: dict[str, tuple[Case, str]] = {
    "e-conomic, 100/s, 50 ms latency": (steady_economic, "≥ 98 % of 100/s"),
    "Visma Core, 100/s, 50 ms latency": (steady_visma, "≥ 98 % of 100/s"),
    f"e-conomic, no --rate, a server of {UNSET_LIMIT} a rolling second, 429s without Retry-After": (
        unset_economic,
        "≥ 67 % of the least time (within 1.5×)",
    ),
    f"HaloPSA, {WINDOW} per rolling {WINDOW_S:g} s": (window_halopsa, "≥ 98 % of the window's minimum"),
    f"HaloPSA, the window shared ({OTHER_RATE:g}/s another's), 429s without Retry-After": (
        shared_halopsa,
        "≥ 67 % of the minimum (within 1.5×)",
    ),
    f"HaloPSA, the window taken whole by another that stops {WINDOW_S:g} s in, 429s without Retry-After": (
        stopping_halopsa,
        "≥ 67 % of the minimum (within 1.5×)",
    ),
    f"HaloPSA, 90 % of the window another's that shrinks to 10 % {WINDOW_S:g} s in, 429s without Retry-After": (
        shrinking_halopsa,
        "≥ 67 % of the minimum (within 1.5×)",
    ),
    f"HaloPSA, 90 % of the window another's for {2 * WINDOW_S:g} s, none for as long, again and again, 429s "
    "without Retry-After and counted": (coming_and_going_halopsa, "≥ 67 % of the room it left (within 1.5×)"),
}


def pace(scale: Scale, workdir: Path, tree: Path | None) -> Scenario:
    runs = scale.pace_repeat
    sc = Scenario(
        f"9. Pace at the limit — {runs} run{'s' if runs > 1 else ''} of each case, judged by the sandbox",
        ["case", "each run: share of the limit", "minimum", "goal", "429s (all runs)", "minimum while uploading"],
    )
    for name, (case, goal) in CASES.items():
        figures = [case(scale, workdir / f"{case.__name__}-{i}", tree) for i in range(runs)]
        shares, refused = [run.share for run in figures], sum(run.refused for run in figures)
        uploading = [run.uploading for run in figures if run.uploading is not None]
        row = [name, " ".join(f"{s:.1%}" for s in shares), f"{min(shares):.1%}", goal, str(refused)]
        sc.rows.append([*row, f"{min(uploading):.1%}" if uploading else "–"])
        if uploading:
            sc.key[f"pace {name}: minimum % while uploading"] = 100 * min(uploading)
        # finding the pace the server accepts takes 429s: counted
        if case in (unset_economic, shared_halopsa, stopping_halopsa, shrinking_halopsa, coming_and_going_halopsa):
            sc.goals.append((f"{name}: {goal} in every run", min(shares) >= 2 / 3))
        else:
            sc.goals.append((f"{name}: {goal} in every run, zero 429s", min(shares) >= 0.98 and refused == 0))
        sc.key[f"pace {name}: minimum % of the limit"] = 100 * min(shares)
        sc.key[f"pace {name}: 429s in {runs} runs"] = refused
    sc.notes.append(
        "share: steady rates, the sandbox's requests over its first-to-last arrival against 100/s; no --rate, the "
        f"calls the sandbox took against {UNSET_LIMIT}/s over the same span; HaloPSA, the "
        "window's minimum for the load's calls but its 429s ((⌈calls / 300⌉ − 1) windows) over the sandbox's "
        "first-to-last arrival; shared, the minimum for the calls the other one leaves (150 a window) over the "
        "load's elapsed time, and the load's own 429s; the other stopping, two windows (its calls leaving) and "
        "the window's minimum for the load's calls, over the load's elapsed time; the other shrinking, the same "
        "at the 270 a window it leaves; the other coming and going, the load's calls over the room it left in "
        "the load's elapsed time (10 % of the window while it called, all of it while it did not)"
    )
    sc.notes.append(
        "while uploading: the sandbox's POSTs over their first to last arrival, against 100/s (the pacing itself: "
        "the run's look-ups before and the walk's last pages after are one round trip after another, 50 ms each)"
    )
    sc.notes.append(
        "HaloPSA: the rolling window holds the shape of the run's start (its token and listings, then the first "
        "upload once the planner has a chunk), so the last window's calls wait for that gap again: the minimum "
        "counts from the first arrival as if the start-up took no time (the gap was 0.9-1.5 s while the planning "
        "child imported aiohttp, then 20-190 ms on a busy machine while it started with the run; it starts with the "
        "command since: prestart.py)"
    )
    return sc
