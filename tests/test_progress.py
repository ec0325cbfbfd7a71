"""The progress display, driven on a clock of the test's own: the phases it shows and in what order, an ETA from the
rows settled (not the rows read, which run ahead of sending), the lines off a terminal, rich's display on a recorded
console; and a real load against the e-conomic sandbox that goes through planning, loading and reconciling."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, stopped_by_quota, write_entries
from msgspec import UNSET
from rich.console import Console

from bulkload import Job, load, reconcile, rollback, runner
from bulkload.cli import main
from bulkload.fleet import run_manifest
from bulkload.limits import Limits
from bulkload.manifest import read_manifest
from bulkload.meters import DailyQuota, RateMeter, WindowMeter
from bulkload.progress import Pace, Snapshot, show_progress
from bulkload.results import Report
from bulkload.run import Run, Shared
from bulkload.sandbox import SandboxOptions, running
from bulkload.stages import LOADING, LOOKING, PAUSED, PLANNING, RECONCILING, ROLLING_BACK, SETTLING, WAITING, Stages


class Clock:
    """The test's time: `sleep` moves it on, then applies what the script says happens by then."""

    def __init__(self, script: dict[float, Callable[[], None]], end: float) -> None:
        self.now = 0.0
        self.script = sorted(script.items())
        self.end = end
        self.scope: anyio.CancelScope | None = None

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_796_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        while self.script and self.script[0][0] <= self.now:
            self.script.pop(0)[1]()
        if self.now >= self.end:
            assert self.scope is not None
            self.scope.cancel()
        await anyio.lowlevel.checkpoint()


class FakeRun:
    """What a Run publishes, set by hand."""

    def __init__(self) -> None:
        self.stages = Stages()
        self.rows_read = self.loaded = self.requests = 0
        self.held = 0  # calls the limits hold back

    def snapshot(self) -> Snapshot:
        s = self.stages
        return Snapshot(
            s.name,
            s.done,
            s.total,
            s.unit,
            rows_read=self.rows_read,
            loaded=self.loaded,
            requests=self.requests,
            held=self.held,
        )


async def drive(run: FakeRun, clock: Clock, rows: int | None = None, **kw: object) -> None:
    """Show `run`'s progress on `clock` until the clock's script ends (`rows`: the input's)."""

    async def shown() -> None:
        await show_progress(run.snapshot, rows, clock=clock, wall_clock=clock.wall, sleep=clock.sleep, **kw)  # type: ignore[arg-type]

    with anyio.fail_after(10):  # real seconds: the test's clock takes none
        async with anyio.create_task_group() as tg:
            clock.scope = tg.cancel_scope
            tg.start_soon(shown)


def loading(run: FakeRun, read: int, loaded: int, requests: int = 0, *, full: bool = False) -> Callable[[], None]:
    def step() -> None:
        if run.stages.name != LOADING:
            run.stages.enter(LOADING, unit="rows")
        run.rows_read, run.loaded, run.requests, run.held = read, loaded, requests, 8 if full else 0

    return step


# --- the ETA and the phase, from successive snapshots -----------------------------------------------------------


def test_the_eta_is_the_rows_still_to_settle_over_the_pace_they_settle_at() -> None:
    now = [0.0]
    pace = Pace(10_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=1_000, loaded=0))
    now[0] = 10.0
    # reading is far ahead: 9,000 read, 1,000 settled (loaded or rejected) in 10 s
    fig = pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=9_000, loaded=800, rejected=200))
    assert fig.phase == LOADING and fig.done == 1_000 and fig.total == 10_000
    assert fig.per_s == pytest.approx(100.0)
    # 9,000 rows to settle at 100 a second; by rows read it would have said (10,000 - 9,000) / 900 ≈ 1 s
    assert fig.eta_s == pytest.approx(90.0)


def test_the_eta_counts_the_wait_a_rolling_window_still_has_in_store() -> None:
    now = [0.0]
    pace = Pace(3_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=1_000))
    now[0] = 10.0
    snap = Snapshot(
        LOADING,
        0,
        None,
        "rows",
        rows_read=1_000,
        rows_sent=1_000,
        loaded=1_000,
        requests=20,
        limit_wait=lambda calls: calls,
    )
    # 1,000 of 3,000 rows in 10 s is 100 rows/s (ETA 20 s), but 40 more calls need 40 s of window
    assert pace.figures(snap).eta_s == pytest.approx(40.0)


