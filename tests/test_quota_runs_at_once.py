"""Runs at once against one agreement keep to its daily quota together: near its end each call is counted in the
file the runs share before it leaves (meters.DailyQuota.take), so a run beside it sees it. Before (tester t71f),
each run saw the others' calls only once a second: two loads at once at --rate 20, a quota of 150, sent 154 calls,
the server refused 4 (its quota's 429, Retry-After a day), and each run stopped on the API's word. Judged by what
the sandbox counted."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import anyio
from conftest import CREDS, write_entries

from bulkload import Job, load
from bulkload.report import Report
from bulkload.sandbox import SandboxOptions, running

QUOTA = 150


async def test_two_loads_at_once_stop_at_the_agreements_quota_together(tmp_path: Path) -> None:
    reports: list[Report] = []
    with anyio.fail_after(90):
        async with running("economic", SandboxOptions(daily_quota=QUOTA)) as url:

            async def one(journal: int) -> None:
                data = tmp_path / f"e{journal}.csv"
                write_entries(data, 300, journal=journal, first_voucher=1000 * journal)
                job = Job(
                    target="economic", files=[str(data)], base_url=url, batch_size=2, concurrency=2, rate=20.0,
                    daily_quota=QUOTA, ledger=str(tmp_path / f"{journal}.sqlite"),
                    rejects=str(tmp_path / f"{journal}-rejects.csv"), report=str(tmp_path / f"{journal}.json"),
                )  # fmt: skip
                reports.append(await load(job, env=CREDS, raise_on_stop=False))

            async with anyio.create_task_group() as tg:
                for journal in (1, 2):
                    tg.start_soon(one, journal)
            async with aiohttp.ClientSession() as s, s.get(url.split("/journalsapi")[0] + "/_sandbox/stats") as r:
                seen = await r.json()
    assert seen["requests"] <= QUOTA and seen["faults"]["quota"] == 0, seen
    assert sum(r.requests for r in reports) == seen["requests"], [r.requests for r in reports]
    for report in reports:
        assert report.exit_code == 4 and f"daily quota of {QUOTA} calls reached" in str(report.stop_reason), report
