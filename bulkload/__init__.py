"""bulkload: stream large accounting files into accounting APIs, exactly once, and prove it.

For scripts (a plain script needs no `if __name__ == "__main__":` guard; examples/load_from_script.py runs):

    job = bulkload.Job(target="economic", files=["entries.csv"])   # credentials from the environment
    try:
        report = asyncio.run(bulkload.load(job))
    except bulkload.RunStopped as stopped:                          # resumable: quota spent, the API down
        if stopped.report is None:                                  # stopped before its first call: no ledger
            raise
        report = asyncio.run(bulkload.resume(stopped.report.ledger))  # stopped.report: the partial report

`load(job)` and `resume(ledger_path)` are coroutines; `reconcile` and `rollback` take a ledger path too, and
`dry_run(job)` is a plain call. Each returns its report as a typed value (`Report`, `Rollback`: `report.loaded`,
`report.reconcile.ok`, `report.exit_code`) with the keys of the `--report` file as attributes
(`msgspec.to_builtins(report)`: the file's JSON). A run that stops before the end raises `RunStopped` with its
`Report` as `.report` (None if it stopped before its first call), unless `raise_on_stop=False` asks for the stopped
report returned (`status` "stopped"). What must be corrected before anything is sent raises `ConfigError`; every
error is a `BulkloadError` of `bulkload.errors`.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import APIError, BulkloadError, ConfigError, LedgerError, RunStopped, SourceError, TransportError
    from .job import Job
    from .results import Report, Rollback
    from .runner import dry_run, load, reconcile, resume
    from .undo import rollback

#: what `bulkload.NAME` imports on first use (PEP 562): a process that only plans (the planning child) or only
#: prints help does not import the engine and aiohttp with the package; nor the errors (asyncio with them), so that
#: the `bulkload` command is still to read them where it takes a Ctrl-C (__main__.entry), not yet where it cannot
_LAZY = {
    **dict.fromkeys(
        ("APIError", "BulkloadError", "ConfigError", "LedgerError", "RunStopped", "SourceError", "TransportError"),
        ".errors",
    ),
    "Job": ".job",
    "Report": ".results",
    "Rollback": ".results",
    "dry_run": ".runner",
    "load": ".runner",
    "resume": ".runner",
    "rollback": ".undo",
}


#: the submodules `import bulkload` made attributes of the package while it imported the errors (redact with them):
#: still there on first use (`bulkload.errors.ConfigError`)
_SUBMODULES = ("errors", "redact")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """The package, where `reconcile` names the function: importing the submodule of that name (the engine does)
    binds the name on the package, which `__getattr__` alone would then never be asked for."""

    @property
    def reconcile(self) -> Callable[..., Any]:
        from .runner import reconcile

        return reconcile

    @reconcile.setter
    def reconcile(self, submodule: Any) -> None:
        """The import system binding the submodule bulkload.reconcile: the function keeps the name."""


sys.modules[__name__].__class__ = _Package


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
