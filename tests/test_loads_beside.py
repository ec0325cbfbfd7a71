"""The same file loaded again by another user (another cache, another --ledger): the record of loads beside the
file refuses it, as the user's own record refuses the user's own second load. Before (tester t70g), PayorCRM, Visma
Core entries and HaloPSA without --match-on created every record a second time, exit 0. Each test runs bulkload in
child processes against a sandbox of its own on a loopback port of 27000-27999; bounded in rows (10 to 40) and
each command in time (120 s)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, SandboxProcess, run_bulkload, spawn_sandbox, stopped_by_quota

from bulkload import runner
from bulkload.loads_beside import PREFIX
from bulkload.sandbox import SandboxOptions, running
from bulkload.who import user_at_host

#: each target's credentials, and the command's arguments for its files (after the target)
PAYORCRM = {"PAYORCRM_API_KEY": "beside-key", "PAYORCRM_API_SECRET": "beside-secret"}
CASES = {
    "payorcrm": (PAYORCRM, ["--customers", "customers.csv", "--invoices", "invoices.csv", "--amount-unit", "major"]),
    "visma-core": ({"VISMA_CORE_TOKEN": "beside-token"}, ["entries.csv"]),
    "halopsa": (
        {"HALO_CLIENT_ID": "beside-client", "HALO_CLIENT_SECRET": "beside-secret"},
        ["XeroDetails.csv", "--resource", "XeroDetails"],
    ),
}


def _free_port() -> int:
    """A loopback port of 27000-27999 no listener holds now."""
    for port in range(27000 + os.getpid() % 900, 28000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 27000-27999")


@contextmanager
def _sandbox(target: str) -> Iterator[SandboxProcess]:
    """The target's sandbox in a process of its own, on a port of 27000-27999."""
    sb = spawn_sandbox("--port", str(_free_port()), target=target)
    try:
        yield sb
    finally:
        sb.proc.kill()
        sb.proc.communicate(timeout=10)


def _generate(folder: Path, target: str) -> None:
    """The target's input files in `folder`, every row good."""
    made = {
        "payorcrm": [
            ("payorcrm-customers", "customers.csv", ["--rows", "5"]),
            ("payorcrm-invoices", "invoices.csv", ["--rows", "10", "--customers", "5"]),
        ],
        "visma-core": [("visma-core", "entries.csv", ["--rows", "20"])],
        "halopsa": [("halopsa", "XeroDetails.csv", ["--rows", "12"])],
    }[target]
    for kind, name, rows in made:
        generate = [sys.executable, "-m", "bulkload.sandbox.generate_data", "--kind", kind, *rows, "--seed", "7"]
        subprocess.run([*generate, str(folder / name)], check=True, capture_output=True, timeout=60)


def _count(sandbox: SandboxProcess, target: str) -> int:
    """How many records the sandbox holds of what the target's load creates."""
    what = {"payorcrm": "invoices", "visma-core": "entries", "halopsa": "records/XeroDetails"}[target]
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/{what}", timeout=30) as answer:
        return len(json.load(answer))


