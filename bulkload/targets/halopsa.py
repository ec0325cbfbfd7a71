"""HaloPSA accounting-integration records: nine `*Details` resources, array POSTs that create (no `id`) or
update (with `id`), an OAuth2 client-credentials token, and 300 requests per rolling 5 minutes.

No idempotency key: `--match-on` turns a create into an update of the record that already matches, so a
file can be loaded again without creating anything; a create whose answer was lost is settled by looking
it up by those fields, twice when the first look finds nothing (`settle_s` apart); an update whose answer was
lost is sent again. Secret fields go to the API and nowhere else. The records are halopsa_records.py's.
"""

from __future__ import annotations

import math
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import msgspec

from .. import redact
from ..errors import ConfigError, ListingLags
from ..http import decoded, unreadable
from ..near_names import nearest
from ..sources import BadRow, Source
from .base import ASP_NET_SETTLE_S, Api, Credentials, EarlierRun, Phases, Target
from .flags import Flag, Flags
from .halopsa_books import Resources
from .halopsa_listing import Listing, in_full, left_out, left_out_said, listings
from .halopsa_matching import Decision, decide
from .halopsa_records import Resource, by_match_key
from .halopsa_schema import RESOURCES, canonical_resource
from .protocols import Sender


class _TokenAnswer(msgspec.Struct):
    """An OAuth2 token answer (RFC 6749 §5.1): the fields bulkload reads, as the server wrote them (`_token_of`
    judges them)."""

    access_token: Any = None
    expires_in: Any = None
    token_type: Any = None


#: a token answer is a few hundred bytes; an answer far longer is not one
TOKEN_BYTES = 64 * 1024
#: the token's life in seconds where the answer gives none (RFC 6749 leaves `expires_in` out at the server's will)
DEFAULT_LIFE_S = 3600.0


def _seconds(value: Any) -> float | None:
    """`expires_in` as seconds: a JSON number, or a numeric string ("3600"; RFC 6749 says a number, servers send
    text); None for anything else, and for a life that is not finite or not above 0 (a token that expires as it is
    given is no token: renewed for every call, none of which went out)."""
    if type(value) is str:
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def _token_of(body: bytes, call: str) -> tuple[str, float]:
    """The access token of a token answer and its life in seconds. Every access token found is registered for
    masking first: a refusal quotes the answer with it as ***. BadAnswer (a token answer that is not usable) for
    HTML, an access token that is no text or empty, an `expires_in` that is no number of seconds above 0, a
    `token_type` other than Bearer (the type of token bulkload sends)."""
    answer: _TokenAnswer = decoded(body, _TokenAnswer, call, setting="HALO_AUTH_URL")
    token, life, kind = answer.access_token, answer.expires_in, answer.token_type
    redact.register(token if isinstance(token, str) else None)
    if not isinstance(token, str) or not token:
        why = "no access_token" if token in (None, "") else f"an access_token that is no token ({type(token).__name__})"
    elif (seconds := DEFAULT_LIFE_S if life is None else _seconds(life)) is None:
        why = f"expires_in {str(life)[:20]!r} is no number of seconds above 0"
    elif kind is not None and (not isinstance(kind, str) or kind.lower() != "bearer"):
        why = f"token_type {str(kind)[:20]!r}: bulkload sends Bearer tokens"
    else:
        return token, seconds
    raise unreadable(call, body, why)


def resource_named(name: str) -> str:
    try:
        return canonical_resource(name)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None


def _arrange(files: list[str], options: dict[str, Any]) -> list[str]:
    """Each file's resource: --resource for all, else the file's name (XeroDetails.csv, AvalaraDetails.jsonl)."""
    forced = options.pop("resource", None)
    if forced is None and options.get("resources"):
        return files  # arranged already (a resumed run's stored options)
    options["resources"] = [_resource_of(f, forced) for f in files]
    return files