def test_the_eta_holds_the_pause_a_429_set_and_the_pace_before_it() -> None:
    """A 429 asked for 545 s: no row settles while the calls pause, so the pace of the last half minute falls to
    nothing. The ETA is what is left of the pause and the rows still to go at the pace before it (before: no ETA
    at all, or the pace before it alone, 0:00:40 for the whole nine minutes)."""
    now = [0.0]
    pace = Pace(5_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=1_000))
    now[0] = 10.0
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=2_000, loaded=1_000))  # 100 rows/s
    now[0] = 100.0
    fig = pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=2_000, loaded=1_000, paused_s=455.0, held=4))
    assert fig.per_s == 0.0 and fig.phase == PAUSED
    assert fig.eta_s == pytest.approx(455.0 + 4_000 / 100.0)


def test_calls_waiting_out_a_settle_delay_are_the_phase_and_their_wait_the_eta() -> None:
    """A HaloPSA resume looks for the records of calls whose answers were lost only after `--settle-s` (120 s):
    meanwhile nothing settles. The phase says why and the ETA holds the wait (before: "loading 98 % ... 0 rows/s"
    and no ETA for two minutes, as if it hung)."""
    now = [0.0]
    pace = Pace(1_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=1_000))
    now[0] = 10.0
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=1_000, loaded=980))
    now[0] = 50.0
    fig = pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=1_000, loaded=980, settling_s=80.0))
    assert fig.phase == SETTLING and fig.eta_s is not None and fig.eta_s >= 80.0


def test_the_calls_the_window_still_has_to_let_through_are_those_of_rows_not_sent() -> None:
    now = [0.0]
    pace = Pace(10_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=500))
    now[0] = 1.0
    window: Callable[[float], float] = lambda calls: calls  # noqa: E731 - a second a call
    # 10 calls of 500 rows sent, 2 of them answered: 9,000 rows to go are 18 calls (not 90, as if every call so far
    # had carried the 1,000 rows settled), 18 s of window; the pace says 9 s
    snap = Snapshot(
        LOADING, 0, None, "rows", rows_read=5_000, rows_sent=5_000, loaded=1_000, requests=10, limit_wait=window
    )
    assert pace.figures(snap).eta_s == pytest.approx(18.0)


def test_the_calls_a_row_takes_are_of_the_rows_sent_not_of_those_read_ahead() -> None:
    """HaloPSA bound by its rolling window (2 calls a second): the reader ran 2,400 rows ahead of the 4 calls of 50
    rows sent. The calls still to come are the 2,800 rows to go at 50 rows a call, 56 calls, 28 s of window (before:
    at 4 calls for the 2,400 rows read, 5 calls, and the settle pace's 0:00:14 stood; a tester's repro
    halo-window-eta, where loading ended 28 s after an ETA of 0:00:07)."""
    now = [0.0]
    pace = Pace(3_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=50))
    now[0] = 1.0
    window: Callable[[float], float] = lambda calls: calls / 2  # noqa: E731 - 2 calls a second
    snap = Snapshot(LOADING, 0, None, "rows", rows_read=2_400, rows_sent=200, loaded=200, requests=4, limit_wait=window)
    assert pace.figures(snap).eta_s == pytest.approx(28.0)


def test_the_pace_is_that_of_the_last_half_minute() -> None:
    now = [0.0]
    pace = Pace(100_000, lambda: now[0])
    for t, settled in ((0, 0), (20, 20_000), (40, 20_000), (60, 21_000)):  # fast, then the API slowed down
        now[0] = float(t)
        fig = pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=30_000, loaded=settled))
    assert fig.per_s == pytest.approx(1_000 / 40, rel=0.01), "the samples of the last 30 s and the one before"
    assert fig.eta_s == pytest.approx(79_000 / fig.per_s)


def test_after_a_resume_the_pace_is_of_the_rows_this_invocation_settled() -> None:
    """A resume reads its input again from the start: the 40,000 rows an earlier invocation loaded settle in its first
    second, from the ledger, beside 2,500 it sends. They are counted (the bar), not timed (before: "42,500 rows/s |
    ETA 0:00:03", then drifting for half a minute, while the pace was 2,500 rows/s and a minute was left)."""
    now = [0.0]
    pace = Pace(200_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=0))
    now[0] = 1.0
    fig = pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=45_000, loaded=42_500, earlier=40_000))
    assert fig.done == 42_500 and fig.total == 200_000
    assert fig.per_s == pytest.approx(2_500.0)
    assert fig.eta_s == pytest.approx(157_500 / 2_500)
    now[0] = 10.0
    fig = pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=70_000, loaded=65_000, earlier=40_000))
    assert fig.per_s == pytest.approx(2_500.0) and fig.eta_s == pytest.approx(135_000 / 2_500)