def _as_user(
    folder: Path, cache: Path, target: str, sandbox: SandboxProcess, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`bulkload load TARGET ARGS` in `folder` as a user whose cache is `cache`."""
    given = {**CASES[target][0], **(env or {}), "XDG_CACHE_HOME": str(cache)}
    return run_bulkload(folder, "load", target, *args, "--base-url", sandbox.url, "--no-progress", "-q", env=given)


@pytest.mark.parametrize("target", list(CASES))
def test_another_users_load_of_the_same_file_is_refused(tmp_path: Path, target: str) -> None:
    with _sandbox(target) as sandbox:
        _another_user_refused(tmp_path, target, sandbox)


def _another_user_refused(tmp_path: Path, target: str, sandbox: SandboxProcess) -> None:
    _generate(tmp_path, target)
    files = CASES[target][1]
    first = _as_user(tmp_path, tmp_path / "cacheA", target, sandbox, *files)
    assert first.returncode == 0, first.stderr
    once = _count(sandbox, target)
    assert once > 0
    assert any(p.name.startswith(PREFIX) for p in tmp_path.iterdir())

    # another user, another ledger, the file renamed: refused before its first call, and by a dry run too
    main = next(f for f in files if f.endswith(".csv") and f != "customers.csv")
    (tmp_path / main).rename(tmp_path / f"renamed-{main}")
    files = [f"renamed-{main}" if f == main else f for f in files]
    for extra in ([], ["--dry-run"]):
        second = _as_user(tmp_path, tmp_path / "cacheB", target, sandbox, *files, "--ledger", "b.sqlite", *extra)
        assert second.returncode == 2, second.stderr
        assert f"renamed-{main} was already loaded by " in second.stderr
        assert "as the record of loads beside the file says" in second.stderr
        assert "That run finished; to create its records again all the same, pass --allow-duplicate-load" in (
            second.stderr
        )
    assert _count(sandbox, target) == once
    assert not (tmp_path / "b.sqlite").exists()

    # the way on the message names: a deliberate second load still loads
    anyway = _as_user(
        tmp_path, tmp_path / "cacheB", target, sandbox, *files, "--ledger", "b.sqlite", "--allow-duplicate-load"
    )
    assert anyway.returncode == 0, anyway.stderr
    assert _count(sandbox, target) == 2 * once


def test_a_load_another_user_rolled_back_is_no_load(tmp_path: Path) -> None:
    with _sandbox("halopsa") as sandbox:
        _a_load_another_user_rolled_back_is_no_load(tmp_path, sandbox)


def _a_load_another_user_rolled_back_is_no_load(tmp_path: Path, sandbox: SandboxProcess) -> None:
    _generate(tmp_path, "halopsa")
    first = _as_user(tmp_path, tmp_path / "cacheA", "halopsa", sandbox, "XeroDetails.csv", "--ledger", "a.sqlite")
    assert first.returncode == 0, first.stderr
    env = {**CASES["halopsa"][0], "XDG_CACHE_HOME": str(tmp_path / "cacheA")}
    undone = run_bulkload(tmp_path, "rollback", "--ledger", "a.sqlite", "--no-progress", "-q", env=env)
    assert undone.returncode == 0, undone.stderr
    assert _count(sandbox, "halopsa") == 0

    second = _as_user(tmp_path, tmp_path / "cacheB", "halopsa", sandbox, "XeroDetails.csv", "--ledger", "b.sqlite")
    assert second.returncode == 0, second.stderr
    assert _count(sandbox, "halopsa") == 12


def test_another_account_at_one_address_is_not_refused(tmp_path: Path) -> None:
    with _sandbox("payorcrm") as sandbox:
        _another_account_at_one_address_is_not_refused(tmp_path, sandbox)


def _another_account_at_one_address_is_not_refused(tmp_path: Path, sandbox: SandboxProcess) -> None:
    """The record beside the file keeps the account as a salted fingerprint: another PAYORCRM_API_KEY is another
    account, whose load of the file is a first one; the key itself is nowhere in the record."""
    _generate(tmp_path, "payorcrm")
    files = CASES["payorcrm"][1]
    first = _as_user(tmp_path, tmp_path / "cacheA", "payorcrm", sandbox, *files)
    assert first.returncode == 0, first.stderr
    other = {"PAYORCRM_API_KEY": "another-accounts-key"}
    second = _as_user(tmp_path, tmp_path / "cacheB", "payorcrm", sandbox, *files, "--ledger", "b.sqlite", env=other)
    assert second.returncode == 0, second.stderr
    record = "".join(p.read_text() for p in tmp_path.iterdir() if p.name.startswith(PREFIX))
    assert "beside-key" not in record and "another-accounts-key" not in record and "beside-secret" not in record


def test_the_record_is_kept_where_the_outputs_go(tmp_path: Path) -> None:
    """Never in an input's folder the outputs were sent away from (the demo's shipped samples; a read-only mount,
    which a user other than root meets here): beside the rejects files, where another user who gives that folder
    finds it."""
    with _sandbox("visma-core") as sandbox:
        _the_record_is_kept_where_the_outputs_go(tmp_path, sandbox)


def _the_record_is_kept_where_the_outputs_go(tmp_path: Path, sandbox: SandboxProcess) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    _generate(data, "visma-core")
    data.chmod(0o555)
    try:
        args = [str(data / "entries.csv"), "--rejects", str(out / "rejects.csv")]
        first = _as_user(tmp_path, tmp_path / "cacheA", "visma-core", sandbox, *args, "--ledger", "out/a.sqlite")
        assert first.returncode == 0, first.stderr
        assert [p.name for p in data.iterdir()] == ["entries.csv"]
        assert any(p.name.startswith(PREFIX) for p in out.iterdir())
        again = _as_user(tmp_path, tmp_path / "cacheB", "visma-core", sandbox, *args, "--ledger", "out/b.sqlite")
        assert again.returncode == 2, again.stderr
        assert "as the record of loads beside the file says" in again.stderr
    finally:
        data.chmod(0o755)


@pytest.mark.parametrize("target", ["payorcrm", "halopsa"])
def test_another_users_corrected_copy_creates_only_what_is_new(tmp_path: Path, target: str) -> None:
    """A corrected copy (another content: not refused as loaded) by another user is told by the earlier user's
    ledger, which the record beside the files names: PayorCRM's unchanged invoices skipped and the changed one
    rejected, HaloPSA's unchanged records (rows of no group) skipped and the changed one created. Before, every one
    was created again, exit 0."""
    with _sandbox(target) as sandbox:
        _generate(tmp_path, target)
        files = CASES[target][1]
        first = _as_user(tmp_path, tmp_path / "cacheA", target, sandbox, *files)
        assert first.returncode == 0, first.stderr
        once = _count(sandbox, target)
        main = next(f for f in files if f.endswith(".csv") and f != "customers.csv")
        lines = (tmp_path / main).read_text(encoding="utf-8").splitlines(keepends=True)
        column = 2 if target == "payorcrm" else 1  # invoiceAmount; HaloPSA's name
        row = lines[3].split(",")
        row[column] = "999.99" if target == "payorcrm" else "Changed name"
        lines[3] = ",".join(row)
        (tmp_path / f"fixed-{main}").write_text("".join(lines), encoding="utf-8")
        fixed = [f"fixed-{main}" if f == main else f for f in files]
        second = _as_user(tmp_path, tmp_path / "cacheB", target, sandbox, *fixed, "--ledger", "b.sqlite")
        if target == "payorcrm":
            assert second.returncode == 1, second.stderr
            assert "0 loaded, 1 rejected, 0 in doubt, 14 skipped" in second.stdout, second.stdout
            assert _count(sandbox, target) == once
        else:
            assert second.returncode == 0, second.stderr
            assert "1 loaded, 0 rejected, 0 in doubt, 11 skipped" in second.stdout, second.stdout
            assert _count(sandbox, target) == once + 1


async def test_a_resume_puts_on_record_beside_its_outputs_the_load_that_could_not(tmp_path: Path) -> None:
    """Found by a tester (t74i): a load whose record beside its outputs could not be written (a full disk there,
    which stopped the run at its rejects file) was resumed once space was freed, and finished: no record beside the
    file named it, so another user's load of the file was not refused, and created every record again. The resume
    puts it there, once: a second resume writes no second line."""
    writer = re.sub(r"[^A-Za-z0-9@._-]", "_", user_at_host())
    record = tmp_path / f"{PREFIX}{writer}.jsonl"
    record.symlink_to(tmp_path / "nowhere")  # not written: os.O_NOFOLLOW refuses a link, as a full disk refuses
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            _, job, _ = await stopped_by_quota(tmp_path, url)
            assert record.is_symlink()  # the load went on without its record beside
            record.unlink()
            again = await runner.resume(str(job.ledger), env=CREDS, raise_on_stop=False, daily_quota=12)
            assert again.status == "stopped", again
            once = record.read_text()
            await runner.resume(str(job.ledger), env=CREDS, raise_on_stop=False, daily_quota=1_000)
    lines = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    assert [line["ledger"] for line in lines] == [str(job.ledger)], lines
    assert record.read_text() == once


def test_a_record_written_in_part_is_named_unwritten(tmp_path: Path) -> None:
    """Found by a tester (t74i): a folder with less room than the record's lines (a full disk, or a limit of file
    size) took part of them, and os.write said so only by its count: the load was on record nowhere beside its
    outputs, its line cut short, and no WARNING said so. Written in a child process whose file size limit is 10
    bytes."""
    child = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from bulkload.loads_beside import _write
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        folder = Path({str(tmp_path)!r})
        resource.setrlimit(resource.RLIMIT_FSIZE, (10, 10))
        print(_write([folder], [{{"run": "r" * 100}}]))
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True)
    assert f"[(PosixPath('{tmp_path}'), 'written in part:" in done.stdout, done.stdout
