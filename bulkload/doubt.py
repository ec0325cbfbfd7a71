"""What settles a run's rows in doubt, in the words of every message that names a way on for them (the summary,
the reconcile command's, a later load's reason): what `bulkload resume` does with them depends on the API and the
record kind (docs/guarantees.md, "What settles rows in doubt"), and
`--resend-in-doubt` is never named without what it does to a call that did arrive.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from .errors import command_on
from .targets.base import RecordKind, Target


def looks_up(kind: RecordKind) -> bool:
    """Whether a call of `kind` whose answer was lost can be settled by looking (the kind has `resolve`)."""
    return type(kind).resolve is not RecordKind.resolve


#: why a call's rows are in doubt that the ledger has as sent with no reason: a process of the run stopped (a kill)
#: before it recorded what came of the call
NO_REASON = (
    "the ledger has its call as sent and nothing of what came of it (its process stopped first): it may have arrived"
)


def with_reasons(
    rows: Iterable[tuple[int, int, str, str]], untold: Mapping[str, str]
) -> Iterator[tuple[int, int, str, str]]:
    """The in-doubt file's rows (file index, line, call key, reason as the ledger has it), each with a reason: the
    run's own for a call the ledger could not be told of (`untold`, by call key: a write failed; it is the later),
    else the ledger's, else NO_REASON."""
    for file_idx, line, key, reason in rows:
        yield file_idx, line, key, untold.get(key) or reason or NO_REASON


#: rows in doubt because an earlier run's call that may have carried them is (ledger.known_to)
EARLIER = "in doubt in an earlier run (their reason in the in-doubt file names its ledger and what settles them there)"


def way_on(target: Target, files: Iterable[int], ledger: str, *, own: bool = True, earlier: bool = False) -> str:
    """What settles rows in doubt of the run of `ledger` (as messages name it) at `target`, whose input files are
    `files` (their indexes): `own` for rows of its own calls, `earlier` for rows in doubt in an earlier run (settled
    there, not here). A sentence or two, starting with a lower-case letter, no full stop."""
    if not own:
        return f"they are {EARLIER}"
    said = _own(target, files, ledger)
    return f"{said}; rows {EARLIER}" if earlier else said


def _own(target: Target, files: Iterable[int], ledger: str) -> str:
    """What settles rows in doubt of the run's own calls (see `way_on`)."""
    files = list(files)
    resume = f"`{command_on('resume', ledger)}`"
    resend = (
        f"`{command_on('resume', ledger)} --resend-in-doubt` sends every call still in doubt again, and one the "
        "API did carry out is then carried out twice (a create creates a duplicate): use it only when the API holds "
        "none of their rows; where it holds some, load a file of only the rows it does not hold with "
        "--allow-duplicate-load; a group an answer named a line of as refused or failed is never sent again with "
        "that line: it is rejected whole, its reason naming the line, to be fixed and loaded again"
    )
    if target.api.ordered:
        resend += "; a row of a record a later row of the run changed, and landed, is never sent again over that change"
        if any(target.kind_of(i).found_write_landed for i in files):  # its look compares values: anyone's change shows
            resend += ", nor one whose record a look finds changed since it was sent (by a later run, another writer)"
        resend += ": it stays in doubt; where its values are still meant, load it again as a run of its own"
    if target.api.idempotent or _looked_up(target, files):
        resend += (
            "; a group a look finds stored in part (some of its lines and not the others) is never sent again: it "
            "stays in doubt, its reason naming the lines found and not"
        )
    if target.api.idempotent:
        return (
            f"{resume} settles those whose idempotency key the API still keeps (sent again with it, the API answers "
            f"what it did) and looks for the records of the others, and of those whose key it answers with a failure "
            f"it replays, among what their {target.api.scope_name}s received since the run began: all found, they "
            f"are loaded; the rest stay in doubt: check the API for their rows (`{command_on('reconcile', ledger)}` "
            f"names those it finds); {resend}; a call sent again while the API keeps its key is answered "
            f"what its key was answered: one whose failure the API replays gets that failure again until "
            f"{target.api.key_ttl_s / 3600:g} hour{'s' if target.api.key_ttl_s != 3600 else ''} after it was first "
            "sent (its reason in the in-doubt file says until when), and is sent anew only after that"
        )
    if _looked_up(target, files):
        return (
            f"{resume} looks them up in the API: found, they are loaded; certainly not there, they are sent again; "
            f"those it cannot tell stay in doubt: check the API for their rows; {resend}"
        )
    return (
        f"`bulkload resume` cannot settle them (it sends the rows the run never sent, not these): "
        f"{_unsettled(target)}. Check the API for these rows; {resend}"
    )


def refused_together(rows: Mapping[str, int]) -> str:
    """What to do next time with a file whose rows went in doubt because calls of several groups were refused without
    the API telling which (`rows`: group name -> rows, pipeline.Tally.refused_together); "" for none. Words that go
    before `way_on`'s, no full stop."""
    return "; ".join(
        f"{n:,} of them were sent in calls of several {group}s the API refused without telling which it refused: a "
        f"smaller --batch-size puts fewer rows in doubt at such a refusal (1 sends each {group} of one row alone)"
        for group, n in rows.items()
        if n
    )


def in_flight(target: Target, files: Iterable[int]) -> str:
    """What `bulkload resume` does with the calls a stopped run had in flight at `target` (input files `files`, by
    index), as `way_on` tells it for the rows in doubt: words that follow "continues it", no full stop."""
    if target.api.idempotent:
        return "and settles the calls that were in flight"
    if _looked_up(target, files):
        return "and looks up the calls that were in flight (those it cannot tell stay in doubt)"
    return (
        "by sending the rows the run never sent; the calls that were in flight stay in doubt: "
        f"{_unsettled(target)} (see the rows in doubt)"
    )


def _looked_up(target: Target, files: Iterable[int]) -> bool:
    """Whether a call to `target` from one of `files` whose answer was lost can be settled by looking."""
    return any(looks_up(target.kind_of(i)) for i in files)


def _unsettled(target: Target) -> str:
    """Why nothing settles a call to `target` whose answer was lost."""
    return f"{target.name} takes no idempotency key and bulkload cannot look them up there"