def test_after_a_resume_the_calls_a_row_takes_are_those_of_the_rows_it_sends() -> None:
    """Rows an earlier invocation settled took no call of this one: the rolling window's wait is for the calls the
    rows still to go take at this invocation's calls a row (500 rows a call: 315 calls, not 35)."""
    now = [0.0]
    pace = Pace(200_000, lambda: now[0])
    pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=0))
    now[0] = 1.0
    window: Callable[[float], float] = lambda calls: calls  # noqa: E731 - a second a call
    snap = Snapshot(
        LOADING,
        0,
        None,
        "rows",
        rows_read=45_000,
        rows_sent=5_000,
        loaded=42_500,
        earlier=40_000,
        requests=10,
        limit_wait=window,
    )
    assert pace.figures(snap).eta_s == pytest.approx(157_500 / 500)


def test_calls_held_back_by_the_limits_show_as_waiting_and_the_phase_again_once_calls_go() -> None:
    now = [0.0]
    pace = Pace(1_000, lambda: now[0])

    def snap(phase: str, requests: int, held: int) -> Snapshot:
        return Snapshot(phase, 0, None, "records", rows_read=500, loaded=400, requests=requests, held=held)

    assert pace.figures(snap(LOADING, 300, 8)).phase == LOADING
    now[0] = 0.5
    assert pace.figures(snap(LOADING, 300, 8)).phase == LOADING, "a moment without a call is no wait"
    now[0] = 5.0
    fig = pace.figures(snap(LOADING, 300, 8))
    assert (fig.phase, fig.bar) == (WAITING, LOADING)
    now[0] = 6.0
    assert pace.figures(snap(LOADING, 301, 8)).phase == LOADING
    now[0] = 10.0
    assert pace.figures(snap(LOADING, 301, 0)).phase == LOADING, "nothing held back: busy elsewhere, not waiting"
    # the walk of reconciling passes the same limits
    now[0] = 20.0
    fig = pace.figures(snap(RECONCILING, 301, 2))
    assert (fig.phase, fig.bar) == (WAITING, RECONCILING)


async def test_the_limits_count_the_calls_they_hold_back() -> None:
    limits = Limits(quota=DailyQuota(0), rate=RateMeter(None), windows=[WindowMeter(1, 60.0, margin_s=0.0)])
    await limits.acquire()
    assert limits.held == 0
    async with anyio.create_task_group() as tg:
        tg.start_soon(limits.acquire)  # the window's one call a minute is spent: held back
        await anyio.wait_all_tasks_blocked()
        assert limits.held == 1
        tg.cancel_scope.cancel()
    assert limits.held == 0


def test_before_the_first_chunk_is_planned_the_load_is_planning() -> None:
    pace = Pace(1_000, lambda: 0.0)
    assert pace.figures(Snapshot(LOADING, 0, None, "rows", rows_read=0)).phase == PLANNING


# --- the display, driven ---------------------------------------------------------------------------------------


def script_of_a_load(run: FakeRun) -> dict[float, Callable[[], None]]:
    """Planning for 2 s, loading for 24 s (the window binds from 12 s to 16 s), reconciling from 26 s."""

    def reconciling() -> None:
        run.stages.enter(RECONCILING, 1_000, "records")

    def walked() -> None:
        run.stages.advance(500)

    return {
        2.0: loading(run, 100, 0),
        6.0: loading(run, 600, 200, 2),
        12.0: loading(run, 900, 500, 5, full=True),
        16.0: loading(run, 1_000, 800, 8),
        26.0: reconciling,
        28.0: walked,
    }


