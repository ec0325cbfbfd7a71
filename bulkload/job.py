"""A run's settings, from flags, an optional TOML job file and the environment (credentials never from argv)."""

from __future__ import annotations

import argparse
import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from .columns import did_you_mean
from .dates import given_format
from .errors import ConfigError
from .http import check_address, check_encrypted, plain_http_allowed
from .masking import name_shown
from .near_names import nearest
from .profile import Given
from .sources import Source, codec_name
from .targets import TARGETS
from .targets.base import RecordKind, Target

#: a settle delay is waited out by a chunk while the run goes on: an hour is past any commit time, not a setting
MAX_SETTLE_S = 3600.0
#: calls in flight at once: each is a task and a connection; no API we load into takes more
MAX_CONCURRENCY = 1000
#: --rate bounds, requests per second: one call every 17 minutes at the least
MIN_RATE = 0.001
MAX_RATE = 1_000_000
#: --timeout bounds, seconds: below, no answer arrives (every call a timeout, retried); above, a dead wait
MIN_TIMEOUT_S = 0.1
MAX_TIMEOUT_S = 86_400.0
#: --window-s at most, seconds: no API keeps a rolling window longer than a day (e-conomic's fair use is 24 h)
MAX_WINDOW_S = 86_400.0

S = TypeVar("S", bound=msgspec.Struct)


def address(url: str) -> str:
    """What an API root's URL names, one text however it is spelled: the URL as the HTTP client resolves it before
    a call (yarl, aiohttp's URL type: RFC 3986 §6.2.2 — scheme and host in lower case, percent-encodings of
    unreserved characters decoded and the others' hex in upper case, dot segments removed as §5.2.4 does, the
    default port left out), without user, query or fragment, nor a trailing slash
    (`HTTPS://API.Example.com:443/v1/./x/../` and `https://api.example.com/%76%31` are `https://api.example.com/v1`).
    A URL that cannot be read is itself."""
    from yarl import URL  # here: ~30 ms, which `bulkload --help` and the planning child need not spend

    try:
        parts = URL(url)
    except ValueError:
        return url
    if not parts.absolute or not parts.scheme:
        return url.rstrip("/")
    return str(parts.with_user(None).with_query(None).with_fragment(None)).rstrip("/")


def check_text(setting: str, value: str) -> None:
    """Refuses (ConfigError naming `setting`: FILE, --ledger, --base-url…) a path or address holding bytes that are
    no UTF-8 text: the command line hands them on as lone surrogates (a file named in Latin-1 on a Windows share or
    in an old zip, its Å the byte C5), which the ledger, the report and the record of loads cannot keep as text.
    Shown with those bytes as escapes (`\\xc5rsafslutning.csv`). Before, such a name stopped the run at its
    ledger's making as an internal error (a bug), exit 4."""
    if not _is_text(value):
        raise ConfigError(
            f"{setting} '{_escaped(value)}' holds bytes that are no UTF-8 text (a name written in another encoding, "
            "such as Latin-1?), which the ledger, the report and the record of loads cannot keep: rename it in UTF-8 "
            "(or give another name); nothing was sent"
        )


def check_path_text(setting: str, path: str) -> None:
    """check_text of the path `path`, and of the absolute path the run keeps it as: a relative path (`e.csv`) given
    in a working folder whose name is no UTF-8 text is refused naming `setting` and that folder (ConfigError).
    Before, such a run stopped at its ledger's making as an internal error, exit 4 (tester t37a), as a name of its
    own did before check_text."""
    check_text(setting, path)
    full = os.path.abspath(path)
    if not _is_text(full):
        raise ConfigError(
            f"{setting} '{path}' lies in the folder '{_escaped(os.path.dirname(full))}', whose name holds bytes that "
            "are no UTF-8 text (a name written in another encoding, such as Latin-1?), which the ledger, the report "
            "and the record of loads cannot keep as the path they keep: rename the folder in UTF-8, or give the path "
            "under a folder so named; nothing was sent"
        )


