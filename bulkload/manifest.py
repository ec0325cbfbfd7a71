"""A manifest: many loads, each into its own API account (agreement), in one TOML file (docs/migrations.md).

    max_connections = 32          # calls in flight at once across every job (default 64)
    output_dir = "runs"           # each job's ledger, rejects and report go to runs/<job name>/ (default
                                  # <manifest name>.runs beside the manifest)
    [defaults]                    # any key of a [[job]] but `name`; a job's own key replaces it
    target = "economic"
    rate = 5
    [[job]]
    name = "acme"                 # unique; letters, digits, . _ -
    agreement = "acme"            # the API account whose limits it shares (default: its name): jobs of one
                                  # agreement run one after another
    files = ["acme/entries.csv"]  # relative to the manifest
    base_url = "https://..."
    options = {journal = 1}       # the target's options ([target] of a job file)
    columns = {Amount = "amount"} # [columns] of a job file
    credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "ACME_APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "ACME_GRANT"}}
    # or credentials_file = "secrets/acme.toml" (mode 0600: NAME = "value" lines)

Every other key of a [[job]] is a load setting of a job file's [job] table (rate, daily_quota, window_limit,
window_s, concurrency, batch_size, timeout_s, ...), checked by bulkload.job as `bulkload load --config` checks it.
A credential's value is never in the manifest: a manifest that holds one is refused."""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ledger_pg
from .columns import did_you_mean
from .errors import ConfigError, manifest_command, pasted
from .job import (
    JOB_KEYS,
    Job,
    JobTable,
    _typed,
    _unknown_keys,
    credentials_type,
    current_keys,
    open_to_others,
    read_toml,
    target_options_type,
)
from .manifest_keys import PLACED, said_as_keys
from .masking import name_shown
from .redact import keep
from .targets import TARGETS
from .targets.base import check_credential

#: the default cap on calls in flight across every job of a manifest
MAX_CONNECTIONS = 64
#: the longest manifest read: 10,000 jobs of a few lines each
MAX_MANIFEST_BYTES = 8 << 20
#: a job's name names its directory of outputs
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: the combined report every run of the manifest writes in its output_dir, beside the jobs' folders
FLEET_REPORT = "fleet.json"
#: what an environment variable's name looks like (a value that does not is taken for a credential)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: the keys of a [[job]] the manifest adds to a job file's [job] settings
_OWN = ("name", "agreement", "target", "files", "base_url", "options", "columns", "credentials", "credentials_file")
_SETTINGS = tuple(k for k in JOB_KEYS if k not in (*PLACED, "base_url"))
_JOB_KEYS = (*_OWN, *_SETTINGS)
_TOP = ("max_connections", "output_dir", "defaults", "job")


