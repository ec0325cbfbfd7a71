"""HaloPSA accounting-integration records: nine `*Details` resources, array POSTs that create (no `id`) or
update (with `id`), an OAuth2 client-credentials token, and 300 requests per rolling 5 minutes.

No idempotency key: `--match-on` turns a create into an update of the record that already matches, so a
file can be loaded again without creating anything; a create whose answer was lost is settled by looking
it up by those fields, twice when the first look finds nothing (`settle_s` apart); an update whose answer was
lost is sent again. Secret fields go to the API and nowhere else.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.parse
from collections.abc import Hashable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import anyio
import msgspec

from .. import redact
from ..errors import APIError, ConfigError
from ..halopsa_schema import LIST_FILTERS, RESOURCES, Field, canonical_resource
from ..http import decoded, unreadable
from ..sources import BadRow, Source
from .base import Call, RowInvalid, Target, Totals, errors_by_index, row_invalid

if TYPE_CHECKING:
    from ..chunking import Chunk
    from ..dispatch import Dispatcher
    from ..ledger import Ledger

_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "datetime": str,
    "object": dict[str, Any],
    "array": list[Any],
}


def record_type(resource: str) -> type[msgspec.Struct]:
    """A Struct for what may be sent to a resource: every field but the server's, none of them required."""
    fields: list[tuple[str, Any, Any]] = []
    seen: set[str] = set()
    for f in RESOURCES[resource]:
        if f.read_only or f.name in seen:  # the document lists a few fields twice
            continue
        seen.add(f.name)
        attr = f"x{f.name}" if f.name.startswith("_") else f.name  # msgspec keeps the wire name
        fields.append((attr, _TYPES[f.kind] | None, msgspec.field(default=None, name=f.name)))
    return msgspec.defstruct(resource, fields, kw_only=True, omit_defaults=True)


class _Token(msgspec.Struct):
    """An OAuth2 token answer (RFC 6749 §5.1): the fields bulkload uses."""

    access_token: Annotated[str, msgspec.Meta(min_length=1)]
    #: seconds
    expires_in: Annotated[float, msgspec.Meta(ge=0)] = 3600.0


#: a token answer is a few hundred bytes; an answer far longer is not one
TOKEN_BYTES = 64 * 1024
#: a resource's listing (every record, in one answer): some tens of thousands of records
LISTING_BYTES = 64 * 1024 * 1024


