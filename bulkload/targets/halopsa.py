"""HaloPSA accounting-integration records: nine `*Details` resources, array POSTs that create (no `id`) or
update (with `id`), an OAuth2 client-credentials token, and 300 requests per rolling 5 minutes.

No idempotency key: `--match-on` turns a create into an update of the record that already matches, so a
file can be loaded again without creating anything; a create whose answer was lost is settled by looking
it up by those fields, twice when the first look finds nothing (`settle_s` apart); an update whose answer was
lost is sent again. Secret fields go to the API and nowhere else. The records are halopsa_records.py's.
"""

from __future__ import annotations

import argparse
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import anyio
import msgspec

from .. import redact
from ..errors import ConfigError
from ..http import decoded
from ..sources import BadRow, Source
from .base import Api, Credentials, Target
from .halopsa_records import Resource, listing_whole
from .halopsa_schema import RESOURCES, canonical_resource
from .protocols import Created, Sender


class _Token(msgspec.Struct):
    """An OAuth2 token answer (RFC 6749 §5.1): the fields bulkload uses."""

    access_token: Annotated[str, msgspec.Meta(min_length=1)]
    #: seconds
    expires_in: Annotated[float, msgspec.Meta(ge=0)] = 3600.0


#: a token answer is a few hundred bytes; an answer far longer is not one
TOKEN_BYTES = 64 * 1024


def resource_named(name: str) -> str:
    try:
        return canonical_resource(name)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None


class HaloPSA(Target):
    name = "halopsa"
    api = Api(
        idempotent=False,
        max_items=100,
        default_batch=50,
        window=(300, 300.0),  # hosted instances: 300 requests per rolling 5 minutes
        scope_name="resource",
        reconcile_by="target",
        # HaloPSA documents no commit time, nor how long its servers let a write run after the caller has gone. Two
        # minutes covers the request limits of the ASP.NET hosting it answers from (110 s for ASP.NET's
        # executionTimeout, 2 minutes for the ASP.NET Core Module's requestTimeout); a write committed later than
        # that after its answer was lost (a queue behind the API) can still be created twice: raise --settle-s
        settle_s=120.0,
        # two rows updating one record in different calls: the later row must win, as in the file
        ordered=True,
        # rollback: the records this run created, never the ones it only updated
        can_delete=True,
    )
    credentials = Credentials(("HALO_CLIENT_ID", "HALO_CLIENT_SECRET"), public=frozenset({"HALO_CLIENT_ID"}),
                              optional=frozenset({"HALO_AUTH_URL"}))
    option_names = ("resource", "match_on", "tenant")

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
        self.match_on = list(match_on)
        #: per resource: match key -> id, and how many records there were, listed before planning
        self.existing = {r: dict(v) for r, v in (existing or {}).items()}
        self.kinds = {name: Resource(name, self.match_on, self.existing) for name in dict.fromkeys(self.resources)}
        for kind in self.kinds.values():
            unknown = [m for m in match_on if m not in kind.schema]
            if unknown:
                raise ConfigError(f"--match-on {', '.join(unknown)}: not fields of {kind.name}")
            if any(kind.schema[m].secret for m in match_on):
                raise ConfigError("--match-on cannot use a secret field: the API never returns it")
        self.tenant = tenant
        self.before = dict(before) if before is not None else None
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

    def kind_of(self, file_idx: int) -> Resource:
        """The file's resource (the last one also stands for any further file)."""
        return self.kinds[self.resources[min(file_idx, len(self.resources) - 1)]]

    def phases(self, n_files: int) -> list[list[int]]:
        """One resource at a time: chunks in flight together are all of one resource."""
        by_resource: dict[str, list[int]] = {}
        for i in range(n_files):
            by_resource.setdefault(self.kind_of(i).name, []).append(i)
        return list(by_resource.values())

    # --- credentials: an OAuth2 client-credentials token, fetched through the limits ---------------------
    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        self._credentials = dict(credentials)  # kept for the token request only; never stored or shown
        return {"Accept": "application/json"}

    async def authorize(self, client: Sender, *, renew: bool = False) -> Mapping[str, str]:
        async with self._token_lock:
            now = time.monotonic()
            if self._token is not None:
                value, expires_at, fetched_at = self._token
                fresh = now < expires_at and not (renew and now - fetched_at > 1.0)
                if fresh:
                    return {"Authorization": f"Bearer {value}"}
            auth_url = self._credentials.get("HALO_AUTH_URL") or client.base_url + "/auth"
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
    async def setup(self, client: Sender, sources: Sequence[Source]) -> None:
        if self.before is not None:
            return  # a resumed run keeps what it saw before it started
        before: dict[str, int] = {}
        for kind in self.kinds.values():
            records = (await listing_whole(client, kind))[0]
            before[kind.name] = len(records)
            if self.match_on:
                self.existing[kind.name] = {k: int(r["id"]) for r in records if (k := kind.key(r)) is not None}
        self.before = before

    @property
    def rerunnable(self) -> bool:
        return bool(self.match_on)  # the same file again updates what the first load created

    # --- rollback: the records this run created, never the ones it only updated -----------------------------
    def created_by_run(self, ledger: Created, files: list[str]) -> Iterator[tuple[str, int]]:
        for file_idx, path in enumerate(files):
            kind, created = self.kind_of(file_idx), ledger.created_in(file_idx)
            for item in Source(path):
                if isinstance(item, BadRow):
                    continue
                line, row = item
                record_id = created.get(line)
                # a row that named its record (or matched one with --match-on) updated it: not ours to delete
                if record_id is not None and getattr(kind.validate(dict(row)), "id", None) is None:
                    yield kind.name, record_id

    def delete_path(self, scope: str, record_id: int) -> str:
        return f"{self.kinds[scope].path}/{record_id}"

    # --- reconciliation: list each resource, compare count and every loaded record field by field ---------
    async def reconcile(self, client: Sender, ledger: Created, files: list[str]) -> dict[str, Any]:
        expected = ledger.expected()
        differences: list[dict[str, Any]] = []
        missing: list[dict[str, Any]] = []
        scopes: dict[str, dict[str, int]] = {}
        for kind in self.kinds.values():
            live = {int(r["id"]): r for r in (await listing_whole(client, kind))[0]}
            # what each record should hold: its rows in file order, a later update over an earlier create
            desired: dict[int, dict[str, Any]] = {}
            lines: dict[int, tuple[str, int]] = {}
            for file_idx, path in enumerate(files):
                if self.kind_of(file_idx) is not kind:
                    continue
                created = ledger.created_in(file_idx)
                for item in Source(path):
                    if isinstance(item, BadRow):
                        continue
                    line, row = item
                    record_id = created.get(line)
                    if record_id is None:
                        continue  # not loaded: rejected or in doubt, and reported as such
                    desired.setdefault(record_id, {}).update(msgspec.to_builtins(kind.validate(dict(row))))
                    lines[record_id] = (path, line)
            for record_id, sent in desired.items():
                path, line = lines[record_id]
                found = live.get(record_id)
                if found is None:
                    missing.append({"id": record_id, "file": path, "line": line})
                    continue
                differences.extend(
                    {"id": record_id, "resource": kind.name, "line": line, "field": name, "sent": value, "found": got}
                    for name, value, got in kind.differences(sent, found)
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
            "scope_name": self.api.scope_name,
        }
