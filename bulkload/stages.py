"""What a command is doing now, published for a progress display (progress.py) to show: the stage's name (the
display calls it the phase; not a target's phases of files) and, for a stage that counts its own work (records
walked, calls settled, records removed), how many of how many. The run, reconcile.py and undo.py write it as they
go; the display reads it 4×/s. Nothing here knows how it is shown."""

from __future__ import annotations

#: the stages a load goes through, in order; a rollback settles, then removes
PLANNING = "planning"
#: before the first write, where the API is asked which of the input's groups it holds (Books.groups_already_there:
#: e-conomic's vouchers, lists of 200 a call): minutes against a slow API and a full journal
LOOKING = "looking up what the API holds already"
LOADING = "loading"
#: a dry run's second pass over its files, after the read (PLANNING): each row planned into the calls it would send
PLANNING_CALLS = "planning the calls (dry run)"
#: shown (never entered) while loading when the limiter holds the sender back for the rate window
WAITING = "waiting for the rate window"
#: shown (never entered) instead while the calls pause for a 429 (its Retry-After, or the back-off)
PAUSED = "paused: the API answered 429"
RECONCILING = "reconciling"
SETTLING = "settling calls in flight"
ROLLING_BACK = "rolling back"


class Stages:
    """The current stage (`name`) and its counter: `done` of `total` (None: not known) `unit`. Writing it costs an
    attribute store; a stage whose counter is the run's rows (loading) leaves it at 0."""

    def __init__(self) -> None:
        self.name = PLANNING
        self.done = 0
        self.total: int | None = None
        self.unit = "rows"

    def enter(self, name: str, total: int | None = None, unit: str = "records") -> None:
        """Begin stage `name`, its counter at 0 of `total` `unit`."""
        self.name, self.done, self.total, self.unit = name, 0, total, unit

    def advance(self, n: int = 1) -> None:
        """`n` more `unit` of the stage done."""
        self.done += n
