"""The load flags a manifest's job gives as keys of its table (docs/migrations.md: a job's keys are the flags without
their dashes): what a job's run says in `bulkload load`'s words (`Give --encoding cp1252`, `give --decimal .`) is
said to a manifest's user as the key and the value the manifest takes (`encoding = "cp1252"` of job 'x' in the
manifest), read from the job table's types (JobTable, the target's options), never from a list of its own. A flag
that is no key of a job (`--resend-in-doubt`, `--ledger`) and every command in backticks (`bulkload resume …`,
which the user runs by hand with those flags) stay as they are."""

from __future__ import annotations

import ast
import functools
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from .columns import COLUMNS_OF_CONFIG
from .dates import given_format
from .errors import ConfigError
from .job import Job, JobTable, target_options_type
from .meters import QUOTA_RAISED
from .sources import codec_name
from .targets import TARGETS

#: [job] settings a manifest does not take: each job's outputs have their place under output_dir
PLACED = ("ledger", "rejects", "report")
#: a flag's mention in prose: `--name`, not part of a longer word or flag
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*(?![\w-])")
#: a value in quotes as a message writes one (repr's or the shell's: '%d/%m/%Y', ';', '\t')
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")
#: a value a shell takes back as one word, as shlex.quote writes one holding a quote: '%d %b '"'"'%y' (%d %b '%y)
_SHELL_QUOTED = re.compile(r"""'[^']*'(?:"'"'[^']*')+""")
#: a placeholder a message writes for a value to choose (`--daily-quota N`, `--base-url URL`)
_PLACEHOLDER = re.compile(r"[A-Z][A-Z_]*(?![\w-])")
#: a number as a message writes one
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![\w.]*\w)")
#: what may end a sentence or clause after a bare value (`give --encoding cp1252.`)
_TRAILING = ".,;:)!?"
#: a code span: a command the user runs (left alone), or a flag alone (`--daily-quota N`), said as its key
_SPAN = re.compile(r"`[^`\n]*`")
#: the words before a flag that make it a setting of another load (the file of rows to load again), not of this job
_OTHER_LOAD = re.compile(r"\bload\b[^.;:`]*\bwith $")
#: how a bare value that may be prose is told from a word: the setting's own check of it (`--encoding was given`)
_CHECKS: dict[str, Callable[[str], object]] = {"encoding": codec_name, "date_format": given_format}


@dataclass(frozen=True)
class Key:
    """A flag as a manifest's job gives it: `key` of its table, or of its `options` (`option`), of type `kind`
    (msgspec's type info)."""

    key: str
    option: bool
    kind: Any


@functools.cache
def keys_of(target: str) -> dict[str, Key]:
    """The flags of `bulkload load TARGET` that a manifest's job gives as keys (`--encoding` -> encoding), from the
    [job] table's fields a manifest takes and the target's options (job.target_options_type)."""
    out: dict[str, Key] = {}
    tables = ((JobTable, False), (target_options_type(TARGETS[target]), True))
    for table, option in tables:
        info = msgspec.inspect.type_info(table)
        assert isinstance(info, msgspec.inspect.StructType)  # a table of keys is a Struct
        for f in info.fields:
            if f.encode_name not in PLACED:
                out["--" + f.encode_name.replace("_", "-")] = Key(f.encode_name, option, f.type)
    return out


def in_job_words(text: str, target: str, job: str) -> str:
    """`text` (why job `job` of a manifest, into `target`, was refused or stopped; what settles its rows in doubt)
    in the words of its manifest's table: the columns it maps in its `columns` (a manifest's run has no --config), a
    quota raised in its `daily_quota`, every other flag that is a key of its table as that key (said_as_keys)."""
    text = text.replace(COLUMNS_OF_CONFIG, f"`columns` of job {job!r} in the manifest")
    text = text.replace(QUOTA_RAISED, f"give it as the `daily_quota` of job {job!r} in the manifest")
    return said_as_keys(text, target, job)


#: the distinct parts of texts a run says of its rows (JobWords) kept said, at most: memory stays flat
SAID_KEPT = 4096
#: the phrases in_job_words replaces whole, each with where its flag is in it: a text's first flag may be theirs
_PHRASES = tuple((phrase, phrase.index("--")) for phrase in (COLUMNS_OF_CONFIG, QUOTA_RAISED))


class JobWords:
    """in_job_words of the texts a run of job `job` says row by row (a rejected row's reason, a row in doubt's), each
    distinct one said once: a text without a flag is as it is (no regex), and one with is said from its first flag
    on (`_split`), after the row's values it quotes, which repeats where they do not ("date: '3 4 2026' (expected
    format %d/%m/%Y (--date-format) …)"), kept said (SAID_KEPT of them at most)."""

    def __init__(self, target: str, job: str) -> None:
        @functools.lru_cache(maxsize=SAID_KEPT)
        def said(text: str) -> str:
            return in_job_words(text, target, job)

        self._said = said

    def __call__(self, text: str) -> str:
        if "--" not in text:  # every word in_job_words rewrites holds a flag (COLUMNS_OF_CONFIG, QUOTA_RAISED too)
            return text
        at = _split(text)
        return text[:at] + self._said(text[at:])


def words_of(job: Job) -> JobWords | None:
    """The JobWords of `job`'s run where it is a manifest's job's (Job.manifest_job), None for a load of its own."""
    name = job.manifest_job.get("job")
    return JobWords(job.target, name) if name else None


