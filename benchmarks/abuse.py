"""Every abuse case of issue 12, each run as the real CLI in a child process bounded in time: its exit code next to
the one the README gives it, the wall time, the peak RSS of bulkload's process tree (loader + planner child,
/proc sampled every 20 ms) and the first line it wrote to stderr. Prints one Markdown table.

    python -m benchmarks.abuse [--quick] [--only NAME ...] [--save]

The cases are staged by the other benchmarks and the hostile API of bulkload.sandbox.hostile: stopping.py (signals,
full disk, the planner child), big_answer.py (1 GB answers), bounded.py (gzip bombs, the 100 MB line),
bench_isolation.py (the isolation budget). Where a run ends with its summary rather than a line on stderr (a stop
it reports: exit 4, or rejected rows), the table shows the summary's line saying why. The planner child is timed
twice: from a kill -9 of a loading `bulkload load` (seconds until all its children are gone), and under
stopping.py's driver, blocked on a FIFO. `--quick` shrinks the sizes (64 MB answers, 64 MiB bombs, an 8 MB line,
4,000 vouchers cut short); `--save` writes the table to benchmarks/results/abuse.md with the command and commit.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import bench_isolation, bounded, stopping
from benchmarks.big_answer import big_answer
from benchmarks.common import ENV, alive, bulkload, data_file, measure, sandbox, tree_pids
from bulkload.sandbox.hostile import (
    PREFIX,
    Answer,
    Hostile,
    going_back,
    inputs,
    looping,
    self_signed_context,
    served,
    tampered,
)

MB = 1024 * 1024
#: seconds any one run may take before its process tree is killed (the row then says so)
TIMEOUT_S = 600
RESULTS = Path(__file__).parent / "results" / "abuse.md"


@dataclass
class Row:
    """One line of the table."""

    case: str
    expected: str
    exit: str
    wall_s: float | None
    rss_mb: float | None
    said: str
    note: str = ""


@dataclass
class Setup:
    """What every case gets: a folder of its own and the sizes to use."""

    work: Path
    quick: bool

    def folder(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def first_line(run: dict[str, Any]) -> str:
    """The first line the run wrote to stderr; where it wrote none (a run that ends with its summary), the
    summary's line saying why it stopped or what it rejected, marked as stdout's."""
    line = next((ln.strip() for ln in run.get("said", "").splitlines() if ln.strip()), "")
    if not line:
        line = next(
            (
                f"(stdout) {ln.strip()}"
                for ln in run.get("printed", "").splitlines()
                if ln.startswith(("stopped:", "rejected rows"))
            ),
            "",
        )
    line = line.replace("|", "\\|")
    return line if len(line) <= 140 else line[:137] + "..."


def row(case: str, expected: int, run: dict[str, Any], note: str = "") -> Row:
    """A row from a `measure` (or `bulkload`) result."""
    code = "killed at the time limit" if run.get("timed_out") else str(run["exit"])
    return Row(case, str(expected), code, run["wall_s"], run["peak_rss_mb"], first_line(run), note)


def load(s: Setup, name: str, *args: str, expected: int, note: str = "", **env: str) -> Row:
    """`bulkload load ARGS` in its own folder (ledger, rejects, report): its row."""
    folder = s.folder(name)
    run = bulkload(
        folder, "run", *args, timeout_s=TIMEOUT_S, stderr=folder / "stderr.txt", stdout=folder / "stdout.txt"
    )
    return row(name, expected, run, note)


def hostile_load(
    s: Setup, name: str, api: Hostile, *flags: str, expected: int, ssl_context: ssl.SSLContext | None = None
) -> Row:
    """A small good load of `api.target` against `api`, 2 attempts a call, 5 s an answer."""
    with served(api.app(), ssl_context) as origin:
        out = load(
            s,
            name,
            api.target,
            *inputs(api.target, s.folder(name)),
            "--base-url",
            origin + PREFIX.get(api.target, ""),
            "--attempts",
            "2",
            "--timeout",
            "5",
            "--window-limit",
            "0",
            *flags,
            expected=expected,
        )
    if api.streamed:
        out.note = f"the server wrote {api.streamed / MB:,.0f} MB"
    return out


def answering(where: str, answer: Answer, method: str = "GET") -> Callable[[str, str, int], Answer | None]:
    return lambda m, path, n: answer if m == method and path.endswith(where) else None


# --- the cases -------------------------------------------------------------------------------------------------


def job_file(s: Setup, name: str, text: str) -> list[Row]:
    config = s.folder(name) / "job.toml"
    config.write_text(text)
    return [
        load(s, name, "economic", *inputs("economic", s.folder(name)), "--config", str(config), "--dry-run", expected=2)
    ]


def not_a_url(s: Setup) -> list[Row]:
    return [
        load(
            s,
            "base-url-notaurl",
            "economic",
            *inputs("economic", s.folder("base-url-notaurl")),
            "--base-url",
            "notaurl",
            expected=2,
        )
    ]


def cut_short(s: Setup, sig: signal.Signals) -> list[Row]:
    work = s.folder(sig.name)
    env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(work / "cache")}
    with sandbox("economic", "--latency-ms", "40") as box:
        case = stopping.load_cut_short(
            work,
            box,
            sig.name,
            1,
            4_000 if s.quick else 20_000,
            env,
            work / "run.sqlite",
            stopping.signal_at_calls(box, sig),
        )
        resumed = case["resume"]()
        in_api = stopping.count_in_journal(box, 1)
    return [
        row(
            f"{sig.name} mid-load",
            4,
            case,
            f"exit {case['after_s']:.2f} s after the signal; "
            f"{case['loaded_at_stop']:,} of {case['rows']:,} rows loaded at the stop",
        ),
        row(f"{sig.name}: then resume", 0, resumed, f"{in_api:,} of {case['rows']:,} rows in the API"),
    ]


def full_disk(s: Setup) -> list[Row]:
    work = s.folder("full-disk")
    env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(work / "cache")}
    with sandbox("economic", "--latency-ms", "40") as box:
        case = stopping.full_disk(work, box, env, 10_000)  # 20,000 rows: their ledger outgrows 1 MB
        in_api = stopping.count_in_journal(box, 4) if case else 0
    if case is None:
        return [Row("ledger on a full 1 MB tmpfs", "4", "-", None, None, "", "skipped: this process may not mount")]
    return [
        row("ledger on a full 1 MB tmpfs", 4, case, f"{case['loaded_at_stop'] or 0:,} rows loaded at the stop"),
        row(
            "full tmpfs: resume once it is 64 MB", 0, case["resumed"], f"{in_api:,} of {case['rows']:,} rows in the API"
        ),
    ]


def killed_loader(s: Setup) -> list[Row]:
    """`bulkload load` of 100,000 entries killed with SIGKILL once the sandbox has counted 3 bulk calls: how long
    its planner child, busy planning ahead, outlives it; then the planner of a loader killed while it waits on a
    FIFO nobody writes (stopping.py's driver, not the CLI)."""
    folder = s.folder("planner")
    gone: dict[str, float] = {}
    with sandbox("economic", "--latency-ms", "40") as box:

        def kill(proc: subprocess.Popen[bytes]) -> None:
            while stopping.posts(box) < 3 and proc.poll() is None:
                time.sleep(0.01)
            children = [p for p in tree_pids(proc.pid) if p != proc.pid]
            proc.kill()
            killed = time.perf_counter()
            while any(alive(c) for c in children) and time.perf_counter() - killed < 60:
                time.sleep(0.005)
            gone.update(s=time.perf_counter() - killed, children=len(children), left=sum(alive(c) for c in children))

        run = measure(
            [
                sys.executable,
                "-m",
                "bulkload",
                "load",
                "economic",
                str(data_file("economic", 100_000)),
                "--base-url",
                box.url,
                "--ledger",
                str(folder / "run.sqlite"),
                "--report",
                str(folder / "report.json"),
                "--no-progress",
            ],
            {"XDG_CACHE_HOME": str(folder / "cache")},
            event=kill,
            timeout_s=TIMEOUT_S,
            stderr=folder / "stderr.txt",
            stdout=folder / "stdout.txt",
        )
    rows = [
        row(
            "kill -9 of a loading bulkload",
            -9,
            run,
            f"{gone['children']} child process(es); "
            + (
                f"{gone['left']} still running 60 s later"
                if gone["left"]
                else f"gone {gone['s']:.2f} s after the loader's SIGKILL"
            ),
        )
    ]
    fifo = stopping.orphaned_planner(folder)
    after = fifo["after_s"]
    rows.append(
        Row(
            "planner blocked on a FIFO, loader killed -9",
            "gone",
            "gone" if after < 60 else "still running",
            after if after < 60 else None,
            None,
            "",
            f"the planner ended {after:.2f} s after its loader's SIGKILL"
            if after < 60
            else "killed by the benchmark after 60 s",
        )
    )
    return rows


def economic_read(s: Setup, name: str, where: str, answer: Answer) -> list[Row]:
    return [hostile_load(s, name, Hostile("economic", answering(where, answer)), expected=4)]


def no_token(s: Setup) -> list[Row]:
    api = Hostile("halopsa", answering("/token", Answer(body=b'{"token_type": "Bearer", "expires_in": 3600}'), "POST"))
    return [hostile_load(s, "halopsa-token-no-token", api, expected=4)]


def unverified_tls(s: Setup) -> list[Row]:
    context = self_signed_context(s.folder("tls-self-signed"))
    return [
        hostile_load(s, "tls-self-signed", Hostile("visma-core"), "--attempts", "8", expected=2, ssl_context=context)
    ]


def nothing_listening(s: Setup) -> list[Row]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: the port stays ours and refuses
        url = f"http://127.0.0.1:{sock.getsockname()[1]}{PREFIX['economic']}"
        return [
            load(
                s,
                "nothing-listening",
                "economic",
                *inputs("economic", s.folder("nothing-listening")),
                "--base-url",
                url,
                "--attempts",
                "8",
                expected=2,
            )
        ]


def unresolvable(s: Setup) -> list[Row]:
    return [
        load(
            s,
            "name-invalid",
            "economic",
            *inputs("economic", s.folder("name-invalid")),
            "--base-url",
            "https://nonexistent.invalid/api",
            "--attempts",
            "8",
            expected=2,
        )
    ]


def redirect(s: Setup) -> list[Row]:
    moved = Answer(status=302, headers=(("Location", "http://elsewhere.invalid/api"),))
    return [hostile_load(s, "redirect-302", Hostile("economic", lambda m, p, n: moved), expected=2)]


def big(s: Setup, name: str, method: str, path: str) -> list[Row]:
    size = (64 if s.quick else 1024) * MB
    return [hostile_load(s, name, big_answer("economic", method, path, size, announced=False), expected=4)]


def long_line(s: Setup) -> list[Row]:
    path = bounded.long_line(8 if s.quick else 100)
    with sandbox("economic") as box:
        return [load(s, "jsonl-long-line", "economic", str(path), "--base-url", box.url, expected=1)]


def bomb(s: Setup, name: str, which: int) -> list[Row]:
    what, path = bounded.bombs(1 / 16 if s.quick else 1)[which]
    with sandbox("economic") as box:
        return [
            load(
                s,
                name,
                "economic",
                str(path),
                "--base-url",
                box.url,
                expected=2,
                note=f"{what}, {path.stat().st_size / MB:,.1f} MB compressed",
            )
        ]


def cursor(s: Setup, name: str, tamper: Callable[[int, dict[str, Any]], dict[str, Any]]) -> list[Row]:
    data = s.folder(name) / "entries.csv"
    stopping.write_entries(data, 15, 1)  # 30 entries: 6 pages of 5
    counted = {"pages": 0}
    with served(tampered(tamper, counted)) as origin:
        out = load(
            s, name, "economic", str(data), "--base-url", origin + PREFIX["economic"], "--batch-size", "10", expected=4
        )
    out.note = f"{counted['pages']} pages walked"
    return [out]


def quota_spent_earlier(s: Setup) -> list[Row]:
    folder = s.folder("quota")
    with sandbox("economic") as box:
        first = bulkload(
            folder,
            "first",
            "economic",
            *inputs("economic", folder / "a", "a"),
            "--base-url",
            box.url,
            timeout_s=TIMEOUT_S,
        )
        quota = int(first["requests"]) + 1
        return [
            load(
                s,
                "quota",
                "economic",
                *inputs("economic", folder / "b", "b"),
                "--base-url",
                box.url,
                "--daily-quota",
                str(quota),
                expected=4,
                note=f"quota {quota}: an earlier run (exit {first['exit']}) spent {first['requests']} calls",
            )
        ]


def isolation_budget(s: Setup) -> list[Row]:
    data = s.folder("isolation") / "entries.csv"
    vouchers = 400 if s.quick else 2_000
    bench_isolation.write(data, vouchers, 5)
    with sandbox("economic", "--opaque-errors") as box:
        out = load(s, "isolation", "economic", str(data), "--base-url", box.url, expected=4)
        served_calls = box.stats()["requests"]
    out.note = f"{served_calls} calls for {vouchers} vouchers, {vouchers // 5} of them refused"
    return [out]


CASES: dict[str, tuple[str, Callable[[Setup], list[Row]]]] = {
    "job-type": ('job file `concurrency = "8"`', lambda s: job_file(s, "job-type", '[job]\nconcurrency = "8"\n')),
    "job-unknown": ("unknown job-file key", lambda s: job_file(s, "job-unknown", "[job]\nconcurency = 8\n")),
    "notaurl": ("`--base-url notaurl`", not_a_url),
    "sigterm": ("SIGTERM mid-load, then resume", lambda s: cut_short(s, signal.SIGTERM)),
    "sighup": ("SIGHUP mid-load, then resume", lambda s: cut_short(s, signal.SIGHUP)),
    "sigint": ("SIGINT mid-load, then resume", lambda s: cut_short(s, signal.SIGINT)),
    "full-disk": ("ledger on a full tmpfs, then resume", full_disk),
    "planner": ("planner child after kill -9 of the loader", killed_loader),
    "baseline-html": (
        "HTML 200 on the e-conomic baseline",
        lambda s: economic_read(
            s, "baseline-html", "/paged", Answer(body=b"<html><body>Sign in</body></html>", content_type="text/html")
        ),
    ),
    "count-nan": (
        "a count that is not a number",
        lambda s: economic_read(s, "count-nan", "/count", Answer(body=b'"many"')),
    ),
    "paged-no-entrynumber": (
        "a `paged` item without `entryNumber`",
        lambda s: economic_read(
            s, "paged-no-entrynumber", "/paged", Answer(body=b'[{"voucherNumber": 1, "amount": 5}]')
        ),
    ),
    "token": ("a HaloPSA token answer that is no token", no_token),
    "tls": ("a TLS certificate that does not verify", unverified_tls),
    "refused": ("nothing listening on the first call", nothing_listening),
    "invalid": ("a name that does not resolve (`.invalid`)", unresolvable),
    "redirect": ("a 3xx answer", redirect),
    "get-1gb": ("a 1 GB answer to a GET", lambda s: big(s, "get-1gb", "GET", "/draft-entries/paged")),
    "post-1gb": ("a 1 GB answer to a bulk POST", lambda s: big(s, "post-1gb", "POST", "/draft-entries/bulk")),
    "long-line": ("a JSONL line of 100 MB among 1,000 lines", long_line),
    "bomb-line": ("gzip 1 MB -> 1 GB of one line", lambda s: bomb(s, "bomb-line", 0)),
    "bomb-blank": ("gzip -> 1 GB of blank lines", lambda s: bomb(s, "bomb-blank", 1)),
    "cursor-loop": ("a cursor that loops", lambda s: cursor(s, "cursor-loop", looping)),
    "cursor-back": ("a cursor that goes back", lambda s: cursor(s, "cursor-back", going_back)),
    "quota": ("the daily quota spent by an earlier run on the agreement", quota_spent_earlier),
    "isolation": ("many refusals for one reason (isolation budget)", isolation_budget),
}


def table(rows: list[Row]) -> str:
    lines = [
        "| case | exit code | expected exit | wall s | peak RSS MB "
        "| what it printed (stderr's first line, else stdout's stop line) | note |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        mark = "" if r.exit == r.expected else " **≠**"
        wall = "-" if r.wall_s is None else f"{r.wall_s:.2f}"
        rss = "-" if r.rss_mb is None else f"{r.rss_mb:.0f}"
        said = f"`` {r.said} ``" if r.said else "-"  # a double-backtick span: the message's own backticks stay
        lines.append(f"| {r.case} | {r.exit}{mark} | {r.expected} | {wall} | {rss} | {said} | {r.note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (64 MB answers, 64 MiB bombs, ...)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(CASES),
        metavar="NAME",
        help=f"run only this case (repeatable): {', '.join(CASES)}",
    )
    parser.add_argument("--save", action="store_true", help="write the table to benchmarks/results/abuse.md")
    args = parser.parse_args()
    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bulkload-abuse-") as tmp:
        setup = Setup(Path(tmp), args.quick)
        for name in args.only or CASES:
            label, case = CASES[name]
            print(f"  {name}: {label} ...", file=sys.stderr, flush=True)
            got = case(setup)
            if len(got) == 1:
                got[0].case = label
            for r in got:  # paths as a reader can place them
                r.said = r.said.replace(str(setup.work), "$WORK").replace(f"{Path.cwd()}/", "")
            rows.extend(got)
    out = table(rows)
    print(out)
    wrong = [r.case for r in rows if r.exit != r.expected and r.exit != "-"]
    print(
        f"\n{len(rows)} rows in {time.perf_counter() - started:.0f} s; "
        + (f"NOT AS EXPECTED: {', '.join(wrong)}" if wrong else "every exit code as expected")
    )
    if args.save:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
        ).stdout.strip()
        command = "python -m benchmarks.abuse" + (" --quick" if args.quick else "")
        RESULTS.write_text(
            f"`{command}` at commit {commit}, {time.strftime('%Y-%m-%d', time.gmtime())} "
            f"({os.cpu_count()} cores, shared); $WORK is the run's temporary folder\n\n{out}\n"
        )


if __name__ == "__main__":
    main()
