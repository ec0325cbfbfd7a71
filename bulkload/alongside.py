"""One run at a time into a place of an API whose runs decide by what they listed before their first call
(Books.listed_first). HaloPSA's --match-on turns a create into an update of the record listed with the row's match
fields, and a look for a lost create leaves out the records listed: two runs into one resource side by side each
list before the other creates, and both create the records whose match keys they share (a tester: 390 records for
200 tenant ids). So a run is refused before its first call while another into the same API, agreement and place is
under way now: a process holds that run's ledger lock (Ledger.running). A run killed holds no lock: it blocks
nothing (what it created is in the API, and listed by the next run)."""

from __future__ import annotations

import threading

from .errors import UnderWayAlongside
from .job import Job
from .ledger import Ledger
from .loads import made, runs_into
from .targets.base import Target


def refuse_alongside(
    job: Job, target: Target, making: str, run: str, stop: threading.Event, *, resuming: bool = False
) -> None:
    """Before the first call of the run `run` (its ledger `making`, as the record of loads names it): raise
    UnderWayAlongside when another run into the job's place is under way now. A load looks at the runs put on record
    before its claim (loads.runs_into), waiting for one still making its ledger (loads.made), so of two loads started
    together the later is refused; a resume (`resuming`) at every other run, as its claim may be long past: it holds
    its run's lock while it looks, so a load that looked at it before finds it under way, or is found by it. Does
    nothing for a target whose books are not `listed_first`. RunStopped when `stop` is set while it waits."""
    if not target.books.listed_first:
        return
    for ledger, load in runs_into(job, making, run, later=resuming):
        made(ledger, stop)
        if Ledger.running(ledger):
            place = f"{job.api_url}{load['where']}"
            raise UnderWayAlongside(place, ledger, load["at"], resuming=resuming, own=making)
