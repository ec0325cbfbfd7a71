"""`bulkload demo --workdir DIR` where DIR cannot be used is a usage error (exit 2) naming --workdir and what to do,
before any sandbox starts: a folder that cannot be made or written (tester t34a: `[Errno 17] File exists: '…';
nothing to resume`, exit 4), and one holding an earlier demo's ledgers (tester t34a: "use `bulkload resume` … or
roll it back", neither of which can work once the demo's sandboxes are gone)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import DemoRun, bulkload_cmd, child_env

from bulkload import demo


def _demo(tmp_path: Path, workdir: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        bulkload_cmd("-q", "demo", "--workdir", workdir),
        env=child_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_file_in_the_way_of_the_workdir_is_a_usage_error_naming_workdir(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    done = _demo(tmp_path, str(in_the_way))
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr == (
        f"bulkload: error: cannot use --workdir {in_the_way}: it is a file, not a folder; give --workdir a folder "
        "that can be made and written\n"
    )
    assert in_the_way.read_text() == "x" and done.stdout == ""


@pytest.mark.parametrize("where", ["under a file", "in /proc"])
def test_a_workdir_that_cannot_be_made_is_a_usage_error_naming_workdir(tmp_path: Path, where: str) -> None:
    if where == "in /proc" and not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    (tmp_path / "a-file").write_text("x")
    workdir = str(tmp_path / "a-file" / "demo") if where == "under a file" else "/proc/bulkload-demo-test"
    done = _demo(tmp_path, workdir)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith(f"bulkload: error: cannot make or write in --workdir {workdir}: "), done.stderr
    assert done.stderr.endswith("; give --workdir a folder that can be made and written\n"), done.stderr
    assert "Errno" not in done.stderr and "resume" not in done.stderr, done.stderr


def test_a_workdir_of_an_earlier_demo_says_to_give_another_not_to_resume(tmp_path: Path, demo_run: DemoRun) -> None:
    assert demo_run.code == 0, demo_run.stdout + demo_run.stderr
    folder = demo_run.workdir / "demo"
    before = sorted(os.listdir(folder))
    done = _demo(tmp_path, str(folder))
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert done.stderr == (
        f"bulkload: error: --workdir {folder} holds an earlier demo's ledgers (economic.ledger.sqlite, "
        "halopsa.ledger.sqlite, visma-core.ledger.sqlite, visma-core-costs.ledger.sqlite, payorcrm.ledger.sqlite): "
        "their sandboxes ended with that demo, so they can be neither continued nor rolled back, and a demo there "
        f"would be refused them; give another --workdir, or remove {folder} (or those ledgers) and run the demo "
        "there again\n"
    )
    assert "bulkload resume" not in said and "bulkload rollback" not in said and done.stdout == ""
    assert sorted(os.listdir(folder)) == before  # refused before any sandbox started: nothing written there


def test_two_demos_in_one_second_without_workdir_get_folders_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(demo.time, "strftime", lambda _: "20260101-120000")
    first = demo.demo_folder(None)
    (first / "economic.ledger.sqlite").write_bytes(b"")  # the first demo's, under way
    second = demo.demo_folder(None)
    assert (first, second) == (Path("bulkload-demo/20260101-120000"), Path("bulkload-demo/20260101-120000-2"))
    assert second.is_dir()


@pytest.mark.parametrize("workdir", [None, "mine"])
def test_a_demo_stopped_with_ctrl_c_says_to_run_it_again(tmp_path: Path, workdir: str | None) -> None:
    """A Ctrl-C during the demo (tester t42d: `bulkload: interrupted (Ctrl-C); nothing to resume`, which said
    nothing to do) says what a demo that did not complete says: run it again, with another --workdir where one was
    given, since it now holds this demo's ledgers."""
    given = ["--workdir", workdir] if workdir else []
    env = child_env({"XDG_CACHE_HOME": str(tmp_path / "cache")})
    args = bulkload_cmd("demo", *given)
    with subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        assert p.stdout is not None and p.stderr is not None
        while not p.stdout.readline().startswith("== "):  # the first flow's sandbox is up: its load begins
            assert p.poll() is None, p.stderr.read()
        p.send_signal(signal.SIGINT)
        err = p.stderr.read()
        assert p.wait(timeout=60) == 4, err
    again = "run the demo again with another --workdir, not a resume" if workdir else "run the demo again, not a resume"
    assert err.splitlines()[-1] == f"bulkload: interrupted (Ctrl-C); its sandboxes ended with it: {again}", err