async def test_off_a_terminal_a_timestamped_line_per_interval_and_one_per_phase_change() -> None:
    run = FakeRun()
    clock = Clock(script_of_a_load(run), end=30.0)
    out = io.StringIO()
    await drive(run, clock, stream=out, every_s=10.0)
    lines = out.getvalue().splitlines()
    stamps = [datetime.fromisoformat(line.split(" ", 1)[0]) for line in lines]
    assert stamps == sorted(stamps) and all(s.tzinfo is not None for s in stamps)
    phases = [line.split(" ", 1)[1].split(" |")[0].rstrip("0123456789% ") for line in lines]
    seconds = [round(s.timestamp() - clock.wall() + clock.now) for s in stamps]  # on the test's clock
    # a line at each change of phase, and one 10 s after the last line while a phase lasts
    assert list(zip(seconds, phases)) == [
        (0, PLANNING),
        (2, LOADING),
        (12, LOADING),
        (13, WAITING),
        (16, LOADING),
        (26, RECONCILING),
    ], lines


async def test_off_a_terminal_a_display_after_another_does_not_say_again_what_it_said_last() -> None:
    # found by tester t42d: a load shows its read of the files, then its run, two displays one after the other, and
    # every load printed its first line twice off a terminal ("planning | requests 0 …", the same second)
    run, out = FakeRun(), io.StringIO()
    clock = Clock({}, end=1.0)
    await drive(run, clock, stream=out, every_s=10.0)
    clock.end = 2.0
    await drive(run, clock, stream=out, every_s=10.0)  # the run's display, a second later: the same line
    assert len(out.getvalue().splitlines()) == 1, out.getvalue()
    other = io.StringIO()
    clock.end = 3.0
    await drive(run, clock, stream=other, every_s=10.0)  # another stream has said nothing yet
    assert len(other.getvalue().splitlines()) == 1, other.getvalue()


async def test_the_terminal_display_shows_the_phase_a_bar_and_the_eta() -> None:
    run = FakeRun()
    console = Console(file=io.StringIO(), record=True, force_terminal=True, width=160)
    clock = Clock({0.5: loading(run, 900, 100, 1), 10.0: loading(run, 1_000, 500, 5)}, end=11.0)
    await drive(run, clock, console=console, rows=1_000)
    screen = console.export_text()
    assert "loading" in screen and "━" in screen and "50%" in screen, screen
    # 500 settled of 1,000 at 400 rows in 10 s: 500 rows to go at 40 rows/s
    assert "500/1,000 rows" in screen and "ETA 0:00:12" in screen and "read 1,000" in screen, screen


# --- a real load -----------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_load_shows_planning_loading_and_reconciling_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 600)
    with anyio.fail_after(60):
        # each call a round trip of 0.5 s: every phase spans a few of the display's looks (4 a second), also
        # reconciling, whose counts and walk now go out together (one round trip)
        async with running("economic", SandboxOptions(latency_ms=500)) as url:
            # the journal holds an entry of another voucher: one that held none is not looked in
            earlier = tmp_path / "earlier.csv"
            write_entries(earlier, 1, first_voucher=1000)
            job = Job(target="economic", files=[str(earlier)], base_url=url, ledger=str(tmp_path / "earlier.sqlite"))
            assert (await load(job, env=CREDS)).exit_code == 0
            job = Job(
                target="economic",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=str(tmp_path / "rejects.csv"),
                batch_size=100,
            )
            capsys.readouterr()
            report = await load(job, env=CREDS, progress=True)
    assert report.exit_code == 0 and report.requests < 40
    # the look for the vouchers the journal holds already is a phase of its own (tester t30b: against a slow API and
    # a full journal, half a minute of "planning 0%" with nothing said)
    assert phases_shown(capsys.readouterr().err) == [PLANNING, LOOKING, LOADING, RECONCILING]


@pytest.mark.slow
async def test_the_rows_a_load_shows_are_the_rows_its_file_holds_not_its_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by a tester: "0/3 rows" for a 2-row file with Excel's sep= line: its line ends less a header's are not
    # its rows (a sep= line, a blank line, a cell over two lines, a last line without its end), the rows the file was
    # read to before the first call are
    data = tmp_path / "sep.csv"
    header = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text"
    lines = ['5;1;1;31-10-2026;100,00;DKK;1010;"two\r\nlines"', "", "5;1;1;31-10-2026;-100,00;DKK;5600;Bank"]
    data.write_text("\r\n".join(["sep=;", header, *lines]), encoding="utf-8")
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(latency_ms=500)) as url:
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"))
            report = await load(job, env=CREDS, progress=True)
    assert report.exit_code == 0 and report.loaded == 2, report
    shown = [line for line in capsys.readouterr().err.splitlines() if f" {LOADING}" in line and " rows" in line]
    assert shown and all("/2 rows" in line for line in shown), shown


