"""Tester t74j: a ledger on a read-only mount, its -wal left beside it (a run killed), was refused by resume, exit 2,
as "no permission to write in" its folder, while reconcile and rollback stopped at their first write of it, exit 4
("a read-only mount or permissions"). A ledger a command cannot write is a configuration to correct before anything
is sent: each of the three refuses it, exit 2, and says which it is, a read-only file system or a permission this
user lacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, remount, write_entries

COMMANDS = ("resume", "reconcile", "rollback")
#: as root, the permission bits bind only without the capabilities that pass them by
AS_USER = (
    ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
    if os.geteuid() == 0
    else []
)


def bulkload(folder: Path, *args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), *bulkload_cmd(*args)],
        env=child_env(CREDS),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def wal_left(ledger: Path) -> None:
    """A write of the ledger left in its -wal, as a process killed after it leaves it (no checkpoint at close)."""
    write = "UPDATE meta SET value = value WHERE key = 'schema_version'"
    code = f"import os, sqlite3; c = sqlite3.connect({str(ledger)!r}); c.execute({write!r}); c.commit(); os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert Path(f"{ledger}-wal").exists()


@pytest.fixture
def loaded(tmp_path: Path, mounted: Path, sandbox_process: SandboxProcess) -> Path:
    """A run of 10 vouchers whose ledger is on the tmpfs `mounted`, its inputs and other files beside it in
    `tmp_path`: the ledger's path."""
    write_entries(tmp_path / "e.csv", 10)
    ledger = mounted / "run.sqlite"
    done = bulkload(tmp_path, "load", "economic", "e.csv", "--base-url", sandbox_process.url, "--ledger", str(ledger))
    assert done.returncode == 0, done.stderr
    return ledger


@pytest.mark.slow
def test_a_ledger_on_a_read_only_mount_is_refused_alike_by_resume_reconcile_and_rollback(
    tmp_path: Path, loaded: Path
) -> None:
    wal_left(loaded)
    remount(loaded.parent, "ro")
    for command in COMMANDS:
        got = bulkload(tmp_path, command, "--ledger", str(loaded), "--no-progress")
        assert got.returncode == 2, (command, got.stderr)
        assert f"cannot write the ledger {loaded}: it is on a read-only file system" in got.stderr, command
        assert "mount it read-write" in got.stderr and "nothing was sent" in got.stderr, command
        assert "permission" not in got.stderr, command


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root without setpriv: no bits bind")
def test_a_ledger_this_user_may_not_write_is_refused_naming_the_permission(tmp_path: Path, loaded: Path) -> None:
    loaded.chmod(0o444)
    for command in COMMANDS:
        got = bulkload(tmp_path, command, "--ledger", str(loaded), "--no-progress", prefix=AS_USER)
        assert got.returncode == 2, (command, got.stderr)
        assert f"cannot write the ledger {loaded}: this user (" in got.stderr, command
        assert "has no permission to write it" in got.stderr and "read-only" not in got.stderr, command
