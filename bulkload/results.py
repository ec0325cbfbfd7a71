"""What the commands answer, as typed values: a run's `Report` (load, resume, reconcile, dry run) with its
`Reconciled` section (a plain value of model.py, which the targets build too). Their JSON is the `--report` file
(README, "Report"): a key one kind of report does not have is UNSET, and left out of the JSON; a key it has with no
value is null."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from .errors import EXIT_MISMATCH, EXIT_OK, EXIT_ROWS, EXIT_STOPPED
from .model import Reconciled


class Groups(msgspec.Struct, kw_only=True):
    """What the report says of groups (vouchers, orders, …): counts per bucket, the loaded ones that do not
    balance in the input (unbalanced_entry), why groups were skipped; the lists hold the first 100."""

    name: str
    loaded: int
    rejected: int
    skipped: int
    unbalanced: int
    unbalanced_list: list[dict[str, Any]]
    skipped_reasons: list[str]


def unbalanced_entry(group: str, imbalance: dict[str, int] | int) -> dict[str, Any]:
    """A group of `Groups.unbalanced_list`: its label and `imbalance_minor_units`, how far it is from balancing in its
    currency; for a group of several currencies that do not balance, `imbalance_by_currency` (currency -> minor units)
    and `imbalance_minor_units` null, as minor units of two currencies add up to no amount. `imbalance`: as
    Ledger.unbalanced gives it (an int: an older ledger's, summed over currencies)."""
    if isinstance(imbalance, int):
        return {"group": group, "imbalance_minor_units": imbalance}
    if len(imbalance) == 1:
        return {"group": group, "imbalance_minor_units": next(iter(imbalance.values()))}
    return {"group": group, "imbalance_minor_units": None, "imbalance_by_currency": imbalance}


class Quota(msgspec.Struct, kw_only=True):
    """The agreement's daily quota: its limit (None: none) and the calls of the last 24 h against it."""

    limit: int | None
    used_by_run: int
    used_by_other_runs: int


class Report(msgspec.Struct, kw_only=True):
    """What a load, resume, reconcile or dry run tells its caller and writes to `--report`. A load or resume
    has every key but the dry run's `would_…`; the reconcile command's has neither the timings past `elapsed_s`
    nor the outputs; a dry run has no ledger figures. `exit_code` follows from the rest."""

    target: str
    status: str  # complete, stopped, dry_run; reconciled or mismatch (the reconcile command)
    rows_read: int
    loaded: int
    would_load: int | UnsetType = UNSET
    rejected: int
    in_doubt: int
    #: of those in doubt, the rows of calls held back unsent as a ledger write failed that the ledger has as sent
    held_back: int | UnsetType = UNSET
    skipped: int
    rejected_groups: int | UnsetType = UNSET
    skipped_groups: int | UnsetType = UNSET
    groups: Groups | UnsetType = UNSET
    requests: int
    would_send_requests: int | UnsetType = UNSET
    would_send_bytes: int | UnsetType = UNSET
    retries: int
    #: keyed calls this invocation sent again after a 5xx once a look found nothing of them (resent.said)
    resent_unfound: int | UnsetType = UNSET
    rate_limited: int | UnsetType = UNSET
    errors: dict[str, int] | UnsetType = UNSET
    elapsed_s: float
    load_s: float | UnsetType = UNSET
    reconcile_s: float | UnsetType = UNSET
    rows_per_s: float | UnsetType = UNSET
    stop_reason: str | None | UnsetType = UNSET
    stop_code: int | None | UnsetType = UNSET
    isolation: dict[str, Any] | None | UnsetType = UNSET
    daily_quota: Quota | UnsetType = UNSET
    reconcile: Reconciled | None
    inputs: list[dict[str, Any]] | None | UnsetType = UNSET
    ledger: str | None
    rejects_file: str
    rejects_written: int | None | UnsetType = UNSET
    #: rows of the rejects files that show a secret as *** (only when some do): to be typed in again before loading
    rejects_masked: int | UnsetType = UNSET
    #: rejected rows the rejects files hold only the start of (a line over 1 MiB: `… [truncated, N bytes]`), each
    #: its `file` and `line` (only when some are): to be fixed in the input, as they do not load back as written
    rejects_cut: list[dict[str, Any]] | UnsetType = UNSET
    #: the rejected rows counted by reason (only where some are), the most common first (reject_reasons.SHOWN at
    #: most): each `rows`, `field`, and the first such row's `reason`, `file` and `line`
    rejects_by_reason: list[dict[str, Any]] | UnsetType = UNSET
    #: where the run has more than one input: a rejects file for each input (`rejects_file` the first's),
    #: and the command that loads those that hold rows as their inputs were loaded (None where it cannot be said)
    rejects_files: list[str] | UnsetType = UNSET
    rejects_load: str | None | UnsetType = UNSET
    success_file: str | UnsetType = UNSET
    success_written: int | None | UnsetType = UNSET
    in_doubt_file: str | None | UnsetType = UNSET
    #: rows the in-doubt file lists: the run's so far, which a stopped run may not have reached (left in flight
    #: by an earlier process of it) and so not counted in `in_doubt`
    in_doubt_written: int | None | UnsetType = UNSET
    #: what settles the rows in doubt at this API (doubt.way_on); only when there are some
    in_doubt_way_on: str | None | UnsetType = UNSET
    #: the reconcile command's: whether the ledger says the run finished (False: killed or stopped with rows of its
    #: inputs not yet sent, which `continue_with` sends); absent for a run rolled back, or rolling back
    run_finished: bool | UnsetType = UNSET
    #: the rows of the inputs in no bucket: not read yet, or read and not sent (the run stopped first), which resume
    #: sends (Ledger.figures); a load's, resume's and the reconcile command's (absent for a run rolled back), null
    #: where the ledger cannot count them. With the buckets, the inputs' rows
    rows_not_sent: int | None | UnsetType = UNSET
    continue_with: str | None | UnsetType = UNSET
    report_file: str | None | UnsetType = UNSET  # where this report is written (--report, a resume's stored one)
    files: list[str] | UnsetType = UNSET
    unwritten: list[str] | UnsetType = UNSET
    #: a run stopped by the loss of its ledger's connection (PostgreSQL's): nothing could be read from it, so the
    #: figures are this invocation's alone and the files made from the ledger are in `unwritten`; absent otherwise
    ledger_lost: bool | UnsetType = UNSET
    exit_code: int = EXIT_OK

    def __post_init__(self) -> None:
        self.exit_code = self._exit_code()

    def _exit_code(self) -> int:
        if self.status == "stopped":
            return int(self.stop_code or EXIT_STOPPED)
        if self.reconcile is not None and not self.reconcile.ok:
            return EXIT_MISMATCH
        if self.status == "reconciled":  # the reconcile command: what the run sent matches
            # what is left of a run whose rollback stopped matches: the rollback is to be finished all the same; and
            # what the run sent matched, but a run with rows not yet sent is not done: resume continues it
            rolled = self.reconcile.rolled_back if self.reconcile is not None else UNSET
            if (rolled and rolled["status"] == "rolling_back") or self.run_finished is False:
                return EXIT_STOPPED
            if rolled and rolled["status"] == "rolled_back":  # nothing of the run is meant to be there: none rests
                return EXIT_OK  # on its rows rejected or in doubt (docs/reconciliation.md, "A run rolled back")
        # a row skipped in a complete run was loaded by an earlier one: the books hold it, as the file meant
        if self.rejected or self.in_doubt:
            return EXIT_ROWS
        return EXIT_OK

    def stopped(self, reason: str, code: int) -> Report:
        """The same report of a run stopped after all (`reason`, exit `code`)."""
        return msgspec.structs.replace(self, status="stopped", stop_reason=reason, stop_code=code or None)


def held_back_said(held: int) -> str:
    """What a one-line summary adds to its rows in doubt for the `held` of them held back unsent when a ledger write
    failed (Report.held_back): ` (N held back unsent)`, "" when there are none. A run's `-q` line, `bulkload run`'s
    totals and each job's line under its table, `bulkload status -q`."""
    return f" ({held:,} held back unsent)" if held else ""


def counted(figures: object, key: str) -> int:
    """The count `key` (a row or call count: rows_read, in_doubt, held_back, requests, …) of a report or of a running
    run's progress.Snapshot, as totals sum it: 0 where a report has it only where some (`held_back`: UNSET, as in a
    stored report from before it had it)."""
    value = getattr(figures, key)
    return value if isinstance(value, int) else 0


class Settled(msgspec.Struct, kw_only=True):
    """A rollback's calls in flight or in doubt, settled before deleting (README, "Rollback report")."""

    replayed: int = 0
    looked_up: int = 0
    looked_again: int = 0
    not_carried_out: int = 0


#: a rollback's status where the target's API cannot delete (undo.rollback): nothing was tried
NOT_SUPPORTED = "not_supported"


class Rollback(msgspec.Struct, kw_only=True):
    """What a rollback tells its caller and writes to `--report` (README, "Rollback report"); the lists hold the
    first 100 but `failed`. `reason` says why a target that cannot delete removed nothing. `stop_reason`: why it
    stopped before the end (the daily quota spent, a Retry-After past what a call waits, no token) and the command
    that continues it; `left` records and `calls_left` calls in flight it had not come to then (nothing was sent
    for them: a later rollback removes and settles them)."""

    target: str
    ledger: str
    removed: int = 0
    already_removed: int = 0
    already_removed_before: int = 0
    unexplained: list[dict[str, Any]] = msgspec.field(default_factory=list)
    unexplained_count: int = 0
    #: records the ledger gives to the run's rows that were there before the run (Books.there_before): kept
    spared: list[dict[str, Any]] = msgspec.field(default_factory=list)
    spared_count: int = 0
    #: entries of groups the run rejected that a refused call of it stored (reconciliation's `rejected_found`: the
    #: API gave no id for them, a walk found them), each `id`, `scope`, `group` and the `file` and `lines` the run
    #: rejected of it: left, never deleted (a walk cannot tell them from another writer's made alike), exit 3
    refused_stored: list[dict[str, Any]] = msgspec.field(default_factory=list)
    refused_stored_count: int = 0
    #: of `refused_stored_count`, the doubles of groups the run loaded (`double` in `refused_stored`)
    refused_doubled_count: int = 0
    #: records the run's rows updated (not created, Books.loaded_by_run): a rollback deletes none of them and sets
    #: nothing back, they keep the values the run sent (said in `reason`)
    updated_kept: int = 0
    failed: list[dict[str, Any]] = msgspec.field(default_factory=list)
    #: the other runs that skipped groups or rows as loaded by this one, which it took out (skipped_gone.relying):
    #: each `ledger`, `groups` and `rows` of its input now in no book (its reconciliation names them)
    relied_on: list[dict[str, Any]] = msgspec.field(default_factory=list)
    unsettled: list[dict[str, Any]] = msgspec.field(default_factory=list)
    unsettled_count: int = 0
    left: int = 0
    calls_left: int = 0
    requests: int = 0
    settled: Settled = msgspec.field(default_factory=Settled)
    status: str = ""
    exit_code: int = EXIT_OK
    reason: str | UnsetType = UNSET
    stop_reason: str | UnsetType = UNSET
    #: the files it could not write, each "what: why" (the report: its --report on a full disk), as a load's
    unwritten: list[str] | UnsetType = UNSET
    elapsed_s: float = 0.0
