"""Proof at the end: compare what the ledger says arrived with what the API now holds.

Per scope (e-conomic: journal) it compares the count endpoint with the baseline + what loaded, walks the
cursor over what was created since the baseline, and diffs the ids in SQL against the ids the API gave at
create: ids missing remotely, and entries nobody in this run created (doubles or foreign writes).
Control totals are rows and the sum of amounts per currency in exact minor units, plus a hash total of the
ids; and per group (e-conomic: voucher), every group this run loaded must be there with all of its lines and
the same totals.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from itertools import compress, groupby, repeat
from operator import eq, itemgetter
from typing import Any

from .dispatch import Dispatcher
from .ledger import LOC_SHIFT, Ledger
from .money import money
from .side_by_side import side_by_side
from .targets.base import Listed, Target, Totals

#: how many missing or unexpected entries the report names one by one
LIST_LIMIT = 100


def _totals_view(totals: dict[str, Totals]) -> dict[str, dict[str, Any]]:
    return {
        scope: {
            cur: {"rows": n, "amount": money(c, cur), "debit": money(d, cur)} for cur, (n, c, d) in sorted(per.items())
        }
        for scope, per in sorted(totals.items(), key=lambda kv: kv[0])
    }


async def reconcile(ledger: Ledger, target: Target, dispatcher: Dispatcher, files: list[str]) -> dict[str, Any]:
    """Return the report's `reconcile` section; `ok` is True only when everything matches."""
    if target.reconcile_by == "responses":
        return by_responses(ledger, target)
    if target.reconcile_by == "target":
        return await target.reconcile(dispatcher, ledger, files)
    return await by_walk(ledger, target, dispatcher, files)


def by_responses(ledger: Ledger, target: Target) -> dict[str, Any]:
    """For an API that cannot be read back: what was sent against what its answers said was created."""
    expected, returned = ledger.expected(), ledger.returned()
    exp_view, rem_view = _totals_view(expected), _totals_view(returned)
    expected_count = sum(f[0] for per in expected.values() for f in per.values())
    remote_count = sum(f[0] for per in returned.values() for f in per.values())
    # ids are per kind (file), and lines merged into one entry share theirs
    ids = ledger.db().execute(
        f"SELECT COUNT(*) FROM (SELECT DISTINCT loc >> {LOC_SHIFT}, id FROM created)"
    ).fetchone()[0]
    return {
        "ok": exp_view == rem_view and expected_count == remote_count == ids,
        "remote_read": False,
        "note": f"{target.name} offers no way to read back what was created: this compares what was sent "
        "with what the API answered (count of returned ids, sums of returned amounts)",
        "expected_count": expected_count,
        "remote_count": remote_count,
        "ids_returned": ids,
        "expected_totals": {"per_scope": exp_view},
        "remote_totals": {"per_scope": rem_view},
        "missing": [],
        "missing_count": 0,
        "duplicates": [],
        "duplicates_count": 0,
        "scopes": {},
        "scope_name": target.scope_name,
    }


def add_listed(totals: Totals, page: Listed) -> None:
    """Add a walked page's rows, amounts and debits per currency to `totals`, in loops that run in C."""
    currencies = page.currencies
    distinct = set(currencies)
    for currency in distinct:
        units = page.units if len(distinct) == 1 else list(compress(page.units, map(eq, currencies, repeat(currency))))
        acc = totals.get(currency) or totals.setdefault(currency, [0, 0, 0])
        total = sum(units)
        acc[0] += len(units)
        acc[1] += total
        acc[2] += (sum(map(abs, units)) + total) // 2  # the positive ones: (|a| + a) / 2 summed


#: the least ids a range walked on its own spans: a range costs at least one round trip more than its pages
WALK_RANGE_MIN = 10_000