@dataclass
class ManifestJob:
    """One load of a manifest (at `manifest`, absolute). `settings`: Job keyword arguments (files absolute, outputs
    under `out_dir`); `credentials_env`: the target's credential name -> the environment variable holding it, or
    `credentials_file`: a 0600 TOML file of NAME = "value" lines; `queue`: the queue's URL for a job a worker runs
    (`bulkload worker`), else None."""

    name: str
    agreement: str
    target: str
    manifest: Path
    out_dir: Path
    settings: dict[str, Any]
    credentials_env: dict[str, str] = field(default_factory=dict)
    credentials_file: Path | None = None
    queue: str | None = None

    @property
    def ledger_path(self) -> str:
        """The job's ledger: out_dir/ledger.sqlite, or where `settings` put it (a queued job's: in PostgreSQL, the
        queue's URL with its password, if it has one)."""
        return str(self.settings["ledger"])

    @property
    def ledger_name(self) -> str:
        """The job's ledger as the run names it (messages, its report, a way on): ledger_path, a URL without its
        password."""
        return ledger_pg.name_of(self.ledger_path)

    @property
    def origin(self) -> dict[str, str]:
        """Which manifest's job this is, as its run's ledger keeps it (Job.manifest_job): {"manifest": its path,
        "job": its name, and for a job of the queue "queue": the queue's URL}."""
        return {"manifest": str(self.manifest), "job": self.name, **({"queue": self.queue} if self.queue else {})}

    def run_again(self, *, resume: bool = True) -> str:
        """The command that runs this job again, as a way on gives it (errors.manifest_command): a queued job's
        queues the manifest again, another's runs it with `--resume` (`resume`: a job whose ledger holds a run) or
        without (a new run)."""
        return manifest_command(self.manifest, resume=resume, queue=self.queue)

    @property
    def rejects_path(self) -> str:
        return str(self.out_dir / "rejects.csv")

    @property
    def report_path(self) -> str:
        return str(self.out_dir / "report.json")

    def credentials(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """This job's credentials by the target's names (ECONOMIC_APP_SECRET_TOKEN ...): from the environment
        variables the manifest names (looked up in `env`, default os.environ), else from its credentials file.
        ConfigError names a variable that is not set or holds a control character, or a file that cannot be read
        (never a value)."""
        if self.credentials_file is not None:
            return read_credentials_file(self.credentials_file, self.target, self.name)
        source = os.environ if env is None else env
        missing = [
            name_shown(var, f"credentials.env.{name}'s")
            for name, var in self.credentials_env.items()
            if not source.get(var)
        ]
        if missing:
            unset = f"job {self.name!r}: the environment variable(s) {', '.join(missing)} are not set"
            if self.queue is not None:  # the worker's, not the shell's that queued it nor the one reading status
                unset += (
                    " in the environment of the worker that took it (`bulkload worker` reads them from its own):"
                    " set them where the workers run and start those workers again"
                )
            else:  # the manifest's finished jobs are not loaded again
                unset += (
                    ": set them (the job's credentials.env names them for its credentials), then run the manifest again"
                )
            raise ConfigError(unset)
        for name, var in self.credentials_env.items():  # named as the manifest names it (the target reads it again)
            check_credential(f"{name} from the variable {var}", source[var].strip())
        return {name: source[var] for name, var in self.credentials_env.items()}

    def credentials_from(self, names: Iterable[str]) -> str:
        """Where the job's credentials `names` come from, as a message says it (never a value): each from the
        environment variable the manifest names, or its credentials file."""
        if self.credentials_file is not None:
            return f"the credentials file {self.credentials_file}"
        return ", ".join(f"{n} from the variable {self.credentials_env[n]}" for n in names if n in self.credentials_env)

    def credentials_setting(self) -> str:
        """Where this job's credentials are set, as a message about refused ones says it (never a value): the
        variables the manifest names for them (`bulkload run` reads those, not the target's own names), or its
        credentials file."""
        if self.credentials_file is not None:
            return f"the credentials file {self.credentials_file} (credentials_file of job {self.name!r})"
        variables = " and ".join(self.credentials_env.values())
        return (
            f"{variables}, the variables credentials.env of job {self.name!r} in the manifest names for "
            f"{' and '.join(self.credentials_env)}"
        )

    def with_credentials(self, command: str) -> str:
        """`command` (a bulkload command on the job's ledger, which reads the target's own variable names) as code
        to run with the job's credentials: the manifest's variables set under those names before it, or the
        credentials file said to be set so after it (never a value)."""
        if self.credentials_file is not None:
            return f"`{command}` with each NAME = value of {self.credentials_file} set as NAME in the environment"
        given = " ".join(f'{name}="${var}"' for name, var in self.credentials_env.items())
        return f"`{given} {command}`"

    def job(self, env: Mapping[str, str] | None = None) -> Job:
        """The bulkload.job.Job of this load, its credentials resolved (`credentials`) into `config_credentials`;
        ConfigError for settings `bulkload load` refuses."""
        try:
            return self._with(self.credentials(env))
        except ConfigError as exc:
            if str(exc).startswith(f"job {self.name!r}"):
                raise
            raise ConfigError(f"job {self.name!r}: {exc}") from exc

    def unsigned(self) -> Job:
        """The Job of this load without its credentials, for what needs none (a plan of its files makes no call:
        across_jobs), whether or not this process's environment holds them; ConfigError as `job` gives it."""
        try:
            return self._with({})
        except ConfigError as exc:
            raise ConfigError(f"job {self.name!r}: {exc}") from exc

    def _with(self, credentials: dict[str, str]) -> Job:
        return Job(target=self.target, **self.settings, manifest_job=self.origin, config_credentials=credentials)


#: the command line's way on for the run of a ledger (`bulkload resume --ledger LEDGER`, as errors.command_on says
#: it; with `--base-url URL` where the run goes on at a corrected address), or for its run stopped in its
#: reconciliation (`continue with`, or `then`, `bulkload reconcile --ledger LEDGER`: pipeline.resume_after), which
#: the manifest's --resume finishes too. Another run's is left as it is, and so is a reconcile that is no way on of
#: a stop (one that names what a check of the API finds)
_RESUME = (
    "`bulkload resume --ledger {ledger}( --base-url URL)?`"
    "|(?:(?<=continue with )|(?<=then ))`bulkload reconcile --ledger {ledger}`"
)


#: what a way on of a queued job refused for its settings (exit 2) adds to `bulkload run MANIFEST --queue URL`
QUEUED_AGAIN = " (queued again: the queue does not retry a job refused for its settings)"


def continued_by(origin: Mapping[str, str]) -> str | None:
    """The command that continues the run of a manifest's job (`origin`: Job.manifest_job, ManifestJob.origin):
    `bulkload run MANIFEST --resume`, or for a queued job `bulkload run MANIFEST --queue URL` (queued again, it goes
    on from its ledger); None for a load of its own (no manifest)."""
    if not origin.get("manifest"):
        return None
    return manifest_command(origin["manifest"], resume=True, queue=origin.get("queue"))


def manifests_way_on(text: str, ledger: str, origin: Mapping[str, str], *, refused: bool = False) -> str:
    """`text` (why a run stopped, what settles its rows in doubt) with the command line's way on for the run of
    `ledger` (as messages name it) said as the manifest whose job the run is (`origin`: Job.manifest_job) continues
    it (`continued_by`): `bulkload resume --ledger …` (and the `bulkload reconcile --ledger …` of a run stopped in
    its reconciliation) knows none of the manifest's credential variables, nor a queue's shared budget. A job of a
    queue is run again by the queue, then by `bulkload run MANIFEST --queue URL`; one `refused` for its settings
    (exit 2) is never retried: it is queued again, corrected. `text` as it is for a load of its own."""
    again = continued_by(origin)
    if again is None:
        return text
    queue = origin.get("queue")

    def said(found: re.Match[str]) -> str:
        fixed = " once the job's base_url in it is right" if found.group(1) else ""
        if queue is not None and refused:
            fixed = fixed or QUEUED_AGAIN
        elif queue is not None:
            fixed = fixed or f" once the queue has stopped retrying it (`bulkload status --queue {pasted(queue)}` says)"
        return f"`{again}`{fixed}"

    return re.sub(_RESUME.format(ledger=re.escape(pasted(ledger))), said, text)


#: a command of bulkload's own on a ledger, as errors.command_on says it, then its flags, between backticks
_ON_LEDGER = "`bulkload (?:resume|reconcile|rollback) --ledger {ledger}(?: [^`]*)?`"


def with_credentials(text: str, mjob: ManifestJob, ledger: str | None = None) -> str:
    """`text` with each command on the job's own ledger (`ledger` as messages name it, default its ledger_name:
    `bulkload rollback`, `bulkload resume … --resend-in-doubt`, `bulkload reconcile`: the target's own variables are
    what they read, which neither the manifest's nor its credentials file set) said with the job's credentials
    (ManifestJob.with_credentials: variable references, never a value)."""
    on = re.escape(pasted(mjob.ledger_name if ledger is None else ledger))
    return re.sub(_ON_LEDGER.format(ledger=on), lambda m: mjob.with_credentials(m.group(0)[1:-1]), text)


def with_its_credentials(text: str, ledger: str, origin: Mapping[str, str]) -> str:
    """`text` (said by a run of a manifest's job, `origin`: Job.manifest_job, be it `bulkload run` or a `bulkload
    resume` or `reconcile` by hand on its ledger, named `ledger`) with each command on that ledger said with the
    job's credentials as its manifest names them now (with_credentials); as it is for a load of its own, or where
    the manifest cannot be read or no longer has the job."""
    on = _ON_LEDGER.format(ledger=re.escape(pasted(ledger)))
    if not origin.get("manifest") or re.search(on, text) is None:
        return text
    try:
        jobs = _manifest_now(origin["manifest"]).jobs
    except (OSError, ConfigError):
        return text
    mjob = next((mjob for mjob in jobs if mjob.name == origin.get("job")), None)
    return text if mjob is None else with_credentials(text, mjob, ledger)


def _manifest_now(path: str) -> Manifest:
    """read_manifest of `path` as it is now, read once for each size and mtime it has had (`_manifest_as`). OSError
    where it cannot be looked at, ConfigError as read_manifest's."""
    now = os.stat(path)
    return _manifest_as(path, now.st_size, now.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _manifest_as(path: str, size: int, mtime_ns: int) -> Manifest:
    """read_manifest of `path` as it is at that size and mtime: the jobs of a manifest of thousands, each saying its
    commands with its credentials (with_its_credentials), read it once."""
    return read_manifest(path)


@dataclass
class Manifest:
    """A manifest's jobs, in its order; `max_connections`: calls in flight at once across them all."""

    path: Path
    jobs: list[ManifestJob]
    max_connections: int = MAX_CONNECTIONS
    output_dir: Path = Path()

    @property
    def report_path(self) -> Path:
        """The combined report (fleet.json) in output_dir."""
        return self.output_dir / FLEET_REPORT

    @property
    def kept(self) -> list[tuple[str, str]]:
        """What and path of the manifest's own files, which no run of its jobs writes on (runner.check_paths
        `read`): the manifest and its combined report."""
        return [("the manifest", str(self.path)), ("the combined report", str(self.report_path))]

    def agreements(self) -> dict[str, list[ManifestJob]]:
        """The jobs of each agreement, in the manifest's order."""
        out: dict[str, list[ManifestJob]] = {}
        for mjob in self.jobs:
            out.setdefault(mjob.agreement, []).append(mjob)
        return out


def kept_by(origin: Mapping[str, str]) -> list[tuple[str, str]]:
    """Manifest.kept of the manifest whose job a run is (`origin`: Job.manifest_job), as it is now: the manifest
    alone where it cannot be read (changed, gone); none for a load of its own (no manifest)."""
    if not origin.get("manifest"):
        return []
    try:
        return _manifest_now(origin["manifest"]).kept
    except (OSError, ConfigError):
        return [("the manifest", origin["manifest"])]


def read_manifest(path: str) -> Manifest:
    """Read and check a manifest (module docstring). Raises ConfigError naming the file, the job and the reason: an
    unreadable file or invalid TOML, an unknown key (with the nearest known one), a value of the wrong type, a
    duplicate name, a credential's value in the manifest, a credentials file readable by others, settings
    `bulkload load` refuses. Its job and agreement names are shown whole from now on (redact.keep)."""
    where = Path(path).absolute()
    data = read_toml(path, "manifest", MAX_MANIFEST_BYTES, "8 MiB")
    _unknown(path, "", data, _TOP)
    cap = data.get("max_connections", MAX_CONNECTIONS)
    if not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= 10_000:
        raise ConfigError(f"the manifest {path}: max_connections must be a whole number from 1 to 10,000")
    out = data.get("output_dir", f"{where.name.removesuffix('.toml')}.runs")
    if not isinstance(out, str) or not out:
        raise ConfigError(f"the manifest {path}: output_dir must be a directory's path")
    output_dir = where.parent / out
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"the manifest {path}: [defaults] must be a table")
    defaults = current_keys(f"the manifest {path}", "defaults.", defaults)
    _unknown(path, "defaults.", defaults, [k for k in _JOB_KEYS if k != "name"])
    tables = data.get("job", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables) or not tables:
        raise ConfigError(f"the manifest {path} has no [[job]] table: list each load as one")
    jobs: list[ManifestJob] = []
    seen: dict[str, str] = {}
    for n, table in enumerate(tables, 1):
        own = current_keys(f"the manifest {path}: job #{n}", "", table)
        mjob = _job(path, where.parent, output_dir, n, {**defaults, **own})
        if mjob.name in seen.values():
            raise ConfigError(f"the manifest {path}: job {mjob.name!r} is named twice: each job's name is its own")
        if (alike := seen.setdefault(mjob.name.casefold(), mjob.name)) != mjob.name:
            raise ConfigError(
                f"the manifest {path}: jobs {alike!r} and {mjob.name!r} are named alike but for case: a file system "
                f"blind to case (macOS, Windows, a shared drive) makes their folders of outputs one folder, "
                f"{output_dir / alike}, where one's rejects, in-doubt file and report would replace the other's. Give "
                "each job a name of its own; nothing was sent"
            )
        jobs.append(mjob)
    keep(*(name for mjob in jobs for name in (mjob.name, mjob.agreement)))  # names the user wrote, shown whole
    return Manifest(where, jobs, cap, output_dir)


def _unknown(path: str, at: str, table: Mapping[str, Any], known: Any) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"the manifest {path}: unknown key {at}{key}{did_you_mean(key, list(known))}"
                f" (known: {', '.join(known)})"
            )


