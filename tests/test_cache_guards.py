"""Guarantees that rest on the user's cache (the record of loads, the count of sends, the agreement's key) never
silently go: a load, resume, rollback or manifest run whose cache cannot be written is refused before it sends
(a tester: a read-only cache loaded one file twice, exit 0). A part that only spares the API warns."""

from __future__ import annotations

import json
import logging
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, write_entries

from bulkload.errors import ConfigError
from bulkload.outputs import cache_dir, check_cache


def test_a_cache_that_cannot_be_made_refuses_naming_the_folder_the_error_and_the_way_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # under a regular file no one can make a folder, root neither (chmod would not stop root)
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "afile" / "cache"))
    with pytest.raises(ConfigError) as refused:
        check_cache("load")
    said = str(refused.value)
    assert f"cannot write bulkload's cache {cache_dir()} (Not a directory)" in said, said
    assert "record of loads" in said and "XDG_CACHE_HOME" in said and said.endswith("nothing was sent"), said


@pytest.mark.parametrize(("part", "refuses"), [("sent", True), ("quota", True), ("windows", False)])
def test_each_part_of_the_cache_refuses_or_warns_as_its_guarantee_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, part: str, refuses: bool
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache_dir().mkdir(parents=True)
    (cache_dir() / part).write_text("a file where the folder goes")
    if refuses:
        with pytest.raises(ConfigError, match=f"cannot write bulkload's cache {cache_dir() / part} "):
            check_cache("resume")
        return
    with caplog.at_level(logging.WARNING):
        check_cache("resume")  # a run after this one may meet 429s: it slows down, nothing is doubled
    assert f"cannot write bulkload's cache {cache_dir() / part}" in caplog.text


def _requests(sandbox: SandboxProcess) -> int:
    with urllib.request.urlopen(f"{sandbox.root}/_sandbox/stats", timeout=10) as resp:
        return int(json.loads(resp.read())["requests"])


def _bulkload(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bulkload_cmd(*args, "--no-progress"),
        env=child_env({**CREDS, "XDG_CACHE_HOME": str(cache)}),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_load_resume_and_rollback_without_a_writable_cache_send_nothing(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 10)
    url = sandbox_process.url
    first = _bulkload(
        tmp_path / "cache", "load", "economic", str(data), "--base-url", url, "--ledger", str(tmp_path / "1")
    )
    assert first.returncode == 0, first.stderr
    sent = _requests(sandbox_process)
    (tmp_path / "afile").write_text("x")
    broken = tmp_path / "afile" / "cache"
    for args in (
        ["load", "economic", str(data), "--base-url", url, "--ledger", str(tmp_path / "2")],  # loaded twice, before
        ["resume", "--ledger", str(tmp_path / "1")],
        ["rollback", "--ledger", str(tmp_path / "1")],
    ):
        done = _bulkload(broken, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"cannot write bulkload's cache {broken / 'bulkload'} (Not a directory)" in done.stderr, done.stderr
        assert "XDG_CACHE_HOME" in done.stderr and "Traceback" not in done.stderr
    assert _requests(sandbox_process) == sent  # not one call
    assert not (tmp_path / "2").exists()