def id_ranges(after: int, newest: int, most: int) -> list[tuple[int, int | None]]:
    """(after, upto] id ranges that cover everything above `after`: up to `most` even ranges up to `newest`,
    the last one open-ended (whatever was created after `newest` belongs in the walk too)."""
    n = max(1, min(most, (newest - after) // WALK_RANGE_MIN))
    bounds = [after + (newest - after) * i // n for i in range(n)]
    return [(lo, hi) for lo, hi in zip(bounds, [*bounds[1:], None])]


async def by_walk(ledger: Ledger, target: Target, dispatcher: Dispatcher, files: list[str]) -> dict[str, Any]:
    """Counts and a cursor walk of what was created since the baseline, diffed against the ledger."""
    conn = ledger.db()
    # built here, in one go, rather than kept up row by row while loading
    conn.execute("CREATE INDEX IF NOT EXISTS created_id ON created(id)")
    # only the ids go to SQL (for the diff); totals are summed as the pages arrive
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS remote (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, grp TEXT NOT NULL, "
        "units INTEGER NOT NULL, line_check INTEGER)"
    )
    conn.execute("DELETE FROM remote")
    expected = ledger.expected()
    baselines = ledger.baselines()
    scopes = sorted(set(expected) | set(baselines), key=lambda s: (len(s), s))
    counts: dict[str, dict[str, int]] = {}
    remote: dict[str, Totals] = {}
    walked_twice = 0
    remote_id_sum = 0
    fractions = 0

    newest_created = conn.execute("SELECT COALESCE(MAX(id), 0) FROM created").fetchone()[0]
    width = dispatcher.client.concurrency

    async def count(scope: str) -> None:
        base = baselines.get(scope, {"count": 0, "max_id": 0})
        loaded = sum(figures[0] for figures in expected.get(scope, {}).values())
        counts[scope] = {
            "before": base["count"],
            "loaded": loaded,
            "expected": base["count"] + loaded,
            "remote": await target.count(dispatcher, scope),
        }

    async def walk(scope: str, after: int, upto: int | None) -> None:
        nonlocal walked_twice, remote_id_sum, fractions
        totals = remote.setdefault(scope, {})
        async for page in target.walk(dispatcher, scope, after, upto):
            add_listed(totals, page)
            remote_id_sum += sum(page.ids)
            fractions += page.fractions
            before = conn.total_changes
            rows = zip(page.ids, repeat(scope), page.groups, page.units, page.checks or repeat(None))
            conn.executemany("INSERT OR IGNORE INTO remote VALUES (?, ?, ?, ?, ?)", rows)
            walked_twice += len(page.ids) - (conn.total_changes - before)

    # A cursor walk is a chain of round trips, one page after the other. Walking disjoint id ranges side by
    # side (every scope, and within a scope up to `concurrency` ranges of what this run created) turns the
    # chain into `concurrency` chains, so the walk runs at the API's pace, not at one page per round trip.
    jobs: list[Callable[[], Awaitable[None]]] = []
    for scope in scopes:
        jobs.append(partial(count, scope))
        after = baselines.get(scope, {"max_id": 0})["max_id"]
        jobs += [partial(walk, scope, lo, hi) for lo, hi in id_ranges(after, newest_created, width)]
    await side_by_side(jobs)
    counts = {scope: counts[scope] for scope in scopes}
    missing_n = conn.execute(
        "SELECT COUNT(*) FROM created c LEFT JOIN remote r ON r.id = c.id WHERE r.id IS NULL"
    ).fetchone()[0]
    # the lists cost another pass each: only when there is something to name
    missing = [
        {"id": i, "file": files[loc >> LOC_SHIFT], "line": loc & ((1 << LOC_SHIFT) - 1)}
        for i, loc in conn.execute(
            "SELECT c.id, c.loc FROM created c LEFT JOIN remote r ON r.id = c.id "
            "WHERE r.id IS NULL ORDER BY c.id LIMIT ?", (LIST_LIMIT,)
        )
    ] if missing_n else []
    extra_n = conn.execute(
        "SELECT COUNT(*) FROM remote r LEFT JOIN created c ON c.id = r.id WHERE c.id IS NULL"
    ).fetchone()[0]
    extra = [
        {"id": i, "scope": s}
        for i, s in conn.execute(
            "SELECT r.id, r.scope FROM remote r LEFT JOIN created c ON c.id = r.id "
            "WHERE c.id IS NULL ORDER BY r.id LIMIT ?", (LIST_LIMIT,)
        )
    ] if extra_n else []
    id_sum = conn.execute("SELECT COALESCE(SUM(id), 0) FROM created").fetchone()[0]
    differing_n, differing = group_differences(ledger, conn, target)
    changed_sql = ("FROM created c JOIN remote r ON r.id = c.id WHERE c.line_check IS NOT NULL "
                   "AND c.line_check IS NOT r.line_check")
    (changed_n,) = conn.execute(f"SELECT COUNT(*) {changed_sql}").fetchone()
    changed = [
        {"id": i, "file": files[loc >> LOC_SHIFT], "line": loc & ((1 << LOC_SHIFT) - 1)}
        for i, loc in conn.execute(f"SELECT c.id, c.loc {changed_sql} ORDER BY c.id LIMIT ?", (LIST_LIMIT,))
    ] if changed_n else []
    expected_count = sum(c["expected"] for c in counts.values())
    remote_count = sum(c["remote"] for c in counts.values())
    exp_view = _totals_view(expected)
    rem_view = _totals_view({scope: per for scope, per in remote.items() if per})
    ok = (
        expected_count == remote_count
        and exp_view == rem_view
        and missing_n == 0
        and extra_n == 0
        and walked_twice == 0
        and id_sum == remote_id_sum
        and differing_n == 0
        and changed_n == 0
        and fractions == 0
    )
    return {
        "ok": ok,
        "remote_read": True,
        "expected_count": expected_count,
        "remote_count": remote_count,
        "expected_totals": {"per_scope": exp_view, "id_sum": id_sum},
        "remote_totals": {"per_scope": rem_view, "id_sum": remote_id_sum},
        "missing": missing,
        "missing_count": missing_n,
        "duplicates": extra,
        "duplicates_count": extra_n,
        "walk_repeated_ids": walked_twice,
        "groups_differing": differing,
        "groups_differing_count": differing_n,
        "lines_changed": changed,
        "lines_changed_count": changed_n,
        "amounts_with_more_decimals": fractions,
        "scopes": counts,
        "scope_name": target.scope_name,
    }


def group_differences(ledger: Ledger, conn: sqlite3.Connection, target: Target) -> tuple[int, list[dict[str, Any]]]:
    """Every group this run loaded against what the walk found of it (lines, sum, sum of debits), in key order on
    both sides, so memory stays flat. A group missing a line, or holding a changed amount or a line more, is
    named. Groups the run did not load (other writers', earlier runs') are the id diff's business."""
    remote = _remote_groups(conn)
    here = next(remote, None)
    n, listed = 0, list[dict[str, Any]]()
    for key, lines, total, debit in ledger.loaded_groups():
        while here is not None and here[0] < key:
            here = next(remote, None)
        found = here[1:] if here is not None and here[0] == key else (0, 0, 0)
        if found != (lines, total, debit):
            n += 1
            if len(listed) < LIST_LIMIT:
                listed.append({"group": target.group_label(key), "key": key,
                               "expected": dict(zip(_GROUP_FIGURES, (lines, total, debit))),
                               "remote": dict(zip(_GROUP_FIGURES, found))})
    return n, listed


#: how a group's figures are named in the report: sums in the currency's minor unit (cents for DKK)
_GROUP_FIGURES = ("lines", "total_minor_units", "debit_minor_units")


def _remote_groups(conn: sqlite3.Connection) -> Iterator[tuple[str, int, int, int]]:
    rows = conn.execute("SELECT grp, units FROM remote WHERE grp != '' ORDER BY grp")
    for key, entries in groupby(rows, key=itemgetter(0)):
        units = [u for _, u in entries]
        total = sum(units)
        yield key, len(units), total, (sum(map(abs, units)) + total) // 2
