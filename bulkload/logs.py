"""Where bulkload's log lines go, and how they read. Modules log through ``logging.getLogger(__name__)`` (all below
the ``bulkload`` logger); only the command line sets up where they go (`configured`). A library caller's own
logging setup decides for itself: without one, nothing below WARNING is shown (bulkload logs its work at INFO and
DEBUG).

A line carries the fields that apply of `FIELDS` — given by the call (``extra={"status": 201}``) or bound for a
stretch of work (`bound`) — and is redacted (redact.py) as a whole after formatting: no credential reaches a log
file or stderr, whatever a message or a field quotes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

import msgspec

from .masking import scrub
from .outputs import PRIVATE
from .redact import redact

#: the structured fields a line may carry, in the order they are shown: a manifest's job (its name), the run (its
#: key prefix), the target, the chunk ("seq" or "seq.part", a string), the attempt (1 = first), the answer's HTTP
#: status (an int; the error's name when no answer came) and the seconds the attempt took (elapsed_s)
FIELDS = ("job", "run", "target", "chunk", "attempt", "status", "elapsed_s")
FORMATS = ("text", "json")
#: a record with this attribute set was already shown to the user on stderr (an error line): files only
SHOWN = "bulkload_shown"

ROOT = "bulkload"
_bound: ContextVar[Mapping[str, Any]] = ContextVar("bulkload_log_fields", default=MappingProxyType({}))
#: whether stderr's lines are JSON (--log-format json): the progress lines off a terminal are then JSON too
_stderr_json: ContextVar[bool] = ContextVar("bulkload_stderr_json", default=False)
#: the secret values of the records a stretch of work sends (`hiding`), shown as *** in every line logged in it
_hidden: ContextVar[tuple[str, ...]] = ContextVar("bulkload_log_hidden", default=())


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Every line logged in this context (and in tasks started from it) carries `fields` (names of `FIELDS`)."""
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


@contextmanager
def hiding(values: Iterator[str] | list[str]) -> Iterator[None]:
    """Every line logged in this context (and in tasks started from it) shows each of `values` (the secret values of
    the records a call sends: a HaloPSA record's `new_client_secret`) as ***, however it quotes them (masking.scrub):
    an API's refusal may quote them outside any key that names a secret (tester t69b: a 400 "refused: sk_…" went to
    the log file in clear on its call's DEBUG line, where the rejects file and the ledger hid it)."""
    token = _hidden.set((*_hidden.get(), *values))
    try:
        yield
    finally:
        _hidden.reset(token)


def _shown(line: str) -> str:
    """A formatted line as it is written: redacted (credentials, values under secret keys), and the values `hiding`
    names in this context masked."""
    line = redact(line)
    hidden = _hidden.get()
    return scrub(line, hidden) if hidden else line


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The `FIELDS` a record carries, bound or given (given ones win), in `FIELDS` order."""
    context = _bound.get()
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(record, name, context.get(name))
        if value is not None:
            out[name] = value
    return out


def _utc(created: float) -> str:
    """A record's time as ISO 8601 UTC with milliseconds: 2026-11-30T21:02:36.123Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


class TextFormatter(logging.Formatter):
    """``TIME LEVEL logger: message [field=value ...]``; without `stamped`, no time (stderr)."""

    def __init__(self, stamped: bool = True) -> None:
        super().__init__()
        self.stamped = stamped

    def format(self, record: logging.LogRecord) -> str:
        fields = fields_of(record)
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        if fields:
            line += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        if self.stamped:
            line = f"{_utc(record.created)} {line}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return _shown(line)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601 UTC), level, logger, message, the `FIELDS` that apply, and the
    traceback as `exc` where there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return _shown(msgspec.json.encode(line).decode())


def _not_shown(record: logging.LogRecord) -> bool:
    return not getattr(record, SHOWN, False)


def progress_line(text: str, at_s: float, **figures: Any) -> str:
    """A progress line off a terminal, shown at `at_s` (seconds since the epoch), as stderr's other lines are
    written: "2026-11-30T21:02:36+00:00 loading 40% | ..." as text; with --log-format json one object (time, level
    INFO, logger bulkload.progress, message `text`, and `figures`), so that stderr stays one object a line (before,
    text lines came between them)."""
    if not _stderr_json.get():
        return f"{time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime(at_s))} {text}"
    return _json_line(text, at_s, "INFO", f"{ROOT}.progress", **figures)


def error_line(text: str, as_json: bool | None = None) -> str:
    """The line that ends a command on an error, for stderr: `text` itself; with --log-format json (`as_json`, by
    default as `configured` set it) one object (time, level ERROR, logger bulkload.cli, message `text`), as stderr's
    other lines are (tester t31: it was the one text line among them)."""
    json_lines = _stderr_json.get() if as_json is None else as_json
    return _json_line(text, time.time(), "ERROR", f"{ROOT}.cli") if json_lines else text


def _json_line(text: str, at_s: float, level: str, logger: str, **fields: Any) -> str:
    line = {"time": _utc(at_s), "level": level, "logger": logger, "message": text, **fields}
    return _shown(msgspec.json.encode(line).decode())


def stderr_level(verbose: int, quiet: bool) -> int:
    """The lowest level shown on stderr: ERROR when quiet, WARNING by default, INFO with -v, DEBUG with -vv."""
    if quiet:
        return logging.ERROR
    return (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG


@contextmanager
def configured(
    *, verbose: int = 0, quiet: bool = False, log_file: str | None = None, log_format: str = "text"
) -> Iterator[None]:
    """While in the context, send the ``bulkload`` logger's lines to stderr at `stderr_level` and, with `log_file`,
    every line from DEBUG up to that file (appended). `log_format`: "text" or "json" (one object a line, see
    JsonFormatter), for both. Raises OSError when the log file cannot be opened."""
    logger = logging.getLogger(ROOT)
    console = logging.StreamHandler()
    console.setLevel(stderr_level(verbose, quiet))
    console.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(stamped=False))
    console.addFilter(_not_shown)
    handlers: list[logging.Handler] = [console]
    if log_file:
        # made for the user only, as every file bulkload writes (tester t34a: 0644 under the usual umask); one there
        # already keeps its own mode
        os.close(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE))
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
        handlers.append(to_file)
    before = logger.level, logger.propagate
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(min(h.level for h in handlers))
    logger.propagate = False
    as_json = _stderr_json.set(log_format == "json")
    try:
        yield
    finally:
        _stderr_json.reset(as_json)
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(before[0])
        logger.propagate = before[1]
