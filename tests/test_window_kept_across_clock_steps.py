"""A rolling window's calls kept between runs (the user's cache) are placed by the clock since boot, not the wall
clock: a wall clock stepped between two runs (NTP, a VM's clock set from its host, a manual change) moved them.
Found by tester t71f against HaloPSA's window (10 calls per 20 s, the next run right after one that filled it):
stepped back an hour, the earlier run's calls were placed an hour ahead and the next run stalled (4 of 5 records in
60 s, "calls wait 20 s" said again and again); stepped forward an hour, they were forgotten and the next run met two
429s the server's window still held them for."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest

from bulkload.instants import Instant, boot_mark, passed
from bulkload.meters import Arrival, WindowMeter

on_boot_clock = pytest.mark.skipif(boot_mark() is None, reason="no clock since boot on this system")


def _kept(path: Path) -> None:
    first = WindowMeter(3, 60.0, margin_s=0.0)
    first._calls.extend(Arrival(time.monotonic() - ago) for ago in (70, 5, 1))
    first.keep(path)


def _waits(path: Path) -> tuple[int, float]:
    later = WindowMeter(3, 60.0, margin_s=0.0)
    later.restore(path)
    return len(later._calls), later.wait_for(2)


@on_boot_clock
@pytest.mark.parametrize("step_s", [-3600.0, 3600.0, -86_400.0])
def test_a_kept_window_is_placed_by_the_clock_since_boot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step_s: float
) -> None:
    path = tmp_path / "w.json"
    _kept(path)
    unstepped = _waits(path)
    wall = time.time
    monkeypatch.setattr(time, "time", lambda: wall() + step_s)  # the wall clock stepped between the two runs
    held, wait_s = _waits(path)
    assert held == unstepped[0] == 2, "the calls still in the server's window are counted, older ones not"
    assert wait_s == pytest.approx(unstepped[1], abs=1.0), (wait_s, unstepped)  # not an hour more, nor none


def test_the_time_that_passed_errs_towards_less() -> None:
    then = Instant(1_000_000.0, "boot-a 500.000")
    assert passed(then, Instant(then.wall - 3600, "boot-a 510.000")) == 10.0  # stepped back: the boot clock's
    assert passed(then, Instant(then.wall + 3600, "boot-a 510.000")) == 10.0  # stepped forward: the boot clock's
    assert passed(then, Instant(then.wall + 60, "boot-a 400.000")) == 0.0  # a snapshot restored: no time told
    assert passed(then, Instant(then.wall + 1800, "boot-b 120.000")) == 1800.0  # across a reboot: the wall clock's
    assert passed(then, Instant(then.wall - 1800, "boot-b 120.000")) == 120.0  # ... not less than this boot's time
    assert passed(Instant(then.wall), Instant(then.wall + 5)) == 5.0  # no clock since boot: the wall clock's
    assert passed(Instant(then.wall), Instant(then.wall - 5)) == 0.0


def test_a_window_kept_in_an_earlier_form_is_not_counted(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(msgspec.json.encode([time.time() - 1.0]).decode())  # a list of wall times (before 2026-12-07)
    assert _waits(path) == (0, 0.0)
