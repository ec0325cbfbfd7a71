"""The planner's one interface: the child process (the default) and the in-process planner make the same plan, as
the same typed messages."""

from __future__ import annotations

import csv
import gzip
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

import anyio
import msgspec
import pytest
from conftest import write_entries

from bulkload.errors import PlanningFileError
from bulkload.planning import (
    Ended,
    Message,
    Planned,
    Planning,
    PlanningFailed,
    PlanningInProcess,
    PlanningProcess,
    PlanSpec,
    Rows,
    Stopped,
    planning_for,
)
from bulkload.prestart import IN_PROCESS_BYTES
from bulkload.profile import FileProfile


def append_bad_date(path: Path) -> None:
    with open(path, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow([5, 1, 9002, "2026-02-30", "10.00", "DKK", 1010, "", "bad date", ""])


async def plan_of(planning: Planning, spec: PlanSpec) -> list[Message]:
    return [message async for message in planning.plan(spec)]


async def test_the_child_and_the_in_process_planner_send_the_same_messages(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    totals = write_entries(data, 120)
    append_bad_date(data)
    spec = PlanSpec("economic", {}, [str(data)], [0], {}, None, {}, 50, 2_000_000)
    with anyio.fail_after(60):
        child = await plan_of(PlanningProcess(), spec)
        here = await plan_of(PlanningInProcess(), spec)
    assert msgspec.msgpack.encode(child) == msgspec.msgpack.encode(here)
    assert isinstance(child[-1], Ended) and child[-1].rows_read == totals["rows"] + 1
    planned = [m for m in child if isinstance(m, Planned)]
    assert sum(len(m.chunk()) for m in planned) == totals["rows"] and len(planned) == 5  # 240 rows, 50 a call
    assert [r.line_no for m in child if isinstance(m, Rows) for r in m.rows] == [totals["rows"] + 2]


async def test_each_message_counts_only_the_rows_it_and_those_before_it_carry(tmp_path: Path) -> None:
    """A run stops after any message (Loader._relay) and counts `rows_read` as that message says: rows rejected
    just before a chunk come first, and must not count the chunk, which the run that stops there never gets
    (49 rows in no bucket of a report)."""
    data = tmp_path / "entries.csv"
    write_entries(data, 60, bad_every=5)
    spec = PlanSpec("economic", {}, [str(data)], [0], {}, None, {}, 9, 2_000_000)
    with anyio.fail_after(60):
        messages = await plan_of(PlanningInProcess(), spec)
    carried, rows_before_chunk = 0, 0
    for before, message in zip([None, *messages], messages):
        carried += len(message.chunk()) if isinstance(message, Planned) else 0
        carried += len(message.rows) if isinstance(message, Rows) else 0
        rows_before_chunk += isinstance(before, Rows) and isinstance(message, Planned)
        assert message.rows_read == carried, (message, carried)
    assert rows_before_chunk > 3  # the case: rejected rows sent just ahead of a chunk


async def test_an_input_that_breaks_off_stops_the_plan_and_one_that_cannot_be_opened_fails_it(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 2000)
    cut = tmp_path / "cut.csv.gz"
    whole = gzip.compress(data.read_bytes())
    cut.write_bytes(whole[: len(whole) // 2])
    broken = PlanSpec("economic", {}, [str(cut)], [0], {}, None, {}, 50, 2_000_000)
    missing = PlanSpec("economic", {}, [str(tmp_path / "missing.csv")], [0], {}, None, {}, 50, 2_000_000)
    with anyio.fail_after(60):
        for planning in (PlanningProcess, PlanningInProcess):
            messages = await plan_of(planning(), broken)
            assert isinstance(messages[-1], Stopped) and "cannot read past line" in messages[-1].reason, messages[-1]
            assert any(isinstance(m, Planned) for m in messages)
            with pytest.raises(PlanningFailed, match="(?s)planning failed:.*No such file or directory"):
                await plan_of(planning(), missing)


async def test_a_file_the_system_refuses_or_a_bug_fails_the_plan_in_one_line_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A tester: a full disk under the spill file printed the child's traceback in the summary and the report, and
    `bulkload resume` did it again. A file the system refuses is a PlanningFileError naming it and the OS's words
    (the run then says: free space, then resume); a bug names itself in one line; the traceback goes to the log."""
    data = tmp_path / "entries.csv"
    write_entries(data, 20)
    (tmp_path / "afile").write_text("x")  # no spill file can be made under a file, as on a full disk
    apart = msgspec.to_builtins(FileProfile(path=str(data), encoding="utf-8", delimiter=",", grouped=False))
    spill = PlanSpec(
        "economic", {}, [str(data)], [0], {}, None, {}, 50, 2_000_000, profiles=[apart], workdir=str(tmp_path / "afile")
    )
    bug = PlanSpec("no-such-target", {}, [str(data)], [0], {}, None, {}, 50, 2_000_000)
    with anyio.fail_after(60), caplog.at_level("DEBUG", logger="bulkload.planning"):
        for planning in (PlanningProcess, PlanningInProcess):
            with pytest.raises(PlanningFileError) as refused:
                await plan_of(planning(), spill)
            said = str(refused.value)
            assert "cannot make the spill file" in said and "Not a directory" in said, said
            with pytest.raises(PlanningFailed) as failed:
                await plan_of(planning(), bug)
            assert not isinstance(failed.value, PlanningFileError)
            assert "internal error (a bug in bulkload" in str(failed.value) and "KeyError" in str(failed.value)
            for text in (said, str(failed.value)):
                assert "Traceback" not in text and "\n" not in text, text
    assert "Traceback" in caplog.text  # at -vv, for the report of a bug


def test_small_plain_inputs_are_planned_in_process_and_the_rest_by_the_child(tmp_path: Path) -> None:
    small, large, packed = tmp_path / "small.csv", tmp_path / "large.csv", tmp_path / "small.csv.gz"
    small.write_text("a,b\n1,2\n")
    large.write_bytes(b"a,b\n" + b"1,2\n" * (IN_PROCESS_BYTES // 4))
    packed.write_bytes(gzip.compress(small.read_bytes()))
    assert planning_for([small]) is PlanningInProcess
    for paths in ([large], [small, large], [small, packed]):  # the run's files together; a gzip says nothing
        assert planning_for(paths) is PlanningProcess, paths


def test_the_child_does_not_run_the_callers_script_again(tmp_path: Path) -> None:
    """A script with no `if __name__ == "__main__":` guard: the child plans without running the script's body
    (multiprocessing's spawn ran it again in the child, which then tried to start a planner of its own)."""
    data = tmp_path / "entries.csv"
    write_entries(data, 20)
    script = tmp_path / "plan.py"
    script.write_text(
        textwrap.dedent(f"""
            import anyio
            from bulkload.planning import PlanningProcess, PlanSpec

            print("the script ran", flush=True)
            spec = PlanSpec("economic", {{}}, [{str(data)!r}], [0], {{}}, None, {{}}, 50, 2_000_000)

            async def plan():
                return [message async for message in PlanningProcess().plan(spec)]

            print(type(anyio.run(plan)[-1]).__name__)
        """)
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "the script ran\nEnded\n", "")


def test_a_ctrl_c_while_the_planning_child_starts_is_left_to_its_parent(capfd: pytest.CaptureFixture[str]) -> None:
    """A terminal's Ctrl-C reaches the whole process group, the planning child too, which is still starting Python
    and importing bulkload in the first moment of a load (before, KeyboardInterrupt there: its traceback on the
    user's terminal after the parent's own `interrupted` line). It is the parent's to answer: the child lives on."""
    from bulkload import prestart

    sock, process = prestart.spawn()
    os.kill(process.pid, signal.SIGINT)
    os.kill(process.pid, signal.SIGHUP)
    sock.close()  # as a run that never sends it a plan: the child ends, as it does without the signals
    assert process.wait(timeout=30) == 0
    assert "Traceback" not in capfd.readouterr().err


def test_a_stop_as_the_planning_child_is_spawned_leaves_ctrl_c_unblocked(monkeypatch: pytest.MonkeyPatch) -> None:
    """pthread_sigmask runs the signal handlers before it returns: a SIGTERM's handler raising KeyboardInterrupt as
    the block of Ctrl-C for the child returned left Ctrl-C and hangup blocked in the loader for good, unless the
    block is inside the try that unblocks them."""
    from bulkload import prestart

    real = signal.pthread_sigmask

    def stopped_as_it_returns(how: int, mask: Iterable[int]) -> set[signal.Signals]:
        before = real(how, mask)
        if how == signal.SIG_BLOCK and set(mask) == prestart.LEFT_TO_PARENT:
            raise KeyboardInterrupt  # as the handler of a SIGTERM that came meanwhile does
        return before

    monkeypatch.setattr(signal, "pthread_sigmask", stopped_as_it_returns)
    with pytest.raises(KeyboardInterrupt):
        prestart.spawn()
    assert not prestart.LEFT_TO_PARENT & real(signal.SIG_BLOCK, ())


def test_a_load_of_large_files_starts_its_planning_child_as_the_command_starts(tmp_path: Path) -> None:
    """`bulkload load` with files the child plans starts it before the rest of bulkload is imported (prestart.py);
    a load of small files, a dry run or another command starts none; a child no run took ends when discarded."""
    from bulkload import prestart

    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_bytes(b"a,b\n1,2\n")
    large.write_bytes(b"a,b\n" + b"1,2\n" * (IN_PROCESS_BYTES // 4))
    for argv in (
        ["bulkload", "load", "economic", str(small)],
        ["bulkload", "load", "economic", str(large), "--dry-run"],
        ["bulkload", "resume", "--ledger", str(large)],
    ):
        prestart.start(argv)
        assert prestart.take() is None, argv
    prestart.start(["bulkload", "load", "economic", str(large), "--rate", "5"])
    started = prestart.take()
    assert started is not None and prestart.take() is None  # handed over once
    sock, process = started
    sock.close()  # as a run that never sends it a plan: the child ends
    assert process.wait(timeout=30) == 0
    prestart.start(["bulkload", "load", "economic", str(large)])
    prestart.discard()
    assert prestart.take() is None