def _job(path: str, home: Path, output_dir: Path, n: int, table: dict[str, Any]) -> ManifestJob:
    """The n-th [[job]] (its [defaults] merged in), checked."""
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"the manifest {path}: job #{n} needs a name of letters, digits, '.', '_' or '-', the first a letter or a "
            "digit (at most 100), "
            f"got {name!r}"
        )
    said = f"the manifest {path}: job {name!r}"
    target = table.get("target")
    if target not in TARGETS:
        raise ConfigError(f"{said}: target must be one of {', '.join(TARGETS)}, got {target!r}")
    cls = TARGETS[target]
    secret_names = set(cls.credentials.names) | set(cls.credentials.optional)
    for key in table:
        if key in secret_names:
            raise ConfigError(f"{said}: {key} is a credential: never in the manifest, name it in credentials.env")
    _unknown(path, f"job {name!r}: ", table, _JOB_KEYS)
    agreement = table.get("agreement", name)
    if not isinstance(agreement, str) or not agreement:
        raise ConfigError(f"{said}: agreement must be a non-empty string (the API account the job loads into)")
    env, cfile = _credentials(said, home, cls, table)
    job_file = {
        "job": {k: table[k] for k in _SETTINGS if k in table},
        "columns": table.get("columns", {}),
        "target": table.get("options", {}),
    }
    label = f"{path} (job {name!r})"
    for key, kind in (("columns", dict), ("target", dict)):
        if not isinstance(job_file[key], kind):
            raise ConfigError(f"{said}: {'options' if key == 'target' else key} must be a table")
    files = _files(said, table, cls.flags.file_options, job_file["target"])
    options = target_options_type(cls)
    _unknown_keys(label, "options.", job_file["target"], options.__struct_fields__)
    settings = _typed(label, "", job_file["job"], JobTable)
    _typed(label, "options.", job_file["target"], options)
    columns = job_file["columns"]
    for column, to in columns.items():
        if not isinstance(to, str):
            raise ConfigError(f'{said}: columns.{column}: expected a field name, or "" to drop the column')
    base_url = table.get("base_url")
    if base_url is not None and not isinstance(base_url, str):
        raise ConfigError(f"{said}: base_url must be a string")
    out_dir = _out_dir(said, output_dir, name)
    kwargs: dict[str, Any] = {
        **{JOB_KEYS[k]: getattr(settings, JOB_KEYS[k]) for k in _SETTINGS if k in job_file["job"]},
        "files": [str(home / f) for f in files],
        "base_url": base_url,
        "columns": dict(columns),
        "target_options": {
            k: str(home / v) if k in cls.flags.file_options and isinstance(v, str) else v
            for k, v in job_file["target"].items()
        },
        "ledger": str(out_dir / "ledger.sqlite"),
        "rejects": str(out_dir / "rejects.csv"),
        "report": str(out_dir / "report.json"),
    }
    mjob = ManifestJob(name, agreement, target, Path(path).absolute(), out_dir, kwargs, env, cfile)
    try:
        # what `bulkload load` refuses, refused here before any job starts; its files as the target arranged them
        # (file options given instead of files: PayorCRM's customers, invoices), which a finished job's are checked
        # against, and its options with them (Job arranges options in place: arranged, they stay so)
        kwargs["files"] = Job(target=target, **kwargs).files
    except ConfigError as exc:  # its settings by the manifest's keys (`concurrency`), not the flags (--concurrency)
        raise ConfigError(f"{said}: {said_as_keys(str(exc), target, None)}") from exc
    return mjob


