"""PayorCRM's one address for many accounts, told apart by the api_key (seed 004): a load whose input shares groups
with an earlier load made there with another key cannot tell a key renewed for its account from another account's
(bulkload keeps a keyed fingerprint of a key, never the key), and asks the user (OtherKeyBefore): --other-account
sets those loads aside, --same-account takes them for this account's. Before, a corrected invoice file loaded with
account B's key skipped what account A had been given, exit 0 (tester t55a)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from . import ledger_pg
from .errors import OtherKeyBefore, SharedUnfinished
from .job import Job
from .ledger import counted, shared_with
from .loads import as_ledger, other_holders
from .targets.base import Target


def refuse_other_key(
    conn: sqlite3.Connection, job: Job, making: str, run: str, target: Target, who: str
) -> dict[str, dict[str, str]]:
    """OtherKeyBefore where the target's address serves many accounts (Credentials.shared_address) and an earlier
    load that may share groups with the input (`conn`: the new ledger, its `file_groups` filled) went to it with
    another key that names the account than this load's (`who`, account.anywhere), and was given some of them:
    skipped, they would be missing from another account; created again, doubled in this one. Before, a corrected
    PayorCRM file loaded with another account's key skipped what the first account got, exit 0 (tester t55a).
    Passed over with --same-account (the user's word: one account, its key renewed), with --other-account (those
    loads went into other accounts: runner._learn_earlier sets them aside), and where `who` is unknown. Returns the
    other such loads, that share no group, by their ledgers (as `may_share` names them): {"at", "where", "api"}
    each."""
    if not (who and target.credentials.shared_address) or job.same_account or job.other_account:
        return {}
    others: dict[str, dict[str, str]] = {}
    for earlier, load in other_holders(job, who, making, run):
        others[str(as_ledger(earlier))] = load
        by_file, file_idx, key = shared_with(conn, earlier)
        if by_file:
            by_kind: dict[str, int] = {}
            for i, n in by_file.items():
                by_kind[target.kind_of(i).group_name] = by_kind.get(target.kind_of(i).group_name, 0) + n
            many = sum(by_kind.values()) != 1
            groups = f"{counted(by_kind)} of this input (e.g. {target.kind_of(file_idx).group_label(key)})"
            fact = (
                f"{groups} {'were' if many else 'was'} given to {load['api']}{load['where']} by an earlier load "
                f"({load['at']}, ledger {ledger_pg.name_of(earlier)})"
            )
            raise OtherKeyBefore(fact, target.credentials.account_names)
    return others


def unfinished_other_key(
    exc: SharedUnfinished, earlier: Path | str, keyed_otherwise: Mapping[str, Mapping[str, str]], target: Target
) -> OtherKeyBefore | SharedUnfinished:
    """What to raise for `exc`, the refusal of a load beside the unfinished run of the `earlier` ledger whose rows
    of no group it may share (ledger.rows_known_to): OtherKeyBefore where that run went with another key
    (`keyed_otherwise`: `refuse_other_key`'s), since "finish it first" is no way on for another account's run,
    which its key alone resumes (tester t56a); else `exc` itself."""
    load = keyed_otherwise.get(str(earlier))
    if load is None:
        return exc
    fact = (
        f"rows of this input may be among those an earlier load that has not finished ({load['at']}, "
        f"ledger {ledger_pg.name_of(str(earlier))}) sends to {load['api']}{load['where']}"
    )
    return OtherKeyBefore(fact, target.credentials.account_names)


def renewed_here(job: Job, who: str, making: str, run: str) -> set[str]:
    """The ledgers (as `may_share` names them) of the earlier loads made with another key that --same-account says
    are this account's (Job.same_account): an unfinished one of them is resumed with this key on the same word
    (`bulkload resume --same-account`), which its refusal names (SharedUnfinished.renewed; tester t57a)."""
    holders = other_holders(job, who, making, run) if job.same_account else []
    return {str(as_ledger(p)) for p, _ in holders}
