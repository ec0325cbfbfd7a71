"""The hostile API of bulkload.sandbox.hostile, and what a test running the CLI in this process needs with it:
its credentials set in os.environ."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from bulkload.sandbox.hostile import CREDENTIALS, PREFIX, Answer, Hostile, inputs, load_args, report_of, served

__all__ = ["CREDENTIALS", "PREFIX", "Answer", "Hostile", "environment", "inputs", "load_args", "report_of", "served"]


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ while the block runs (a CLI run in this process reads its credentials there)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
