"""The package as a new user gets it: a wheel built from the checkout (as `pip install .` builds it) holds the samples
and the data generator, and installed (not editable) into a fresh virtual environment outside the checkout it runs
`bulkload demo` from any directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bulkload.demo import in_doubt_note
from bulkload.results import Report

ROOT = Path(__file__).resolve().parent.parent
#: what the checkout holds besides its source: never part of the build
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
#: bounds on each step, for a machine that is busy (the install resolves the dependencies from the registry)
STEP_S = 300


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        timeout=STEP_S,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_the_installed_package_runs_the_demo_from_any_directory(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: a build leaves build/ and *.egg-info behind, never in the checkout
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "wheels", source, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheels").glob("bulkload-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    samples = {p.relative_to(ROOT).as_posix() for p in (ROOT / "bulkload" / "samples").rglob("*") if p.is_file()}
    assert len(samples) >= 13 and samples <= names, sorted(samples - names)
    assert "bulkload/sandbox/generate_data.py" in names

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)  # pip below installs into it
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [str(venv / "bin" / "bulkload"), "demo", "--workdir", str(tmp_path / "demo")],
        cwd=elsewhere,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=STEP_S,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    installed = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for flow in ("economic", "halopsa", "visma-core", "visma-core-costs", "payorcrm"):
        report = json.loads((tmp_path / "demo" / f"{flow}.report.json").read_text())
        assert report["status"] == "complete" and report["reconcile"]["ok"], report
        # the samples read are the installed package's own, not the checkout's
        assert all(Path(i["path"]).is_relative_to(installed / "bulkload" / "samples") for i in report["inputs"]), (
            installed,
            report["inputs"],
        )
    assert str(ROOT) not in done.stdout
    assert "all reconciled" in done.stdout, done.stdout
    # the closing note names no command to run: the one it named failed when run (no --ledger, sandboxes gone)
    assert "`bulkload resume --resend-in-doubt`" not in done.stdout
    assert ("rows are in doubt" in done.stdout) == ("nothing to resume" in done.stdout), done.stdout


def test_the_demos_closing_note_names_where_the_rows_in_doubt_are_and_no_command_to_run() -> None:
    def report(target: str, in_doubt: int) -> Report:
        return Report(
            target=target,
            status="complete",
            rows_read=10,
            loaded=10 - in_doubt,
            rejected=0,
            in_doubt=in_doubt,
            skipped=0,
            requests=3,
            retries=0,
            elapsed_s=0.5,
            reconcile=None,
            ledger=f"/demo/{target}.ledger.sqlite",
            rejects_file=f"/demo/{target}.rejects.csv",
            in_doubt_file=f"/demo/{target}.in_doubt.csv",
        )

    assert in_doubt_note([report("economic", 0)]) == []
    lines = in_doubt_note([report("economic", 0), report("visma-core", 2), report("payorcrm", 3)])
    assert lines[0].startswith("5 rows are in doubt")
    assert lines[1:3] == [
        "  /demo/visma-core.in_doubt.csv  (2 rows; ledger /demo/visma-core.ledger.sqlite)",
        "  /demo/payorcrm.in_doubt.csv  (3 rows; ledger /demo/payorcrm.ledger.sqlite)",
    ]
    # the sandboxes the ledgers name are gone: a resume of them could only fail, so none is given to run
    assert "nothing to resume" in lines[-1] and ".sqlite`" not in "".join(lines)
