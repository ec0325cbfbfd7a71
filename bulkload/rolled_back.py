"""What a rollback left of a run, for its reconciliation (reconcile.by_walk): the records it removed, or found gone,
are not the run's to find any more (not `missing`); what is left of the run is compared as ever.

A rollback records each record's outcome (Ledger.removals): `removed`, `gone` (a 404 after a DELETE of ours),
`unexplained` (gone before the rollback came to it), `removing` (its DELETE may have been sent when the rollback was
cut short), `deleted` (its DELETE answered as done, not read back yet) and `failed` (refused: still there). The first
two are rolled back (model.ROLLED_OUT), and so is a `removing` or `deleted` one the walks did not list; an
`unexplained` one is not (the rollback did not take it out: it is missing). The run's calls are then left whole
(none of their records rolled back: their control totals stand), rolled back whole (nothing of them is expected), or
in part (a rollback that stopped between a call's records, or a DELETE of it that failed). The ledger keeps a call's
control totals, not its lines': what is left of a call rolled back in part is expected as its lines of the input give
it, read again as the run read them (as_read.totals_of_lines; the file's SHA-256 in the ledger says it is the one the
run read), never as the API holds it now, so an entry left changed or deleted since shows in the control totals as
well as by its id (`missing`) and by what it holds (`lines_changed`). Where the input cannot say (changed since the
run, gone), those totals are the walks' and the report says so (`rolled_back.totals_unchecked`), each entry still
checked by its id and line. What the rollback took is counted from what it recorded, never from what the walks found:
a record left and deleted since is missing, not rolled back. The groups of a call rolled back, whole or in part, are
not compared (Ledger.group_differences).

A group of a call rolled back of which the walks list none of the run's records (`rolled_groups`) is no longer the
run's in the API: a record of it the run did not create, numbered above the newest the run created (so made after
all of the run's: by a load of the file again once rolled back, say), is another writer's, not a double
(reconcile._OTHERS). A record of such a group numbered below was there while the run loaded, and one of a group the
run still holds a record of, are doubles, as ever.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .as_read import totals_of_lines
from .errors import BulkloadError
from .ledger import LOC_SHIFT, Ledger
from .model import MAYBE_OUT, ROLLED_OUT, Totals, add_totals
from .targets.base import Target

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


#: the control totals of what the walks found of the lines left of the calls rolled back in part (`left_lines`)
_WALKED = (
    "SELECT r.scope, r.currency, COUNT(*), SUM(r.units), SUM((ABS(r.units) + r.units) / 2) FROM left_lines l "
    "JOIN created c ON c.loc = l.loc JOIN remote r ON r.id = c.id GROUP BY r.scope, r.currency"
)

#: per call rolled back in part, how many of the lines left of it the walks did not find (missing)
_NOT_WALKED = (
    "SELECT l.seq, l.part, COUNT(*) FROM left_lines l JOIN created c ON c.loc = l.loc "
    "WHERE NOT EXISTS (SELECT 1 FROM remote r WHERE r.id = c.id) GROUP BY l.seq, l.part"
)


@dataclass(frozen=True)
class Left:
    """What a rollback left of the run: `in_part`, whether the ledger says it is still rolling back (a rollback that
    stopped: `bulkload rollback` finishes it); `records`, how many of the run's records it took out, and `left`, how
    many the run still has; `expected`, the control totals of what is left per scope and currency (Totals), as
    Ledger.expected gives them of a run never rolled back; `rows`, how many of the run's records are left per scope
    (where `unchecked`, those the walks did not list too: missing, not rolled back); `unchecked`, why the totals of
    what is left of the calls rolled back in part are the walks' (the input cannot give them), "" where the input
    gave them."""

    in_part: bool
    records: int
    left: int
    expected: dict[str, Totals]
    rows: dict[str, int] = field(default_factory=dict)
    unchecked: str = ""

    def figures(self) -> dict[str, object]:
        """The report's `rolled_back`: `status` (the ledger's: rolled_back, or rolling_back for a rollback that
        stopped), `records` and `left`; and `totals_unchecked`, why, where the control totals of what is left of
        the calls rolled back in part could not be rebuilt from the input (they are then the walks')."""
        said: dict[str, object] = {
            "status": "rolling_back" if self.in_part else "rolled_back",
            "records": self.records,
            "left": self.left,
        }
        return said | ({"totals_unchecked": self.unchecked} if self.unchecked else {})


def what_is_left(ledger: Ledger, target: Target, files: list[str]) -> Left | None:
    """After the walks (Ledger.add_remote, begin_remote): fill the temporary tables the diffs leave out, `rolled`
    (ids of the run's records rolled back), `touched` (calls rolled back whole or in part) and `rolled_groups`
    (their groups none of whose records of the run is left), and say what is left
    of the run; None for a run no rollback took anything of and none is rolling back (a rollback that stopped before
    it removed anything leaves the whole run, Ledger.expected's, to be rolled back all the same). What is left of a
    call rolled back in part is expected as its lines of the input (`files`, as the run read them) give it
    (as_read.totals_of_lines); where the input cannot (changed since, gone), as the walks found it, and `unchecked`
    says why."""
    status = ledger.run.status
    if status not in ("rolling_back", "rolled_back"):
        return None
    db = ledger.db()
    db.execute(_ROLLED)
    (records,) = db.execute("SELECT COUNT(*) FROM rolled").fetchone()
    (ids,) = db.execute("SELECT COUNT(DISTINCT id) FROM created").fetchone()
    if not records:
        whole = ledger.expected()
        return Left(True, 0, ids, whole, _rows(whole)) if status == "rolling_back" else None
    left = ids - records
    expected: dict[str, Totals] = {}
    if not left:  # all of it: nothing of any call is expected
        db.execute("INSERT INTO touched SELECT seq, part FROM chunks WHERE state = 'done'")
        db.execute(_ROLLED_GROUPS)
        return Left(status == "rolling_back", records, 0, expected)
    scopes = _left_of_calls(ledger, expected)
    unchecked, from_input = "", dict[str, Totals]()
    try:
        for file_idx in range(len(files)):
            add_totals(from_input, totals_of_lines(ledger, target, files, file_idx, _left_lines(ledger, file_idx)))
    except BulkloadError as exc:  # the file changed since the run, or is gone: it cannot say what was sent
        unchecked = str(exc)
        for scope, currency, n, total, debit in db.execute(_WALKED):  # as the walks found them
            add_totals(expected, {scope: {currency: [n, total, debit]}})
    else:
        add_totals(expected, from_input)
    rows = _rows(expected)
    if unchecked:  # those the walks did not list are counted where their calls sent them
        guessed = 0  # of those, records of calls sent to more than one scope: which is theirs, the input says
        for seq, part, n in db.execute(_NOT_WALKED).fetchall():
            scope, several = scopes[seq, part]
            rows[scope] = rows.get(scope, 0) + n
            guessed += n if several else 0
        if guessed:
            name = target.api.scope_name
            unchecked += (
                f"; {guessed:,} of the records left not listed were sent in calls to more than one {name}, and are "
                f"counted in the {name} their call sent most records to (the input says which is theirs)"
            )
    db.execute(_ROLLED_GROUPS)
    return Left(status == "rolling_back", records, left, expected, rows, unchecked)


def _left_of_calls(ledger: Ledger, expected: dict[str, Totals]) -> dict[tuple[int, str], tuple[str, bool]]:
    """Add to `expected` what each call none of whose records a rollback took sent; record each call it took some
    of in `touched`, and the lines left of those (their records of the run's not rolled back) in `left_lines`.
    Returns the scope of each of those calls (the one it sent most records to) and whether it sent to several."""
    db = ledger.db()
    db.execute("CREATE TEMP TABLE IF NOT EXISTS left_lines (loc INTEGER PRIMARY KEY, seq INTEGER, part TEXT)")
    db.execute("DELETE FROM left_lines")
    scopes: dict[tuple[int, str], tuple[str, bool]] = {}
    for seq, part, file_idx, lines, sent, _ in ledger.done_calls():
        ours = [(file_idx << LOC_SHIFT) + line for line in lines]
        found = [
            row
            for start in range(0, len(ours), 500)  # SQLite's 999 bound values at most, before 3.32
            for row in db.execute(
                "SELECT c.loc, x.id IS NOT NULL FROM created c LEFT JOIN rolled x ON x.id = c.id "
                f"WHERE c.loc IN ({','.join('?' * len(ours[start : start + 500]))})",
                ours[start : start + 500],
            )
        ]
        if not any(rolled for _, rolled in found):
            add_totals(expected, sent)
            continue
        db.execute("INSERT OR IGNORE INTO touched VALUES (?, ?)", (seq, part))
        db.executemany(
            "INSERT OR IGNORE INTO left_lines VALUES (?, ?, ?)",
            [(loc, seq, part) for loc, rolled in found if not rolled],
        )
        counted = _rows(sent)
        scopes[seq, part] = max(counted.items(), key=lambda kv: kv[1], default=("", 0))[0], len(counted) > 1
    return scopes


def _left_lines(ledger: Ledger, file_idx: int) -> Iterator[int]:
    """The lines of input `file_idx` in `left_lines`, ascending, read a page at a time."""
    db, base = ledger.db(), file_idx << LOC_SHIFT
    after = base - 1
    while page := db.execute(
        "SELECT loc FROM left_lines WHERE loc > ? AND loc < ? ORDER BY loc LIMIT 10000",
        (after, base + (1 << LOC_SHIFT)),
    ).fetchall():
        yield from (loc - base for (loc,) in page)
        after = page[-1][0]


def _rows(totals: dict[str, Totals]) -> dict[str, int]:
    """The records counted in `totals`, per scope."""
    return {scope: sum(figures[0] for figures in per.values()) for scope, per in totals.items()}


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
