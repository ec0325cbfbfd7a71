"""A dry run never overwrites a real run's files: it writes `*.dry-run.*` files of its own, and its summary says
what it would send (rows, calls, bytes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CREDS, SandboxProcess, write_entries
from test_stopping import posts

from bulkload.cli import main
from bulkload.runner import dry_run_path


def test_dry_run_paths_are_the_real_ones_marked() -> None:
    assert dry_run_path("/w/e.csv.rejects.csv") == "/w/e.csv.rejects.dry-run.csv"
    assert dry_run_path("report.json") == "report.dry-run.json"
    assert dry_run_path("out/report") == "out/report.dry-run"


def _with_a_bad_row(path: Path, vouchers: int) -> int:
    """Balanced vouchers and one row with no amount; returns the good rows."""
    rows = write_entries(path, vouchers)["rows"]
    with open(path, "a") as fh:
        fh.write("5,1,99999,2026-11-01,,DKK,1010,,no amount,\n")
    return rows


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("given", [True, False], ids=["flags", "defaults"])
def test_a_dry_run_beside_a_real_run_leaves_its_files_byte_identical_and_says_what_it_would_send(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: bool,
) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "e.csv"
    good = _with_a_bad_row(data, 1_200)  # 2,400 rows: 5 calls of up to 500
    rejects, report = tmp_path / "r.csv", tmp_path / "report.json"
    flags = ["--rejects", str(rejects), "--report", str(report)] if given else []
    base = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--no-progress", *flags]
    assert main(base) == 1  # the real run: one row rejected
    real_calls = posts(sandbox_process)
    before = _files(tmp_path)
    assert {"e.csv.ledger.sqlite", rejects.name if given else "e.csv.rejects.csv"} <= set(before)
    capsys.readouterr()

    assert main([*base, "--dry-run"]) == 1  # the same command line, with --dry-run
    out = capsys.readouterr().out
    after = _files(tmp_path)
    assert {name: after[name] for name in before} == before  # not a byte of the real run's files changed
    own = {"r.dry-run.csv", "report.dry-run.json"} if given else {"e.csv.rejects.dry-run.csv"}
    assert set(after) - set(before) == own
    assert posts(sandbox_process) == real_calls  # no network
    dry_rejects = tmp_path / ("r.dry-run.csv" if given else "e.csv.rejects.dry-run.csv")
    assert dry_rejects.read_text().splitlines()[1].startswith(f"{data},2402,amount,")
    for label, value in [
        ("would load", f"{good:,}"),
        ("requests it would send", f"{real_calls:,}"),
        ("bytes it would send", ""),
    ]:
        assert f"│ {label}" in out and value in out, out
    if given:
        dry = json.loads((tmp_path / "report.dry-run.json").read_text())
        assert (dry["status"], dry["would_load"], dry["would_send_requests"]) == ("dry_run", good, real_calls)
        assert dry["would_send_bytes"] > good * 100  # an entry's JSON is well over 100 bytes
        assert dry["report_file"] == str(tmp_path / "report.dry-run.json")
        assert f"report: {tmp_path / 'report.dry-run.json'}" in out