def _is_text(value: str) -> bool:
    """Whether `value` is UTF-8 text, with no lone surrogates (bytes os.fsdecode could not read as UTF-8)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _escaped(value: str) -> str:
    """`value` with its bytes that are no UTF-8 text as escapes (`\\xc5rsafslutning.csv`)."""
    try:  # the bytes the name was given as (os.fsdecode's surrogateescape); a program may give other surrogates
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode()


@dataclass
class Job:
    """Everything a load needs except the credentials, which are read from the environment on every start."""

    target: str
    files: list[str]
    base_url: str | None = None
    ledger: str | None = None
    rejects: str | None = None
    report: str | None = None
    concurrency: int = 8
    rate: float | None = None
    #: a rolling window of at most window_limit calls per window_s (default: the API's published one)
    window_limit: int | None = None
    window_s: float | None = None
    batch_size: int | None = None
    daily_quota: int = 50_000
    timeout_s: float = 60.0
    attempts: int = 8
    #: seconds after a lost answer within which the API may still carry the call out: a record not found is looked
    #: for again this long after before its call is sent again (None: the target's default, Api.settle_s)
    settle_s: float | None = None
    delimiter: str | None = None
    #: how the files are read; None: decided from each whole file (profile.py)
    encoding: str | None = None
    decimal: str | None = None
    date_format: str | None = None
    #: refuse a file whose groups are apart instead of regrouping it
    no_regroup: bool = False
    #: load a file the record of loads says was already loaded into the same API (and every group of it again)
    allow_duplicate_load: bool = False
    #: the earlier loads into the job's address with another key that names the account (PayorCRM's api_key: one
    #: address, many accounts) went into this account, its key renewed since: their groups are skipped as loaded
    same_account: bool = False
    #: the earlier loads into the job's address with another such key went into other accounts: their groups are
    #: neither refused nor skipped, while those loaded with this load's key are still skipped as loaded
    other_account: bool = False
    #: earlier loads whose ledgers are gone or cannot be read by this load, by the paths they were last seen at,
    #: that the user says share no group with what they load from now on (loads.forget): recorded for good, no load
    #: is stopped by them again
    forget_ledger: list[str] = field(default_factory=list)
    #: create again the groups an earlier run loaded that the API no longer holds (read back: e-conomic's journal),
    #: the user's word that they were deleted, never booked; every other check stays
    reload_gone: bool = False
    columns: dict[str, str] = field(default_factory=dict)
    target_options: dict[str, Any] = field(default_factory=dict)
    #: the agreement the run loads into, as a keyed hash of the credentials that name it (Credentials.agreement), set
    #: when a run starts: agreements at one address (e-conomic's) keep their own record of loads and rolling windows
    agreement: str = ""
    #: the manifest's job this load is (ManifestJob.job): {"manifest": its path, "job": its name, and for a job of
    #: the queue "queue": the queue's URL without password}; kept with the run's settings, so that a command on its
    #: ledger names the manifest's way on (runner.continued_by); empty for a load of its own
    manifest_job: dict[str, str] = field(default_factory=dict)
    #: the job file (--config) the settings came from, as an absolute path: named in the command that loads the run's
    #: rejects back where its [columns] mapped the inputs' names (reading_args), since a rejects file keeps them
    config: str | None = None
    #: credentials given in the TOML file's [credentials] table; the environment wins over them
    config_credentials: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(f"unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        # a script's paths as Python writes them: one path given alone (before, a text was taken for a list of
        # one-letter files: "cannot read n"), and pathlib.Path's (before, a TypeError as the load began) (t36d)
        given: Any = self.files
        paths = [given] if isinstance(given, str | os.PathLike) else list(given)
        self.files = [os.fspath(p) if isinstance(p, os.PathLike) else p for p in paths]
        for name in ("ledger", "rejects", "report", "config"):
            if isinstance(value := getattr(self, name), os.PathLike):
                setattr(self, name, os.fspath(value))
        self.files = TARGETS[self.target].flags.arrange(list(self.files), self.target_options)
        if not self.files:
            raise ConfigError(
                f"no input file given: name the files to load (`bulkload load {self.target} --help` says how "
                f"{self.target} takes them)"
            )
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ConfigError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
        if self.rate is not None and not MIN_RATE <= self.rate <= MAX_RATE:
            # below, the run waits for ever between two calls; above, no API answers that fast (and the window
            # meter would hold that many call times)
            raise ConfigError(
                f"--rate must be a positive number of requests per second, from {MIN_RATE} to {MAX_RATE:,}"
            )
        for setting, value in self._named_texts():
            url = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value) is not None  # --base-url, a PostgreSQL --ledger
            (check_text if url else check_path_text)(setting, value)
        if self.base_url is not None:
            check_address("--base-url", self.base_url, "the API root", "https://host/api")
        if not MIN_TIMEOUT_S <= self.timeout_s <= MAX_TIMEOUT_S:
            raise ConfigError(
                f"--timeout must be a positive number of seconds, from {MIN_TIMEOUT_S} to {MAX_TIMEOUT_S:,.0f}"
            )
        if self.attempts < 1:
            raise ConfigError("--attempts must be at least 1")
        if self.window_limit is not None and self.window_limit < 0:
            raise ConfigError("--window-limit must be a number of calls, or 0 to turn the window off")
        if self.window_s is not None and not 0 < self.window_s <= MAX_WINDOW_S:
            # longer, a window of a few calls waits for days after its first call: a typo, not an API's window
            raise ConfigError(f"--window-s must be a positive number of seconds, at most {MAX_WINDOW_S:,.0f} (a day)")
        self._check_window_halves()
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ConfigError(f"--delimiter must be one character (got {self.delimiter!r})")
        cap = TARGETS[self.target].api.max_items
        if self.batch_size is not None and not 1 <= self.batch_size <= cap:
            raise ConfigError(f"--batch-size must be between 1 and {cap} for {self.target}")
        if not (self.base_url or TARGETS[self.target].api.default_base_url):
            raise ConfigError(f"{self.target} has no public address: give --base-url (your instance's API root)")
        if self.daily_quota < 0:
            raise ConfigError("--daily-quota must be 0 (off) or a number of calls")
        if self.settle_s is not None and not 0 <= self.settle_s <= MAX_SETTLE_S:
            raise ConfigError(f"--settle-s must be between 0 and {MAX_SETTLE_S:.0f} seconds")
        if self.encoding is not None:
            codec_name(self.encoding)
        if self.date_format is not None:  # no format: refused with the settings, not when a file is read
            given_format(self.date_format)
        if self.decimal not in (None, ".", ","):
            raise ConfigError(f"--decimal must be . or , (got {self.decimal!r})")

    def _named_texts(self) -> list[tuple[str, str]]:
        """(the setting as the user gives it, its value) of every path and address the run keeps as text (the
        ledger, the report and the record of loads hold them)."""
        given = [("FILE", f) for f in self.files] + [("--forget-ledger", p) for p in self.forget_ledger]
        named = {"--base-url": self.base_url, "--ledger": self.ledger, "--rejects": self.rejects}
        return given + [(k, v) for k, v in {**named, "--report": self.report}.items() if v is not None]

    def _check_window_halves(self) -> None:
        """A window is a number of calls and a length: where the API has no window of its own to take the other
        from, one alone is an error, not a setting silently ignored (HaloPSA's 300 per 300 s lends either half;
        --window-limit 0 alone turns the window off)."""
        if self.target_class.api.window is not None:
            return
        if self.window_limit and self.window_s is None:
            raise ConfigError(
                f"--window-limit needs --window-s (the window's length in seconds): {self.target} has no window of "
                "its own to take it from"
            )
        if self.window_s is not None and self.window_limit is None:
            raise ConfigError(
                f"--window-s needs --window-limit (the calls allowed in it): {self.target} has no window of its own "
                "to take it from"
            )

    def given(self) -> Given:
        """What the user said about the files' numbers, dates and grouping."""
        return Given(self.decimal, self.date_format, self.no_regroup)

    @property
    def target_class(self) -> type[Target]:
        return TARGETS[self.target]

    def make_target(self) -> Target:
        return self.target_class.from_options(self.target_options)

    def check_options(self, target: Target) -> None:
        """Refuse (ConfigError) a key of `target_options` that is none of the options of `target` (made from them):
        not an option of its flags, nor one it keeps in a ledger (Target.options). A script's
        `target_options={"amount-unit": "major"}` was ignored as no option, and a PayorCRM file of whole amounts
        meant in major units was booked as minor units (1500 as 15.00), exit 0, where the same key in a job file or
        a manifest is refused (tester t49g)."""
        flags = self.target_class.flags.names
        known = (*flags, *target.options())
        for key in self.target_options:
            if key not in known:
                raise ConfigError(
                    f"unknown option {key!r} of {self.target} in target_options{did_you_mean(str(key), flags)} "
                    f"(its options: {', '.join(flags) or 'none'}, as `bulkload load {self.target} --help` lists them "
                    "without the dashes); nothing was sent"
                )

    def check_account_word(self) -> None:
        """Refuse (ConfigError) the user's word on the earlier loads with another key at the job's address where it
        means nothing or says two things: `same_account` and `other_account` together (before, --other-account won
        unsaid, and what the user called this account's own loads was created again), or either where the target's
        address serves one account, or names it by more than a key (not Credentials.shared_address): there
        `other_account` set aside the earlier loads made with other credentials (a Visma Core token refreshed
        since, say), and created their groups again, exit 0."""
        if self.same_account and self.other_account:
            raise ConfigError(
                "--same-account and --other-account (same_account, other_account) say opposite things of the earlier "
                "loads with another key: give the one that is true; nothing was sent"
            )
        said = "--same-account" if self.same_account else "--other-account" if self.other_account else None
        if said is not None:
            self.check_key_names_account(said, "so its earlier loads are told apart without it: leave it out")

    def check_key_names_account(self, said: str, then: str) -> None:
        """ConfigError where the user's word on another key (`said`: the flag) means nothing for the job's target:
        its address serves one account, or names it by more than a key (not Credentials.shared_address); `then`:
        what to do instead."""
        if not self.target_class.credentials.shared_address:
            raise ConfigError(
                f"{said}: {self.target} serves one account at an address, or names it by more than a key, {then}; "
                "nothing was sent"
            )

    def windows(self) -> list[tuple[int, float]]:
        """The rolling windows to keep: the API's (or the one configured) and the one --rate implies."""
        out = []
        default = self.target_class.api.window
        limit = self.window_limit if self.window_limit is not None else default and default[0]
        span = self.window_s if self.window_s is not None else default and default[1]
        if limit and span:
            out.append((int(limit), float(span)))
        return out

    @property
    def settle_delay_s(self) -> float:
        """The settle delay in force: the one set, else the API's."""
        return self.target_class.api.settle_s if self.settle_s is None else self.settle_s

    @property
    def items_per_call(self) -> int:
        return self.batch_size or self.target_class.api.default_batch or self.target_class.api.max_items

    @property
    def api_url(self) -> str:
        return (self.base_url or self.target_class.api.default_base_url).rstrip("/")

    @property
    def api_address(self) -> str:
        """`api_url` as `address` writes it: one text for one API however it is spelled."""
        return address(self.api_url)

    def source(self, path: str, kind: RecordKind) -> Source:
        """The input file at `path` read as this job says (its delimiter, columns and encoding) for rows of `kind`:
        its secret fields masked in what is shown of it, its totals rows passed over (RecordKind.totals_shape)."""
        return Source(
            path,
            delimiter=self.delimiter,
            columns=self.columns,
            encoding=self.encoding,
            secrets=kind.secret_fields,
            totals=kind.totals_shape,
        )

    def reading_args(self) -> list[str]:
        """The options of `bulkload load` that read files as this job was told to: --encoding, --delimiter, --decimal
        and --date-format where given (a rejects file is written in its input's encoding and delimiter, its numbers
        and dates as the input wrote them: loaded back without them, it is refused or read otherwise), and --config
        where the job file's [columns] mapped the inputs' names (a rejects file keeps the input's own columns:
        loaded back without the mapping, it is refused for columns that are no fields)."""
        given = {"--encoding": self.encoding, "--delimiter": self.delimiter, "--decimal": self.decimal}
        given["--date-format"] = self.date_format
        given["--config"] = self.config if self.columns else None
        return [arg for flag, value in given.items() if value is not None for arg in (flag, value)]

    def default_path(self, suffix: str) -> str:
        return str(Path(self.files[0]).with_name(Path(self.files[0]).name + suffix))

    @property
    def ledger_path(self) -> str:
        return self.ledger or self.default_path(".ledger.sqlite")

    @property
    def rejects_path(self) -> str:
        return self.rejects or self.default_path(".rejects.csv")

    def rejects_paths(self) -> list[tuple[str, list[int]]]:
        """Where the rejected rows go, with the indexes of the input files whose rows each file holds: one rejects
        file for each input, so that each holds the rows of one file, with its columns, in its delimiter and
        encoding, its numbers and dates as that file wrote them, and loads back read as that file was (its decimal
        mark and date order are decided for the file: rows of two files read two ways never share one). The first
        input's is `rejects_path`; another's is named after its input, beside it (`FILE.rejects.csv`), or with
        --rejects in that file's folder."""
        out = [(self.rejects_path, [0] if self.files else [])]
        for i, name in enumerate(self.files[1:], 1):
            folder = Path(self.rejects).parent if self.rejects else Path(name).parent
            out.append((str(folder / f"{Path(name).name}.rejects.csv"), [i]))
        return out

    @property
    def success_path(self) -> str:
        """Beside the rejects file: X.rejects.csv -> X.success.csv."""
        return self._beside_rejects("success.csv")

    @property
    def in_doubt_path(self) -> str:
        """Beside the rejects file: X.rejects.csv -> X.in_doubt.csv (rejects.csv -> in_doubt.csv)."""
        return self._beside_rejects("in_doubt.csv")

    def _beside_rejects(self, name: str) -> str:
        rejects = Path(self.rejects_path)
        if rejects.name.endswith("rejects.csv"):
            return str(rejects.with_name(rejects.name.removesuffix("rejects.csv") + name))
        return str(rejects.with_name(f"{rejects.name}.{name}"))

    def credentials(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        given = env or os.environ
        # a variable exported empty gives way to the job file's value, but where there is none it stays, so that the
        # refusal says it is set empty (`export X=$TOKN` of an unset shell variable), not only "set X"
        exported_empty = {k: v for k, v in given.items() if not v}
        merged = {**exported_empty, **self.config_credentials, **{k: v for k, v in given.items() if v}}
        credentials = self.make_target().credentials
        found = credentials.read(merged)
        # where every call will carry them: never in clear across the network, unless the user said so (the token
        # endpoint's address: Credentials.read)
        check_encrypted("--base-url", self.api_url, plain_http_allowed(given))
        return found

    def settings(self) -> dict[str, Any]:
        """What the ledger stores to resume with the same settings: no credentials. `rejects` and `report` as absolute
        paths, as the inputs are kept (RunInfo.files): a resume, reconcile or rollback run from another folder writes
        them where this run did, never relative to its own folder (over a file of that name there)."""
        out = asdict(self)
        out.pop("config_credentials")
        for key in ("rejects", "report"):
            if out[key] is not None:
                out[key] = os.path.abspath(out[key])
        return out

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Job:
        return cls(**settings)


class JobTable(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The [job] table of a job file: the load flags by their long names (`_` for `-`), each typed as its flag is,
    read into the Job field the flag sets (`timeout` into timeout_s: JOB_KEYS). A key left out is UNSET: the flag,
    else Job's default, holds."""

    base_url: str | UnsetType = UNSET
    ledger: str | UnsetType = UNSET
    rejects: str | UnsetType = UNSET
    report: str | UnsetType = UNSET
    concurrency: int | UnsetType = UNSET
    rate: float | UnsetType = UNSET
    window_limit: int | UnsetType = UNSET
    window_s: float | UnsetType = UNSET
    batch_size: int | UnsetType = UNSET
    daily_quota: int | UnsetType = UNSET
    timeout_s: float | UnsetType = msgspec.field(default=UNSET, name="timeout")
    attempts: int | UnsetType = UNSET
    settle_s: float | UnsetType = UNSET
    delimiter: str | UnsetType = UNSET
    encoding: str | UnsetType = UNSET
    decimal: Literal[".", ","] | UnsetType = UNSET
    date_format: str | UnsetType = UNSET
    no_regroup: bool | UnsetType = UNSET
    allow_duplicate_load: bool | UnsetType = UNSET
    same_account: bool | UnsetType = UNSET
    other_account: bool | UnsetType = UNSET
    forget_ledger: list[str] | UnsetType = UNSET
    reload_gone: bool | UnsetType = UNSET


#: the [job] table's keys (the load flags' long names, `_` for `-`) -> the JobTable and Job field each is read into
JOB_KEYS = dict(zip(JobTable.__struct_encode_fields__, JobTable.__struct_fields__, strict=True))
#: [job] keys by a name they had before, still read as the key they are now: `timeout_s`, named after Job's field
FORMER_KEYS = {"timeout_s": "timeout"}


def current_keys(said: str, at: str, table: Any) -> Any:
    """`table` (a job file's [job], a manifest's [[job]] or [defaults]) with its keys by a former name (FORMER_KEYS)
    by their name now. ConfigError (`said`: "the config PATH"; `at`: "job.") where it gives one setting by both."""
    if not isinstance(table, dict):
        return table  # a table of the wrong type is for msgspec to name
    for former, now in FORMER_KEYS.items():
        if former in table:
            if now in table:
                raise ConfigError(f"{said}: {at}{former} is {at}{now} by its former name: give {now} only")
            table = {now if key == former else key: value for key, value in table.items()}
    return table


class ConfigFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A job file. [target] and [credentials] are typed per target (`target_options_type`, `credentials_type`)."""

    job: JobTable = msgspec.field(default_factory=JobTable)
    #: source column -> API field; "" drops the column
    columns: dict[str, str] = {}
    target: dict[str, Any] = {}
    credentials: dict[str, Any] = {}


def target_options_type(cls: type[Target]) -> type[msgspec.Struct]:
    """The [target] table a target takes, typed as its own flags are (`flags`): an option with choices is
    one of them, a switch a bool, any other of the flag's type."""
    parser = argparse.ArgumentParser(add_help=False)
    cls.flags.add_to(parser)
    fields: list[tuple[str, Any, Any]] = []
    for action in parser._actions:  # argparse keeps no other list of what a parser takes
        if action.dest not in cls.flags.names:
            continue
        kind: Any
        if action.nargs == 0:
            kind = bool
        elif action.choices is not None:
            kind = Literal.__getitem__(tuple(action.choices))
        else:
            kind = action.type if action.type in (int, float) else str
        fields.append((action.dest, kind | UnsetType, UNSET))
    return msgspec.defstruct(f"{cls.__name__}Options", fields, forbid_unknown_fields=True, kw_only=True)


def credentials_type(cls: type[Target]) -> type[msgspec.Struct]:
    """The [credentials] table a target takes: its environment variables, each a string."""
    names = (*cls.credentials.names, *sorted(cls.credentials.optional - set(cls.credentials.names)))
    return msgspec.defstruct(
        f"{cls.__name__}Credentials",
        [(n, str | UnsetType, UNSET) for n in names],
        forbid_unknown_fields=True,
        kw_only=True,
    )


def mapping_typos(columns: Mapping[str, str], header: Sequence[str], unknown: Sequence[str]) -> str:
    """What the [columns] table maps that a file's `header` lacks while one of its `unknown` columns (not a field)
    is close to it, e.g. "... maps a column the file does not have: 'Amount' (to amount), did you mean 'Amout'?", or
    is it in another Unicode form (NFC against NFD), told as such with its combining marks escaped; else ""."""
    typos = []
    for source, name in columns.items():
        if source in header:
            continue
        to = f" (to {name})" if name else ""
        if same := [u for u in unknown if unicodedata.normalize("NFC", u) == unicodedata.normalize("NFC", source)]:
            typos.append(f"{_marks_shown(source)}{to}: the file writes it {_marks_shown(same[0])}, {_OTHER_FORM}")
        elif near := did_you_mean(source, unknown):
            typos.append(f"{source!r}{to}{near}")
    return f"the [columns] table of --config maps a column the file does not have: {'; '.join(typos)}" if typos else ""


#: how a [columns] key that is a header's name but for its Unicode form is told (mapping_typos)
_OTHER_FORM = (
    "the same letters in another Unicode form (a letter and a combining mark, as macOS writes them, or the letter "
    "whole): write the key as the file does, a combining mark as a TOML escape (\\u0308)"
)


def _marks_shown(name: str) -> str:
    """`name` quoted, its combining marks as escapes ('Wa\\u0308hrung'), which printed join the letter before them and
    look like one letter ('Währung')."""
    return "'" + "".join(f"\\u{ord(c):04x}" if unicodedata.combining(c) else c for c in name) + "'"


def mapped_to_no_field(columns: Mapping[str, str], header: Sequence[str], unknown: Sequence[str], known: Any) -> str:
    """The [columns] entries that map a column of a file's `header` to one of its `unknown` names (no field of
    `known`), e.g. "'text' to 'textz' (did you mean 'text'?)"; else "". The refusal of unknown columns named the name
    the table made ('textz') as the file's own, and said to map it in the table that made it."""
    wrong = []
    for source, name in columns.items():
        if name in unknown and source in header:
            near = nearest(name, known)
            wrong.append(f"{source!r} to {name!r}" + (f" (did you mean {near!r}?)" if near is not None else ""))
    return "; ".join(wrong)


def _unknown_keys(path: str, where: str, table: Any, known: Sequence[str]) -> None:
    """Refuse the first key of `table` that is not one of `known`, with the nearest known name."""
    if not isinstance(table, dict):
        return  # a table of the wrong type is for msgspec to name
    for key in table:
        if key not in known:
            # a name of [credentials] may be the credential itself, written as a name (masking.name_shown)
            named = name_shown(key, "a name of [credentials]") if where == "credentials." else key
            raise ConfigError(
                f"the config {path}: unknown setting {where + key if named == key else named}"
                f"{did_you_mean(key, known)} (known: {', '.join(known)})"
            )


def _expected(kind: type[msgspec.Struct], at: str) -> str:
    """What the field at path `at` ("job.decimal") of `kind` takes, in words: its choices where it has them."""
    info: Any = msgspec.inspect.type_info(kind)
    for name in at.split("."):
        for f in getattr(info, "fields", ()):
            if f.name == name:
                info = f.type
                break
    if isinstance(info, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(map(repr, sorted(info.values, key=str)))
    return "another value"


def _typed(path: str, where: str, data: Any, kind: type[S]) -> S:
    """`data` as `kind`; a value of the wrong type is a ConfigError naming its key's path (`job.concurrency`)."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        found = re.fullmatch(r"(.*) - at `\$\.?(.*)`", str(exc), re.S)
        said, at = (found[1], found[2]) if found else (str(exc), "")
        key = f"{where}{at}".strip(".")
        said = said.replace("`", "")
        if said.startswith("Invalid enum value"):
            said = f"expected {_expected(kind, at)}, got {said.split(' ', 3)[3]}"
        raise ConfigError(f"the config {path}: {key}: {said[:1].lower()}{said[1:]}") from None


#: the longest job file read: a few hundred lines are a long one
MAX_CONFIG_BYTES = 1 << 20


def read_toml(path: str | os.PathLike[str], what: str, max_bytes: int, too_long: str) -> dict[str, Any]:
    """The TOML file at `path` (a job file, "config"; a manifest), read whole up to `max_bytes`. ConfigError naming
    `what` and `path` for a file that cannot be read, is longer (`too_long` says how long it may be), is not UTF-8
    or is not valid TOML (nested deeper than Python reads among them)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise ConfigError(f"the {what} {path} is more than {too_long}")
        return tomllib.loads(raw.decode())
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the {what} {path} is not valid TOML: {exc}") from exc
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise ConfigError(f"the {what} {path} is not valid TOML: nested deeper than Python can read") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the {what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def open_to_others(path: str | os.PathLike[str], *, regular: bool = True) -> int | None:
    """The mode of the file at `path`, which holds credentials, where others than its owner may read it (a mode
    above 0600; where `regular`, any file that is no regular file too: its mode says nothing of who reads it), else
    None. Raises OSError for a file that cannot be looked at."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return stat.S_IMODE(mode) if mode & 0o077 else None
    return stat.S_IMODE(mode) if regular else None


def read_config(path: str | None, target: str) -> dict[str, Any]:
    """Read a TOML job file for a load into `target`: [job] settings, [columns] source column -> field, [target]
    options, [credentials] (the environment wins over these). Returns Job keyword arguments. Raises ConfigError
    for an unreadable file, invalid TOML, an unknown key (with the nearest known name) or a value of the wrong
    type, naming the key's path (`job.concurrency`)."""
    if not path:
        return {}
    data = read_toml(path, "config", MAX_CONFIG_BYTES, "1 MiB: no job file is that long")
    cls = TARGETS[target]
    options, credentials = target_options_type(cls), credentials_type(cls)
    tables = list(ConfigFile.__struct_fields__)
    for key in data:
        if key not in tables and (key in JOB_KEYS or key in FORMER_KEYS):
            raise ConfigError(f"the config {path}: {key} is a setting of the [job] table: put it under [job]")
    _unknown_keys(path, "", data, tables)
    if "job" in data:
        data["job"] = current_keys(f"the config {path}", "job.", data["job"])
    for where, known in (
        ("job", list(JOB_KEYS)),
        ("target", options.__struct_fields__),
        ("credentials", credentials.__struct_fields__),
    ):
        _unknown_keys(path, f"{where}.", data.get(where, {}), known)
    columns = data.get("columns")
    for column, field_name in columns.items() if isinstance(columns, dict) else ():
        if not isinstance(field_name, str):  # msgspec names no key of a table's value
            raise ConfigError(
                f'the config {path}: columns.{column}: expected a field name (str), or "" to drop '
                f"the column, got {type(field_name).__name__}"
            )
    config = _typed(path, "", data, ConfigFile)
    _typed(path, "target.", config.target, options)
    _typed(path, "credentials.", config.credentials, credentials)
    # a pipe (`--config <(…)`) is read once, by this process: only a file others may read is refused
    if config.credentials and (mode := open_to_others(path, regular=False)) is not None:
        raise ConfigError(
            f"the config {path} holds [credentials] and has mode {mode:04o}: others may read it; `chmod 600 {path}`, "
            "or give the credentials in the environment"
        )
    return {
        **{k: v for k, v in msgspec.structs.asdict(config.job).items() if v is not UNSET},
        "columns": config.columns,
        "target_options": config.target,
        "config_credentials": config.credentials,
    }
