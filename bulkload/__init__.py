"""bulkload: stream large accounting files into accounting APIs, exactly once, and prove it.

For scripts (a plain script needs no `if __name__ == "__main__":` guard; examples/load_from_script.py runs):

    job = bulkload.Job(target="economic", files=["entries.csv"])   # credentials from the environment
    try:
        report = asyncio.run(bulkload.load(job))
    except bulkload.RunStopped as stopped:                          # resumable: quota spent, the API down
        report = asyncio.run(bulkload.resume(job.ledger_path))       # stopped.report: the partial report

`load(job)` and `resume(ledger_path)` are coroutines; `reconcile` and `rollback` take a ledger path too, and
`dry_run(job)` is a plain call. Each returns its report as a typed value (`Report`, `Rollback`: `report.loaded`,
`report.reconcile.ok`, `report.exit_code`) with the keys of the `--report` file as attributes
(`msgspec.to_builtins(report)`: the file's JSON). A run that stops before the end raises `RunStopped` with its
`Report` as `.report` (None if it stopped before its first call), unless `raise_on_stop=False` asks for the stopped
report returned (`status` "stopped"). What must be corrected before anything is sent raises `ConfigError`; every
error is a `BulkloadError` of `bulkload.errors`.
"""

from .errors import (
    APIError,
    BulkloadError,
    ConfigError,
    LedgerError,
    RunStopped,
    SourceError,
    TransportError,
)
from .job import Job
from .results import Report, Rollback
from .runner import dry_run, load, reconcile, resume
from .undo import rollback

__all__ = [
    "APIError",
    "BulkloadError",
    "ConfigError",
    "Job",
    "LedgerError",
    "Report",
    "Rollback",
    "RunStopped",
    "SourceError",
    "TransportError",
    "dry_run",
    "load",
    "reconcile",
    "resume",
    "rollback",
]