def _resource_of(path: str, forced: str | None) -> str:
    """The resource of the file at `path`: `forced` (--resource), else the file's name; ConfigError naming the file
    and both ways where its name gives none (before: "no HaloPSA resource 'nov'", which named neither), and where
    its name gives another resource than --resource (before, `XeroDetails.csv QuickBooksDetails.csv --resource
    XeroDetails` created the QuickBooks settings as XeroDetails records, exit 0)."""
    named = _named_after(path)
    if forced is not None:
        resource = resource_named(forced)
        if named not in (None, resource):
            raise ConfigError(
                f"{path}: its name gives the HaloPSA resource {named}, and --resource gives {resource}: which one its "
                f"rows are for cannot be told. Rename the file, or load it without --resource (a file named after a "
                f"resource is loaded as that one); nothing was sent"
            )
        return resource
    if named is None:
        raise ConfigError(
            f"{path}: a file's name gives its HaloPSA resource where no --resource is given, and "
            f"{_stem(path)!r} is none: name the file after its resource (XeroDetails.csv), or give --resource NAME "
            f"for every file of the run; the resources: {', '.join(RESOURCES)}; nothing was sent"
        )
    return named


def _stem(path: str) -> str:
    """What of a file's name names its resource: the name before its first dot."""
    return Path(path).name.split(".")[0]


def _named_after(path: str) -> str | None:
    """The resource a file's name gives it where no --resource is (`_arrange`), None for none."""
    try:
        return canonical_resource(_stem(path))
    except KeyError:
        return None


def _given(files: Mapping[int, str], options: Mapping[str, Any]) -> list[str] | None:
    """`_arrange`'s way back: the arguments that load `files` (an input index -> a file of its rows, e.g. its rejects
    file) as the run's inputs were: their paths with --resource where they are all of one resource, else where each
    file's name gives its own input's resource (XeroDetails.csv.rejects.csv); --match-on and --tenant where given.
    None where files of several resources are not each named after theirs (--rejects named the first otherwise), or
    a file is named after another resource than its own."""
    resources = options["resources"]
    held = sorted(files.items())
    of = [resources[min(i, len(resources) - 1)] for i, _ in held]
    args = [path for _, path in held]
    if len(set(of)) == 1:
        if any(_named_after(path) not in (None, of[0]) for path in args):
            return None  # --rejects named after another resource: refused with --resource (_resource_of)
        args += ["--resource", of[0]]
    elif any(_named_after(path) != resource for (_, path), resource in zip(held, of, strict=True)):
        return None
    if options.get("match_on"):
        args += ["--match-on", ",".join(options["match_on"])]
    if options.get("tenant"):
        args += ["--tenant", options["tenant"]]
    return args


class OneResourceAtATime(Phases):
    """One resource at a time: chunks in flight together are all of one resource."""

    def __init__(self, kind_of: Callable[[int], Resource]) -> None:
        self.kind_of = kind_of

    def of(self, n_files: int) -> list[list[int]]:
        by_resource: dict[str, list[int]] = {}
        for i in range(n_files):
            by_resource.setdefault(self.kind_of(i).name, []).append(i)
        return list(by_resource.values())


