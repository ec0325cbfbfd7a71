"""No `--rate` set (e-conomic, Visma Core and PayorCRM publish none), against a server that takes at most L calls
whose arrival lies in any rolling second and refuses the rest with 429s without Retry-After: the look-ups let go
together at the start overfill its first second, and the pace the 429s find must stay near what it takes. Before,
each 429 of a look-up retried while that second was still full cut the pace again (no call taken in between said
anything of the pace), and the load went at 1.43 times the least time at L = 20, 1.54 at L = 50; now 1.18 both.
Judged on a virtual clock by what the server took."""

from __future__ import annotations

from collections import deque

import pytest
from test_pace import _at_latency
from virtual_time import VirtualTime

from bulkload.limits import Limits
from bulkload.meters import DailyQuota, RateMeter


async def _load_unpaced(limit: int, calls: int, workers: int, latency_s: float) -> tuple[int, float]:
    """Send `calls` calls from `workers` workers with no pace set, each answered `latency_s` after it left, through
    a server taking at most `limit` calls a rolling second. Returns the 429s and the seconds the load took on its
    own clock."""
    clock = VirtualTime()
    limits = Limits(quota=DailyQuota(0, clock=clock), rate=RateMeter(None, clock=clock, sleep=clock.sleep), windows=[])
    taken: deque[float] = deque()

    def takes() -> bool:
        now = clock()
        while taken and taken[0] <= now - 1.0:
            taken.popleft()
        if len(taken) >= limit:
            return False
        taken.append(now)
        return True

    async with clock.running():
        started = clock()
        _, refused = await _at_latency(limits, clock, takes, calls, None, latency_s, latency_s, workers)
        return len(refused), clock() - started


@pytest.mark.parametrize(("limit", "calls", "workers"), [(20, 600, 8), (50, 1500, 16)])
async def test_without_a_rate_a_full_first_second_cuts_the_pace_once_not_at_each_retry(
    limit: int, calls: int, workers: int
) -> None:
    refused, took_s = await _load_unpaced(limit, calls, workers, latency_s=0.05)
    least_s = (calls - limit) / limit  # the first second takes `limit` at once
    assert refused < calls / 20  # the pace found, not 429s calling it
    assert took_s < 1.3 * least_s, (took_s, least_s, refused)  # 1.43 and 1.54 times before, 1.18 now