def _out_dir(said: str, output_dir: Path, name: str) -> Path:
    """The folder of the job `name`'s outputs in `output_dir`; ConfigError where it would be the manifest's combined
    report (FLEET_REPORT, in any case: a file system may not tell them apart) or a path there that is no folder (an
    input file, the manifest, with output_dir = "."): its run would load its rows, then fail to write its outputs
    or the combined report, again on every run."""
    out_dir = output_dir / name
    if name.casefold() == FLEET_REPORT:
        raise ConfigError(
            f"{said}: its folder of outputs would be {out_dir}, where every run of the manifest writes its combined "
            "report: give the job another name; nothing was sent"
        )
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise ConfigError(
            f"{said}: its folder of outputs would be {out_dir}, which is a file: give the job another name, or the "
            "manifest another output_dir; nothing was sent"
        )
    return out_dir


def _files(said: str, table: Mapping[str, Any], file_options: tuple[str, ...], options: Mapping[str, Any]) -> list[str]:
    """A job's `files` (relative to the manifest), checked: a list of paths, or none (`files = []`, or no key) where
    the target's file options (Flags.file_options: PayorCRM's customers, invoices) name them instead; ConfigError for
    anything else, and for files given both ways."""
    named = [k for k in file_options if k in options]
    way = "/".join(f"options.{k}" for k in file_options)
    files = table.get("files", [] if named else None)
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files) or not (files or named):
        also = f" (or files = [] and {way} naming them)" if file_options else ""
        raise ConfigError(f"{said}: files must be a list of the input files' paths{also}")
    if files and named:
        raise ConfigError(f"{said}: give its input files either in files or as {way} with files = [], not both")
    return files


