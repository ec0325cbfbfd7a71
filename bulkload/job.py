"""A run's settings, from flags, an optional TOML job file and the environment (credentials never from argv)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .profile import Given
from .sources import codec_name
from .targets import TARGETS
from .targets.base import Target

#: a settle delay is waited out by a chunk while the run goes on: an hour is past any commit time, not a setting
MAX_SETTLE_S = 3600.0


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
    #: for again this long after before its call is sent again (None: the target's default, Target.settle_s)
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
    columns: dict[str, str] = field(default_factory=dict)
    target_options: dict[str, Any] = field(default_factory=dict)
    #: credentials given in the TOML file's [credentials] table; the environment wins over them
    config_credentials: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(f"unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        self.files = TARGETS[self.target].arrange_files(list(self.files), self.target_options)
        if not self.files:
            raise ConfigError("no input file given")
        if self.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if self.rate is not None and self.rate <= 0:
            raise ConfigError("--rate must be a positive number of requests per second")
        cap = TARGETS[self.target].max_items
        if self.batch_size is not None and not 1 <= self.batch_size <= cap:
            raise ConfigError(f"--batch-size must be between 1 and {cap} for {self.target}")
        if not (self.base_url or TARGETS[self.target].default_base_url):
            raise ConfigError(f"{self.target} has no public address: give --base-url (your instance's API root)")
        if self.daily_quota < 0:
            raise ConfigError("--daily-quota must be 0 (off) or a number of calls")
        if self.settle_s is not None and not 0 <= self.settle_s <= MAX_SETTLE_S:
            raise ConfigError(f"--settle-s must be between 0 and {MAX_SETTLE_S:.0f} seconds")
        if self.encoding is not None:
            codec_name(self.encoding)
        if self.decimal not in (None, ".", ","):
            raise ConfigError(f"--decimal must be . or , (got {self.decimal!r})")

    def given(self) -> Given:
        """What the user said about the files' numbers, dates and grouping."""
        return Given(self.decimal, self.date_format, self.no_regroup)

    @property
    def target_class(self) -> type[Target]:
        return TARGETS[self.target]

    def make_target(self) -> Target:
        return self.target_class.from_options(self.target_options)

    def windows(self) -> list[tuple[int, float]]:
        """The rolling windows to keep: the API's (or the one configured) and the one --rate implies."""
        out = []
        default = self.target_class.window
        limit = self.window_limit if self.window_limit is not None else default and default[0]
        span = self.window_s if self.window_s is not None else default and default[1]
        if limit and span:
            out.append((int(limit), float(span)))
        return out

    @property
    def settle_delay_s(self) -> float:
        """The settle delay in force: the one set, else the API's."""
        return self.target_class.settle_s if self.settle_s is None else self.settle_s

    @property
    def items_per_call(self) -> int:
        return self.batch_size or self.target_class.default_batch or self.target_class.max_items

    @property
    def api_url(self) -> str:
        return (self.base_url or self.target_class.default_base_url).rstrip("/")

    def default_path(self, suffix: str) -> str:
        return str(Path(self.files[0]).with_name(Path(self.files[0]).name + suffix))

    @property
    def ledger_path(self) -> str:
        return self.ledger or self.default_path(".ledger.sqlite")

    @property
    def rejects_path(self) -> str:
        return self.rejects or self.default_path(".rejects.csv")

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
        merged = {**self.config_credentials, **{k: v for k, v in (env or os.environ).items() if v}}
        return self.make_target().credentials(merged)

    def settings(self) -> dict[str, Any]:
        """What the ledger stores to resume with the same settings: no credentials."""
        out = asdict(self)
        out.pop("config_credentials")
        return out

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Job:
        return cls(**settings)


_JOB_KEYS = {
    "base_url", "ledger", "rejects", "report", "concurrency", "rate", "window_limit", "window_s", "batch_size",
    "daily_quota", "timeout_s", "attempts", "settle_s", "delimiter", "encoding", "decimal", "date_format",
    "no_regroup",
}


def read_config(path: str | None) -> dict[str, Any]:
    """Read a TOML job file: [job] settings, [columns] source column -> field, [target] options,
    [credentials] (the environment wins over these)."""
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read the config {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the config {path} is not valid TOML: {exc}") from exc
    job = data.get("job", {})
    unknown = set(job) - _JOB_KEYS
    if unknown:
        raise ConfigError(f"unknown setting(s) in [job] of {path}: {', '.join(sorted(unknown))}")
    columns = data.get("columns", {})
    if not all(isinstance(v, str) for v in columns.values()):
        raise ConfigError(f"[columns] in {path} maps source column names to field names (strings)")
    return {
        **job,
        "columns": dict(columns),
        "target_options": dict(data.get("target", {})),
        "config_credentials": {k: str(v) for k, v in data.get("credentials", {}).items()},
    }
