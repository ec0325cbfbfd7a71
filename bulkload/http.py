"""The HTTP client: one aiohttp session per run, and the one place aiohttp's errors become ours."""

from __future__ import annotations

import email.utils
import time
import urllib.parse
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, NamedTuple, Self

import aiohttp
import msgspec

from .errors import (
    APIError,
    AuthError,
    BadRequest,
    Conflict,
    ConnectError,
    MaybeSentError,
    RateLimited,
    Redirected,
    ServerError,
)
from .redact import redact, redact_data

decode_json = msgspec.json.Decoder().decode


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes
    #: an earlier attempt of the same call lost its answer and may have been carried out too (set by the dispatcher)
    uncertain: bool = False


class Client:
    """Sends requests below a base URL with the target's auth headers; counts what it sent."""

    def __init__(
        self, base_url: str, headers: Mapping[str, str], *, concurrency: int = 8, timeout_s: float = 60.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self.concurrency = concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(10.0, timeout_s))
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(limit=self.concurrency + 2)
        self._session = aiohttp.ClientSession(
            headers=self._headers, timeout=self._timeout, connector=connector, raise_for_status=False,
            trace_configs=[_sends_counted()],
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One request; an error status or a lost answer raises the matching BulkloadError."""
        assert self._session is not None, "Client used outside `async with`"
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        sends = {"n": 0}
        try:
            url = path if path.startswith(("http://", "https://")) else self.base_url + path
            # never followed: aiohttp would carry the session's credential headers (and a 307's body, a token
            # request's client secret) to whatever address the answer names
            async with self._session.request(
                method, url, data=body, params=params, headers=hdrs, trace_request_ctx=sends, allow_redirects=False
            ) as resp:
                data = await resp.read()
                status, resp_headers = resp.status, resp.headers
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(f"cannot connect to {self.base_url}: {exc.os_error}") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:
            raise MaybeSentError(f"{method} {path}: connection lost before the answer ({exc})") from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise MaybeSentError(f"{method} {path}: no answer within {self._timeout.total:.0f} s") from exc
        except aiohttp.ClientError as exc:
            raise MaybeSentError(redact(f"{method} {path}: {type(exc).__name__}: {exc}")) from exc
        if status >= 400:
            error = error_from(status, resp_headers, data)
            # answered after aiohttp sent it again: the first send may have been carried out (a DELETE's 404 may be
            # our own DELETE's doing)
            error.uncertain = sends["n"] > 1
            raise error
        if 300 <= status < 400:
            raise redirected(method, url, status, resp_headers.get("Location"))
        return Response(status, resp_headers, data)


def _sends_counted() -> aiohttp.TraceConfig:
    """aiohttp sends an idempotent request (GET, PUT, DELETE) a second time on its own when a kept-alive connection
    drops (RFC 9112 §9.3.1), out of bulkload's sight: each send is counted in the request's trace context."""
    config = aiohttp.TraceConfig()

    async def sent(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        context.trace_request_ctx["n"] += 1

    config.on_request_headers_sent.append(sent)
    return config


def _shown(url: str) -> str:
    """A URL as a message shows it: no query (it may carry a tenant or a filter), no user or password."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def redirected(method: str, url: str, status: int, location: str | None) -> Redirected:
    where = f"to {_shown(urllib.parse.urljoin(url, location))}" if location else "elsewhere"
    return Redirected(
        f"{method} {_shown(url)} was answered {status}, a redirect {where}: bulkload does not follow a redirect of an "
        "API call, which would carry the credentials there. If that is the API's address, give it as --base-url "
        "(HALO_AUTH_URL for a HaloPSA token); the run stops here"
    )


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def error_from(status: int, headers: Mapping[str, str], body: bytes) -> APIError:
    """Build the error for an error status from a problem+json (or any) body. What the API says is read here and
    nowhere else, and every credential it may quote (an API that echoes the request) is ``***`` from here on
    (redact.py): the message, the error code and the items."""
    problem: dict[str, Any] = {}
    try:
        decoded = decode_json(body) if body else {}
        if isinstance(decoded, dict):
            problem = decoded
    except msgspec.DecodeError:
        pass
    message = redact(str(
        problem.get("detail") or problem.get("message") or problem.get("title") or body[:200].decode("utf-8", "replace")
    ))
    errors = problem.get("errors")
    code = problem.get("errorCode")
    kw: dict[str, Any] = {
        "error_code": redact(code) if isinstance(code, str) else code,
        "errors": redact_data(errors) if isinstance(errors, list) else None,
    }
    if status == 429:
        return RateLimited(status, message, retry_after=retry_after_seconds(headers.get("Retry-After")), **kw)
    if status >= 500:
        return ServerError(status, message, **kw)
    if status in (401, 403):
        return AuthError(status, message, **kw)
    if status == 409:
        return Conflict(status, message, **kw)
    if status in (400, 422):
        return BadRequest(status, message, **kw)
    return APIError(status, message, **kw)