def _credentials(said: str, home: Path, cls: Any, table: Mapping[str, Any]) -> tuple[dict[str, str], Path | None]:
    """Where a job's credentials come from: ({credential name: environment variable}, None) or ({}, the file)."""
    creds, cfile = table.get("credentials"), table.get("credentials_file")
    names = credentials_type(cls).__struct_fields__
    if (creds is None) == (cfile is None):
        raise ConfigError(
            f'{said}: give credentials = {{env = {{NAME = "VARIABLE"}}}} or credentials_file = "path" '
            f"(one of them; the target's credentials: {', '.join(names)})"
        )
    if cfile is not None:
        if not isinstance(cfile, str):
            raise ConfigError(f"{said}: credentials_file must be a path")
        found = home / cfile
        _private(said, found)
        return {}, found
    if not isinstance(creds, dict) or set(creds) != {"env"} or not isinstance(creds["env"], dict):
        leaked = set(creds) & set(names) if isinstance(creds, dict) else set()
        if leaked:
            raise ConfigError(
                f"{said}: credentials holds {min(leaked)} itself: never in the manifest, name the "
                "environment variable that holds it in credentials.env"
            )
        raise ConfigError(f'{said}: credentials must be {{env = {{NAME = "VARIABLE", ...}}}}')
    env: dict[str, Any] = creds["env"]
    for key, var in env.items():
        if key not in names:
            raise ConfigError(
                f"{said}: credentials.env: {key} is not a credential of {cls.name}{did_you_mean(key, list(names))} "
                f"(known: {', '.join(names)})"
            )
        if not isinstance(var, str) or not _ENV_NAME.fullmatch(var):
            raise ConfigError(
                f"{said}: credentials.env.{key} must name the environment variable that holds it; what is there "
                "is not a variable's name (a credential's value is never put in the manifest)"
            )
    required = [n for n in cls.credentials.names if n not in env]
    if required:
        raise ConfigError(f"{said}: credentials.env does not name {', '.join(required)}")
    return dict(env), None


