"""bulkload: stream large accounting files into accounting APIs, exactly once, and prove it.

For scripts: build a `Job` and `await load(job)`; `resume` and `reconcile` take a ledger path. Each returns
the report as a dict (the same keys as `--report`). Errors are the classes in `bulkload.errors`.
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
from .runner import dry_run, load, reconcile, resume
from .undo import rollback

__all__ = [
    "APIError",
    "BulkloadError",
    "ConfigError",
    "Job",
    "LedgerError",
    "RunStopped",
    "SourceError",
    "TransportError",
    "dry_run",
    "load",
    "reconcile",
    "resume",
    "rollback",
]