def _split(text: str) -> int:
    """Where `text` (holding "--") is cut so that in_job_words says its end as it says it in the whole, and its start
    unchanged: at its first flag (or phrase in_job_words replaces: _PHRASES), where nothing before tells what the
    flags after are said as: no backtick (a span: _SPAN), no "load" (a flag of another load: _OTHER_LOAD), no word
    the flag runs on from (_FLAG); else 0, the whole. String methods alone: it is called for every row whose reason
    names a flag."""
    first = text.find("--")
    for phrase, at in _PHRASES:
        if text.startswith(phrase, first - at):
            first -= at
            break
    if first and (text[first - 1].isalnum() or text[first - 1] in "_-"):
        return 0
    return 0 if text.find("`", 0, first) >= 0 or text.find("load", 0, first) >= 0 else first


def said_as_keys(text: str, target: str, job: str | None) -> str:
    """`text` with each flag of `bulkload load TARGET` that is a key of a manifest's job said as that key, with its
    value as the manifest's TOML writes it (`--decimal ,` -> `decimal = ","`, `--no-regroup` -> `no_regroup = true`,
    `--journal 2` -> `journal = 2` of the job's `options`). The first key named says where it goes: of job `job` in
    the manifest (`job` None: `text` names the job itself, and only an option says it is of the job's `options`), or of
    the job that loads a file (`load … with --X`)."""
    keys = keys_of(target)
    told: set[bool] = set()  # whether a setting, and an option, was said with where it goes

    def key_at(found: re.Match[str], rest: str, before: str) -> tuple[str, int] | None:
        if (key := keys.get(found[0])) is None:
            return None
        value, used = _value(key, rest)
        said = f"`{key.key}{'' if value is None else ' = ' + value}`"
        if _OTHER_LOAD.search(before):
            return f"{said} in the table of the job that loads it, in the manifest", used
        if key.option not in told and (job is not None or key.option):
            told.add(key.option)
            where = "the job" if job is None else f"job {job!r}"
            said += f" of {'the `options` of ' if key.option else ''}{where} in the manifest"
        return said, used

    def prose(part: str) -> str:
        out, at = [], 0
        for found in _FLAG.finditer(part):
            if found.start() < at:
                continue
            said = key_at(found, part[found.end() :], part[: found.start()])
            if said is not None:
                out += [part[at : found.start()], said[0]]
                at = found.end() + said[1]
        return "".join(out) + part[at:]

    out, at = [], 0
    for span in _SPAN.finditer(text):
        out.append(prose(text[at : span.start()]))
        inner = span[0][1:-1]
        flag = _FLAG.match(inner)
        said = None if flag is None else key_at(flag, inner[flag.end() :], text[: span.start()])
        out.append(said[0] if said is not None and flag is not None and flag.end() + said[1] == len(inner) else span[0])
        at = span.end()
    return "".join(out) + prose(text[at:])


def _value(key: Key, rest: str) -> tuple[str | None, int]:
    """The value the words `rest` (after the flag) give `key`, as the manifest's TOML writes it, and how many
    characters of `rest` it took; (None, 0) where they give none (the flag is named alone: `leave --encoding out`)."""
    kind = key.kind
    if isinstance(kind, msgspec.inspect.BoolType):
        return "true", 0  # a switch: named, it is on
    if not rest.startswith(" "):
        return None, 0
    word = rest[1:]
    if (placeholder := _PLACEHOLDER.match(word)) is not None:
        text = placeholder[0]
        typed = text if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType) else _toml(text)
        return (f"[{typed}]" if isinstance(kind, msgspec.inspect.ListType) else typed), 1 + len(text)
    if isinstance(kind, msgspec.inspect.LiteralType):  # one of its choices, or some as the flag says them: a|b
        one = "|".join(re.escape(c) for c in sorted(map(str, kind.values), key=len, reverse=True))
        chosen = re.match(rf"(?:{one})(?:\|(?:{one}))*(?![^\W_])", word)
        return (None, 0) if chosen is None else ("|".join(map(_toml, chosen[0].split("|"))), 1 + len(chosen[0]))
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        number = _NUMBER.match(word)
        return (None, 0) if number is None else (number[0], 1 + len(number[0]))
    taken = _string(key.key, word)
    if taken is None:
        return None, 0
    value, used = taken
    return (f"[{_toml(value)}]" if isinstance(kind, msgspec.inspect.ListType) else _toml(value)), 1 + used


def _string(key: str, word: str) -> tuple[str, int] | None:
    """A text value at the start of `word` and its length there: in quotes (a shell's too, shlex.quote's), or a
    word the setting's own check takes (_CHECKS), or for a setting without one, a word that is no word of prose (a
    path, a name with a capital, digits or signs); None where `word` starts with prose."""
    shell = _SHELL_QUOTED.match(word)
    if shell is not None:  # its quotes the shell's: read as the shell reads them, not cut at the first quote's end
        return shlex.split(shell[0])[0], len(shell[0])
    quoted = _QUOTED.match(word)
    if quoted is not None:
        try:
            return str(ast.literal_eval(quoted[0])), len(quoted[0])
        except (ValueError, SyntaxError):
            return quoted[0][1:-1], len(quoted[0])
    bare = word.split(maxsplit=1)[0].rstrip(_TRAILING) if word.strip() else ""
    if not bare or "`" in bare or not (bare[0].isalnum() or bare[0] in "%/.~$\\"):
        return None
    check = _CHECKS.get(key)
    if check is None:
        return (bare, len(bare)) if not bare.isalpha() or not bare.islower() else None
    try:
        check(bare)
    except ConfigError:
        return None
    return bare, len(bare)


def _toml(value: str) -> str:
    """`value` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)
