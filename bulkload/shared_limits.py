"""An agreement's limits kept in PostgreSQL, so every worker on every machine spends the same budget: the calls of
each agreement (`bulkload_calls`: one row a call, at the PostgreSQL server's clock, kept as long as the longest
rolling window) and its daily quota (`bulkload_quota`: calls per minute over a rolling 24 h, as meters.DailyQuota
counts them). A call is taken under the agreement's transaction-scoped advisory lock, so two workers never both
take the last slot of a window; a worker killed mid-job leaves its calls counted for the one that resumes the job.

The agreement is the API account the job's calls go to, whatever a manifest calls it: a keyed hash (HMAC-SHA256
under a random salt kept in the database, `bulkload_budget_salt`) of the target, the API address and the credentials
that name the agreement (`Credentials.agreement_of`: e-conomic's grant token), as `with_budget` gives it. Two
manifests that name one account by two agreement names (`acme`, `acme-eu`), which no check of one manifest sees,
spend one budget: the server never sees both within a window of its own. The tables name no credential, nor
anything a guess at one could be checked against without the database's salt.

`BUDGET` holds the budget of the job a worker runs now (worker.py sets it per job, None elsewhere); `with_budget`
(called where a run builds its limits) adds it to the job's own limits. The job's own meters still pace it; the
shared budget only adds the calls other workers made against the same agreement.

The limits are the job's: its rolling windows (HaloPSA's 300 requests per rolling 5 minutes per instance, from
seeds/halopsa), the window its steady rate implies and its daily quota (e-conomic's 50,000 calls per 24 h per
agreement, from seeds/economic), as `Limits.for_job` builds them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio

from .errors import RunStopped
from .limits import Limits, Slot
from .meters import Clock, Sleep

if TYPE_CHECKING:  # the `postgres` extra's: imported where a budget is used, so a plain install never needs it
    import psycopg

#: minutes in the daily quota's rolling window (meters.DailyQuota's)
QUOTA_WINDOW_MIN = 24 * 60

SCHEMA = """
CREATE TABLE IF NOT EXISTS bulkload_calls (
    agreement text NOT NULL,
    at double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS bulkload_calls_agreement_at ON bulkload_calls (agreement, at);
CREATE TABLE IF NOT EXISTS bulkload_quota (
    agreement text NOT NULL,
    minute bigint NOT NULL,
    calls integer NOT NULL,
    PRIMARY KEY (agreement, minute)
);
-- the salt of the keyed hash that names an agreement in the two tables above (one row, made by the first worker)
CREATE TABLE IF NOT EXISTS bulkload_budget_salt (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    salt bytea NOT NULL
);
"""

#: bytes of the salt of the agreements' keyed hashes
SALT_BYTES = 16

#: the advisory lock every worker takes to create the tables (CREATE … IF NOT EXISTS races with itself)
_SCHEMA_LOCK = 0x62756C6B  # "bulk"

#: seconds the shared budget widens every window by, on top of the job's own margin (meters.WindowMeter): workers
#: on different machines reach the API over different paths, and a call counted here may reach it later than the
#: one that follows it (a busy worker, a connection being made); the server counts arrivals
MARGIN_S = 0.25

#: a window as the shared budget keeps it: (calls, seconds)
Window = tuple[int, float]


async def create_schema(conn: psycopg.AsyncConnection[Any]) -> None:
    """Create the budget's tables and its salt if they are not there (any worker may be the first)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        await conn.execute(SCHEMA)
        await conn.execute(
            "INSERT INTO bulkload_budget_salt (one, salt) VALUES (true, %s) ON CONFLICT (one) DO NOTHING",
            (secrets.token_bytes(SALT_BYTES),),
        )


async def salt_of(conn: psycopg.AsyncConnection[Any]) -> bytes:
    """The salt every worker names the agreements by (`create_schema` made it)."""
    cur = await conn.execute("SELECT salt FROM bulkload_budget_salt")
    row = await cur.fetchone()
    assert row is not None, "create_schema makes the salt"
    return bytes(row[0])


class LoopLag:
    """How late the event loop runs: `run` sleeps `tick_s` at a time and notes how late it wakes; `worst_s` is the
    latest lateness within the last `keep_s` seconds (`clock`, `sleep`: time.monotonic and anyio.sleep)."""

    def __init__(
        self, tick_s: float = 0.05, keep_s: float = 60.0, clock: Clock = time.monotonic, sleep: Sleep = anyio.sleep
    ) -> None:
        self.tick_s, self.keep_s = tick_s, keep_s
        self._clock, self._sleep = clock, sleep
        self._late: deque[tuple[float, float]] = deque()  # (when, seconds late): later ones less late

    async def run(self) -> None:
        """Measure until cancelled."""
        while True:
            await self.tick()

    async def tick(self) -> None:
        """One measure: sleep `tick_s`, note how late the wake-up was."""
        due = self._clock() + self.tick_s
        await self._sleep(self.tick_s)
        now = self._clock()
        late = max(0.0, now - due)
        while self._late and self._late[-1][1] <= late:  # outdone by this one: never the worst again
            self._late.pop()
        self._late.append((now, late))
        while self._late[0][0] < now - self.keep_s:
            self._late.popleft()

    def worst_s(self) -> float:
        """The worst lateness within the last `keep_s` seconds, in seconds."""
        floor = self._clock() - self.keep_s
        return max((late for when, late in self._late if when >= floor), default=0.0)


class SharedBudget:
    """One agreement's calls as every worker counts them, over `conn` (this job's own connection; its calls
    take turns on it). `take` counts one call, after waiting until every window has room; RunStopped when the daily
    quota is spent. `sleep`: waits the given seconds (anyio.sleep; a test's own). `agreement` names it in messages,
    and in the tables until `of_account` names the account the job's calls go to (under `salt`: salt_of's).

    A busy event loop holds a call between its slot and the server as long as it stalls (other jobs' ledgers made
    and files inspected on the same loop): every window is widened by `lag()`, the loop's worst lateness lately, in
    seconds (LoopLag.worst_s; none by default), at most `LAG_CAP_S`."""

    LAG_CAP_S = 1.0

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any],
        agreement: str,
        sleep: Sleep = anyio.sleep,
        lag: Callable[[], float] = lambda: 0.0,
        salt: bytes = b"",
    ) -> None:
        self.conn = conn
        self.agreement = agreement
        #: the agreement as the tables and the advisory lock name it
        self.key = agreement
        self._salt = salt
        self._sleep = sleep
        self._lag = lag
        self._turn = anyio.Lock()

    def of_account(self, parts: Sequence[str]) -> None:
        """Count the calls against the API account `parts` name (the target, the API address and the credentials
        that name the agreement), under the database's salt: the same account under any agreement name of any
        manifest is one budget."""
        named = "\0".join(parts).encode()
        self.key = "account-" + hmac.new(self._salt, named, hashlib.sha256).hexdigest()[:32]

    async def take(self, windows: Sequence[Window], quota: int) -> None:
        """Wait until each of `windows` holds fewer than its limit of this agreement's calls (over every worker),
        then count one; `quota`: calls per rolling 24 h, 0 = none. Raises RunStopped when the quota is spent,
        and when PostgreSQL does not answer (rather than send a call no other worker would count)."""
        from psycopg import OperationalError

        while True:
            async with self._turn:
                try:
                    wait = await self._try_take(windows, quota)
                except OperationalError as exc:
                    raise RunStopped(
                        f"the shared budget of agreement {self.agreement!r} is unreachable ({type(exc).__name__}); "
                        "the job continues once PostgreSQL answers again"
                    ) from None
            if wait <= 0:
                return
            await self._sleep(wait)

    async def _try_take(self, windows: Sequence[Window], quota: int) -> float:
        """One turn under the agreement's lock: the seconds to wait for room, or 0.0 with the call counted."""
        longest = max((span for _, span in windows), default=0.0) + self.LAG_CAP_S
        async with self.conn.transaction():
            cur = await self.conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)), extract(epoch FROM clock_timestamp())",
                (self.key,),
            )
            row = await cur.fetchone()
            assert row is not None
            now = float(row[1])
            wait = 0.0
            lag_s = min(self.LAG_CAP_S, self._lag())
            for limit, window_s in windows:
                span = window_s + lag_s
                cur = await self.conn.execute(
                    "SELECT at FROM bulkload_calls WHERE agreement = %s AND at > %s ORDER BY at DESC OFFSET %s LIMIT 1",
                    (self.key, now - span, limit - 1),
                )
                oldest = await cur.fetchone()
                if oldest is not None:  # the window holds `limit` calls: the next goes when the oldest leaves it
                    wait = max(wait, float(oldest[0]) + span - now)
            if wait > 0:
                return wait
            minute = int(now // 60)
            if quota:
                await self._check_quota(quota, minute)
            await self.conn.execute("INSERT INTO bulkload_calls (agreement, at) VALUES (%s, %s)", (self.key, now))
            await self.conn.execute(
                "DELETE FROM bulkload_calls WHERE agreement = %s AND at < %s", (self.key, now - longest)
            )
            await self.conn.execute(
                "INSERT INTO bulkload_quota (agreement, minute, calls) VALUES (%s, %s, 1) "
                "ON CONFLICT (agreement, minute) DO UPDATE SET calls = bulkload_quota.calls + 1",
                (self.key, minute),
            )
        return 0.0

    async def _check_quota(self, quota: int, minute: int) -> None:
        floor = minute - QUOTA_WINDOW_MIN
        cur = await self.conn.execute(
            "SELECT coalesce(sum(calls), 0), min(minute) FROM bulkload_quota WHERE agreement = %s AND minute > %s",
            (self.key, floor),
        )
        row = await cur.fetchone()
        assert row is not None
        used, first = int(row[0]), row[1]
        if used >= quota:
            free_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime((int(first) + QUOTA_WINDOW_MIN + 1) * 60))
            raise RunStopped(
                f"daily quota of {quota} calls reached by the workers of agreement {self.agreement!r}; "
                f"calls free up from {free_at}; the job is retried"
            )

    async def used(self) -> int:
        """The agreement's calls in the last 24 h, every worker's (for `bulkload status` and the tests)."""
        async with self._turn, self.conn.transaction():
            cur = await self.conn.execute(
                "SELECT coalesce(sum(calls), 0) FROM bulkload_quota WHERE agreement = %s "
                "AND minute > extract(epoch FROM clock_timestamp())::bigint / 60 - %s",
                (self.key, QUOTA_WINDOW_MIN),
            )
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])


