"""The one exception tree of bulkload. Every error knows whether retrying can help.

    BulkloadError
    ├── ConfigError              usage or configuration: bad flag, missing credential, unreadable file (exit 2)
    │   ├── LedgerError          the ledger belongs to another run, is locked, or is not a ledger
    │   ├── Redirected           the API answered a call with a redirect: not followed (the credentials would go along)
    │   └── ExpansionRefused     a gzip input expands far more than any export (a gzip bomb): refused before sending
    ├── SourceError              the input cannot be read any further (exit 4, after what was read is accounted)
    ├── TransportError           the request did not get an answer (retryable)
    │   ├── ConnectError         refused before anything was sent: always safe to retry
    │   └── MaybeSentError       timeout or dropped connection after sending: the server may have acted
    ├── APIError                 the server answered with an error status
    │   ├── RateLimited          429: wait for Retry-After (retryable)
    │   ├── ServerError          5xx (retryable)
    │   ├── AuthError            401 / 403: credentials refused (final, exit 2)
    │   ├── BadRequest           400 / 422: the body was refused; `errors` may name the bad items (final)
    │   └── Conflict             409 (final)
    └── RunStopped               the run cannot go on now but can be resumed (quota, retries exhausted; exit 4)

aiohttp's exceptions never escape the dispatch layer: they are translated there with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import Any


class BulkloadError(Exception):
    """Base of every error bulkload raises on purpose."""

    retryable: bool = False
    #: set by the dispatcher when an earlier attempt of the same call may have been acted on
    uncertain: bool = False


class ConfigError(BulkloadError):
    """The run was asked for something it cannot do as configured."""


class LedgerError(ConfigError):
    """The ledger cannot be used for this run."""


class Redirected(ConfigError):
    """The API answered with a redirect. Following it would send the credentials (and the records) to wherever it
    points, so the run stops instead: the API's address is for the user to give."""


class ExpansionRefused(ConfigError):
    """A gzip input expands more than any export compresses (lines.MAX_RATIO times): read on, it would take
    minutes or hours of work for nothing, so it is refused before anything is sent."""


class SourceError(BulkloadError):
    """An input file cannot be read any further."""


class TransportError(BulkloadError):
    """No answer came back."""

    retryable = True
    #: whether the request may have reached the server (decides in_doubt for non-idempotent targets)
    maybe_sent: bool = True


class ConnectError(TransportError):
    maybe_sent = False


class MaybeSentError(TransportError):
    maybe_sent = True


class APIError(BulkloadError):
    """The server answered with an error status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.error_code = error_code
        self.errors = errors or []


class RateLimited(APIError):
    retryable = True

    def __init__(self, status: int, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(status, message, **kw)
        self.retry_after = retry_after


class ServerError(APIError):
    retryable = True


class AuthError(APIError):
    pass


class BadRequest(APIError):
    pass


class Conflict(APIError):
    pass


class RunStopped(BulkloadError):
    """The run stopped cleanly before the end; `bulkload resume` continues it."""
