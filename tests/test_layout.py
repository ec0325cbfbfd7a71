"""The layout the next engineer relies on, checked from the source: no import cycle in the package, a model that
knows no engine, targets that see the engine only through their protocols and the plain modules, and a Target
small enough to hold in one's head."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from bulkload.targets.base import Target

PACKAGE = Path(__file__).resolve().parent.parent / "bulkload"

#: what a target may import of bulkload: the values, errors and readers it works with, never the engine's
#: sending, ledger, pipeline or commands (it gets a Sender and a Created instead); `masking`: the rule a secret's name
#: follows, which a target's schema names its secret fields by
TARGET_MAY_IMPORT = {
    "model",
    "errors",
    "http",
    "quoted_ids",  # an id an answer writes as text, read as http.decoded reads it
    "near_names",  # the field a name given for one may have meant (--match-on)
    "money",
    "numbers",
    "dates",
    "sources",
    "json_text",
    "cursors",
    "side_by_side",
    "odata",
    "latest",
    "pairing",
    "redact",
    "masking",
    "targets",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(("bulkload", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules `name` imports, wherever in the file (TYPE_CHECKING and function-local included)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            origin = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
            submodules = {f"{origin}.{a.name}" for a in node.names} & modules.keys()
            out |= submodules or ({origin} & modules.keys())
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names} & modules.keys()
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_model_imports_nothing_of_the_engine() -> None:
    modules = _modules()
    assert _imports("bulkload.model", modules["bulkload.model"], modules) == set()
    tree = ast.parse(modules["bulkload.model"].read_text())
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert roots - set(sys.stdlib_module_names) <= {"msgspec", "__future__"}


def test_targets_see_the_engine_only_through_their_protocols() -> None:
    modules = _modules()
    for name, path in modules.items():
        if not name.startswith("bulkload.targets"):
            continue
        used = {m.split(".")[1] for m in _imports(name, path, modules)}
        assert used <= TARGET_MAY_IMPORT, (name, used - TARGET_MAY_IMPORT)
        assert "sqlite3" not in path.read_text(), f"{name} uses SQL: ask the ledger through targets.protocols.Created"


def test_a_target_is_a_handful_of_members() -> None:
    members = {m for m in vars(Target) if not m.startswith("__")} | set(Target.__annotations__)
    assert len(members) <= 12, sorted(members)


def test_a_targets_api_says_what_makes_its_kinds_line_checks() -> None:
    # an earlier bulkload's line checks are this version's where no version since changed what made them
    # (model.checks_alike), told by the ledger's target's Api.checks_by: its kinds bear it out
    from bulkload.targets import TARGETS
    from bulkload.targets.base import RecordKind

    options = {"payorcrm": [{"kind": "customers"}, {"kind": "invoices"}], "halopsa": [{"resource": "XeroDetails"}]}
    for name, cls in TARGETS.items():
        for given in options.get(name, [{}]):
            own = type(cls.from_options(given).kind_of(0)).line_check is not RecordKind.line_check
            assert cls.api.checks_by == ("line" if own else "record"), (name, given)
