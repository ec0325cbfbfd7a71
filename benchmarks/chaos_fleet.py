"""The queue's chaos trial (issue 16 item 5), and workers 1 vs 3: many agreements in one multi-agreement e-conomic
sandbox (`bulkload sandbox economic --agreements`: each agreement its own store, window, daily quota and faults),
a manifest with a job per agreement queued in PostgreSQL (`bulkload run MANIFEST --queue`), worker processes
(`bulkload worker`), one of them SIGKILLed at a random moment while it runs a job; then judged by the sandbox
alone:

- every good row exactly once in every agreement (its journals walked through the API, against the input);
- every job finished (`bulkload status`: finished, exit 0);
- no agreement ever over its limits: its sandbox refused no call for its rolling window, its daily quota or its
  rate (its own counts of those refusals are 0).

    python -m benchmarks.chaos_fleet [--agreements 30] [--rows 200] [--workers 3] [--seed S] [--no-kill]
    python -m benchmarks.chaos_fleet --compare     # the same fleet, no faults, no kill: wall with 1 and 3 workers

Starts a throwaway PostgreSQL (bulkload.sandbox.postgres) unless --queue URL names one (a database the trial
may fill). Bounded in requests (each agreement's daily quota: past them all together, the trial fails) and in time
by what moves: standing still for `TRIAL_S` seconds (no request counted, no job's state changed: a hang) fails it,
however long it took in all, as a busy machine stretches a trial without stopping it. Exits 1 when the trial
failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from benchmarks.common import Standstill
from bulkload import queue
from bulkload.sandbox.agreements import AGREEMENTS_PATH, agreement_id
from bulkload.sandbox.generate_data import write_file

#: a trial that stands still longer (no request counted, no job's state changed) is a failure: a hang
TRIAL_S = 90.0
APP_TOKEN = "fleet-app-secret"
#: each agreement's limits, in its sandbox and in its job: calls per rolling window, the window in seconds, calls
#: per 24 h (the quota the trial's own calls stay well inside: a job out of quota waits for tomorrow)
WINDOW = (8, 3.0)
DAILY_QUOTA = 400
BATCH = 20
#: seconds without a heartbeat before a worker's jobs go to another (short: the trial waits for it)
STALLED_AFTER_S = 3.0
FAULTS = ["--fault-rate", "0.05", "--drop-rate", "0.03", "--slow-rate", "0.05", "--slow-ms", "300"]


@dataclass
class Fleet:
    """A trial's manifest, the environment that holds its credentials, and each agreement's grant token and input."""

    manifest: Path
    env: dict[str, str]
    inputs: dict[str, tuple[str, Path]] = field(default_factory=dict)  # agreement -> (grant token, file)


@dataclass
class Outcome:
    agreements: int
    rows: int
    workers: int
    wall_s: float = 0.0
    killed: str = ""  # the worker killed, and the job it was running
    retried: int = 0  # jobs run more than once (the killed worker's, stops)
    lost: int = 0
    doubled: int = 0
    over_limits: int = 0  # calls the sandboxes refused for a window, a quota or a rate
    requests: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.over_limits or self.problems)


def write_fleet(workdir: Path, base_url: str, agreements: int, rows: int, seed: int) -> Fleet:
    """A manifest of one job per agreement (`agreements` of them, `rows` rows each, drawn from `seed`), each
    under WINDOW and DAILY_QUOTA, its credentials named by environment variable."""
    lines = [
        f'output_dir = "{workdir / "runs"}"',
        "[defaults]",
        'target = "economic"',
        f'base_url = "{base_url}"',
        f"batch_size = {BATCH}",
        f"window_limit = {WINDOW[0]}",
        f"window_s = {WINDOW[1]}",
        f"daily_quota = {DAILY_QUOTA}",
        "concurrency = 4",
    ]
    fleet = Fleet(workdir / "fleet.toml", {})
    for i in range(agreements):
        name, token = f"agreement-{i:03d}", f"grant-{seed}-{i}"
        path = workdir / f"{name}.csv"
        write_file(path, rows, kind="economic", seed=seed * 1000 + i)
        fleet.env[f"FLEET_APP_{i}"], fleet.env[f"FLEET_GRANT_{i}"] = APP_TOKEN, token
        fleet.inputs[name] = (token, path)
        lines += [
            "[[job]]",
            f'name = "{name}"',
            f'files = ["{path.name}"]',
            "credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "
            f'"FLEET_APP_{i}", ECONOMIC_AGREEMENT_GRANT_TOKEN = "FLEET_GRANT_{i}"}}}}',
        ]
    fleet.manifest.write_text("\n".join(lines) + "\n")
    return fleet


@contextlib.contextmanager
def sandbox(*flags: str) -> Iterator[str]:
    """A multi-agreement e-conomic sandbox process under each agreement's WINDOW and DAILY_QUOTA; its API's URL."""
    limits = ["--window-limit", str(WINDOW[0]), "--window-s", str(WINDOW[1]), "--daily-quota", str(DAILY_QUOTA)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkload", "sandbox", "economic", "--agreements", *limits, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def start_worker(queue_url: str, env: dict[str, str], log: Path, concurrency: int = 4) -> subprocess.Popen[bytes]:
    """A `bulkload worker` process, its output to `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bulkload",
                "worker",
                "--queue",
                queue_url,
                "--concurrency",
                str(concurrency),
                "--stalled-after",
                str(STALLED_AFTER_S),
            ],
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def states(queue_url: str) -> list[queue.JobState]:
    return anyio.run(queue.job_states, queue_url)


def _get(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def held_entries(base_url: str, token: str, journals: set[int]) -> list[dict[str, Any]]:
    """Every draft entry of the agreement `token` names in `journals`, walked through the API (faults retried)."""
    headers = {"X-AppSecretToken": APP_TOKEN, "X-AgreementGrantToken": token}
    out: list[dict[str, Any]] = []
    for journal in sorted(journals):
        params = {"filter": f"journalNumber$eq:{journal}"}
        while True:
            for _ in range(200):
                try:
                    page = _get(f"{base_url}/draft-entries?{urllib.parse.urlencode(params)}", headers)
                    break
                except urllib.error.HTTPError as exc:
                    if exc.code not in (429, 500, 503):
                        raise
                    time.sleep(0.05)
            else:
                raise RuntimeError("the sandbox kept refusing the walk")
            out.extend(page["items"])
            if "cursor" not in page:
                break
            params = {**params, "cursor": page["cursor"]}
    return out


def _input_keys(path: Path) -> Counter[tuple[int, int, int, str]]:
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return Counter(
            (int(r["journalNumber"]), int(r["voucherNumber"]), round(float(r["amount"]) * 100), r["text"])
            for r in csv.DictReader(fh)
        )


def judge(outcome: Outcome, fleet: Fleet, base_url: str, jobs: list[queue.JobState]) -> None:
    """The sandbox's counts first (before the walk adds calls of its own), then every agreement's entries."""
    root = base_url.split("/journalsapi")[0]
    stats = _get(root + AGREEMENTS_PATH)
    for name, (token, path) in fleet.inputs.items():
        seen = stats.get(agreement_id(token))
        if seen is None:
            outcome.problems.append(f"{name}: the sandbox never heard of it")
            continue
        outcome.requests += seen["requests"]
        faults = seen["faults"]
        over = {kind: faults[kind] for kind in ("window", "quota", "rate_limited") if faults[kind]}
        if over:
            outcome.over_limits += sum(over.values())
            outcome.problems.append(f"{name}: refused over its limits {over} of {seen['requests']} calls")
        if len(seen["runs"]) != 1:  # a resumed job sends with the keys its run began with: one prefix
            outcome.problems.append(f"{name}: loaded under the keys of {len(seen['runs'])} runs")
        want = _input_keys(path)
        got = Counter(
            (e["journalNumber"], e["voucherNumber"], round(e["amount"] * 100), e.get("text", ""))
            for e in held_entries(base_url, token, {k[0] for k in want})
        )
        outcome.lost += sum((want - got).values())
        outcome.doubled += sum((got - want).values())
    for job in jobs:
        if job.state != "finished" or job.exit_code != 0:
            outcome.problems.append(f"{job.name}: {job.state}, exit {job.exit_code}, {job.error or ''}".strip())
    outcome.retried = sum(1 for job in jobs if job.attempts > 1)  # a finished job's last run counts


def trial(
    queue_url: str,
    workdir: Path,
    *,
    agreements: int = 30,
    rows: int = 200,
    workers: int = 3,
    seed: int = 1,
    kill: bool = True,
    kill_window_s: tuple[float, float] = (1.0, 6.0),
    faults: bool = True,
    bound_s: float = TRIAL_S,
) -> Outcome:
    """One trial (module docstring) with the queue at `queue_url` (an empty database) in `workdir`: the kill comes
    at a moment drawn from `kill_window_s` (seconds after the jobs were queued), once a worker runs a job; a failure
    once it stood still for `bound_s` seconds (Standstill), or its agreements were sent more calls than their daily
    quotas together allow."""
    rnd = random.Random(seed)
    outcome = Outcome(agreements, rows, workers)
    flags = [*FAULTS, "--seed", str(seed)] if faults else []
    with sandbox(*flags) as base_url:
        fleet = write_fleet(workdir, base_url, agreements, rows, seed)
        started = time.monotonic()
        still, most = Standstill(bound_s), agreements * DAILY_QUOTA
        anyio.run(queue.enqueue, queue_url, str(fleet.manifest))
        procs = [start_worker(queue_url, fleet.env, workdir / f"worker-{n}.log") for n in range(workers)]
        kill_at = started + rnd.uniform(*kill_window_s) if kill else None
        try:
            while True:
                now = time.monotonic()
                if still.left() <= 0:
                    outcome.problems.append(f"no request counted and no job's state changed for {bound_s:g} s")
                    break
                jobs = states(queue_url)
                if all(job.state in ("finished", "failed") for job in jobs):
                    break
                counted = sum(
                    seen["requests"] for seen in _get(base_url.split("/journalsapi")[0] + AGREEMENTS_PATH).values()
                )
                if counted > most:
                    outcome.problems.append(f"{counted} requests, more than the agreements' daily quotas ({most})")
                    break
                still.saw((counted, [(job.name, job.state, job.attempts) for job in jobs]))
                if kill_at is not None and now >= kill_at:
                    running = [(job.worker or "", job.name) for job in jobs if job.state == "running"]
                    victims = [
                        p for p in procs if p.poll() is None and any(w.endswith(f":{p.pid}") for w, _ in running)
                    ]
                    if victims:
                        victim = rnd.choice(victims)
                        os.killpg(victim.pid, signal.SIGKILL)
                        held = [name for w, name in running if w.endswith(f":{victim.pid}")]
                        outcome.killed = f"worker {victim.pid} running {', '.join(held)}"
                        kill_at = None
                time.sleep(0.25)
            outcome.wall_s = round(time.monotonic() - started, 2)
        finally:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        if kill and not outcome.killed:
            outcome.problems.append("no worker was killed: the jobs ended before the kill")
        judge(outcome, fleet, base_url, states(queue_url))
    return outcome


def fresh_database(server_url: str, name: str) -> str:
    from bulkload.sandbox import postgres

    return postgres.create_database(server_url, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos_fleet", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=30)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--compare", action="store_true", help="no faults, no kill: wall with 1 worker, then 3")
    parser.add_argument("--queue", help="the PostgreSQL to use (default: a throwaway one)")
    parser.add_argument("--workdir", help="keep the manifest, inputs, job outputs and worker logs here")
    ns = parser.parse_args(argv)
    from bulkload.sandbox import postgres

    results: list[Outcome] = []
    with contextlib.ExitStack() as stack:
        server = ns.queue or stack.enter_context(postgres.running()).url
        runs = [(1, False), (3, False)] if ns.compare else [(ns.workers, not ns.no_kill)]
        for n, (workers, kill) in enumerate(runs):
            url = server if ns.queue else fresh_database(server, f"chaos_fleet_{n}")
            with contextlib.ExitStack() as kept:
                tmp = ns.workdir or kept.enter_context(tempfile.TemporaryDirectory(prefix="chaos-fleet-"))
                workdir = Path(tmp) / str(n)
                workdir.mkdir(parents=True)
                outcome = trial(
                    url,
                    workdir,
                    agreements=ns.agreements,
                    rows=ns.rows,
                    workers=workers,
                    seed=ns.seed,
                    kill=kill,
                    faults=not ns.compare,
                )
            results.append(outcome)
            print(
                f"agreements={outcome.agreements} rows={outcome.rows} workers={outcome.workers} seed={ns.seed} "
                f"wall_s={outcome.wall_s} requests={outcome.requests} killed=[{outcome.killed}] "
                f"retried={outcome.retried} lost={outcome.lost} doubled={outcome.doubled} "
                f"over_limits={outcome.over_limits} problems={outcome.problems} -> {'ok' if outcome.ok else 'FAILED'}"
            )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