class SharedLimits(Limits):
    """A job's own limits (`own`, as `Limits.for_job` made them), and then the agreement's budget every worker
    shares: each call waits for its own meters, then takes a slot of the shared windows and quota."""

    def __init__(self, own: Limits, budget: SharedBudget) -> None:
        super().__init__(
            quota=own.quota, rate=own.rate, windows=own.windows, concurrency=own.concurrency, api_url=own.api_url
        )
        self.budget = budget
        for window in self.windows:
            window.together = False  # every worker's calls in it are the budget's to count, on the database's clock
        #: the windows every worker keeps: the job's own meters' (with their margins), widened by MARGIN_S
        self.shared_windows = [(w.limit, w.window_s + MARGIN_S) for w in own.windows]

    async def acquire(self) -> Slot:
        slot = await super().acquire()
        self.held += 1
        try:
            await self.budget.take(self.shared_windows, self.quota.limit)
        except BaseException:
            self.answered(slot, worked=False)  # the call does not go: its slot is over now, and timed no trip
            raise
        finally:
            self.held -= 1
        return slot


#: the shared budget of the job this task runs (worker.py sets it for a job; None: the job's limits stay local)
BUDGET: ContextVar[SharedBudget | None] = ContextVar("bulkload_shared_budget", default=None)


def with_budget(limits: Limits, account: Sequence[str]) -> Limits:
    """`limits`, with the shared budget of the job being run added when a worker runs it (`BUDGET`), counted against
    the API account `account` names (SharedBudget.of_account)."""
    budget = BUDGET.get()
    if budget is None:
        return limits
    budget.of_account(account)
    return SharedLimits(limits, budget)
