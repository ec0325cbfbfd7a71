"""All a target sees of the engine: something that sends requests within the run's limits, and something that
tells what the run created. The engine's Dispatcher and Ledger are both."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from ..http import Response
from ..model import Totals


class Sender(Protocol):
    """Sends requests below the API's base URL, through the run's limits and retries (dispatch.Dispatcher)."""

    @property
    def base_url(self) -> str: ...

    def held_for_s(self) -> float | None:
        """Seconds until a call the run's limits hold back may leave, None where none is held."""
        ...

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
        max_bytes: int | None = None,
        writes: bool | None = None,
    ) -> Response:
        """The answer of a 2xx; an error answer raises (errors.APIError and its kin). `writes`: the call writes what
        the run loads (default: any method but GET, HEAD and OPTIONS; False for a token request)."""
        ...

    async def get(
        self, path: str, params: Mapping[str, str] | None = None, *, into: Any = Any, max_bytes: int | None = None
    ) -> Any:
        """A GET's answer read as `into` (errors.BadAnswer when it is not that)."""
        ...


class Created(Protocol):
    """What a run created, as its ledger holds it (ledger.Ledger)."""

    def created_lines(self) -> Iterator[tuple[int, int, int]]:
        """(file index, line, id) of every row the run created or updated, in id order."""
        ...

    def created_in(self, file_idx: int) -> dict[int, int]:
        """line -> id of every row of one file that the run created or updated."""
        ...

    def expected(self) -> dict[str, Totals]:
        """Control totals of what loaded, as sent, per scope."""
        ...

    def removals(self) -> dict[tuple[str, int], str]:
        """(scope, id) -> what a rollback recorded of the run's record (model.rolled_out reads it); {} for none."""
        ...

    def chunk_lines(self, state: str) -> Iterator[tuple[int, int, str, str]]:
        """(file index, line, call key, error) of every row of the calls in `state` ("sending": in flight when a
        process stopped; "in_doubt": sent, the outcome unknown)."""
        ...
