"""What the engine asks of a target. The engine knows no API by name; a target is this small object."""

from __future__ import annotations

import argparse
import re
from array import array
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from hashlib import blake2b
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import msgspec
import msgspec.inspect

from .. import redact
from ..errors import APIError, ConfigError
from ..http import ANSWER_BYTES

if TYPE_CHECKING:
    from ..chunking import Chunk
    from ..dispatch import Dispatcher
    from ..ledger import Ledger
    from ..sources import Source

#: totals of one scope: currency -> [rows, sum of amounts, sum of the positive amounts (debits)], in the
#: currency's minor unit (bulkload.money). What an API answered may hold only [rows] (it gave no amounts)
Totals = dict[str, list[int]]

#: the id of a row the API confirmed with a 2xx answer that named no ids (PayorCRM documents no answer): the row is
#: loaded, and the ledger says the API gave it no id
NO_ID = -1


class RowInvalid(Exception):
    """A row failed local validation; it goes to the rejects file and is never sent."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


_AT_FIELD = re.compile(r"^(?P<reason>.*?) - at `\$\.(?P<field>[^`\[]+)")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
#: msgspec's "Expected `int | null`, got `str`"
_EXPECTED = re.compile(r"^Expected `(?P<want>[a-z]+)(?: \| null)?`, got `(?P<got>[a-z]+)`$")
#: msgspec's "Expected `int` >= 1", "Expected `str` of length <= 40", "Expected `array` of length >= 1"
_BOUND = re.compile(r"^Expected `(?P<want>[a-z]+)(?: \| null)?`(?P<length> of length)? (?P<op>[<>]=?) (?P<bound>\S+)$")
_ENUM = re.compile(r"^Invalid enum value ")
#: what a field of msgspec's type name holds, in the user's words
_KINDS = {"int": "a whole number", "float": "a number", "decimal": "a number", "str": "text", "bool": "true/false",
          "array": "a list", "object": "an object", "null": "empty"}
_AT_LEAST = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than"}
#: the longest value a reason quotes
_SHOWN = 60


def row_invalid(exc: msgspec.ValidationError, row: Mapping[str, Any] | None = None, kind: Any = None) -> RowInvalid:
    """Turn msgspec's message ("Expected `int`, got `str` - at `$.journalNumber`") into the field and a reason in
    the user's words, with the value as the row holds it ("not a whole number: 'five'"); `row` is what was
    converted and `kind` the Struct it was converted to (for the values a field allows)."""
    text = str(exc)
    if m := _MISSING.match(text):
        return RowInvalid(m["field"], "required field is missing")
    if m := _AT_FIELD.match(text):
        field = m["field"]
        value = row.get(field, _NOTHING) if row is not None else _NOTHING
        return RowInvalid(field, _reason(m["reason"], value, _allowed(kind, field)))
    return RowInvalid("", text.replace("`", ""))


_NOTHING = object()
#: an item's index in an API's message: "index 3", "entries[3]", "items[3]"
_INDEX = re.compile(r"\bindex (\d+)\b|\w\[(\d+)\]")


def _reason(text: str, value: Any, allowed: tuple[Any, ...] | None) -> str:
    """One msgspec reason (without its "- at" path) as the user reads it; a reason of our own (raised in a Struct's
    __post_init__, already in the user's words) is kept as it is."""
    shown = _shown(value)
    if m := _EXPECTED.match(text):
        want, got = m["want"], m["got"]
        if want in ("array", "object", "str") or got in ("array", "object"):
            what = "a number" if got in ("int", "float", "decimal") else _KINDS.get(got, got)
            got_text = f"{what}: {shown}" if shown and got not in ("array", "object") else what
            return f"expected {_KINDS.get(want, want)}, got {got_text}"
        reason = f"not {_KINDS.get(want, want)}: {shown}" if shown else f"not {_KINDS.get(want, want)}"
        return f"{reason} (one of: {', '.join(map(str, allowed))})" if allowed else reason
    if allowed is not None and _ENUM.match(text):
        plain = _plain(value) if all(type(a) is int for a in allowed) else shown
        return f"not one of: {', '.join(map(str, allowed))}" + (f" (got {plain})" if plain else "")
    if m := _BOUND.match(text):
        op, bound = _AT_LEAST[m["op"]], m["bound"]
        if m["length"]:
            unit = "item" if m["want"] == "array" else "character"
            many = f"{unit}s" if bound != "1" or op in ("more than", "less than") else unit
            size = f" (it has {len(value)})" if isinstance(value, str | list | dict) else ""
            return f"must be {op} {bound} {many} long{size}" if unit == "character" else \
                f"must hold {op} {bound} {many}{size}"
        plain = _plain(value)
        return f"must be {op} {bound}, got {plain}" if plain else f"must be {op} {bound}"
    if text == "Invalid decimal string":
        return f"not a number: {shown}" if shown else "not a number"
    if _ENUM.match(text):
        return f"not an allowed value: {shown}" if shown else "not an allowed value"
    return text.replace("`", "")


def _shown(value: Any) -> str:
    """A value as a reason quotes it: text in quotes, a number or true/false as written; "" for no value to show."""
    if value is _NOTHING or value is None or isinstance(value, list | dict):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…")
    return str(value)


def _plain(value: Any) -> str:
    """A value read as a number, shown as one (the CSV's '0' as 0)."""
    return value.strip() if isinstance(value, str) and len(value) <= _SHOWN else _shown(value)


def _allowed(kind: Any, field: str) -> tuple[Any, ...] | None:
    """The values a Literal field of Struct `kind` allows (by its name in the row), or None."""
    if kind is None:
        return None
    try:
        info = msgspec.inspect.type_info(kind)
    except (TypeError, ValueError):
        return None
    for f in getattr(info, "fields", ()):
        if f.encode_name == field:
            types = f.type.types if isinstance(f.type, msgspec.inspect.UnionType) else (f.type,)
            for t in types:
                if isinstance(t, msgspec.inspect.LiteralType):
                    return tuple(t.values)
    return None


class Listed(NamedTuple):
    """One page of a cursor walk as columns, so the engine sums and stores it without a Python step per record."""

    ids: list[int]
    currencies: list[str]
    #: amounts in the currency's minor unit
    units: list[int]
    #: each record's group key as `group_key` makes it ("" for none)
    groups: list[str]
    #: amounts with more decimals than their currency's minor unit (the API keeps something else than was sent)
    fractions: int = 0
    #: each record's `line_check`, made from what the API holds (None: the target compares no lines)
    checks: list[int] | None = None


class Known(NamedTuple):
    """A group of the input that is already there: `bucket` "skipped" (it loaded) or "in_doubt" (it may have),
    why, and its lines and totals in minor units as they are there, when known; `differs`: the reason to give
    instead when the input's version of the group is another (`digest`, see chunking.group_digest, when known;
    else its lines and totals)."""

    key: str
    bucket: str
    reason: str
    lines: int | None = None
    total: int | None = None
    debit: int | None = None
    differs: str | None = None
    digest: int | None = None


def group_digest(checks: Iterable[int]) -> int:
    """One number (63 bits) for what a group's lines are, whatever their order: from each line's check (a
    Target.line_check, or chunking.record_check), so that a group loaded again is told from a corrected one even where
    its count and totals stay the same (an account, a date or two signs changed)."""
    return int.from_bytes(blake2b(array("q", sorted(checks)).tobytes(), digest_size=8).digest(), "big") >> 1


class Call(NamedTuple):
    """One request that sends a chunk."""

    method: str
    path: str
    body: bytes
    #: sending it again can do no harm (a keyed create, an update to fixed values): retried when its answer is
    #: lost. A create the API cannot deduplicate is not: it is settled by looking (`Target.resolve`), else its
    #: rows become in doubt
    repeatable: bool


class RowsRefused(Exception):
    """Raised by `Target.call_for` for rows that cannot be sent (index -> (field, reason))."""

    def __init__(self, bad: dict[int, tuple[str, str]]) -> None:
        super().__init__(f"{len(bad)} row(s) cannot be sent")
        self.bad = bad


def errors_by_index(error: APIError, n: int, *, field_key: str, code_key: str | None = None
                    ) -> dict[int, tuple[str, str]] | None:
    """An answer's `errors` list naming the refused items by `index`, as {index: (field, "code: message")};
    None when it names none, or names one outside the call (then the caller bisects)."""
    bad: dict[int, tuple[str, str]] = {}
    for item in error.errors:
        index = item.get("index") if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < n:
            return None
        code = (code_key and item.get(code_key)) or error.error_code or f"HTTP {error.status}"
        bad[index] = (str(item.get(field_key) or ""), f"{code}: {item.get('message') or error.message}")
    return bad or None


class Target:
    """Base of every target. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    #: the API takes an idempotency key: a retry of a call whose answer was lost is safe
    idempotent: ClassVar[bool]
    #: how long the API remembers a key's answer; a key older than this deduplicates nothing
    key_ttl_s: ClassVar[float] = float("inf")
    #: method and path of the create call, for targets whose every chunk goes to the same place
    method: ClassVar[str] = "POST"
    path: ClassVar[str] = ""
    #: how reconciliation works: "walk" (count endpoint + cursor walk of what was created since the
    #: baseline), "responses" (the API cannot be read back: compare what was sent with what it answered),
    #: or "target" (the target's own `reconcile`)
    reconcile_by: ClassVar[str] = "walk"
    #: items and bytes one call may carry; items per call unless --batch-size says otherwise
    max_items: ClassVar[int]
    default_batch: ClassVar[int | None] = None
    #: the API's published rolling window (requests, seconds), kept by default; --window-limit/-s change it
    window: ClassVar[tuple[int, float] | None] = None
    max_bytes: ClassVar[int] = 2_000_000
    #: the longest answer read of a call (in bytes) unless the call names its own cap: an answer longer than what
    #: the call can ask for is refused, never held whole (errors.AnswerTooLarge)
    answer_bytes: ClassVar[int] = ANSWER_BYTES
    default_base_url: ClassVar[str]
    #: environment variables holding the credentials, in the order the API needs them
    credential_env: ClassVar[tuple[str, ...]]
    #: those of them that are no secret (an OAuth client id): not masked where an answer quotes them
    public_env: ClassVar[frozenset[str]] = frozenset()
    #: those that name the agreement the daily quota belongs to (None: all of them); only a keyed hash is kept
    agreement_env: ClassVar[tuple[str, ...] | None] = None
    #: environment variables it reads beyond those, where set (the [credentials] table of a job file may give them)
    optional_env: ClassVar[frozenset[str]] = frozenset()
    #: the source fields a record may have (unknown CSV columns are a configuration error)
    fields: ClassVar[frozenset[str]]
    #: fields read as decimal numbers with the file's decimal mark, and as dates in the file's date order
    number_fields: ClassVar[frozenset[str]] = frozenset()
    date_fields: ClassVar[frozenset[str]] = frozenset()
    group_name: ClassVar[str] = "group"
    #: what the API partitions records by for counting (e-conomic: journal)
    scope_name: ClassVar[str] = "scope"
    #: what the success file calls the id the API gives a created record
    id_name: ClassVar[str] = "id"

    #: the `dest` names of the options add_arguments adds
    option_names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the target's own options to `bulkload load TARGET`."""

    @classmethod
    def arrange_files(cls, files: list[str], options: dict[str, Any]) -> list[str]:
        """The input files from FILE... and the target's own options (which it may rewrite)."""
        return files

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Target:
        return cls()

    def options(self) -> dict[str, Any]:
        """The target's options, stored in the ledger so that resume runs with the same settings."""
        return {}

    async def setup(self, client: Dispatcher, sources: Sequence[Source]) -> None:
        """Look up once what planning needs from the API (e.g. entry definitions); the result must end up
        in `options()` so that resume and the planning process see the same."""

    def phases(self, n_files: int) -> list[list[int]]:
        """Groups of file indexes; each group is sent completely before the next is planned."""
        return [list(range(n_files))]

    def before_phase(
        self, files: Sequence[int], unsettled: Mapping[int, Mapping[int, str]], sources: Sequence[Source]
    ) -> dict[str, Any]:
        """What planning the next phase needs from the earlier ones (`unsettled`: file -> line -> why it did
        not load). Returned so the run can keep it: a resume plans with the same."""
        return {}

    def use_context(self, context: Mapping[str, Any]) -> None:
        """Take what `before_phase` worked out (in the planning process, and on resume)."""

    def begin_file(self, file_idx: int) -> None:
        """Planning moves on to another input file (targets whose files hold different kinds)."""

    def fields_of(self, file_idx: int) -> frozenset[str]:
        return self.fields

    def numbers_of(self, file_idx: int) -> frozenset[str]:
        return self.number_fields

    def dates_of(self, file_idx: int) -> frozenset[str]:
        return self.date_fields

    def credentials(self, env: Mapping[str, str]) -> dict[str, str]:
        missing = [k for k in self.credential_env if not env.get(k)]
        if missing:
            raise ConfigError(f"missing credential: set {', '.join(missing)} in the environment or the config")
        found = {k: env[k] for k in self.credential_env}
        # every answer read and every output written from now on shows these as *** (an API may echo them)
        redact.register(*(v for k, v in found.items() if k not in self.public_env))
        return found

    def agreement(self, credentials: Mapping[str, str]) -> list[str]:
        """The credentials' values that name the agreement whose daily quota the run's calls count against."""
        return [credentials.get(k, "") for k in self.agreement_env or self.credential_env]

    def secret_fields(self, file_idx: int) -> frozenset[str]:
        """Fields of the file's records whose values go to the API and nowhere else (masked in the rejects file)."""
        return frozenset()

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        """Headers sent with every request (static credentials)."""
        raise NotImplementedError

    async def authorize(self, client: Dispatcher, *, renew: bool = False) -> Mapping[str, str]:
        """Per-request credentials that must be fetched (an OAuth token): cached, fetched through `client`
        (so the fetch counts toward the limits), and fetched anew when `renew` (after a 401)."""
        return {}

    # --- per row ---------------------------------------------------------------------------------
    def validate(self, row: dict[str, Any]) -> Any:
        """Coerce and check one source row; raise RowInvalid. Runs once per row: keep it lean."""
        raise NotImplementedError

    #: the fields `group_key` reads
    group_fields: ClassVar[frozenset[str]] = frozenset()
    #: every row belongs to a group (a row that names none is a group's line gone wrong)
    rows_grouped: ClassVar[bool] = False

    def group_key(self, row: Mapping[str, Any]) -> str | None:
        """The group a source row belongs to, from its trimmed values as read (before validation, so that a bad
        row still names its group): rows with one key travel in one call and load whole or not at all, and an
        earlier load that created the key is not repeated. None: the row stands alone. Runs once per row."""
        return None

    def group_label(self, key: str) -> str:
        """A group key as messages name it, e.g. "voucher 5002 (journal 1)"."""
        return f"{self.group_name} {key}"

    def units(self, record: Any) -> int:
        """The record's amount in its currency's minor unit, for the per-group control totals (0: none)."""
        return 0

    def line_check(self, record: Any, units: int) -> int | None:
        """A number that changes with what a line books (its amount, accounts, date), so that reconciliation sees a
        line changed behind the loader's back even where its voucher's totals stay the same (two amounts swapped);
        made the same way from a walked record; `units`: the record's `units`. None: lines are not compared."""
        return None

    def imbalance(self, records: Sequence[Any], units: Sequence[int]) -> int:
        """How far a group's lines (with their `units`) are from balancing, in minor units summed over currencies
        (0: balanced, or nothing to balance)."""
        return 0

    async def groups_already_there(
        self, client: Dispatcher, keys: Callable[[], Iterator[str]]
    ) -> AsyncIterator[Known]:
        """Which of the input's group keys (`keys()` iterates them, as often as needed) the API already holds,
        with the reason to give: asked once before the first call, so a group loaded before is not created again."""
        return
        yield

    #: each call carries exactly one group (an API that takes one entry a call, merged or not)
    one_group_per_call: ClassVar[bool] = False
    #: writes to one record must land in file order (`order_keys` names the records a chunk writes)
    ordered: ClassVar[bool] = False

    def order_keys(self, records: Sequence[Any]) -> set[Hashable]:
        return set()

    # --- per chunk -------------------------------------------------------------------------------
    def encode(self, records: Sequence[Any]) -> bytes:
        raise NotImplementedError

    def decode(self, body: bytes) -> list[Any]:
        """The records of an encoded chunk (a chunk planned in another process carries only its body)."""
        raise NotImplementedError

    async def call_for(self, client: Dispatcher, chunk: Chunk) -> Call:
        """The request that sends a chunk. May look things up (cache what it looks up) and raise
        RowsRefused for rows that cannot be sent."""
        return Call(self.method, self.path, chunk.body, self.idempotent)

    #: how long after its answer was lost a call may still be carried out (the API's plausible commit time, in
    #: seconds; `--settle-s` overrides it). `resolve` finding nothing proves the call was not carried out only
    #: when it finds nothing again this long after the loss; 0: the API commits before it answers, one look is
    #: enough
    settle_s: ClassVar[float] = 0.0

    async def resolve(self, client: Dispatcher, chunk: Chunk) -> list[int] | None:
        """For a call whose answer was lost, look where the API allows it: the ids if it took effect (a look can
        prove presence); [] if its effect is certainly not there now, in a listing known to be whole (sending it
        again is safe once a second look `settle_s` later agrees); None when there is no telling."""
        return None

    def refused(self, error: APIError) -> bool:
        """Whether an error answer refuses the items of the call (they are rejected, the run goes on)
        rather than something about the run itself (credentials, address, limits)."""
        return error.status in (400, 422)

    def returned_totals(self, body: bytes, sent: dict[str, Totals]) -> dict[str, Totals] | None:
        """Control totals of what the API says it created, in the scopes of `sent` (what the call carried), for
        reconciliation by responses: [rows] alone when the answer gives no amounts, None when it says nothing."""
        return None

    #: reconciliation by responses: scopes (kinds) whose calls change records that exist, so that rows of several
    #: calls may name one record (two rows patching one cost); in the others each call creates its own records
    kinds_updated: ClassVar[frozenset[str]] = frozenset()

    def created_ids(self, body: bytes, n: int) -> list[int]:
        """The ids the API gave the n created items, in request order (NO_ID for items it confirmed without one)."""
        raise NotImplementedError

    def retryable(self, error: APIError) -> bool:
        """Whether an error answer may succeed when the same call is sent again."""
        return error.retryable

    def bad_items(self, error: APIError, n: int) -> dict[int, tuple[str, str]] | None:
        """Which items of a refused call were bad (index -> (field, "errorCode: message")), or None if the
        answer does not say."""
        return None

    def item_named(self, error: APIError, n: int) -> int | None:
        """The one item of a call of `n` items that a refusal's message names by its index ("at index 3",
        "entries[3]"), for an answer that lists no errors; None when it names none, or more than one."""
        found = {int(a or b) for a, b in _INDEX.findall(error.message)}
        if len(found) != 1:
            return None
        (index,) = found
        return index if 0 <= index < n else None

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        """Control totals of a chunk per scope (e.g. journal)."""
        raise NotImplementedError

    # --- rollback ------------------------------------------------------------------------------------
    #: loading the same file again changes nothing (HaloPSA with --match-on): no duplicate-load check
    @property
    def rerunnable(self) -> bool:
        return False

    #: the API can delete what a run created (rollback); where it cannot, rollback says so
    can_delete: ClassVar[bool] = False

    def created_by_run(self, ledger: Ledger, files: list[str]) -> Iterator[tuple[str, int]]:
        """(scope, id) of every record the run created (not those it only updated), for rollback."""
        seen: set[int] = set()
        for _, _, record_id in ledger.created_lines():
            if record_id not in seen:
                seen.add(record_id)
                yield "", record_id

    def delete_path(self, scope: str, record_id: int) -> str:
        raise NotImplementedError

    #: what a record the run created may have met when it is gone (a 404) and no rollback of ours removed it
    gone_means: ClassVar[str] = "removed by someone else"

    async def find_sent(
        self, client: Dispatcher, chunk: Chunk, baselines: Mapping[str, Mapping[str, int]]
    ) -> list[int] | None:
        """For rollback, a call in flight that cannot be replayed: look for what it created among what the run's
        scopes received since their `baselines`. The ids if it took effect, [] if it certainly did not, None when
        there is no telling. By default as `resolve`."""
        return await self.resolve(client, chunk)

    # --- reconciliation ----------------------------------------------------------------------------
    async def reconcile(self, client: Dispatcher, ledger: Ledger, files: list[str]) -> dict[str, Any]:
        """For reconcile_by = "target": the report's `reconcile` section."""
        raise NotImplementedError

    async def baseline(self, client: Dispatcher, scope: str) -> dict[str, int]:
        """What the scope held before this run touched it (at least `count`)."""
        raise NotImplementedError

    async def count(self, client: Dispatcher, scope: str) -> int:
        raise NotImplementedError

    def walk(
        self, client: Dispatcher, scope: str, after: int, upto: int | None
    ) -> AsyncIterator[Listed]:
        """Pages of the scope's records with after < id ≤ upto (None: no upper bound). Ids only grow, so
        `after` = the baseline's newest id walks what was created since."""
        raise NotImplementedError
