"""When a call was sent, by two clocks: the wall clock (epoch seconds) and, where the system has one, the time since
the machine booted (CLOCK_BOOTTIME: never stepped, and it counts time asleep) on the boot named by its boot id.

An API forgets an idempotency key some time after it was first sent (e-conomic: one hour, seed 002), so a key is
replayed only while it is surely younger than that (pipeline.key_kept). By the wall clock alone, a clock stepped back
(NTP correcting one that ran ahead, a VM's clock set from its host) made an old key look young: a resume replayed
keys the API had forgotten, and their calls were carried out again (tester t70c: 3,989 of 20,000 rows doubled). On
one boot the boot clock tells the age whatever the wall clock did; across a reboot only the wall clock spans it,
checked against the boot clock: the send was before this boot began, so it is older than the time since then.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

#: the id Linux gives each boot
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class Instant(NamedTuple):
    """A moment: `wall`, epoch seconds; `boot`, "BOOT_ID SECONDS" (seconds since that boot, CLOCK_BOOTTIME), None
    where the system tells no boot clock (or a ledger from before it was kept)."""

    wall: float
    boot: str | None = None

    @classmethod
    def now(cls, wall_clock: Callable[[], float] | None = None) -> Instant:
        """This moment, its wall time by `wall_clock` (epoch seconds; time.time where None)."""
        return cls(time.time() if wall_clock is None else wall_clock(), boot_mark())


def boot_mark() -> str | None:
    """ "BOOT_ID SECONDS" of this moment (Instant.boot); None where the system has no boot id or boot clock."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    boot_id = _boot_id()
    return f"{boot_id} {time.clock_gettime(clock):.3f}" if clock is not None and boot_id else None


@functools.cache
def _boot_id() -> str:
    """This boot's id ("" where the system tells none), read once: a boot keeps it, and a call's ledger row is
    written before each request."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _on_boot(mark: str | None) -> tuple[str, float] | None:
    """(boot id, seconds since that boot) of a `boot` mark; None for none, or one that cannot be read."""
    if mark is None:
        return None
    boot_id, _, seconds = mark.partition(" ")
    try:
        return boot_id, float(seconds)
    except ValueError:
        return None


def age(sent: Instant, now: Instant) -> float | None:
    """Seconds from `sent` to `now`, never less than they surely are; None where that cannot be told (a clock ran
    backwards between them). On one boot: the boot clock's (negative: a machine restored from a snapshot since, None),
    or the wall clock's where that says more (a clock stepped forward: older is the safe side). Across boots: the wall
    clock's where it is more than the time since `now`'s boot began (the send was before it), else None: the wall
    clock was stepped back since. Where `sent` has no boot mark: the wall clock's (None when negative)."""
    wall = now.wall - sent.wall
    then, at = _on_boot(sent.boot), _on_boot(now.boot)
    if then is not None and at is not None:
        if then[0] == at[0]:
            boot = at[1] - then[1]
            return None if boot < 0 else max(boot, wall)
        return wall if wall > at[1] else None
    return wall if wall >= 0 else None


def passed(then: Instant, now: Instant) -> float:
    """Seconds from `then` to `now` as the clocks tell them, erring towards less (`age` errs towards more): what a
    rolling window kept between runs counts by, since a call it forgets too soon meets the server's 429. On one boot
    the boot clock's, whatever the wall clock did (0.0 where it is behind `then`: a machine restored from a snapshot
    since); across boots the wall clock's, never less than the time since `now`'s boot began (the send was before it:
    a wall clock stepped back since); where either has no boot mark, the wall clock's, 0.0 where negative."""
    wall = now.wall - then.wall
    before, at = _on_boot(then.boot), _on_boot(now.boot)
    if before is not None and at is not None:
        if before[0] == at[0]:
            return max(0.0, at[1] - before[1])
        return max(wall, at[1])
    return max(0.0, wall)
