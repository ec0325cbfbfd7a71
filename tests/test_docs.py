"""The documentation site's generated parts and its promises about the code: the CLI reference renders every command
and every target (docs/hooks.py, from the argument parser), each API's page renders its facts and options, every
exception class is explained in Troubleshooting, and the README's test command is the one .ci/run runs."""

from __future__ import annotations

import argparse
import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from bulkload import errors
from bulkload.cli import build_parser
from bulkload.manifest import read_manifest
from bulkload.targets import TARGETS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: a marker of docs/hooks.py left in a page (one on a line of its own)
_LEFT = re.compile(r"^<!-- bulkload:", re.MULTILINE)


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    """The names of a parser's subcommands, read from argparse itself (not through the hook)."""
    return [name for a in parser._actions if isinstance(a, argparse._SubParsersAction) for name in a.choices]


def _sections(markdown: str) -> dict[str, str]:
    """The CLI reference's sections: `bulkload load economic` -> its help text."""
    parts = re.split(r"^### `([^`]+)`$", markdown, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_cli_reference_renders_every_command_and_target(hooks: ModuleType) -> None:
    parser = build_parser()
    commands = _choices(parser)
    load = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["load"]
    sections = _sections(hooks.cli_reference())
    expected = ["bulkload"] + [f"bulkload {c}" for c in commands] + [f"bulkload load {t}" for t in _choices(load)]
    assert set(TARGETS) <= set(_choices(load))
    assert set(sections) == set(expected)
    for prog, text in sections.items():
        assert f"usage: {prog}" in text, prog  # the section holds that command's own help
        assert "-h, --help" in text, prog


def test_every_target_page_renders_its_facts_and_options(hooks: ModuleType) -> None:
    for name, cls in TARGETS.items():
        page = (DOCS / f"{name}.md").read_text()
        assert f"<!-- bulkload:target {name} -->" in page, name
        rendered = hooks.render(page)
        assert not _LEFT.search(rendered), name
        for variable in cls.credentials.names:
            assert f"`{variable}`" in rendered, (name, variable)
        for flag in cls.flags.flags:
            assert f"`{flag.flag}`" in rendered, (name, flag.flag)
        for column in cls.from_options(_options(name)).kind_of(0).fields:
            assert f"`{column}`" in rendered, (name, column)


def _options(target: str) -> dict[str, object]:
    """Options that make a target with one input file."""
    return {"payorcrm": {"kind": "invoices"}, "halopsa": {"resource": "XeroDetails"}}.get(target, {})


def test_every_manifest_the_docs_show_is_read_as_they_say(tmp_path: Path) -> None:
    # found by a tester: docs/migrations.md's example gave a HaloPSA job `options = {resource = "ClientDetails"}`,
    # no resource bulkload knows: the documented manifest was refused (exit 2). Each is read as `bulkload run` reads
    # it, against the real targets (their resources, options and settings), its credentials files made 0600
    shown = [
        (page.name, block)
        for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
        for block in re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)
        if "[[job]]" in block
    ]
    assert shown, "the docs show no manifest"
    for n, (page, block) in enumerate(shown):
        folder = tmp_path / str(n)
        folder.mkdir()
        manifest = folder / "m.toml"
        manifest.write_text(block, encoding="utf-8")
        data = tomllib.loads(block)
        for table in [data.get("defaults", {}), *data["job"]]:
            if "credentials_file" in table:
                secrets = folder / table["credentials_file"]
                secrets.parent.mkdir(parents=True, exist_ok=True)
                secrets.write_text("")
                secrets.chmod(0o600)
        try:
            read_manifest(str(manifest))
        except errors.ConfigError as exc:
            pytest.fail(f"the manifest {page} shows is refused: {exc}")


def test_every_page_renders(hooks: ModuleType) -> None:
    for page in DOCS.glob("*.md"):
        assert not _LEFT.search(hooks.render(page.read_text())), page.name


def test_every_error_class_is_in_troubleshooting() -> None:
    text = (DOCS / "troubleshooting.md").read_text()
    classes = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.BulkloadError)
    ]
    assert len(classes) > 20
    missing = [name for name in classes if f"`{name}`" not in text]
    assert not missing, f"not explained in docs/troubleshooting.md: {missing}"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.DOTALL)
    assert len(commands) >= 2
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci
    assert ".venv/bin/mkdocs build --strict" in ci


def test_no_file_holds_a_merge_conflicts_markers() -> None:
    # a merge once left <<<<<<< and >>>>>>> in docs/migrations.md, which the strict site build renders as text
    root = ROOT
    marker = re.compile(r"^(<{7}|>{7}) ", re.M)
    files = [root / "README.md", *(root / "docs").rglob("*.md"), *(root / "bulkload").rglob("*.py")]
    files += [*(root / "tests").glob("*.py"), *(root / "benchmarks").glob("*.py")]
    assert [str(f.relative_to(root)) for f in files if marker.search(f.read_text(encoding="utf-8"))] == []