def _private(said: str, path: Path) -> None:
    """Refuse a credentials file that is not a regular file of mode 0600 (or stricter)."""
    try:
        mode = open_to_others(path)
    except OSError as exc:
        raise ConfigError(f"{said}: cannot read the credentials file {path}: {exc.strerror}") from exc
    if mode is not None:
        raise ConfigError(
            f"{said}: the credentials file {path} has mode {mode:04o}: others may read it; `chmod 600 {path}`"
        )


#: where a TOML error is (`at line 2, column 21`, `at end of document`), which tomllib ends its message with
_TOML_PLACE = re.compile(r"\((at line \d+, column \d+|at end of document)\)\s*$")
#: what a credential given as no string is, by its TOML type (its value never said)
_TOML_KINDS: dict[type, str] = {
    int: "a number",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}


def read_credentials_file(path: Path, target: str, job: str) -> dict[str, str]:
    """The credentials in a 0600 TOML file of NAME = "value" lines, by the target's names. ConfigError for a file
    others may read, invalid TOML or an unknown name (never quoting a value)."""
    said = f"job {job!r}"
    _private(said, path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{said}: cannot read the credentials file {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        # where, never what: tomllib's own words may quote a character of the value (`Illegal character 'x'`)
        where = _TOML_PLACE.search(str(exc))
        raise ConfigError(
            f"{said}: the credentials file {path} is not valid TOML"
            + (f" ({where.group(1)})" if where else "")
            + ': give each credential as a NAME = "value" line, the value in double quotes'
        ) from None
    cls = TARGETS[target]
    names = credentials_type(cls).__struct_fields__
    for key, value in data.items():
        if key not in names:
            raise ConfigError(
                f"{said}: the credentials file {path}: {name_shown(key, 'a name')} is not a credential of {cls.name} "
                "given as a string "
                f"(known: {', '.join(names)})"
            )
        if not isinstance(value, str):
            # before, "HALO_CLIENT_SECRET is not a credential of halopsa given as a string (known: …,
            # HALO_CLIENT_SECRET, …)": a known name told it was unknown (tester t69c)
            raise ConfigError(
                f"{said}: the credentials file {path}: {key} is given as {_TOML_KINDS.get(type(value), 'a value')}, "
                f'not as a string: write it in double quotes ({key} = "…")'
            )
    # the job reads the file alone: "set it in the environment" sent the user to a variable it never reads
    missing = [name for name in cls.credentials.names if not data.get(name, "").strip()]
    if missing:
        empty = [name for name in missing if name in data]
        raise ConfigError(
            f"{said}: the credentials file {path} does not give {', '.join(missing)}"
            + (f" ({', '.join(empty)} empty or only white space)" if empty else "")
            + ': give each a NAME = "value" line there'
        )
    return cls.credentials.read(data)
