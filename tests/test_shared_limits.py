"""The agreement's budget in PostgreSQL (bulkload.shared_limits), against a real server: two workers' budgets of
one agreement never hold more calls in a window than its limit between them, never spend more than its daily quota,
and a budget opened after a worker was killed counts that worker's calls."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import psycopg
import pytest

from bulkload.errors import RunStopped
from bulkload.shared_limits import LoopLag, SharedBudget, create_schema


class Waited(Exception):
    """Raised by the recording sleep: the budget asked to wait."""


@pytest.fixture
async def connect(postgres_url: str) -> AsyncIterator[Callable[[], Any]]:
    opened: list[psycopg.AsyncConnection[Any]] = []

    async def make() -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(postgres_url, autocommit=True)
        await create_schema(conn)
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        await conn.close()


def agreement() -> str:
    return f"agreement-{uuid.uuid4().hex[:8]}"


async def starts(conn: psycopg.AsyncConnection[Any], name: str) -> list[float]:
    cur = await conn.execute("SELECT at FROM bulkload_calls WHERE agreement = %s ORDER BY at", (name,))
    return [float(row[0]) for row in await cur.fetchall()]


async def test_two_workers_share_one_window(connect: Callable[[], Any]) -> None:
    """Two budgets (two workers) of one agreement take 12 calls between them under 4 per 0.3 s (and 100 per minute,
    which keeps every start in the table): no 0.3 s span of the starts PostgreSQL recorded holds more than 4, whatever
    the machine's load."""
    name = agreement()
    budgets = [SharedBudget(await connect(), name) for _ in range(2)]

    async def spend(budget: SharedBudget) -> None:
        for _ in range(6):
            await budget.take([(4, 0.3), (100, 60.0)], 0)

    async with anyio.create_task_group() as tg:
        for budget in budgets:
            tg.start_soon(spend, budget)
    at = await starts(budgets[0].conn, name)
    assert len(at) == 12
    assert all(at[i + 4] - at[i] >= 0.3 for i in range(len(at) - 4))


async def test_quota_is_the_agreements_not_the_workers(connect: Callable[[], Any]) -> None:
    name, other = agreement(), agreement()
    first, second = SharedBudget(await connect(), name), SharedBudget(await connect(), name)
    for _ in range(6):
        await first.take([], 10)
    for _ in range(4):
        await second.take([], 10)
    with pytest.raises(RunStopped, match="daily quota of 10 calls reached by the workers of agreement"):
        await second.take([], 10)
    with pytest.raises(RunStopped):
        await first.take([], 10)
    await SharedBudget(await connect(), other).take([], 10)  # another agreement has its own
    assert await first.used() == 10


async def test_a_killed_workers_calls_still_count(connect: Callable[[], Any]) -> None:
    """A worker that took the whole window and died (its connection gone): the worker that takes the job over
    waits for the window to free up instead of sending at once."""
    name = agreement()
    killed = await connect()
    for _ in range(5):
        await SharedBudget(killed, name).take([(5, 60.0)], 0)
    await killed.close()
    asked: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        asked.append(seconds)
        raise Waited

    with pytest.raises(Waited):
        await SharedBudget(await connect(), name, sleep=recording_sleep).take([(5, 60.0)], 0)
    assert 0 < asked[0] <= 60.0


async def test_unreachable_budget_stops_the_job(connect: Callable[[], Any]) -> None:
    conn = await connect()
    budget = SharedBudget(conn, agreement())
    await conn.close()
    with pytest.raises(RunStopped, match="unreachable"):
        await budget.take([(5, 1.0)], 0)


async def test_the_loops_lateness_widens_the_windows(connect: Callable[[], Any]) -> None:
    """A worker whose event loop ran 0.3 s late lately widens every window by that much: a call it lets go may
    reach the API that much later than the ones counted before it."""
    name = agreement()
    budget = SharedBudget(await connect(), name, lag=lambda: 0.3)
    for _ in range(3):
        await budget.take([(2, 0.2), (100, 60.0)], 0)
    at = await starts(budget.conn, name)
    assert at[2] - at[0] >= 0.5


async def test_loop_lag_keeps_the_worst_lateness_for_a_while() -> None:
    now = [0.0]
    late = [0.01, 0.4, 0.02, 0.0, 0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds + late.pop(0)

    lag = LoopLag(tick_s=1.0, keep_s=2.5, clock=lambda: now[0], sleep=sleep)
    worst = []
    for _ in range(5):
        await lag.tick()
        worst.append(lag.worst_s())
    assert worst == pytest.approx([0.01, 0.4, 0.4, 0.4, 0.02])  # 0.4 at 2.41 s is older than 2.5 s at 5.43 s
