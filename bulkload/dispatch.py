"""Sending with limits and retries: every request passes the quota and the rate meter, and is retried only
for what retrying can fix, bounded by attempts and by total time. Retrying is done here and nowhere else."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from .errors import (
    NO_SUCH_CALL,
    APIError,
    AuthError,
    BadAnswer,
    BulkloadError,
    ConfigError,
    HeldBack,
    NoToken,
    RateLimited,
    Redirected,
    RunStopped,
    ServerError,
    Throttled,
    TokenRefused,
    TransportError,
    WrongEndpoint,
)
from .http import Client, Response, decoded, unreadable
from .json_text import given_twice, keys_twice
from .redact import redact
from .targets.base import Target

if TYPE_CHECKING:
    from .limits import Limits, Slot, Slowdown
    from .meters import Clock, RateMeter

log = logging.getLogger(__name__)
#: a wait for the limits at least this long (seconds) is logged at INFO, a shorter one at DEBUG
WAIT_LOGGED_S = 1.0
#: shorter waits than this (seconds) are not logged at all: every call passes the limits, most at once
WAIT_DEBUG_S = 0.01
#: times in a row a call's token may run out while it waits for its slot, no call leaving with a token meanwhile,
#: before the run stops (NoToken): tokens that live shorter than the wait for one place would renew for ever
TOKEN_RUNS_OUT = 4
#: what a token endpoint's refusal holds (RFC 6749 §5.2: a JSON object whose `error` names it, invalid_client …)
_OAUTH_ERROR = re.compile(r'"error"\s*:')
#: times one call's token may be renewed after a 401 before the run stops resumable (NoToken): a token that worked
#: (a call was answered with it) and is then refused was revoked or expired early (a key rotation, a restart), and a
#: call meets each revocation while it waits at most once: a tester's server revoked every token 3 times in 2 s, and
#: a call met 3 of them (t32c); a call refused with 6 tokens in turn, each of which worked, meets tokens revoked about
#: as fast as they are given (another client whose token fetches revoke this run's), and would renew for ever
TOKEN_RENEWALS = 5


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for failed attempts (5xx, a dropped connection), in seconds; a 429's
    wait is the limits' (Limits.on_rate_limited), and a Retry-After past `total_s` stops the run."""

    attempts: int = 8
    total_s: float = 600.0
    base_s: float = 0.25
    cap_s: float = 30.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


def seconds_said(wait_s: float) -> str:
    """A wait the API asked for, as the user reads it: whole seconds, or "longer than a day" for one past that
    (a Retry-After of 1e400 is read as infinite)."""
    return f"{wait_s:.0f} s" if wait_s <= 86_400 else "longer than a day"


def _slowed(
    slowdown: Slowdown, retry_after_s: float | None, rate: RateMeter | None = None, window_shown: bool = False
) -> str:
    """What a 429 made the calls do and why, as `-v` logs it (`slowdown`: what `Limits.on_rate_limited` decided;
    `rate`: the run's rate meter, whose spacing a "spacing" 429 says the calls leave at now; `window_shown`: this
    429 first showed the server counts a window, `RateMeter.counts_a_window`, which changes how every later 429 is
    met and was said nowhere)."""
    said = _slowed_why(slowdown, retry_after_s, rate)
    if window_shown:
        said += (
            "; it came to a call that left two intervals after the last one the server did not refuse, so the server "
            "counts a window (another client's calls fill it), not the spacing: from now on 429s narrow this run's "
            "share of it, not the pace"
        )
    return said


