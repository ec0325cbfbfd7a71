"""bulkload: stream large accounting files into accounting APIs, exactly once, and prove it.

For scripts: build a `Job` and `await load(job)`; `resume`, `reconcile` and `rollback` take a ledger path. Each
returns its report as a typed value (`Report`, `Rollback`: `report.loaded`, `report.reconcile.ok`) with the
keys of the `--report` file as attributes (`msgspec.to_builtins(report)`: the file's JSON). Errors are the
classes in `bulkload.errors`.
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
