r"""MkDocs hooks (mkdocs.yml `hooks:`): the parts of the documentation that are rendered from the code at build time,
so that they cannot drift from it. A page asks for one with a marker on a line of its own:

    <!-- bulkload:cli -->              every command's and every target's `--help`, from bulkload.cli.build_parser
    <!-- bulkload:target NAME -->      a target's API facts, its own options and its input columns, from its class
    <!-- bulkload:include PATH -->     a file of the repository (PATH from its root) as a code block
    <!-- bulkload:api -->              the Python API: each function's signature and docstring, Job's and Report's
                                       fields, from the package
    <!-- bulkload:errors -->           the exception tree, from bulkload/errors.py's docstring

Files of the repository outside docs/ that a page links to as `../PATH` (the link that works on GitHub) are added
to the site under PATH, and the links rewritten to reach them there. A pipe in code in a table is written `\|` for
GitHub, which would split the cell at it; Python-Markdown keeps code whole and would show the backslash, so the
hook drops it there.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

import bulkload
from bulkload import errors
from bulkload.cli import build_parser
from bulkload.targets import TARGETS
from bulkload.targets.base import RecordKind, Target
from bulkload.targets.economic_entries import DraftEntry
from bulkload.targets.halopsa_records import Resource
from bulkload.targets.halopsa_schema import RESOURCES
from bulkload.targets.payorcrm_records import Customer, Customers, Invoice, Invoices
from bulkload.targets.visma_core_records import CostRow, Costs, Entries, EntryRow

ROOT = Path(__file__).resolve().parent.parent
#: the width the help texts are rendered at (argparse reads it from COLUMNS)
HELP_COLUMNS = 100
_MARKER = re.compile(r"^<!-- bulkload:(\w+)(?: ([^ ]+))? -->$", re.MULTILINE)
#: a link from a page at the top of docs/ to a file of the repository outside docs/
_REPO_LINK = re.compile(r"\]\(\.\./((?:benchmarks|examples|samples)/[^)#\s]+)\)")


# --- the CLI reference ---------------------------------------------------------------------------------------------
def commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """`parser` and every parser under it (commands, then each command's targets), depth first, in their order."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # an alias maps to the same parser
                yield from commands(sub)


@contextmanager
def _columns(width: int) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def cli_reference() -> str:
    """Markdown: a section per command and target (`### bulkload load economic`) holding its `--help` as printed."""
    parts = []
    with _columns(HELP_COLUMNS):
        for parser in commands(build_parser()):
            parts.append(f"### `{parser.prog}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    return "\n".join(parts)


# --- a target's facts ----------------------------------------------------------------------------------------------
def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _seconds(s: float) -> str:
    return f"{s / 3600:g} h" if s >= 3600 and s % 3600 == 0 else f"{s:g} s"


def api_facts(cls: type[Target]) -> str:
    """Markdown table: how the target's API behaves, as the engine knows it (`Api`, `Credentials`)."""
    api, creds = cls.api, cls.credentials
    per_call = (
        f"one group a call (up to {api.max_items} lines merged or sent as one)"
        if api.one_group_per_call
        else f"{api.default_batch or api.max_items} items (`--batch-size`, at most {api.max_items}), "
        f"at most {api.max_bytes:,} bytes"
    )
    keys = (
        f"yes: an `Idempotency-Key` on every write, stored before it leaves; the API keeps a key's answer "
        f"{_seconds(api.key_ttl_s)}"
        if api.idempotent
        else "no: a call that may have arrived is looked up where the API allows it, else in doubt (never sent "
        "blindly again)"
    )
    reconcile = {
        "walk": "count endpoint and cursor walk of what was created since the run's baseline",
        "responses": "by the answers: the API cannot be read back, each call's answer is compared with what it sent",
        "target": "the target's own (what it reads back and compares: *What reconciliation proves* above)",
    }[api.reconcile_by]
    env = ", ".join(f"`{n}`" for n in creds.names)
    if creds.optional:
        env += " (optional: " + ", ".join(f"`{n}`" for n in sorted(creds.optional)) + ")"
    rows: list[tuple[object, ...]] = [
        ("`bulkload load` target", f"`{cls.name}`"),
        ("API root (`--base-url`)", f"`{api.default_base_url}`" if api.default_base_url else "none: required"),
        ("credentials (environment or `[credentials]`)", env),
        ("per call", per_call),
        ("idempotency keys", keys),
        (
            "rolling window",
            f"{api.window[0]} calls per {_seconds(api.window[1])} (`--window-limit`, `--window-s`)"
            if api.window
            else "none published (`--window-limit`, `--window-s` set one)",
        ),
        (
            "settle delay (`--settle-s`)",
            f"{api.settle_s:g} s" + (": the API documents no commit time" if api.settle_s else ": one look"),
        ),
        ("writes to one record land in file order", "yes" if api.ordered else "no"),
        ("reconciliation", reconcile),
        ("rollback", "deletes what the run created" if api.can_delete else "not offered: the API cannot delete"),
        ("longest answer read", f"{api.answer_bytes:,} bytes unless the call names its own cap"),
    ]
    return _table(("", ""), rows)


def target_options(cls: type[Target]) -> str:
    """Markdown table of the target's own options of `bulkload load TARGET` (its `Flags`)."""
    rows: list[tuple[object, ...]] = []
    for flag in cls.flags.flags:
        if flag.switch:
            value = "(switch)"
        elif flag.choices:
            value = " or ".join(f"`{c}`" for c in flag.choices)
        else:
            value = flag.metavar or {int: "integer", float: "number"}.get(flag.type, "text")  # type: ignore[call-overload]
        rows.append((f"`{flag.flag}`", value, flag.help))
    return _table(("option", "value", "meaning"), rows) if rows else "None beyond the common ones.\n"


def _type_name(t: msgspec.inspect.Type) -> str:
    if isinstance(t, msgspec.inspect.UnionType):
        return " or ".join(_type_name(x) for x in t.types if not isinstance(x, msgspec.inspect.NoneType))
    if isinstance(t, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(map(str, t.values))
    if isinstance(t, msgspec.inspect.DictType):
        return "object"
    return {"IntType": "integer", "StrType": "text", "DecimalType": "decimal", "BoolType": "boolean"}.get(
        type(t).__name__, type(t).__name__.removesuffix("Type").lower()
    )


def _how(kind: RecordKind, name: str, type_name: str = "") -> str:
    said = ["JSON text in a CSV cell"] if type_name == "object" else []
    if name in kind.number_fields:
        said.append("a number, in the file's decimal mark")
    if name in kind.date_fields:
        said.append("a date, in the file's date order")
    if name in kind.group_fields:
        said.append(f"names its {kind.group_name}")
    if name in kind.secret_fields:
        said.append("secret: to the API only, `***` everywhere else")
    return "; ".join(said)


def struct_columns(kind: RecordKind, struct: type[msgspec.Struct]) -> str:
    """Markdown table of an input file's columns: each field of the record Struct, its type and whether required."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    assert {f.encode_name for f in info.fields} == set(kind.fields), struct  # the kind reads what the Struct holds
    rows = []
    for f in info.fields:
        type_name = _type_name(f.type)
        rows.append(
            (f"`{f.encode_name}`", type_name, "yes" if f.required else "", _how(kind, f.encode_name, type_name))
        )
    return _table(("column", "type", "required", "read as"), rows)


#: halopsa_schema's kinds as the other tables name types
_SCHEMA_KINDS = {
    "int": "integer",
    "float": "decimal",
    "str": "text",
    "bool": "boolean",
    "datetime": "date-time",
    "object": "object",
    "array": "array",
}


def resource_columns(kind: Resource) -> str:
    """Markdown table of a HaloPSA resource's columns, from its schema (none is required)."""
    rows = [
        (
            f"`{f.name}`",
            _SCHEMA_KINDS.get(f.kind, f.kind),
            _how(kind, f.name, "object" if f.kind in ("object", "array") else "")
            or ("set by the server: ignored" if f.read_only else ""),
            f.description,
        )
        for f in kind.schema.values()
    ]
    return _table(("column", "type", "read as", "what it is"), rows)


def _kinds(name: str) -> list[tuple[str, str]]:
    """(heading, columns table) of each kind of input file the target takes."""
    if name == "economic":
        return [("Draft entries", struct_columns(TARGETS[name]().kind_of(0), DraftEntry))]
    if name == "visma-core":
        return [
            ("Entries (`--kind entries`)", struct_columns(Entries(), EntryRow)),
            ("Costs (`--kind costs`)", struct_columns(Costs(), CostRow)),
        ]
    if name == "payorcrm":
        return [
            ("Customers (`--customers`, `--kind customers`)", struct_columns(Customers(), Customer)),
            ("Invoices (`--invoices`, `--kind invoices`)", struct_columns(Invoices(), Invoice)),
        ]
    if name == "halopsa":
        return [(f"`{r}`", resource_columns(Resource(r))) for r in RESOURCES]
    raise KeyError(f"docs/hooks.py does not know the input files of target {name!r}: add them to _kinds")


def target_reference(name: str) -> str:
    """Markdown: the target's API facts, its own options and the columns of each kind of input file."""
    cls = TARGETS[name]
    parts = ["### The API, as bulkload knows it\n", api_facts(cls), "### Its own options\n", target_options(cls)]
    parts.append("### Input columns\n")
    for heading, table in _kinds(name):
        parts += [f"#### {heading}\n", table]
    return "\n".join(parts)


# --- the Python API ------------------------------------------------------------------------------------------------
#: the functions of bulkload's public API, in the order a script meets them
FUNCTIONS = ("load", "resume", "reconcile", "rollback", "dry_run")


def _annotation(value: object) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))


def python_api() -> str:
    """Markdown: each public function's signature and docstring, then the fields of Job, Report and Rollback."""
    parts = ["### Functions\n"]
    for name in FUNCTIONS:
        fn = getattr(bulkload, name)
        kind = "async def" if inspect.iscoroutinefunction(fn) else "def"
        signature = str(inspect.signature(fn)).replace("'", "")  # the annotations are strings (PEP 563)
        parts.append(
            f"#### `bulkload.{name}`\n\n```python\n{kind} {name}{signature}\n```\n\n"
            f"{inspect.cleandoc(fn.__doc__ or '')}\n"
        )
    job_rows: list[tuple[object, ...]] = []
    for f in dataclasses.fields(bulkload.Job):
        default = (
            repr(f.default)
            if f.default is not dataclasses.MISSING
            else "empty"
            if f.default_factory is not dataclasses.MISSING
            else "required"
        )
        job_rows.append((f"`{f.name}`", f"`{_annotation(f.type)}`", default))
    parts += ["### `bulkload.Job`\n", inspect.cleandoc(bulkload.Job.__doc__ or "") + "\n"]
    parts.append(_table(("field", "type", "default"), job_rows))
    for struct in (bulkload.Report, bulkload.Rollback):
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        rows: list[tuple[object, ...]] = [(f"`{f.name}`", _type_name(f.type), _field_default(f)) for f in info.fields]
        parts += [f"### `bulkload.{struct.__name__}`\n", inspect.cleandoc(struct.__doc__ or "") + "\n"]
        parts.append(_table(("field", "type", ""), rows))
    return "\n".join(parts)


def _field_default(f: msgspec.inspect.Field) -> str:
    if f.required:
        return "always there"
    if f.default is msgspec.UNSET:
        return "left out where it does not apply"
    return "default empty" if f.default is msgspec.NODEFAULT else f"default {f.default!r}"


def error_tree() -> str:
    """The exception tree as errors.py's docstring draws it, in a code block."""
    doc = inspect.cleandoc(errors.__doc__ or "")
    tree = doc[doc.index("BulkloadError\n") : doc.index("\n\n", doc.index("BulkloadError\n"))]
    return f"```text\n{tree}\n```\n"


# --- files of the repository ---------------------------------------------------------------------------------------
def include(path: str) -> str:
    """A file of the repository as a code block, or a note that this checkout does not have it."""
    file = ROOT / path
    if not file.is_file():
        return f"*(`{path}` is not in this checkout.)*\n"
    lang = {".py": "python", ".toml": "toml", ".sh": "sh"}.get(file.suffix, "text")
    return f'```{lang} title="{path}"\n{file.read_text().rstrip()}\n```\n'


def render(markdown: str) -> str:
    """`markdown` with every marker replaced by what it asks for."""

    def one(match: re.Match[str]) -> str:
        what, arg = match.group(1), match.group(2)
        if what == "cli":
            return cli_reference()
        if what == "target" and arg:
            return target_reference(arg)
        if what == "include" and arg:
            return include(arg)
        if what == "api":
            return python_api()
        if what == "errors":
            return error_tree()
        raise ValueError(f"unknown marker {match.group(0)}")

    return _MARKER.sub(one, markdown)


# --- the hooks -----------------------------------------------------------------------------------------------------
def _unescape_table_code(markdown: str) -> str:
    """`\\|` back to `|` inside the code spans of table rows (a row starts with a pipe; single backticks)."""

    def row(line: str) -> str:
        parts = line.split("`")
        parts[1::2] = [code.replace("\\|", "|") for code in parts[1::2]]
        return "`".join(parts)

    return "\n".join(row(line) if line.startswith("|") else line for line in markdown.split("\n"))


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return _unescape_table_code(_REPO_LINK.sub(r"](\1)", render(markdown)))


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    """Add the repository files the pages link to (`../PATH`) to the site, under PATH."""
    from mkdocs.structure.files import File

    docs = Path(config["docs_dir"])
    linked = {m.group(1) for page in docs.glob("*.md") for m in _REPO_LINK.finditer(page.read_text())}
    for path in sorted(linked):
        if (ROOT / path).is_file() and files.get_file_from_path(path) is None:
            files.append(File.generated(config, path, abs_src_path=str(ROOT / path)))
    return files
