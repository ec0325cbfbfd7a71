"""Proof at the end: compare what the ledger says arrived with what the API now holds.

Per scope (e-conomic: journal) it compares the count endpoint with the baseline + what loaded, walks the
cursor over what was created since the baseline, and diffs the ids in SQL against the ids the API gave at
create: ids missing remotely, and entries nobody in this run created (doubles or foreign writes).
Control totals are rows and the sum of amounts per currency, plus a hash total of the ids.
"""

from __future__ import annotations

from typing import Any

import anyio

from .dispatch import Dispatcher
from .errors import BulkloadError
from .ledger import Ledger
from .targets.base import Target, Totals

#: how many missing or unexpected entries the report names one by one
LIST_LIMIT = 100


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _totals_view(totals: dict[str, Totals]) -> dict[str, dict[str, Any]]:
    return {
        scope: {cur: {"rows": n, "amount": money(c), "debit": money(d)} for cur, (n, c, d) in sorted(per.items())}
        for scope, per in sorted(totals.items(), key=lambda kv: kv[0])
    }


async def reconcile(ledger: Ledger, target: Target, dispatcher: Dispatcher, files: list[str]) -> dict[str, Any]:
    """Return the report's `reconcile` section; `ok` is True only when everything matches."""
    conn = ledger.db()
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS remote (id INTEGER PRIMARY KEY, scope TEXT, "
                 "currency TEXT, cents INTEGER, seen INTEGER NOT NULL DEFAULT 1)")
    conn.execute("DELETE FROM remote")
    expected = ledger.expected()
    baselines = ledger.baselines()
    scopes = sorted(set(expected) | set(baselines), key=lambda s: (len(s), s))
    counts: dict[str, dict[str, int]] = {}
    failed: list[BulkloadError] = []

    async def check(scope: str) -> None:
        try:
            await walk(scope)
        except BulkloadError as exc:  # surfaces as itself, not wrapped in an ExceptionGroup
            failed.append(exc)
            tg.cancel_scope.cancel()

    async def walk(scope: str) -> None:
        base = baselines.get(scope, {"count": 0, "max_id": 0})
        loaded = sum(figures[0] for figures in expected.get(scope, {}).values())
        counts[scope] = {
            "before": base["count"],
            "loaded": loaded,
            "expected": base["count"] + loaded,
            "remote": await target.count(dispatcher, scope),
        }
        async for page in target.walk(dispatcher, scope, base):
            with conn:  # one transaction a page: in autocommit every row would be its own
                conn.execute("BEGIN")
                conn.executemany(
                    "INSERT INTO remote (id, scope, currency, cents) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET seen = seen + 1",
                    [(i, scope, cur, cents) for i, cur, cents in page],
                )

    # one cursor per scope, walked side by side: each walk is a chain of round trips
    async with anyio.create_task_group() as tg:
        for scope in scopes:
            tg.start_soon(check, scope)
    if failed:
        raise failed[0]
    counts = {scope: counts[scope] for scope in scopes}
    seen_twice = conn.execute("SELECT COUNT(*) FROM remote WHERE seen > 1").fetchone()[0]

    def diff() -> tuple[int, list[dict[str, Any]], int, list[dict[str, Any]], dict[str, Totals], int, int]:
        missing_n = conn.execute(
            "SELECT COUNT(*) FROM created c LEFT JOIN remote r ON r.id = c.id WHERE r.id IS NULL"
        ).fetchone()[0]
        missing = [
            {"id": i, "file": files[f] if f < len(files) else f, "line": ln}
            for i, f, ln in conn.execute(
                "SELECT c.id, c.file_idx, c.line_no FROM created c LEFT JOIN remote r ON r.id = c.id "
                "WHERE r.id IS NULL ORDER BY c.id LIMIT ?", (LIST_LIMIT,)
            )
        ]
        extra_n = conn.execute(
            "SELECT COUNT(*) FROM remote r LEFT JOIN created c ON c.id = r.id WHERE c.id IS NULL"
        ).fetchone()[0]
        extra = [
            {"id": i, "scope": s, "currency": cur, "amount": money(cents)}
            for i, s, cur, cents in conn.execute(
                "SELECT r.id, r.scope, r.currency, r.cents FROM remote r LEFT JOIN created c ON c.id = r.id "
                "WHERE c.id IS NULL ORDER BY r.id LIMIT ?", (LIST_LIMIT,)
            )
        ]
        remote: dict[str, Totals] = {}
        for s, cur, n, cents, debit in conn.execute(
            "SELECT scope, currency, COUNT(*), SUM(cents), SUM(MAX(cents, 0)) FROM remote GROUP BY scope, currency"
        ):
            remote.setdefault(s, {})[cur] = [n, cents, debit]
        ours = conn.execute("SELECT COALESCE(SUM(id), 0) FROM created").fetchone()[0]
        theirs = conn.execute("SELECT COALESCE(SUM(id), 0) FROM remote").fetchone()[0]
        return missing_n, missing, extra_n, extra, remote, ours, theirs

    missing_n, missing, extra_n, extra, remote, id_sum, remote_id_sum = diff()
    expected_count = sum(c["expected"] for c in counts.values())
    remote_count = sum(c["remote"] for c in counts.values())
    exp_view, rem_view = _totals_view(expected), _totals_view(remote)
    ok = (
        expected_count == remote_count
        and exp_view == rem_view
        and missing_n == 0
        and extra_n == 0
        and seen_twice == 0
        and id_sum == remote_id_sum
    )
    return {
        "ok": ok,
        "expected_count": expected_count,
        "remote_count": remote_count,
        "expected_totals": {"per_scope": exp_view, "id_sum": id_sum},
        "remote_totals": {"per_scope": rem_view, "id_sum": remote_id_sum},
        "missing": missing,
        "missing_count": missing_n,
        "duplicates": extra,
        "duplicates_count": extra_n,
        "walk_repeated_ids": seen_twice,
        "scopes": counts,
        "scope_name": target.scope_name,
    }
