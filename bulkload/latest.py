"""The latest answer of a look, shared by the looks that one taken at or after a given time answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class _Taken(Generic[T]):
    def __init__(self) -> None:
        #: when it was begun, on the loop's clock (anyio.current_time)
        self.began = anyio.current_time()
        self.done = anyio.Event()
        #: its answer, once taken (a tuple: the answer may be None)
        self.answer: tuple[T] | None = None
        self.failed: Exception | None = None


class Latest(Generic[T]):
    """The latest answer a look took (a resource's listing), kept to answer the looks begun since: a look that any
    answer taken at or after `since` serves (one whose call was lost at `since`, or one after the settle delay from
    `since`) is given the latest answer begun then, waiting for it while it is taken, instead of taking its own. One
    that failed fails them all the same (an error of errors.BulkloadError's, as a look's own); one cut short
    (cancelled) answers none, and each takes its own."""

    def __init__(self) -> None:
        self._latest: _Taken[T] | None = None

    async def get(self, since: float | None, take: Callable[[], Awaitable[T]]) -> T:
        """The answer of `take` begun at or after `since` (on the loop's clock), the latest such one's where a look took
        one; `since` None: one taken now. Raises what `take` raises."""
        shared = self._latest
        if since is not None and shared is not None and shared.began >= since:
            await shared.done.wait()
            if shared.failed is not None:
                raise shared.failed
            if shared.answer is not None:
                return shared.answer[0]
        taken: _Taken[T] = _Taken()
        self._latest = taken
        try:
            answer = await take()
            taken.answer = (answer,)
            return answer
        except Exception as exc:
            taken.failed = exc
            raise
        finally:
            taken.done.set()