@pytest.mark.slow
async def test_a_rollback_shows_the_records_it_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 60)
    with anyio.fail_after(60):
        # each DELETE a round trip of 50 ms: 120 of them, 8 at once, span a few of the display's looks
        async with running("economic", SandboxOptions(latency_ms=50)) as url:
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"))
            assert (await load(job, env=CREDS)).exit_code == 0
            undone = await rollback(str(tmp_path / "run.sqlite"), env=CREDS, progress=True)
    assert undone.exit_code == 0 and undone.removed == 120
    lines = capsys.readouterr().err.splitlines()
    assert ROLLING_BACK in phases_shown("\n".join(lines)), lines
    assert all("/120 records" in line for line in lines if f" {ROLLING_BACK} " in line), lines


async def test_the_walk_of_a_reconciliation_counts_to_what_the_journal_holds_past_the_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by tester t40d: a reconciliation walks every record created since the run's baseline, another run's too,
    # and its progress counted them against the run's own: "reconciling 100% | 34,849/2,983 records" for most of it
    first, later = tmp_path / "a.csv", tmp_path / "b.csv"
    write_entries(first, 5)
    write_entries(later, 20, first_voucher=6)
    seen: list[tuple[str, int, int | None]] = []
    advance = Stages.advance

    def watched(self: Stages, n: int = 1) -> None:
        advance(self, n)
        seen.append((self.name, self.done, self.total))

    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(page_size=10)) as url:
            for data in (first, later):
                job = Job(target="economic", files=[str(data)], base_url=url, ledger=f"{data}.sqlite")
                assert (await load(job, env=CREDS)).exit_code == 0
            monkeypatch.setattr(Stages, "advance", watched)
            checked = await reconcile(f"{first}.sqlite", env=CREDS)
    assert checked.exit_code == 0, checked
    walked = [(done, total) for name, done, total in seen if name == RECONCILING]
    assert walked and walked[-1] == (50, 50), walked  # its 10 entries and the later run's 40
    assert all(total is not None and done <= total for done, total in walked), walked


