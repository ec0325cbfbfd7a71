"""What a process imports for what it does: the planning child and `bulkload --help` never send a request, so they
import no aiohttp (~60 ms of its connector's TLS set-up alone, on every run's start), and only --version reads the
package's metadata (importlib.metadata, ~25 ms)."""

from __future__ import annotations

import subprocess
import sys

import bulkload
import bulkload.reconcile
import bulkload.runner


def _imports(code: str, module: str) -> bool:
    probe = f"{code}\nimport sys\nprint(any(m == {module!r} or m.startswith({module + '.'!r}) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.split()[-1] == "True"


def test_the_planning_child_imports_no_aiohttp() -> None:
    # what planning._CHILD imports before it plans
    assert not _imports("from bulkload.planning import child", "aiohttp")


def test_help_imports_no_aiohttp_nor_the_package_metadata() -> None:
    code = "from bulkload.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert not _imports(code, "aiohttp") and not _imports(code, "importlib.metadata")


def test_the_sandbox_command_still_has_its_arguments() -> None:
    code = "from bulkload.cli import main\ntry:\n    main(['sandbox', '--help'])\nexcept SystemExit:\n    pass"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "--latency-ms" in out.stdout and "economic" in out.stdout


def test_the_package_names_the_api_functions_though_a_submodule_shares_a_name() -> None:
    # the submodule bulkload.reconcile is imported (above) before the package's `reconcile` is first asked for
    assert bulkload.reconcile is bulkload.runner.reconcile
    assert bulkload.load is bulkload.runner.load and bulkload.Job.__name__ == "Job"