class HaloPSA(Target):
    name = "halopsa"
    api = Api(
        idempotent=False,
        max_items=100,
        default_batch=50,
        window=(300, 300.0),  # hosted instances: 300 requests per rolling 5 minutes
        scope_name="resource",
        reconcile_by="target",
        # HaloPSA documents no commit time, nor how long its servers let a write run after the caller has gone: the
        # request limits of the ASP.NET hosting it answers from; a write committed later than that after its answer
        # was lost (a queue behind the API) can still be created twice
        settle_s=ASP_NET_SETTLE_S,
        # two rows updating one record in different calls: the later row must win, as in the file
        ordered=True,
        # rollback: the records this run created, never the ones it only updated
        can_delete=True,
        # seeds 001 and 000 document no error answer, nor that an array is saved whole or not at all: a 400 naming a
        # bad record may follow the records before it saved (a server saving record by record). Sent again, such a
        # record is created twice: the records it does not name are in doubt (a call of updates only is sent again)
        refusal_stores_nothing=False,
        # an update naming a record that is gone (deleted since it was listed, or never listed whole) may be answered
        # 404, after the records before it in the array were saved: its rows are refused, the others looked for as at
        # a 400. Never a wrong address: every load lists the resource at that path before its first write (tester
        # t72d: taken for one, the call was left unsent, and each resume created its saved records again). So too a
        # 405 or 415 (its method or this body's content not taken there, the path answered): before, a first POST
        # so answered after saving part of its array stopped the run, "nothing was created", and the resume created
        # that part again (tester t73b)
        refusing=frozenset({400, 404, 405, 415, 422}),
    )
    credentials = Credentials(
        ("HALO_CLIENT_ID", "HALO_CLIENT_SECRET"),
        public=frozenset({"HALO_CLIENT_ID"}),
        optional=frozenset({"HALO_AUTH_URL"}),
        # an API client is registered in one tenant: its id names it at the instance (--tenant is the run's own,
        # in its ledger's options); a client secret rotated since the load is the same tenant's
        account=("HALO_CLIENT_ID",),
        account_noun="tenant",
    )
    flags = Flags(
        (
            Flag(
                "--resource",
                help=f"one of {', '.join(RESOURCES)} (default: from each file's name, e.g. XeroDetails.csv)",
            ),
            Flag(
                "--match-on",
                help="FIELD[,FIELD]: update the record these fields match instead of creating one (re-runnable loads)",
            ),
            Flag("--tenant", help="hosted instances: the tenant for the token request"),
        ),
        _arrange,
        example=("XeroDetails.csv", "--match-on", "name"),
        given=_given,
    )
    books: Resources

    def __init__(
        self,
        resources: Sequence[str],
        match_on: Sequence[str] = (),
        tenant: str | None = None,
        existing: Mapping[str, Mapping[str, int]] | None = None,
        before: Mapping[str, int] | None = None,
        listed_ids: Mapping[str, Sequence[int]] | None = None,
        listed_late: bool = False,
        listed_in_part: Mapping[str, Sequence[int]] | None = None,
        listed_at: float | None = None,
        matched: Mapping[str, Mapping[str, Decision]] | None = None,
    ) -> None:
        if not resources:
            raise ConfigError(f"halopsa needs --resource (or files named after it), one of {', '.join(RESOURCES)}")
        #: the resource of each input file (the last one also stands for any further file)
        self.resources = [resource_named(r) for r in resources]
        self.match_on = list(match_on)
        #: per resource: match key -> id, and how many records there were, listed before planning
        self.existing = {r: dict(v) for r, v in (existing or {}).items()}
        #: per resource, the ids there before the run, listed whole (an update must name one of them)
        self.listed_ids = {r: list(v) for r, v in (listed_ids or {}).items()}
        #: per resource, the ids read before the run where its listing could not be had whole: none of them is the
        #: run's, though a record left out of them may have been there too
        self.listed_in_part = {r: list(v) for r, v in (listed_in_part or {}).items()}
        #: listed only after the run may have created records (Target.setup's `late`): none is known to be older
        self.listed_late = listed_late
        #: per resource, by "file_idx:line": what a row matches where the earlier rows change it (`decide`)
        self.matched = {r: dict(v) for r, v in (matched or {}).items()}
        made = (
            Resource(
                name, self.match_on, self.existing, self.listed_ids, listed_late, self.listed_in_part, self.matched
            )
            for name in dict.fromkeys(self.resources)
        )
        self.kinds = {kind.name: kind for kind in made}
        for kind in self.kinds.values():
            unknown = [m for m in match_on if m not in kind.schema]
            if unknown:
                near = [f"{near!r} for {m!r}" for m in unknown if (near := nearest(m, kind.schema)) is not None]
                meant = f" (did you mean {', '.join(near)}?)" if near else ""
                fields = ", ".join(name for name, field in kind.schema.items() if not field.secret)
                raise ConfigError(
                    f"--match-on {', '.join(map(repr, unknown))}: not fields of {kind.name}{meant}; give fields it "
                    f"returns, comma-separated: {fields}"
                )
            if any(kind.schema[m].secret for m in match_on):
                raise ConfigError("--match-on cannot use a secret field: the API never returns it")
        self.tenant = tenant
        self.books = Resources(
            self.kinds,
            self.resources,
            self.match_on,
            dict(before) if before is not None else None,
            self.api.scope_name,
            listed_at,
        )
        self.phases = OneResourceAtATime(self.books.kind_of)
        self._credentials: dict[str, str] = {}
        self._token: tuple[str, float] | None = None  # value, fresh until (time.monotonic)
        # made by the first `authorize`: the planning child makes a HaloPSA of its own for every plan and never
        # fetches a token, and anyio.Lock() there first imports anyio's synchronization (4-6 ms of CPU, 10-15 ms on
        # a busy machine) between the plan's spec and its first chunk, which the first upload waits for
        self._token_lock: anyio.Lock | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HaloPSA:
        resources = options.get("resources") or ([options["resource"]] if options.get("resource") else [])
        match_on = options.get("match_on") or ()
        if isinstance(match_on, str):
            match_on = [m.strip() for m in match_on.split(",") if m.strip()]
        return cls(
            resources,
            match_on,
            options.get("tenant"),
            options.get("existing"),
            options.get("before"),
            options.get("listed_ids"),
            bool(options.get("listed_late")),
            options.get("listed_in_part"),
            options.get("listed_at"),
            options.get("matched"),
        )

    def options(self) -> dict[str, Any]:
        return {
            "resources": self.resources,
            "match_on": self.match_on,
            "tenant": self.tenant,
            "existing": self.existing,
            "before": self.books.before,
            "listed_ids": self.listed_ids,
            "listed_late": self.listed_late,
            "listed_in_part": self.listed_in_part,
            "listed_at": self.books.listed_at,
            "matched": self.matched,
        }

    def kind_of(self, file_idx: int) -> Resource:
        """The file's resource (the last one also stands for any further file)."""
        return self.books.kind_of(file_idx)

    # --- credentials: an OAuth2 client-credentials token, fetched through the limits ---------------------
    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        self._credentials = dict(credentials)  # kept for the token request only; never stored or shown
        return {"Accept": "application/json"}

    def _fresh(self, refused: Mapping[str, str] | None) -> Mapping[str, str] | None:
        """The token's header while it is fresh and not the one `refused` (a 401 answered it), else None."""
        if self._token is None:
            return None
        value, expires_at = self._token
        header = {"Authorization": f"Bearer {value}"}
        if time.monotonic() < expires_at and header != refused:
            return header
        return None

    async def authorize(
        self, client: Sender, *, refused: Mapping[str, str] | None = None, fetch: bool = True
    ) -> Mapping[str, str] | None:
        # a fresh token without the lock: taking it yields to the event loop, between a call's rate slot and its send
        if (fresh := self._fresh(refused)) is not None or not fetch:
            return fresh
        if self._token_lock is None:  # no await since the look: one lock for all
            self._token_lock = anyio.Lock()
        async with self._token_lock:
            now = time.monotonic()
            # another call may have fetched one meanwhile: a token other than the refused one is sent as it is
            if (fresh := self._fresh(refused)) is not None:
                return fresh
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
                "POST",
                url,
                body=form,
                authorized=False,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                max_bytes=TOKEN_BYTES,
                writes=False,  # a redirect of it leaves no row in doubt
            )
            # one that is no token (an `expires_in` of 0, of words) is quoted in the refusal, its access token as ***
            # (and an API that echoes a later request quotes it so)
            token, life = _token_of(response.body, f"POST {auth_url.rstrip('/')}/token")
            # renewed before it runs out: a tenth of its life early, at most a minute
            margin = min(60.0, life / 10)
            self._token = (token, now + life - margin)
            return {"Authorization": f"Bearer {token}"}

    # --- before planning: what already exists, for --match-on and the reconciliation count ---------------
    async def setup(
        self, client: Sender, sources: Sequence[Source], *, late: bool = False, earlier: Sequence[EarlierRun] = ()
    ) -> None:
        if self.books.before is not None:
            return  # a resumed run keeps what it saw before it started
        before: dict[str, int] = {}
        listed_at = time.time()  # what another run writes from now on may be left out of the listing
        listed = self._judged(await listings(client, self.kinds.values(), probed=bool(self.match_on)), earlier)
        # listed late, the records the run created are among them: no update is known to name one there before it,
        # and the count before is the listing's less those (Resources.reconcile)
        self.listed_late = late
        for kind in self.kinds.values():
            kind.listed_late = late
            listing = listed[kind.name]
            if self.match_on and not listing.whole:
                # a row matched against part of the records would create again one that is there
                raise ConfigError(
                    f"--match-on {','.join(self.match_on)}: {kind.name} cannot be listed whole ({listing.why}; "
                    f"{listing.read()}), and a row whose "
                    f"record was not listed would create it again{'' if late else '; nothing was sent'}. Load "
                    "without --match-on (rows with an id update their record), or once the API lists every record"
                )
            before[kind.name] = len(listing.records) if listing.whole else listing.held
            ids = sorted(r["id"] for r in listing.records)
            if listing.whole:
                self.listed_ids[kind.name] = ids
            else:  # the records read are there before the run all the same
                self.listed_in_part[kind.name] = ids
            if self.match_on:
                # a record listed without its match fields is read with its details: one not known would be made again
                records, unknown = await in_full(client, kind, listing.records, self.match_on)
                if unknown:
                    raise ConfigError(
                        f"--match-on {','.join(self.match_on)}: {kind.name} {unknown}, and a row whose record does not "
                        f"show them would create it again{'' if late else '; nothing was sent'}. Load without "
                        "--match-on (rows with an id update their record), or match on fields the API lists"
                    )
                self.existing[kind.name] = by_match_key(kind, records)
                # each row matched as the rows before it leave the records (a rename moves its record's key)
                self.matched[kind.name] = decide(kind, records, self._rows_of(kind, sources))
        self.books.before, self.books.listed_at = before, listed_at

    def _judged(self, listed: dict[str, Listing], earlier: Sequence[EarlierRun]) -> dict[str, Listing]:
        """`listed` (by resource), each listing whole by its count judged against the records the `earlier` runs
        into its resource were answered for less than the settle delay ago: one that leaves any out lags (a read
        replica behind), and is not whole. With --match-on, ListingLags instead (nothing is set up yet): the engine
        lists again once the settle delay has passed since those runs last wrote (Run._set_up)."""
        for kind in self.kinds.values():
            listing, left, wrote = listed[kind.name], {}, 0.0
            for run in earlier if listing.whole else ():
                theirs = frozenset().union(*(ids for i, ids in run.records.items() if self.kind_of(i) is kind))
                if missing := left_out(listing, theirs):
                    left[run.ledger], wrote = missing, max(wrote, run.wrote)
            if not left:
                continue
            if self.match_on:
                raise ListingLags(",".join(self.match_on), kind.name, left, left_out_said(left), wrote=wrote)
            listed[kind.name] = listing._replace(whole=False, why=f"it leaves out {left_out_said(left)}")
        return listed

    def _rows_of(self, kind: Resource, sources: Sequence[Source]) -> Iterator[tuple[str, str, dict[str, Any], bool]]:
        """("file_idx:line", "line N of FILE", the match fields and id as read, whether the file trims its values:
        a CSV's) of every row of `kind`'s files, in file order. A file is named by its name, or by its path where
        another input has that name (`a/XeroDetails.csv`, `b/XeroDetails.csv`: before, a reason named `line 2 of
        XeroDetails.csv and line 2 of XeroDetails.csv`)."""
        names = Counter(source.path.name for source in sources)
        for file_idx, source in enumerate(sources):
            if self.kind_of(file_idx) is kind:
                trimmed = source.fmt == "csv"
                shown = source.path.name if names[source.path.name] == 1 else str(source.path)
                for item in source.rows([*self.match_on, "id"]):
                    if not isinstance(item, BadRow):
                        yield f"{file_idx}:{item[0]}", f"line {item[0]} of {shown}", item[1], trimmed