async def test_the_read_of_the_files_before_the_first_call_shows_the_rows_it_has_come_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by tester t40d: a load reads its files whole before the first call (their encoding, decimal mark, date
    # order and groups decided for the whole file), and showed nothing meanwhile, on a terminal or off it: 10 s for a
    # file of 2,000,000 rows, minutes for a bigger one, as if it hung
    data = tmp_path / "entries.csv"
    write_entries(data, 12_500)  # 25,000 rows
    shown: list[Callable[[], Snapshot]] = []
    show = runner.shown

    def watched(snapshot: Callable[[], Snapshot], rows: int | None, enabled: bool = True) -> object:
        shown.append(snapshot)
        return show(snapshot, rows, enabled)

    monkeypatch.setattr(runner, "shown", watched)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"))
            report = await load(job, env=CREDS, progress=True)
    assert report.exit_code == 0, report
    (reading,) = shown
    figures = reading()
    assert (figures.phase, figures.unit, figures.done) == (PLANNING, "rows", 20_000), figures  # 10,000 at a time


async def test_the_reconcile_command_shows_its_walk_and_takes_no_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by tester t40d: `bulkload reconcile` showed nothing while it walked, on a terminal or off it (the walk of a
    # big journal takes minutes against a real API), where resume and rollback show it; nor did it take --no-progress
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "entries.csv"
    write_entries(data, 60)
    ledger = str(tmp_path / "run.sqlite")
    with anyio.fail_after(60):
        # a page of 10 a round trip of 0.2 s: the walk spans a few of the display's looks
        async with running("economic", SandboxOptions(latency_ms=200, page_size=10)) as url:
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=ledger)
            assert (await load(job)).exit_code == 0
            capsys.readouterr()
            checked = await reconcile(ledger, progress=True)
            err = capsys.readouterr().err
            code = await anyio.to_thread.run_sync(main, ["reconcile", "--ledger", ledger, "--no-progress", "-q"])
    assert checked.exit_code == 0 and code == 0, checked
    assert RECONCILING in phases_shown(err), err
    assert all("/120 records" in line for line in err.splitlines() if f" {RECONCILING}" in line), err
    assert capsys.readouterr().err == ""


def times(report: Report, rows: int) -> None:
    """The report's rows/s is `rows` over its elapsed seconds (each as the report rounds it: to 0.1, to 0.001)."""
    per_s, seconds = report.rows_per_s, report.elapsed_s
    assert per_s is not UNSET and per_s is not None and seconds > 0, report
    assert abs(per_s * seconds - rows) <= 0.0005 * per_s + 0.05 * seconds, (per_s, seconds, rows)


async def test_a_resume_times_the_rows_it_settled_not_those_an_earlier_invocation_did(tmp_path: Path) -> None:
    """The rows the stopped run loaded are counted again by its resume (the bar, the report's buckets) but timed by
    neither its display nor its summary's rows/s, which are this invocation's as its requests and elapsed are
    (before: the display took them as settled in the resume's first second, the rows/s counted them too)."""
    runs: list[Run] = []
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            _, job, first = await stopped_by_quota(tmp_path, url)
            assert first.loaded < 600 and first.in_doubt == 0, first
            loaded_before = first.loaded
            shared = Shared(anyio.CapacityLimiter(3), opened=runs.append)
            again = await runner.resume(str(job.ledger), env=CREDS, daily_quota=1_000, shared=shared)
    assert again.status == "complete" and again.rows_read == again.loaded == 600, again
    (run,) = runs
    snap = run.snapshot()
    assert snap.settled == 600 and snap.earlier == loaded_before, (snap, loaded_before)
    times(again, 600 - loaded_before)


async def test_a_loads_and_a_resumes_elapsed_count_from_the_commands_start(tmp_path: Path) -> None:
    """A load's and a resume's `elapsed_s` (and a load's `load_s`) count from when the command began, the reading,
    hashing and checking of the inputs before the first call included, as a reconcile's, a rollback's and a dry
    run's do (docs/report.md: the whole command's wall time). Before, they counted from the first call's setup: a
    200,000-row load of 8.4 s said 7.0 s (tester t74j). The start is given, 100 s back, as the command line's
    would be had its reading taken that long."""
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            _, job, first = await stopped_by_quota(tmp_path, url)
            early = anyio.current_time() - 100  # the event loop's clock is time.monotonic()
            write_entries(other := tmp_path / "f.csv", 50, journal=2)
            alone = replace(job, files=[str(other)], ledger=str(tmp_path / "f.sqlite"), daily_quota=0)
            loaded = await runner.load(alone, env=CREDS, started=early)
            again = await runner.resume(str(job.ledger), env=CREDS, daily_quota=1_000, started=early)
    assert loaded.status == again.status == "complete", (loaded, again)
    assert loaded.elapsed_s >= 100 and loaded.load_s >= 100 and again.elapsed_s >= 100, (loaded, again)
    times(loaded, 100)
    times(again, 600 - first.loaded)


async def test_a_manifest_job_resumed_times_the_rows_it_settled_not_those_an_earlier_run_did(tmp_path: Path) -> None:
    """As a resume, so `bulkload run MANIFEST --resume`: each job's rows/s is of its own rows."""
    data = tmp_path / "e.csv"
    write_entries(data, 300)
    env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
    path = tmp_path / "m.toml"
    runs: list[Run] = []
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            path.write_text(
                f'output_dir = "{tmp_path / "runs"}"\n[[job]]\nname = "j"\ntarget = "economic"\n'
                f'base_url = "{url}"\nfiles = ["{data}"]\nbatch_size = 20\nconcurrency = 3\nattempts = 1\n'
                "daily_quota = 9\n"
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
                encoding="utf-8",
            )
            first = (await run_manifest(read_manifest(str(path)), env=env)).jobs[0].report
            assert first is not None and first.status == "stopped" and 0 < first.loaded < 600, first
            path.write_text(path.read_text(encoding="utf-8").replace("daily_quota = 9", "daily_quota = 1000"))
            fleet = await run_manifest(
                read_manifest(str(path)), env=env, resume=True, opened=lambda name, run: runs.append(run)
            )
    again = fleet.jobs[0].report
    assert again is not None and again.status == "complete" and again.loaded == 600, again
    assert runs[0].snapshot().earlier == first.loaded
    times(again, 600 - first.loaded)


def phases_shown(err: str) -> list[str]:
    """The phases of the lines off a terminal, each once, in the order shown."""
    phases = [line.split(" ", 1)[1].split(" |")[0].rstrip("0123456789% ") for line in err.splitlines()]
    return [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]