class Resource:
    """One of the nine resources: its schema, the Struct sent to it, and what is secret or nested."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = f"/api/{name}"
        self.schema: dict[str, Field] = {f.name: f for f in RESOURCES[name]}
        self.fields = frozenset(f.name for f in self.schema.values() if not f.read_only)
        self.type = record_type(name)
        self.decode = msgspec.json.Decoder(list[self.type]).decode  # type: ignore[name-defined]
        self.secrets = [f.name for f in self.schema.values() if f.secret]
        #: the Struct attributes of the API's triggers (`_exchangecode`, `_disconnect`, …): each arrival acts
        self.triggers = [f"x{f.name}" for f in self.schema.values() if f.name.startswith("_") and not f.read_only]
        self.nested = [f.name for f in self.schema.values() if f.kind in ("object", "array")]
        self.types: dict[str, Any] = {f.name: _TYPES[f.kind] for f in self.schema.values()}


def typed(kind: Resource, name: str, value: Any) -> Any:
    """`value` as field `name` of `kind` holds it, converted as `validate` converts a row ("5", 5.0 → 5;
    "true", 1 → True; text stays as it is); ValueError if it cannot be of that type."""
    try:
        return msgspec.convert(value, kind.types[name], strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _with_id(record: Any, index: int, call: str, body: bytes, *, acted_on: bool = False) -> dict[str, Any]:
    """A listed or saved record, its `id` an int: every record the API holds has one (matches, counts and rollback
    go by it). BadAnswer for anything else (`acted_on`: the answer of a write, which did arrive)."""
    value = record.get("id") if isinstance(record, dict) else None
    if type(value) is str and value.isascii() and value.isdigit():
        value = int(value)
    if type(value) is not int:
        what = "is not a record" if not isinstance(record, dict) else "has no id" if value is None else \
            f"has an id that is not a whole number ({str(value)[:20]!r})"
        raise unreadable(call, body, f"item {index} {what}", acted_on=acted_on)
    checked: dict[str, Any] = record
    checked["id"] = value
    return checked


def resource_named(name: str) -> str:
    try:
        return canonical_resource(name)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None


class HaloPSA(Target):
    name = "halopsa"
    idempotent = False
    max_items = 100
    default_batch = 50
    default_base_url = ""
    credential_env = ("HALO_CLIENT_ID", "HALO_CLIENT_SECRET")
    public_env = frozenset({"HALO_CLIENT_ID"})
    optional_env = frozenset({"HALO_AUTH_URL"})
    window = (300, 300.0)  # hosted instances: 300 requests per rolling 5 minutes
    group_name = "record"
    scope_name = "resource"
    reconcile_by = "target"
    option_names = ("resource", "match_on", "tenant")
    #: HaloPSA documents no commit time, nor how long its servers let a write run after the caller has gone. Two
    #: minutes covers the request limits of the ASP.NET hosting it answers from (110 s for ASP.NET's
    #: executionTimeout, 2 minutes for the ASP.NET Core Module's requestTimeout); a write committed later than
    #: that after its answer was lost (a queue behind the API) can still be created twice: raise --settle-s
    settle_s = 120.0
    fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        resources: Sequence[str],
        match_on: Sequence[str] = (),
        tenant: str | None = None,
        existing: Mapping[str, Mapping[str, int]] | None = None,
        before: Mapping[str, int] | None = None,
    ) -> None:
        if not resources:
            raise ConfigError(f"halopsa needs --resource (or files named after it), one of {', '.join(RESOURCES)}")
        #: the resource of each input file (the last one also stands for any further file)
        self.resources = [resource_named(r) for r in resources]
        self.kinds = {name: Resource(name) for name in dict.fromkeys(self.resources)}
        for kind in self.kinds.values():
            unknown = [m for m in match_on if m not in kind.schema]
            if unknown:
                raise ConfigError(f"--match-on {', '.join(unknown)}: not fields of {kind.name}")
            if any(kind.schema[m].secret for m in match_on):
                raise ConfigError("--match-on cannot use a secret field: the API never returns it")
        self.match_on = list(match_on)
        self.tenant = tenant
        #: per resource: match key -> id, and how many records there were, listed before planning
        self.existing = {r: dict(v) for r, v in (existing or {}).items()}
        self.before = dict(before) if before is not None else None
        self.current = self.kinds[self.resources[0]]
        self._credentials: dict[str, str] = {}
        self._token: tuple[str, float, float] | None = None  # value, expires at, fetched at
        self._token_lock = anyio.Lock()

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--resource", help=f"one of {', '.join(RESOURCES)} (default: from each file's name, e.g. XeroDetails.csv)"
        )
        parser.add_argument(
            "--match-on",
            help="FIELD[,FIELD]: update the record these fields match instead of creating one (re-runnable loads)",
        )
        parser.add_argument("--tenant", help="hosted instances: the tenant for the token request")

    @classmethod
    def arrange_files(cls, files: list[str], options: dict[str, Any]) -> list[str]:
        """Each file's resource: --resource for all, else the file's name (XeroDetails.csv, AvalaraDetails.jsonl)."""
        forced = options.pop("resource", None)
        if forced is None and options.get("resources"):
            return files  # arranged already (a resumed run's stored options)
        options["resources"] = [resource_named(forced or Path(f).name.split(".")[0]) for f in files]
        return files

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HaloPSA:
        resources = options.get("resources") or ([options["resource"]] if options.get("resource") else [])
        match_on = options.get("match_on") or ()
        if isinstance(match_on, str):
            match_on = [m.strip() for m in match_on.split(",") if m.strip()]
        return cls(resources, match_on, options.get("tenant"), options.get("existing"), options.get("before"))

    def options(self) -> dict[str, Any]:
        return {
            "resources": self.resources,
            "match_on": self.match_on,
            "tenant": self.tenant,
            "existing": self.existing,
            "before": self.before,
        }

    def _file(self, file_idx: int) -> Resource:
        return self.kinds[self.resources[min(file_idx, len(self.resources) - 1)]]

    def fields_of(self, file_idx: int) -> frozenset[str]:
        return self._file(file_idx).fields

    def begin_file(self, file_idx: int) -> None:
        self.current = self._file(file_idx)

    def phases(self, n_files: int) -> list[list[int]]:
        """One resource at a time: chunks in flight together are all of one resource."""
        by_resource: dict[str, list[int]] = {}
        for i in range(n_files):
            by_resource.setdefault(self._file(i).name, []).append(i)
        return list(by_resource.values())

    # --- credentials: an OAuth2 client-credentials token, fetched through the limits ---------------------
    def credentials(self, env: Mapping[str, str]) -> dict[str, str]:
        found = super().credentials(env)
        if env.get("HALO_AUTH_URL"):
            found["HALO_AUTH_URL"] = env["HALO_AUTH_URL"]
        return found

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        self._credentials = dict(credentials)  # kept for the token request only; never stored or shown
        return {"Accept": "application/json"}

    async def authorize(self, client: Dispatcher, *, renew: bool = False) -> Mapping[str, str]:
        async with self._token_lock:
            now = time.monotonic()
            if self._token is not None:
                value, expires_at, fetched_at = self._token
                fresh = now < expires_at and not (renew and now - fetched_at > 1.0)
                if fresh:
                    return {"Authorization": f"Bearer {value}"}
            auth_url = self._credentials.get("HALO_AUTH_URL") or client.client.base_url + "/auth"
            url = auth_url.rstrip("/") + "/token"
            if self.tenant:
                url += f"?tenant={urllib.parse.quote(self.tenant)}"
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self._credentials["HALO_CLIENT_ID"],
                    "client_secret": self._credentials["HALO_CLIENT_SECRET"],
                    "scope": "all",
                }
            ).encode()
            response = await client.send(
                "POST", url, body=form, authorized=False, headers={"Content-Type": "application/x-www-form-urlencoded"},
                max_bytes=TOKEN_BYTES,
            )
            token: _Token = decoded(response.body, _Token, f"POST {auth_url.rstrip('/')}/token")
            redact.register(token.access_token)  # an API that echoes a later request quotes it as ***
            # renewed before it runs out: a tenth of its life early, at most a minute
            margin = min(60.0, token.expires_in / 10)
            self._token = (token.access_token, now + token.expires_in - margin, now)
            return {"Authorization": f"Bearer {token.access_token}"}

    # --- before planning: what already exists, for --match-on and the reconciliation count ---------------
    async def listing(self, client: Dispatcher, kind: Resource) -> list[dict[str, Any]]:
        return (await self.listing_whole(client, kind))[0]

    async def listing_whole(self, client: Dispatcher, kind: Resource) -> tuple[list[dict[str, Any]], bool]:
        """Every record of the resource, and whether the answer holds them all (a paged answer whose
        `record_count` is more than it lists does not: what it leaves out is not proven absent)."""
        # every record, enabled or not: what exists is what a match or a count must see
        params: dict[str, str] = {
            f: "true" for f in ("includedisabled", "includeenabled") if f in LIST_FILTERS[kind.name]
        }
        call = f"GET {kind.path}"
        body = (await client.send("GET", kind.path, params=params, max_bytes=LISTING_BYTES)).body
        records: list[Any] | dict[str, Any] = decoded(body, list[Any] | dict[str, Any], call)
        whole = True
        if isinstance(records, dict):  # a paged answer
            count = records.get("record_count")
            listed = next((v for v in records.values() if isinstance(v, list)), None)
            if listed is None:  # an object that lists nothing is no listing: nothing it leaves out is proven absent
                raise unreadable(call, body, "an object without a list of records")
            records = listed
            whole = isinstance(count, int) and count <= len(records)
        return [_with_id(r, i, call, body) for i, r in enumerate(records)], whole

    def key(self, record: Mapping[str, Any], kind: Resource | None = None) -> str | None:
        """The match fields' values as text, each as its field's type, so that a CSV's "5" meets the API's 5
        (and an API's "5" or 5.0 the CSV's 5). None — matching nothing — when one is missing or cannot be of
        its type."""
        kind = kind or self.current
        values = []
        for name in self.match_on or ["name"]:
            value = record.get(name)
            if value is None:
                return None
            try:
                values.append(typed(kind, name, value))
            except ValueError:
                return None
        # objects compare as objects: in whatever order the API gives their keys. Python's json, not msgspec: the
        # keys are kept in the ledger (options()), and a resumed run must find them as written
        return json.dumps(values, sort_keys=True)

    async def setup(self, client: Dispatcher, sources: Sequence[Source]) -> None:
        if self.before is not None:
            return  # a resumed run keeps what it saw before it started
        before: dict[str, int] = {}
        for kind in self.kinds.values():
            records = await self.listing(client, kind)
            before[kind.name] = len(records)
            if self.match_on:
                self.existing[kind.name] = {k: int(r["id"]) for r in records if (k := self.key(r, kind)) is not None}
        self.before = before

    # --- per row ---------------------------------------------------------------------------------------
    def validate(self, row: dict[str, Any]) -> Any:
        kind = self.current
        for name, value in row.items():
            if type(value) is Decimal:  # a JSON number with a fraction, read exactly; no HaloPSA field is money
                row[name] = float(value)
        for name in kind.nested:
            if isinstance(row.get(name), str):  # JSON text in a CSV cell
                try:
                    row[name] = msgspec.json.decode(row[name])
                except ValueError as exc:
                    raise RowInvalid(name, f"not valid JSON: {exc}") from None
        try:
            record = msgspec.convert(row, kind.type, strict=False)
        except msgspec.ValidationError as exc:
            raise row_invalid(exc, row, kind.type) from None
        if self.match_on and getattr(record, "id", None) is None:
            # the converted record, not the row: its values are what is sent, and what the API will hold
            found = self.existing.get(kind.name, {}).get(self.key(msgspec.to_builtins(record), kind) or "")
            if found is not None:
                record.id = found  # type: ignore[attr-defined]  # an update of the record that matches
        return record

    #: two rows updating one record in different calls: the later row must win, as in the file
    ordered = True

    def order_keys(self, records: Sequence[Any]) -> set[Hashable]:
        return {(self.current.name, r.id) for r in records if getattr(r, "id", None) is not None}

    def secret_fields(self, file_idx: int) -> frozenset[str]:
        return frozenset(self._file(file_idx).secrets)

    # --- per call ----------------------------------------------------------------------------------------
    def encode(self, records: Sequence[Any]) -> bytes:
        return msgspec.json.encode(records)

    def decode(self, body: bytes) -> list[Any]:
        return self.current.decode(body)

    async def call_for(self, client: Dispatcher, chunk: Chunk) -> Call:
        kind = self._file(chunk.file_idx)
        return Call("POST", kind.path, chunk.body, repeatable=self._harmless_again(chunk.entries(self), kind))

    @staticmethod
    def _harmless_again(records: Sequence[Any], kind: Resource) -> bool:
        """A call of updates only sets fixed values on records that exist: sending it again changes nothing, so
        a lost answer is settled by sending it again, never by looking (its secrets are never returned, and the
        fields that are may have held their values before). Unless it pulls a trigger: each arrival acts."""
        return all(getattr(r, "id", None) is not None for r in records) and not any(
            getattr(r, name) not in (None, False) for r in records for name in kind.triggers
        )

    def created_ids(self, body: bytes, n: int) -> list[int]:
        call = f"POST {self.current.path}"
        saved = decoded(body, Any, call, acted_on=True)
        ids = [_with_id(r, i, call, body, acted_on=True)["id"] for i, r in enumerate(saved)] \
            if isinstance(saved, list) else []
        if len(ids) != n:
            raise ValueError(f"the API answered {len(ids)} records for {n}")
        return ids

    def bad_items(self, error: APIError, n: int) -> dict[int, tuple[str, str]] | None:
        return errors_by_index(error, n, field_key="field")

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        updates = sum(1 for r in records if getattr(r, "id", None) is not None)
        return {self.current.name: {"create": [len(records) - updates, 0, 0], "update": [updates, 0, 0]}}

    async def resolve(self, client: Dispatcher, chunk: Chunk) -> list[int] | None:
        """A POST whose answer was lost. The array is saved whole or not at all, so its creates decide:
        all found by the match fields → done; none, in a listing that holds every record → not there now
        (the engine looks again after the settle delay before it sends again; the updates beside them set
        fixed values); some, a create without match values, or a partial listing → no telling. A call
        without creates pulls a trigger (the others are sent again, not looked up): no telling."""
        kind = self._file(chunk.file_idx)
        records = [msgspec.to_builtins(r) for r in chunk.entries(self)]
        keys = [self.key(r, kind) for r in records if r.get("id") is None]
        if not keys or any(k is None for k in keys):
            return None
        live, whole = await self.listing_whole(client, kind)
        by_key = {k: int(r["id"]) for r in live if (k := self.key(r, kind)) is not None}
        found = [by_key.get(k) for k in keys if k is not None]
        if all(i is None for i in found):
            return [] if whole else None
        if any(i is None for i in found):
            return None
        new_ids = iter(found)
        return [int(r["id"]) if r.get("id") is not None else int(next(new_ids) or 0) for r in records]

    def _differences(
        self, sent: Mapping[str, Any], found: Mapping[str, Any], kind: Resource | None = None
    ) -> list[tuple[str, Any, Any]]:
        """(field, sent, found) for what the API should hold after `sent` but does not, compared as the
        fields' types as a match is; secrets (never returned) and the server's own fields are not compared."""
        out = []
        kind = kind or self.current
        for name, value in sent.items():
            field = kind.schema.get(name)
            if field is None or field.secret or field.read_only or name == "id":
                continue
            try:
                same = typed(kind, name, found.get(name)) == typed(kind, name, value)
            except ValueError:  # the API holds nothing, or nothing of the field's type
                same = False
            if not same:
                out.append((name, value, found.get(name)))
        return out

    @property
    def rerunnable(self) -> bool:
        return bool(self.match_on)  # the same file again updates what the first load created

    # --- rollback: the records this run created, never the ones it only updated -----------------------------
    can_delete = True

    def created_by_run(self, ledger: Ledger, files: list[str]) -> Iterator[tuple[str, int]]:
        from ..ledger import LOC_SHIFT

        created = dict(ledger.db().execute("SELECT loc, id FROM created").fetchall())
        for file_idx, path in enumerate(files):
            self.begin_file(file_idx)
            for item in Source(path):
                if isinstance(item, BadRow):
                    continue
                line, row = item
                record_id = created.get((file_idx << LOC_SHIFT) + line)
                # a row that named its record (or matched one with --match-on) updated it: not ours to delete
                if record_id is not None and getattr(self.validate(dict(row)), "id", None) is None:
                    yield self.current.name, record_id

    def delete_path(self, scope: str, record_id: int) -> str:
        return f"{self.kinds[scope].path}/{record_id}"

    # --- reconciliation: list each resource, compare count and every loaded record field by field ---------
    async def reconcile(self, client: Dispatcher, ledger: Ledger, files: list[str]) -> dict[str, Any]:
        from ..ledger import LOC_SHIFT

        created = dict(ledger.db().execute("SELECT loc, id FROM created").fetchall())
        expected = ledger.expected()
        differences: list[dict[str, Any]] = []
        missing: list[dict[str, Any]] = []
        scopes: dict[str, dict[str, int]] = {}
        for kind in self.kinds.values():
            self.current = kind
            live = {int(r["id"]): r for r in await self.listing(client, kind)}
            # what each record should hold: its rows in file order, a later update over an earlier create
            desired: dict[int, dict[str, Any]] = {}
            lines: dict[int, tuple[str, int]] = {}
            for file_idx, path in enumerate(files):
                if self._file(file_idx) is not kind:
                    continue
                for item in Source(path):
                    if isinstance(item, BadRow):
                        continue
                    line, row = item
                    record_id = created.get((file_idx << LOC_SHIFT) + line)
                    if record_id is None:
                        continue  # not loaded: rejected or in doubt, and reported as such
                    desired.setdefault(record_id, {}).update(msgspec.to_builtins(self.validate(dict(row))))
                    lines[record_id] = (path, line)
            for record_id, sent in desired.items():
                path, line = lines[record_id]
                found = live.get(record_id)
                if found is None:
                    missing.append({"id": record_id, "file": path, "line": line})
                    continue
                differences.extend(
                    {"id": record_id, "resource": kind.name, "line": line, "field": name, "sent": value, "found": got}
                    for name, value, got in self._differences(sent, found)
                )
            creates = expected.get(kind.name, {}).get("create", [0])[0]
            scopes[kind.name] = {
                "before": (self.before or {}).get(kind.name, 0),
                "loaded": creates,
                "expected": (self.before or {}).get(kind.name, 0) + creates,
                "remote": len(live),
            }
        expected_count = sum(c["expected"] for c in scopes.values())
        remote_count = sum(c["remote"] for c in scopes.values())
        return {
            "ok": not differences and not missing and all(c["expected"] == c["remote"] for c in scopes.values()),
            "remote_read": True,
            "expected_count": expected_count,
            "remote_count": remote_count,
            "expected_totals": {"per_scope": {r: {"records": c["expected"]} for r, c in scopes.items()}},
            "remote_totals": {"per_scope": {r: {"records": c["remote"]} for r, c in scopes.items()}},
            "missing": missing[:100],
            "missing_count": len(missing),
            "duplicates": [],
            "duplicates_count": 0,
            "differences": differences[:100],
            "differences_count": len(differences),
            "scopes": scopes,
            "scope_name": self.scope_name,
        }
