"""Pacing at the limit, judged by what the server counted: a token renewed after the wait for a rate slot, so
no call leaves with a token that ran out while it waited (the sandbox counts the 401s)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import aiohttp
import anyio

from bulkload import Job, load
from bulkload.sandbox import SandboxOptions, running

HALO_ENV = {"HALO_CLIENT_ID": "pace-client", "HALO_CLIENT_SECRET": "pace-secret"}


def halo_file(path: Path, n: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "tenant_id", "client_id"])
        w.writerows([f"Pace {i:04d}", f"tenant-{i}", f"client-{i}"] for i in range(n))
    return path


async def stats(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/stats") as r:
        body: dict[str, Any] = await r.json()
        return body


async def test_a_token_that_runs_out_while_calls_wait_for_a_rate_slot_is_renewed_before_they_leave(
    tmp_path: Path,
) -> None:
    """A one-hour token at time factor 1800 lives 2 s and is renewed 0.2 s early; 8 calls wait for slots of a
    20/s pace, up to 0.4 s each: a token checked before that wait runs out during it. ~65 calls, ~3.5 s."""
    data = halo_file(tmp_path / "xero.csv", 60)
    options = SandboxOptions(window_limit=0, time_factor=1800)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "l.sqlite"),
                rejects=str(tmp_path / "r.csv"),
                report=str(tmp_path / "r.json"),
                batch_size=1,
                concurrency=8,
                rate=20.0,
                target_options={"resources": ["XeroDetails"]},
            )
            report = await load(job, env=HALO_ENV)
            seen = await stats(url)
    assert report.loaded == 60 and report.status == "complete", report.stop_reason
    assert seen["tokens_issued"] >= 2, "no token ran out during the run: the test proves nothing"
    assert seen["by_status"].get("401", 0) == 0, seen["by_status"]
    assert seen["requests"] < 90
