"""Sending with limits and retries: every request passes the quota and the rate meter, and is retried only
for what retrying can fix, bounded by attempts and by total time."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .errors import (
    APIError,
    AuthError,
    BadAnswer,
    BulkloadError,
    ConfigError,
    NoToken,
    RateLimited,
    RunStopped,
    ServerError,
    TokenRefused,
    TransportError,
)
from .http import Client, Response, decoded
from .targets.base import Target

if TYPE_CHECKING:
    from .limits import Limits


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; Retry-After is obeyed as long as it fits `max_wait_s`."""

    attempts: int = 8
    total_s: float = 600.0
    base_s: float = 0.25
    cap_s: float = 30.0
    max_wait_s: float = 900.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def note(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1


def maybe_acted_on(exc: BulkloadError) -> bool:
    """Whether the server may have carried out a call that ended in this error."""
    if exc.uncertain:
        return True
    if isinstance(exc, TransportError):
        return exc.maybe_sent
    if isinstance(exc, APIError):
        # 5xx and 409 "key in use" may follow work already done; other answers mean nothing was done
        return exc.status >= 500 or exc.status == 409
    if isinstance(exc, BadAnswer):
        return exc.acted_on
    return False


class Dispatcher:
    """The one way requests leave bulkload."""

    def __init__(
        self,
        client: Client,
        target: Target,
        *,
        limits: Limits,
        policy: RetryPolicy,
        counters: Counters | None = None,
    ) -> None:
        self.client = client
        self.target = target
        self.limits = limits
        self.policy = policy
        self.counters = counters or Counters()

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def _retryable(self, exc: BulkloadError, safe_to_repeat: bool) -> bool:
        if isinstance(exc, TransportError):
            return safe_to_repeat or not exc.maybe_sent
        if isinstance(exc, ServerError):
            return safe_to_repeat
        if isinstance(exc, APIError):
            return self.target.api.retryable(exc)
        return exc.retryable

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        safe_to_repeat: bool = True,
        authorized: bool = True,
        leaving: Callable[[], None] | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """Send until answered. `safe_to_repeat` is False for a write the API cannot deduplicate: then a call
        that may have arrived is not repeated and its error is raised for the caller to settle. An answer after
        an attempt that may have been carried out says so (`Response.uncertain`).
        `authorized` adds the target's per-request credentials (a token), renewed once on a 401: when none can be
        had the call is not sent (NoToken, TokenRefused). `leaving` is called as each attempt leaves, after every
        wait for the limits: a write may land until some time after the last one did, and the ledger must know
        when that was. `max_bytes`: the longest answer read (default: the target's `answer_bytes`)."""
        started = time.monotonic()
        attempt = 0
        uncertain = False  # an earlier attempt may have been acted on
        renewed = False
        cap = max_bytes or self.target.api.answer_bytes
        while True:
            sent_headers = dict(headers or {})
            if authorized:
                sent_headers.update(await self._authorization(uncertain))
            try:
                await self.limits.acquire()
                self.counters.requests += 1
                if leaving is not None:
                    leaving()
                response = await self.client.send(
                    method, path, body=body, params=params, headers=sent_headers, max_bytes=cap
                )
            except AuthError as exc:
                uncertain = uncertain or exc.uncertain  # answered after aiohttp's own resend (http.py)
                if not authorized or renewed or exc.status != 401 or not await self._authorization(uncertain, True):
                    raise
                renewed = True  # the token may have expired early or been revoked: one new one, once
                self.counters.retries += 1
                continue
            except RateLimited as exc:
                uncertain = uncertain or exc.uncertain  # answered after aiohttp's own resend (http.py)
                self.counters.rate_limited += 1
                wait = exc.retry_after if exc.retry_after is not None else self.policy.delay(attempt + 1)
                if wait > self.policy.max_wait_s:
                    stop = RunStopped(
                        f"the API asks to wait {wait:.0f} s (quota reached?); continue later with `bulkload resume`"
                    )
                    stop.uncertain = uncertain
                    raise stop from exc
                if time.monotonic() - started + wait > self.policy.total_s:
                    exc.uncertain = uncertain
                    raise
                self.limits.on_rate_limited(wait)
                self.counters.retries += 1
                continue
            except BulkloadError as exc:
                self.counters.note(exc)
                uncertain = uncertain or maybe_acted_on(exc)
                exc.uncertain = uncertain
                attempt += 1
                if (
                    not self._retryable(exc, safe_to_repeat)
                    or attempt >= self.policy.attempts
                    or time.monotonic() - started > self.policy.total_s
                ):
                    raise
                self.counters.retries += 1
                await anyio.sleep(self.policy.delay(attempt))
                continue
            self.limits.on_success()
            # the caller must know: an earlier attempt may still be landing after this answer (a write to fixed
            # values repeated is harmless, but a later write to the same record must not overtake it)
            return response._replace(uncertain=True) if uncertain else response

    async def _authorization(self, uncertain: bool, renew: bool = False) -> Mapping[str, str]:
        """The target's per-request credentials. The token call's own failure is not this call's: whatever went
        wrong there (a refusal, a 5xx, an answer that is no token), this call was not sent by this attempt, so it
        is raised as NoToken or TokenRefused, in doubt only when an earlier attempt of this call may have landed
        (`uncertain`), and never taken for an answer to this call (a token endpoint's 400 refuses no rows)."""
        try:
            return await self.target.authorize(self, renew=renew)
        except BulkloadError as exc:
            if isinstance(exc, ConfigError):
                error: BulkloadError = exc  # a redirect, an address that leads nowhere: as they are
            elif isinstance(exc, APIError) and exc.status in (400, 401, 403):
                error = TokenRefused(f"the token endpoint refused the credentials: {exc}")
            else:
                error = NoToken(f"no access token: {exc}; the call that needed one was not sent; continue with "
                                "`bulkload resume`")
            error.uncertain = uncertain
            if error is exc:
                raise
            raise error from exc

    async def get(self, path: str, params: Mapping[str, str] | None = None, *, into: Any = Any,
                  max_bytes: int | None = None) -> Any:
        """GET an answer and read it as `into` (see http.decoded: BadAnswer when it is not that)."""
        response = await self.send("GET", path, params=params, max_bytes=max_bytes)
        return decoded(response.body, into, f"GET {path}")
