"""One run at a time into a place of an API whose runs decide by what they listed before their first call
(Books.listed_first). HaloPSA's --match-on turns a create into an update of the record listed with the row's match
fields, and a look for a lost create leaves out the records listed: two runs into one resource side by side each
list before the other creates, and both create the records whose match keys they share (a tester: 390 records for
200 tenant ids). So a run is refused before its first call while another into the same API, agreement and place is
under way now: a process holds that run's ledger lock (Ledger.running).

A run that ended blocks nothing once what it sent has landed: the next run lists it. Until then it does (a tester:
a load 3 s after a kill -9 listed before the killed run's creates committed, and made 40 records of 20): a call
left in flight (`sending`: the run was killed, or cut short, while it was sent) may land any time until a look
settles it, which `bulkload resume` (or rollback) of that run does once the settle delay has passed; a call in doubt
was found so once its answer was lost, often at once (a look that fails, a listing not whole), and may land until
the settle delay (the new run's --settle-s) has passed since. Past that, it has landed or never will, and the
listing tells which: it blocks nothing.

A resume goes by the listing its run took before its first call (Books.listed_at), however long ago: another run
that wrote into the place since (a tester: a load of the same rows after a kill -9, then the resume of the killed
run, made 200 records twice) is not in it. Such a resume is refused (ListedBeforeAnother): the run is rolled back and
loaded again. Listing again instead would not do: the run's own records, created before it stopped, would then pass
for records there before it (taken by no look, never rolled back)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from .errors import GoneUnsettled, LeftCommitting, ListedBeforeAnother, UnderWayAlongside
from .job import Job
from .ledger import Ledger, OpenCall
from .loads import gone_made, made, named_loads, run_of, runs_into, same_place
from .targets import TARGETS
from .targets.base import EarlierRun, Target


def refuse_alongside(
    job: Job, target: Target, making: str, run: str, stop: threading.Event, *, resuming: bool = False
) -> None:
    """Before the first call of the run `run` (its ledger `making`, as the record of loads names it): raise
    UnderWayAlongside when another run into the job's place is under way now. A load looks at the runs put on record
    before its claim (loads.runs_into), waiting for one still making its ledger (loads.made), so of two loads started
    together the later is refused; a resume (`resuming`) at every other run, as its claim may be long past: it holds
    its run's lock while it looks, so a load that looked at it before finds it under way, or is found by it.
    LeftCommitting when such a run has ended leaving calls the API may still be committing (`committing`), unless
    the job allows a duplicate load; GoneUnsettled, alike, for a load where such a run never finished and its
    ledger is gone (loads.gone_made). ListedBeforeAnother when a resume's run listed the place (the target's
    Books.listed_at, as its ledger keeps it) before such a run last wrote there (Ledger.last_write), or such a run
    put on record after this one's claim (loads.runs_into `since`) wrote there at all, whatever the clock dates it,
    or its ledger is gone (when it wrote cannot be told).
    Books that are not `listed_first` but `rerunnable` (a Visma Core costs file: it sets values on records that
    exist) are refused only while another run into the place is under way now: side by side, a record both runs set
    keeps whichever PATCH lands last, the earlier file's value as often as the later's (a tester: two costs files
    loaded together, the later corrected, left 58 of 60 costs at the earlier file's values, both exit 0; the
    earlier run's written_later is read once, before the later run wrote). Does nothing for other books.
    RunStopped when `stop` is set while it waits."""
    if not target.books.listed_first:
        if target.books.rerunnable:
            for ledger, load in runs_into(job, making, run, later=resuming):
                made(ledger, stop)
                if Ledger.running(ledger):
                    place = f"{job.api_url}{load['where']}"
                    raise UnderWayAlongside(place, ledger, load["at"], resuming=resuming, own=making, sets=True)
        return
    listed = target.books.listed_at if resuming else None
    # put on record after this run's claim, which its listing followed before another run could start: whatever
    # they wrote came after the listing, by the record's order, whatever the clock says (one stepped back since the
    # listing dates their writes before it)
    later = {ledger for ledger, _ in runs_into(job, making, run, since=True)} if listed is not None else set()
    gone = gone_made(job, run)
    if not resuming and not job.allow_duplicate_load and (unended := [g for g in gone if not g["ended"]]):
        # killed or stopped, it may have left calls still committing, which no look can settle without its ledger
        place = f"{job.api_url}{unended[0]['where']}"
        raise GoneUnsettled(place, named_loads(unended), [g["ledger"] for g in unended])
    for was in gone:  # put on record after this run's listing: what it wrote, and when, no ledger says now
        if listed is not None and was["ledger"] in later:
            place = f"{job.api_url}{was['where']}"
            raise ListedBeforeAnother(place, was["ledger"], was["at"], wrote=None, listed=listed, own=making)
    for ledger, load in runs_into(job, making, run, later=resuming):
        made(ledger, stop)
        place = f"{job.api_url}{load['where']}"
        if (
            listed is not None
            and (wrote := Ledger.last_write(ledger)) is not None
            and (wrote >= listed or ledger in later)
        ):
            raise ListedBeforeAnother(place, ledger, load["at"], wrote=wrote, listed=listed, own=making)
        if Ledger.running(ledger):
            raise UnderWayAlongside(place, ledger, load["at"], resuming=resuming, own=making)
        left = Ledger.left_open(ledger).values()
        info = run_of(ledger)
        ended = _ending(info)
        if not job.allow_duplicate_load and (why := committing(left, job.settle_delay_s, time.time(), ended)):
            undone = info is not None and info.get("status") in ("rolling_back", "rolled_back")
            raise LeftCommitting(place, ledger, load["at"], why, resuming=resuming, own=making, undone=undone)


def _ending(run: dict[str, Any] | None) -> str | None:
    """How the run (its ledger's RunInfo as loads.run_of reads it) ended, as `committing` takes it: None where it
    never said (status "running": killed) or cannot be read."""
    if run is None or run.get("status") == "running":
        return None
    return str(run.get("interrupted") or "")


def committing(calls: Iterable[OpenCall], settle_s: float, now: float, ended: str | None = None) -> str | None:
    """Which of the open `calls` of a run that has ended the API may still be committing at `now` (epoch seconds),
    in a message's words ("2 calls in flight when it stopped (killed?)"); None when none. One in flight (`sending`)
    may land until a look settles it; one in doubt until `settle_s` after it was found so (OpenCall.last_sent).
    `ended`: how the run said it stopped (RunInfo.interrupted: "stopped by SIGTERM"; "" for a stop of its own, such
    as a quota's); None where it said nothing (killed)."""
    in_flight, until = 0, 0.0
    for call in calls:
        if call.state == "sending":
            in_flight += 1
        elif call.state == "in_doubt" and call.last_sent is not None and call.last_sent + settle_s > now:
            until = max(until, call.last_sent + settle_s)
    said = []
    if in_flight:
        when = "when it stopped (killed?)" if ended is None else f"when it was {ended}" if ended else "when it stopped"
        said.append(f"{in_flight} call{'s' if in_flight != 1 else ''} in flight {when}")
    if until:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(until))
        said.append(f"calls in doubt that the API may commit until {at} (--settle-s after each was found in doubt)")
    return " and ".join(said) or None


def written_since(job: Job, ledger: Ledger) -> dict[int, str]:
    """The records that the runs into the job's place put on record after the run of `ledger` (its last claim)
    created or changed (Ledger.written), by id, each with the ledger of the latest that did: a call of this run
    that writes one is not sent (Loader.written_later), as it would put this run's older values back over that
    run's (a tester: a corrected costs file loaded while the run was stopped, then the run resumed, as its message
    said, set the costs back to the stopped run's values, exit 0). Asked of a re-runnable load (Books.rerunnable),
    which sets values on records that exist, and by a reconciliation or rollback of a run a refused call of which
    carried a group it rejected: a later run's records are never what that call stored (reconcile.
    fill_rejected_found). A later run's call in doubt is not known."""
    found: dict[int, str] = {}
    for later, _ in runs_into(job, str(ledger.path.absolute()), ledger.run.key_prefix, since=True):
        found.update(dict.fromkeys(Ledger.written(later), later))
    return found


def written_after_refusal(job: Job, ledger: Ledger) -> dict[int, str]:
    """`written_since`, where a refused call of the run of `ledger` carried a group it rejected
    (Ledger.refused_rejected): the records reconcile.fill_rejected_found leaves out, a later run's, never what that
    call stored. {} elsewhere, without reading anything: reading every later run's ledger at the end of each load
    left a read-only WAL ledger readable (its -shm made)."""
    return written_since(job, ledger) if ledger.refused_rejected() else {}


def earlier_runs(job: Job, target: Target, making: str, run: str, now: float) -> list[EarlierRun]:
    """The runs on record into the job's place before the run `run` (its ledger `making`; loads.runs_into) that last
    wrote less than the settle delay (--settle-s) before `now` (epoch seconds), each with the records it was answered
    for (Ledger.kept) by the file of this job whose place they went to (the place of each of that run's files,
    loads.same_place), oldest first: what a listing before the run's first call must hold (Books.listed_first) of
    writes the API may not show yet. Past the settle delay a run's writes show, or never will: a record of it a
    listing leaves out then was deleted since, and is no evidence of a listing behind (looked up by id, a few
    deleted records would cost every later load as many calls). A run whose ledger cannot be read, or that wrote
    nothing, holds nothing known."""
    places = [target.kind_of(i).destination() for i in range(len(job.files))]
    found = []
    for ledger, _ in runs_into(job, making, run):
        wrote = Ledger.last_write(ledger)
        if wrote is None or wrote + job.settle_delay_s <= now:
            continue
        info, kept = run_of(ledger), Ledger.kept(ledger)
        if info is None or not kept or str(info.get("target")) not in TARGETS:
            continue
        theirs = TARGETS[str(info["target"])].from_options(info.get("options") or {})
        records = {
            i: frozenset().union(*(ids for j, ids in kept.items() if same_place(theirs.kind_of(j).destination(), p)))
            for i, p in enumerate(places)
        }
        found.append(EarlierRun(ledger, wrote, records))
    return found