def _slowed_why(slowdown: Slowdown, retry_after_s: float | None, rate: RateMeter | None = None) -> str:
    """What a 429 made the calls do and why (`_slowed`), without what a window first shown adds to it."""
    said = "no Retry-After" if retry_after_s is None else f"its Retry-After of {retry_after_s:.1f} s"
    if slowdown.why == "clocks":
        return (
            "the window was full, so the server's clock and ours disagree by a few ms: no call pauses"
            f"{'' if retry_after_s is None else ' for ' + said}; the window's margin widens and the pace is kept"
        )
    if slowdown.why == "spacing":
        return (
            "the call left at the spacing of --rate or closer after one the server did not refuse, so it spaces calls "
            f"as strictly: no call pauses{'' if retry_after_s is None else ' for ' + said}; the spacing widens (2.5 "
            "% of the interval, up to 5 %"
            + (
                ""
                if rate is not None and rate.window_counted
                else "; past that, the server's arrivals vary, and the pace keeps 90 % of itself (all of it where 20 "
                "calls or more went since the last 429), eased back as calls succeed"
            )
            + "), and every call leaves an interval after the one before it"
            + (
                ""
                if rate is None or rate.configured is None or not rate.interval_s()
                else f": calls now leave {1000.0 * rate.interval_s():.0f} ms apart ({1.0 / rate.interval_s():.3g}/s "
                f"of --rate {rate.configured:g})"
            )
        )
    if slowdown.why == "early":
        return (
            "the run has not been sending for a whole window yet, so its own count there says nothing of a share: no "
            f"call pauses{'' if retry_after_s is None else ' for ' + said}, the share and the pace are kept"
        )
    paused = f"calls pause {slowdown.pause_s:.1f} s"
    if slowdown.why == "share":
        waits = f"{paused} ({said})" if slowdown.pause_s else f"calls wait until they fit in it ({said})"
        return (
            "the server counts more in the window than this run sent (another client shares it, or it takes fewer "
            f"than the limit given): this run's share narrows, {waits}"
        )
    if slowdown.why == "refused":
        return (
            "the server takes none of this run's calls for now (its share of the window is one call, or it took none "
            f"for three windows): {paused} (the back-off: {said}); the pace is kept for when it takes calls again"
        )
    return f"the API asks to slow down; {paused} ({said if retry_after_s is not None else 'the back-off: ' + said})"


def minutes_said(elapsed_s: float) -> str:
    """How long something went on, as the user reads it: seconds under two minutes, else minutes."""
    return f"{elapsed_s:.1f} s" if elapsed_s < 120 else f"{elapsed_s / 60:.0f} min"


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
    if isinstance(exc, BadAnswer | Redirected):
        return exc.acted_on
    return False


def _kept_no_failure(exc: BulkloadError, keyed: bool) -> bool:
    """Whether a keyed call's attempt ended in a 5xx its idempotency key may not protect a retry from: answered by
    the server (not replayed from its cache, X-ResultFromCache), after work it may have done. Seed 002 and the seeds
    README say a key's answer is kept for an hour, not that a failure is (bulkload's sandbox keeps none): a server
    that stored the call's entries and then failed carries the retry out anew (tester t74b: each voucher of the call
    in the journal twice, exit 3). Such a call is looked for before it is sent again."""
    return keyed and isinstance(exc, ServerError) and not exc.replayed and maybe_acted_on(exc)


@dataclass
class Tries:
    """One call's attempts so far: `failed` counts those that failed (a 429 and a token renewed are not attempts),
    `uncertain` says one of them may have been carried out. Its time (`started`, in seconds of `clock`) counts
    from when its first attempt leaves (`leaves`): a wait for a place in the run's own limits before that is none
    the API asked for (a rolling window may hold a call minutes)."""

    clock: Clock = time.monotonic
    started: float = 0.0
    failed: int = 0
    #: attempts that left (each counted as a request), for the log
    sent: int = 0
    uncertain: bool = False
    #: an attempt's request may be on its way and no answer has ended it: cut short now, that attempt may land
    in_flight: bool = False
    #: times its token was renewed after a 401 (`Dispatcher._renew`)
    renewed: int = 0
    #: tokens renewed for it that were refused before any call was answered with them (`Dispatcher._renew`)
    unproven: int = 0
    #: 429s answered so far (not attempts: `--attempts` does not count them)
    limited: int = 0

    def leaves(self) -> None:
        """An attempt leaves now: the call's time starts with the first."""
        if not self.sent:
            self.started = self.clock()

    def elapsed_s(self) -> float:
        return self.clock() - self.started

    def out_of_time(self, policy: RetryPolicy, wait_s: float = 0.0) -> bool:
        """Whether waiting `wait_s` more would pass the policy's total time."""
        return self.elapsed_s() + wait_s > policy.total_s

    def spent(self, policy: RetryPolicy) -> bool:
        """Whether the policy allows no further attempt."""
        return self.failed >= policy.attempts or self.out_of_time(policy)

    def afresh(self) -> None:
        """A look showed that no attempt so far was carried out: the call starts over (its time, its token
        renewal), keeping the count of attempts that failed."""
        self.started, self.uncertain, self.renewed, self.unproven = self.clock(), False, 0, 0


