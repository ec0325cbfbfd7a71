"""What a rollback left of a run, for its reconciliation (reconcile.by_walk): the records it removed, or found gone,
are not the run's to find any more (not `missing`); what is left of the run is compared as ever.

A rollback records each record's outcome (Ledger.removals): `removed`, `gone` (a 404 after a DELETE of ours),
`unexplained` (gone before the rollback came to it), `removing` (its DELETE may have been sent when the rollback was
cut short), `deleted` (its DELETE answered as done, not read back yet) and `failed` (refused: still there). The first
three are rolled back, and so is a `removing` or `deleted` one the walks
did not list. The run's calls are then left whole (none of their records rolled back: their control totals stand),
rolled back whole (nothing of them is expected), or in part (a rollback that stopped between a call's records): what
is left of those is expected as the walks found it, each record checked by its id (`missing`) and by what it holds
(`lines_changed`), not by its call's totals. The groups of a call rolled back, whole or in part, are not compared
(Ledger.group_differences).

A group of a call rolled back of which the walks list none of the run's records (`rolled_groups`) is no longer the
run's in the API: a record of it the run did not create, numbered above the newest the run created (so made after
all of the run's: by a load of the file again once rolled back, say), is another writer's, not a double
(reconcile._OTHERS). A record of such a group numbered below was there while the run loaded, and one of a group the
run still holds a record of, are doubles, as ever.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ledger import LOC_SHIFT, Ledger
from .model import MAYBE_OUT, ROLLED_OUT, Totals, add_totals

#: the records of the run a rollback took out (model.rolled_out, in SQL over the walks' `remote`: a `removing` or
#: `deleted` one where no walk listed it)
_ROLLED = (
    "INSERT INTO rolled SELECT x.id FROM removed x WHERE EXISTS (SELECT 1 FROM created c WHERE c.id = x.id) "
    f"AND (x.outcome IN ({', '.join(repr(o) for o in ROLLED_OUT)}) "
    f"OR (x.outcome IN ({', '.join(repr(o) for o in MAYBE_OUT)}) "
    "AND NOT EXISTS (SELECT 1 FROM remote r WHERE r.id = x.id)))"
)

#: the groups of the calls rolled back (`touched`) none of whose records of the run the walks listed: what the
#: rollback took out whole (the list of the run's groups left is one pass over the walk, not one per group)
_ROLLED_GROUPS = (
    "INSERT INTO rolled_groups SELECT g.key FROM groups g JOIN touched t ON t.seq = g.seq AND t.part = g.part "
    "WHERE g.key NOT IN (SELECT r.grp FROM remote r JOIN created c ON c.id = r.id)"
)


@dataclass(frozen=True)
class Left:
    """What a rollback left of the run: `in_part`, whether the ledger says it is still rolling back (a rollback that
    stopped: `bulkload rollback` finishes it); `records`, how many of the run's records it took out, and `left`, how
    many the run still has; `expected`, the control totals of what is left per scope and currency (Totals), as
    Ledger.expected gives them of a run never rolled back."""

    in_part: bool
    records: int
    left: int
    expected: dict[str, Totals]

    def figures(self) -> dict[str, object]:
        """The report's `rolled_back`: `status` (the ledger's: rolled_back, or rolling_back for a rollback that
        stopped), `records` and `left`."""
        return {"status": "rolling_back" if self.in_part else "rolled_back", "records": self.records, "left": self.left}


def what_is_left(ledger: Ledger) -> Left | None:
    """After the walks (Ledger.add_remote, begin_remote): fill the temporary tables the diffs leave out, `rolled`
    (ids of the run's records rolled back), `touched` (calls rolled back whole or in part) and `rolled_groups`
    (their groups none of whose records of the run is left), and say what is left
    of the run; None for a run no rollback took anything of and none is rolling back (a rollback that stopped before
    it removed anything leaves the whole run, Ledger.expected's, to be rolled back all the same). Reads every call's
    lines where a rollback took only some of the run's records (one that stopped)."""
    status = ledger.run.status
    if status not in ("rolling_back", "rolled_back"):
        return None
    db = ledger.db()
    db.execute(_ROLLED)
    (records,) = db.execute("SELECT COUNT(*) FROM rolled").fetchone()
    (ids,) = db.execute("SELECT COUNT(DISTINCT id) FROM created").fetchone()
    if not records:
        return Left(True, 0, ids, ledger.expected()) if status == "rolling_back" else None
    left = ids - records
    expected: dict[str, Totals] = {}
    if not left:  # all of it: nothing of any call is expected
        db.execute("INSERT INTO touched SELECT seq, part FROM chunks WHERE state = 'done'")
        db.execute(_ROLLED_GROUPS)
        return Left(status == "rolling_back", records, 0, expected)
    db.execute("CREATE TEMP TABLE IF NOT EXISTS apart (id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM apart")
    for seq, part, file_idx, lines, sent, _ in ledger.done_calls():
        ours = [(file_idx << LOC_SHIFT) + line for line in lines]
        found = [
            row
            for start in range(0, len(ours), 500)  # SQLite's 999 bound values at most, before 3.32
            for row in db.execute(
                "SELECT c.id, x.id IS NOT NULL FROM created c LEFT JOIN rolled x ON x.id = c.id "
                f"WHERE c.loc IN ({','.join('?' * len(ours[start : start + 500]))})",
                ours[start : start + 500],
            )
        ]
        if not any(rolled for _, rolled in found):
            add_totals(expected, sent)
            continue
        db.execute("INSERT OR IGNORE INTO touched VALUES (?, ?)", (seq, part))
        db.executemany("INSERT OR IGNORE INTO apart VALUES (?)", [(i,) for i, rolled in found if not rolled])
    for scope, currency, n, total, debit in db.execute(
        "SELECT r.scope, r.currency, COUNT(*), SUM(r.units), SUM((ABS(r.units) + r.units) / 2) "
        "FROM apart a JOIN remote r ON r.id = a.id GROUP BY r.scope, r.currency"
    ):
        add_totals(expected, {scope: {currency: [n, total, debit]}})
    db.execute(_ROLLED_GROUPS)
    return Left(status == "rolling_back", records, left, expected)


def left_of_target(ledger: Ledger, records: int) -> Left | None:
    """What a rollback left of a run its target reconciles itself (Books.reconcile), which counted `records` of the
    run's records taken out (model.rolled_out: `rolled_back` in its `scopes`); None for none, or a run no rollback
    worked on (a run rolling back is one however few it took). Every other record of the run is left, compared by
    the target as ever (`expected` is not used)."""
    status = ledger.run.status
    if not (status == "rolling_back" or (records and status == "rolled_back")):
        return None
    (ids,) = ledger.db().execute("SELECT COUNT(DISTINCT id) FROM created").fetchone()
    return Left(status == "rolling_back", records, ids - records, {})