#: asked before a call that cannot be repeated is sent again after an attempt that may have been carried out
#: (its error given): True when a look shows it was not carried out
Recheck = Callable[[BulkloadError], Awaitable[bool]]


def _raised(exc: BulkloadError, uncertain: bool) -> NoReturn:
    """Raise `exc`, in doubt when an attempt of its call may have been carried out (a copy: an error is not
    changed once raised)."""
    if uncertain and not exc.uncertain:
        raise exc.in_doubt() from exc
    raise exc


def _read_failed(exc: BulkloadError, method: str, path: str) -> BulkloadError:
    """`exc`, which ends a call to `path`; where it ends a read (GET) on an error status of the server's
    (ServerError), a copy that names the call first, as an unreadable answer does ("GET /draft-entries: HTTP 503:
    …"): what a read gets is no row's reason, and the run stops on it. A write's is said as the API said it."""
    if method != "GET" or not isinstance(exc, ServerError):
        return exc
    return exc.retold(redact(f"{method} {path}: {exc}"))


class Dispatcher:
    """The one way requests leave bulkload, and the one owner of retrying them: attempts, backoff, Retry-After,
    a token renewed, and (with `recheck`) a call that cannot be repeated sent again once it is known not carried
    out."""

    def __init__(
        self,
        client: Client,
        target: Target,
        *,
        limits: Limits,
        policy: RetryPolicy,
        counters: Counters | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = client
        #: what a call's time (the policy's `total_s`) is measured by, in seconds
        self.clock = clock
        self.target = target
        self.limits = limits
        self.policy = policy
        self.counters = counters or Counters()
        #: calls that left with a token (`_slot`): while some do, a call whose token ran out is only queued
        self._left_with_token = 0
        #: the attempts not written yet (`_unsent`), which `hold_back` cancels; and whether it did
        self._waiting: set[anyio.CancelScope] = set()
        self._held_back = False
        #: why no token could be had (`_credentials`): from then on no call asks for one again
        self._token_failed: BulkloadError | None = None
        #: held by the one call that fetches credentials (a token) at a time
        self._fetching = anyio.Lock()
        #: the credentials (tokens) some call was answered with: the API took them, and a 401 to them later is a
        #: token revoked, not credentials refused (`_renew`; in memory only, as the target keeps its token)
        self._worked: set[frozenset[tuple[str, str]]] = set()
        #: the calls answered with a token (`_worked`'s): a token endpoint that refuses the credentials after them
        #: refuses what it took before (`_token_error`)
        self._answered_with_token = 0

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def held_for_s(self) -> float | None:
        """Seconds until a call the run's limits hold back may leave (Limits.held_for_s), None where none is held."""
        return self.limits.held_for_s()

    def hold_back(self) -> None:
        """No call leaves from now on: the ledger cannot record what one does (a write failed). Those waiting for
        their place in the limits, a token or a connection are cancelled before their request is written, and raise
        HeldBack, as every later one does; those written already go on to their answers."""
        self._held_back = True
        for waiting in self._waiting:
            waiting.cancel()

    @contextmanager
    def _unsent(self) -> Iterator[anyio.CancelScope]:
        """The scope of one attempt until its request is written (`_written`): `hold_back` cancels it until then."""
        scope = anyio.CancelScope()
        if self._held_back:
            scope.cancel()
        self._waiting.add(scope)
        try:
            with scope:
                yield scope
        finally:
            self._waiting.discard(scope)

    def _written(self, slot: Slot, unsent: anyio.CancelScope) -> None:
        """The attempt's request was written: the limits time it from now, and `hold_back` leaves it to its answer."""
        self._waiting.discard(unsent)
        self.limits.sent(slot)

    def _retryable(self, exc: BulkloadError, safe_to_repeat: bool) -> bool:
        if isinstance(exc, APIError) and exc.replayed:
            return False  # an earlier attempt's answer, replayed by the API's cache: the same key gets it again
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
        recheck: Recheck | None = None,
        read: Callable[[Response], None] | None = None,
        writes: bool | None = None,
        tries: Tries | None = None,
    ) -> Response:
        """Send until answered, within the policy's attempts and total time. `safe_to_repeat` is False for a write
        the API cannot deduplicate: then a call that may have arrived is sent again only when `recheck` says it
        was not carried out; otherwise its error is raised for the caller to settle. An error or an answer after an
        attempt that may have been carried out says so (`uncertain`).
        `authorized` adds the target's per-request credentials (a token), renewed on a 401 (`_renew`): when none can be
        had the call is not sent (NoToken, TokenRefused). `leaving` is called as each attempt leaves, after every
        wait for the limits: a write may land until some time after the last one did, and the ledger must know
        when that was (and that it left: a call waiting for its place never did); what it raises is raised at once,
        the attempt not sent. `max_bytes`: the longest answer read (default: the target's `answer_bytes`). `read` reads
        an answer (the caller keeps what it reads): one it cannot read (BadAnswer) is a failed attempt like any
        other. HeldBack once `hold_back` was called, where no attempt's request is written by then. `writes`: as
        http.Client.send's (False for a token request). `tries`: the call's attempts, for a caller that reads them
        once it is cut short (whether an attempt may land: one in flight, or `uncertain`; a 429 landed nothing)."""
        tries = tries if tries is not None else Tries(self.clock)
        cap = max_bytes or self.target.api.answer_bytes
        while True:
            sent = tries.sent
            with self._unsent() as unsent:
                slot, credentials = await self._slot(authorized, tries.uncertain)
                sent_with = {**(headers or {}), **credentials}
                self._leaving(slot, leaving)
                try:
                    response = await self._attempt(
                        tries, slot, unsent, method, path, body, params, sent_with, cap, writes
                    )
                    if credentials:
                        self._worked.add(frozenset(credentials.items()))
                        self._answered_with_token += 1
                    if read is not None:
                        read(response)
                except AuthError as exc:
                    await self._renew(exc, tries, authorized, credentials)
                except RateLimited as exc:
                    self._slow_down(exc, tries, slot, f"{method} {path}")
                except BulkloadError as exc:
                    await self._again(exc, tries, safe_to_repeat, recheck, (method, path))
                else:
                    # the caller must know: an earlier attempt may still be landing after this answer (a write to
                    # fixed values repeated is harmless, but a later write to the same record must not overtake it)
                    return response._replace(uncertain=True) if tries.uncertain else response
            if unsent.cancelled_caught:  # held back before its request was written: no attempt, no request
                self.counters.requests -= tries.sent - sent
                tries.sent = sent
                raise HeldBack(
                    f"{method} {path}: not sent: the ledger cannot record what it does", uncertain=tries.uncertain
                )

    async def _attempt(
        self,
        tries: Tries,
        slot: Slot,
        unsent: anyio.CancelScope,
        method: str,
        path: str,
        body: bytes | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        max_bytes: int,
        writes: bool | None = None,
    ) -> Response:
        """One attempt, sent at once: its slot is taken (`_slot`), and the limits hear when it was answered or
        ended otherwise (an error status, no answer: by then the server counted it or never will); its outcome is
        logged at DEBUG. `unsent`: its scope until its request is written (`_unsent`)."""
        started = time.monotonic()
        worked = False  # answered 2xx: its round trip is a call's (Limits.answered)
        try:
            tries.leaves()
            tries.sent += 1
            self.counters.requests += 1
            tries.in_flight = True  # until an answer, or an error, ends it: not where it is cut short
            try:
                response = await self.client.send(
                    method,
                    path,
                    body=body,
                    params=params,
                    headers=headers,
                    max_bytes=max_bytes,
                    on_sent=partial(self._written, slot, unsent),
                    writes=writes,
                )
                worked = True
                tries.in_flight = False
            except BulkloadError as exc:
                tries.in_flight = False
                if log.isEnabledFor(logging.DEBUG):
                    status = getattr(exc, "status", None) or type(exc).__name__
                    self._log_attempt(method, path, tries.sent, status, started, f": {exc}")
                raise
        finally:
            # answered or over (an error status, no answer, cancelled, never sent): the latest the server can have
            # counted it; only an answer that did the call's work times a round trip (a gateway's 429 comes at once)
            self.limits.answered(slot, worked)
        if log.isEnabledFor(logging.DEBUG):
            self._log_attempt(method, path, tries.sent, response.status, started)
        self.limits.on_success()
        return response

    def _leaving(self, slot: Slot, leaving: Callable[[], None] | None) -> None:
        """Tell the caller the attempt that took `slot` leaves now (`leaving`); where that raises (the ledger cannot
        record it), the attempt is not sent: its places in the windows are free again, and the error is the call's."""
        if leaving is None:
            return
        try:
            leaving()
        except BaseException:
            self.limits.unused(slot)
            raise

    def _of(self, **fields: Any) -> dict[str, Any]:
        """A log call's `extra`: the target and `fields` (logs.FIELDS)."""
        return {"target": self.target.name, **fields}

    def _log_attempt(
        self, method: str, path: str, attempt: int, status: object, started: float, said: str = ""
    ) -> None:
        elapsed = round(time.monotonic() - started, 3)
        log.debug(
            "%s %s attempt %d: %s in %.3f s%s",
            method,
            path,
            attempt,
            status,
            elapsed,
            said,
            extra=self._of(attempt=attempt, status=status, elapsed_s=elapsed),
        )

    async def _slot(self, authorized: bool, uncertain: bool) -> tuple[Slot, Mapping[str, str]]:
        """Wait until the limits let one call leave, and return its slot and credentials (with `authorized`), checked
        after that wait, without another: a token that ran out while the call waited is renewed with the slot given
        back first (the token's own call needs a place in the windows: held, a window of one stalled for the
        two minutes an unanswered call holds its place), then the call takes a slot again, as often as the token
        runs out meanwhile: a call never leaves with a token it knows ran out (the API's 401 to it would be taken
        for refused credentials where the call had renewed its token after a first 401 and no call was answered with
        the one that ran out, `_renew`). RunStopped when the daily
        quota is spent; NoToken, TokenRefused as `_authorization`, and NoToken when the token ran out during
        `TOKEN_RUNS_OUT` waits in a row and no call left with one meanwhile (tokens that live shorter than the wait
        for one place)."""
        before = await self._authorization(uncertain) if authorized else {}
        runs_out, left = 0, self._left_with_token
        while True:
            asked = time.monotonic()
            try:
                slot = await self.limits.acquire()
            except RunStopped as exc:
                _raised(exc, uncertain)
            waited = time.monotonic() - asked
            if waited >= WAIT_LOGGED_S:
                log.info("waited %.1f s for the rate limits", waited, extra=self._of())
            elif waited >= WAIT_DEBUG_S and log.isEnabledFor(logging.DEBUG):
                log.debug("waited %.3f s for the rate limits", waited, extra=self._of())
            if not authorized:
                return slot, before
            now = await self.target.authorize(self, fetch=False)  # returns without a wait: the slot stays timed
            if now is not None:
                self._left_with_token += 1
                return slot, now
            self.limits.unused(slot)
            runs_out = 1 if self._left_with_token != left else runs_out + 1  # others went: it was only queued
            left = self._left_with_token
            if runs_out >= TOKEN_RUNS_OUT:
                raise NoToken(
                    f"the access token ran out while the call waited for its place in the rate limits, {runs_out} "
                    f"times in a row with no call sent meanwhile (the last wait {minutes_said(waited)}): the API's "
                    "tokens live shorter than the wait for one place; the call was not sent; continue with "
                    "`bulkload resume` once the API's tokens live longer or its window (--window-limit, --window-s) "
                    "lets calls go sooner",
                    uncertain=uncertain,
                )
            await self._authorization(uncertain)

    async def _renew(self, exc: AuthError, tries: Tries, authorized: bool, sent: Mapping[str, str]) -> None:
        """A 401 to the credentials `sent`: the token may have expired early or been revoked: the call is sent again
        with another (one a call fetched since, else a new one fetched now) at its first 401, and at each later one
        whose token worked (a call was answered with it: revoked since), or where it is the first token renewed for
        it refused unproven while some token of the run worked. Else `exc` is raised, which blames the credentials:
        a token renewed for this call and refused before any call with it was answered where none of the run's ever
        was, or the second so refused (the API no longer lets this client in), a 403, a target without tokens, or a
        token endpoint that gives the refused one. (Before, the first such token blamed the credentials: with tokens
        revoked a second apart on a busy machine, the next revocation came before any call with the renewed token
        was answered, and the run stopped blaming credentials that had worked all along.)
        NoToken (resumable, the call not sent again) once the call's token was renewed `TOKEN_RENEWALS` times."""
        tries.uncertain = tries.uncertain or exc.uncertain  # answered after aiohttp's own resend (http.py)
        if not authorized or exc.status != 401:
            raise exc
        if tries.renewed and frozenset(sent.items()) not in self._worked:
            tries.unproven += 1
            if not self._worked or tries.unproven > 1:
                raise _not_taken(exc, tries.renewed, worked=bool(self._worked)) from exc
        if tries.renewed >= TOKEN_RENEWALS:
            raise NoToken(
                f"the API refused a call's access token {tries.renewed + 1} times in turn (401), each token renewed "
                "for it after other calls with it had been answered, and the token endpoint gave a new one each time: "
                "the API revokes its tokens about as fast as it gives them (another client fetching tokens with the "
                "same client id?); the call was not sent again; continue with `bulkload resume` once its tokens last",
                uncertain=tries.uncertain,
            ) from exc
        # replaced already by another call (no call, no wait), else fetched anew
        replaced = await self.target.authorize(self, fetch=False)
        again = await self._authorization(tries.uncertain, refused=sent)
        if not again or again == sent:
            if again:
                log.info("401: the token endpoint gave the refused access token again", extra=self._of(status=401))
            raise exc
        tries.renewed += 1
        self.counters.retries += 1
        if replaced is not None and replaced != sent:
            log.info(
                "401: another call had fetched a new access token meanwhile; sending again with it",
                extra=self._of(status=401),
            )
        else:
            log.info("401: a new access token was fetched; sending again", extra=self._of(status=401))

    def _slow_down(self, exc: RateLimited, tries: Tries, slot: Slot, call: str) -> None:
        """A 429 to `call` (its method and path) that took `slot`: the limits decide how long every call, this one
        too, pauses (Limits.on_rate_limited: Retry-After, else a bounded growing backoff; none when it was the clocks'
        disagreement at a full window: this call then takes the next slot the window, widened, holds free, as a
        Retry-After in whole seconds overstates a rolling window's wait by up to a second). A wait past what the
        call may still wait (the policy's total time) stops the run (Throttled): a Retry-After that long at once,
        before any call is paused for it; said as the wait asked where it is the call's first 429, else as the 429s
        that kept coming (a 1 s Retry-After is no wait longer than the 600 s a call waits)."""
        tries.uncertain = tries.uncertain or exc.uncertain  # answered after aiohttp's own resend (http.py)
        tries.limited += 1
        self.counters.rate_limited += 1
        if exc.retry_after is not None and tries.out_of_time(self.policy, exc.retry_after):
            if tries.limited > 1:
                raise self._kept_limiting(call, tries) from exc
            raise Throttled(
                f"{call}: the API answered 429 asking to wait {seconds_said(exc.retry_after)}, longer than bulkload "
                f"waits for a call ({self.policy.total_s:.0f} s in all; quota reached?); continue with "
                "`bulkload resume` once that time has passed",
                uncertain=tries.uncertain,
            ) from exc
        counted = self.limits.rate.window_counted
        slowdown = self.limits.on_rate_limited(exc.retry_after, slot)
        if tries.out_of_time(self.policy, slowdown.pause_s):
            raise self._kept_limiting(call, tries) from exc
        self.counters.retries += 1
        log.info(
            "429 #%d of the run (the call's #%d) to %s in %s: %s",
            self.counters.rate_limited,
            tries.limited,
            call,
            minutes_said(tries.elapsed_s()),
            _slowed(slowdown, exc.retry_after, self.limits.rate, not counted and self.limits.rate.window_counted),
            extra=self._of(status=429),
        )

    def _kept_limiting(self, call: str, tries: Tries) -> Throttled:
        """Why `call` stops after 429s to its tries until the time it may wait (the policy's total) is up."""
        took = minutes_said(tries.elapsed_s())
        answered = (
            f"to every try for {took}"
            if tries.limited == tries.sent
            else f"to {tries.limited} of {tries.sent} tries in {took}"
        )
        return Throttled(
            f"{call}: the API answered 429 {answered} (bulkload waits {self.policy.total_s:.0f} s for a call in "
            "all): another client may be using up the API's limit; continue with `bulkload resume` once it "
            "takes calls again, with a lower --rate if only this run calls it",
            uncertain=tries.uncertain,
        )

    async def _again(
        self, exc: BulkloadError, tries: Tries, safe_to_repeat: bool, recheck: Recheck | None, call: tuple[str, str]
    ) -> None:
        """Any other failed attempt of `call` (method, path): back off and return to send again, or raise `exc` (in
        doubt when an attempt may have been carried out; a read's, `_read_failed`). A 5xx's Retry-After (a 503's:
        how long the service is expected to be unavailable) is the least the back-off waits; one past what the call
        may still wait (the policy's total time) stops it at once, naming the wait (before, a 503 asking for 20 s
        was sent again 9 times in 41 s and given up on: tester t70e)."""
        self.counters.note(exc)
        tries.uncertain = tries.uncertain or maybe_acted_on(exc)
        tries.failed += 1
        asked = exc.retry_after if isinstance(exc, ServerError) else None
        if asked is not None and self._retryable(exc, safe_to_repeat) and tries.out_of_time(self.policy, asked):
            exc = exc.retold(
                f"{exc} (the API asked to wait {seconds_said(asked)}, longer than bulkload waits for a call: "
                f"{self.policy.total_s:.0f} s in all)"
            )
            log.info("giving up: %s", exc, extra=self._of(attempt=tries.sent))
            _raised(_read_failed(exc, *call), tries.uncertain)
        if tries.spent(self.policy):
            log.info("giving up after %d failed attempts: %s", tries.failed, exc, extra=self._of(attempt=tries.sent))
            _raised(_read_failed(exc, *call), tries.uncertain)
        keyed = safe_to_repeat and self.target.api.idempotent
        if _kept_no_failure(exc, keyed) and recheck is not None and not await recheck(exc.in_doubt()):
            _raised(_read_failed(exc, *call), tries.uncertain)  # a look settled it: stored, or in doubt
        if self._retryable(exc, safe_to_repeat):
            self.counters.retries += 1
            delay = max(self.policy.delay(tries.failed), asked or 0.0)
            log.info(
                "retrying in %.2f s (failed attempt %d of %d): %s",
                delay,
                tries.failed,
                self.policy.attempts,
                exc,
                extra=self._of(attempt=tries.sent),
            )
            await anyio.sleep(delay)
            return
        if safe_to_repeat or not tries.uncertain or recheck is None or not await recheck(exc.in_doubt()):
            _raised(_read_failed(exc, *call), tries.uncertain)
        log.info("a look showed the call was not carried out: sending it again", extra=self._of(attempt=tries.sent))
        tries.afresh()  # and sent again at once: the look took its time

    async def _authorization(self, uncertain: bool, refused: Mapping[str, str] | None = None) -> Mapping[str, str]:
        """The target's per-request credentials. The token call's own failure is not this call's: whatever went
        wrong there (a refusal, a 5xx, an answer that is no token), this call was not sent by this attempt, so it
        is raised as NoToken or TokenRefused, in doubt only when an earlier attempt of this call may have landed
        (`uncertain`), and never taken for an answer to this call (a token endpoint's 400 refuses no rows). Once the
        token call failed (after its own retries), every call of the run that needs a token meets that failure at
        once, never asking again: the run stops on it, and a rollback's workers each went through the token call's
        attempts again in turn (8 workers, 8 attempts, minutes)."""
        try:
            return await self._credentials(refused)
        except (ConfigError, HeldBack) as exc:  # a redirect, an address that leads nowhere, held back: as they are
            _raised(exc, uncertain)
        except BulkloadError as exc:
            raise self._token_error(exc, uncertain) from exc

    async def _credentials(self, refused: Mapping[str, str] | None) -> Mapping[str, str]:
        """The target's per-request credentials: fresh ones at once, else fetched by one call at a time, so that
        the calls that wait meanwhile take the token it fetched, or meet its failure without asking again. Raises
        the token call's failure, the same one for every call once it failed."""
        failed = self._token_failed
        if failed is None and (fresh := await self.target.authorize(self, refused=refused, fetch=False)) is not None:
            return fresh
        async with self._fetching:
            failed = self._token_failed
            if failed is None:
                try:
                    return await self.target.authorize(self, refused=refused) or {}
                except BulkloadError as exc:
                    self._token_failed = failed = exc
        raise failed

    def _token_error(self, exc: BulkloadError, uncertain: bool) -> BulkloadError:
        """What a call that needed a token raises for the token call's failure `exc` (no ConfigError)."""
        settings = self.client.settings
        endpoint = settings.other_address or settings.address
        if isinstance(exc, APIError) and exc.status in (400, 401, 403):
            # a 401 or 403 names the credentials' settings already (http.Client), OAuth's 400 (invalid_grant) not
            said = str(exc) if settings.credentials in str(exc) else f"{exc}; check {settings.credentials}"
            if "invalid_token" in exc.message:
                # RFC 6750's error of a resource that wants a bearer token, never a token endpoint's (RFC 6749 §5.2:
                # invalid_client): a --base-url ending in /api put the token call under the API (tester t36d)
                said = (
                    f"HTTP {exc.status}: {exc.message}: invalid_token is what an API's resource answers a call "
                    "without a token, not what a token endpoint answers credentials it refuses: the token call went "
                    f"to the API, not its token endpoint; check {endpoint} (--base-url is the instance's root, "
                    "without /api)"
                )
                return WrongEndpoint(f"the token endpoint answered {said}", uncertain=uncertain)
            if answered := self._answered_with_token:
                # they worked until now: revoked or changed since the command began, not mistyped
                said = (
                    f"HTTP {exc.status}: {exc.message}, after {answered} call{'s' if answered > 1 else ''} of this "
                    "command had been answered with tokens it gave for them: the client was disabled, or its secret "
                    "changed, since then; ask the API's administrator, and give the client's current ones as "
                    f"{settings.credentials}"
                )
                return TokenRefused(
                    f"the token endpoint refused the credentials it had taken: {said}", uncertain=uncertain
                )
            if not _OAUTH_ERROR.search(exc.message):
                # --base-url of another API (e-conomic's) answered the token call 401 "X-AppSecretToken
                # and X-AgreementGrantToken are missing or wrong.", told as refused HaloPSA credentials alone
                said += (
                    "; or the token call reached another API than a token endpoint: its answer is no OAuth error "
                    f"(RFC 6749 §5.2: a JSON object naming an `error`, such as invalid_client), so check {endpoint} too"
                )
            return TokenRefused(f"the token endpoint refused the credentials: {said}", uncertain=uncertain)
        if isinstance(exc, APIError) and exc.status in NO_SUCH_CALL:
            return WrongEndpoint(
                f"the token endpoint answered {exc}: there is no such call at that address; check {endpoint}",
                uncertain=uncertain,
            )
        then = "continue with `bulkload resume`"
        if isinstance(exc, BadAnswer):  # the server's own answer, no passing fault: a resume meets it again
            then = (
                "the server's token answer is not usable, and a resume meets it again until the token endpoint "
                f"answers a token (check {endpoint}): then {then}"
            )
        elif isinstance(exc, TransportError):  # out of reach: a wrong address, or down for now
            then = f"once the token endpoint can be reached (check {endpoint}), {then}"
        return NoToken(f"no access token: {exc}; the call that needed one was not sent; {then}", uncertain=uncertain)

    async def get(
        self, path: str, params: Mapping[str, str] | None = None, *, into: Any = Any, max_bytes: int | None = None
    ) -> Any:
        """GET an answer and read it as `into` (see http.decoded: BadAnswer when it is not that, or where an object of
        it gives a key twice: which value the API means cannot be told, json_text.keys_twice)."""
        response = await self.send("GET", path, params=params, max_bytes=max_bytes)
        found = decoded(response.body, into, f"GET {path}")
        if twice := keys_twice(response.body):
            raise unreadable(f"GET {path}", response.body, given_twice(twice))
        return found


def _not_taken(exc: AuthError, renewed: int, *, worked: bool) -> AuthError:
    """`exc`, a 401 to a token `renewed` times renewed for its call and refused before any call with it was
    answered, told as what it shows: the token endpoint took the credentials (it gave that token) and the API did
    not take its token; `worked`: some token of the run was taken before (a tester, t65a: a server that expired its
    tokens seconds before their `expires_in` while calls waited for a place was told as refused credentials)."""
    why = (
        "tokens of this run were taken before: the API may expire its tokens sooner than the expires_in they come "
        "with (a call that waits for its place in the limits outlives them), or no longer takes this client's"
        if worked
        else "none of this run's was taken: the API does not let in the client the token endpoint knows (its "
        "permissions at the API, or a token endpoint of another instance or tenant)"
    )
    times = "once" if renewed == 1 else f"{renewed} times"
    return exc.advised(
        f"the token endpoint had just given that token for them (renewed for this call {times}, refused each time "
        f"before any call with it was answered): {why}"
    )
