"""Chaos trials: random faults, kill -9 at a random moment, resume until done; then prove from the
sandbox's own record that no row was lost and none was created twice. Rollback trials: load, kill -9 with calls
in flight, roll back; then the sandbox must hold nothing the run created.

    python -m benchmarks.chaos [--trials 20] [--targets economic,halopsa,visma-core,payorcrm] [--seed S]
    python -m benchmarks.chaos --targets economic-rollback,halopsa-rollback

For every target, ``--trials`` seeded trials (trial ``i`` uses seed ``S + i``; ``--seed S+i --trials 1
--targets T`` replays its plan: faults, input, kill point and flags — thread timing is not replayed). A
trial:

1. draws fault rates from its seed (5xx 0–10 %, a low ``--rate-limit`` for 429 storms some of the time,
   slow answers, commit-then-drop 0–10 %; HaloPSA: writes that commit a drawn delay after they were read, and
   often a client timeout shorter than that delay, so answers are lost while their writes are still to land)
   and starts ``bulkload sandbox TARGET`` with them;
2. writes a small input with ``bulkload.sandbox.generate_data.write_file`` (with some bad rows);
3. runs ``bulkload load`` as a child process, SIGKILLs it at a random moment (some trials never, some as
   soon as its ledger appears, before it sends anything) and runs ``bulkload resume`` until it no longer
   exits 4 (at most ``MAX_RESUMES`` times; never with ``--resend-in-doubt``);
4. checks what the sandbox holds (its test-only ``/_sandbox/`` read-backs, once every write it read has
   committed; e-conomic through its own API) against the input, the final report and the ledger.

A rollback trial (``economic-rollback``, ``halopsa-rollback``, the targets that can delete) draws its faults
the same way, adds latency so that calls are in flight, always SIGKILLs the load after a random number of
requests, waits until the sandbox has carried out the calls that were in flight (HaloPSA: does not wait; its
writes commit 1–3 s after they were read, so some are still committing when the rollback first looks), and runs
``bulkload rollback`` until it no longer exits 4. It must end with exit 0, and the sandbox (empty before the trial)
must hold nothing once every write it read has committed; or with exit 1 where every call it left unsettled is one
whose records a look found (never deleted on a look's word: a look cannot tell them from another writer's made
alike), and the sandbox holds those records (`found`, named in the report) and nothing else.

A trial is bounded in requests (the sandbox's request counter) and in resumes (``MAX_RESUMES``), and in time by
what moves: standing still for ``TRIAL_S`` (no request counted, no write committed, no process started: a hang)
fails it, however long it took in all, as a busy machine stretches a trial without stopping it. Crossing either
is a failure, as are a traceback on stderr, an unexpected exit code and a reconciliation mismatch. Prints
one Markdown table (and one for rollback trials); exits 1 if any trial lost or doubled a row or left one behind
after a rollback (2 if a trial failed otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import Standstill
from bulkload.sandbox.generate_data import write_file

TARGETS = ("economic", "halopsa", "visma-core", "payorcrm")
#: rollback trials, for the targets whose API can delete
ROLLBACK = ("economic-rollback", "halopsa-rollback")
ENV = {
    "ECONOMIC_APP_SECRET_TOKEN": "chaos-app-secret",
    "ECONOMIC_AGREEMENT_GRANT_TOKEN": "chaos-grant",
    "HALO_CLIENT_ID": "chaos-client",
    "HALO_CLIENT_SECRET": "chaos-client-secret",
    "VISMA_CORE_TOKEN": "chaos-token",
    "PAYORCRM_API_KEY": "chaos-key",
    "PAYORCRM_API_SECRET": "chaos-secret",
}
ECONOMIC_HEADERS = {
    "X-AppSecretToken": ENV["ECONOMIC_APP_SECRET_TOKEN"],
    "X-AgreementGrantToken": ENV["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
}
HALOPSA_RESOURCES = ("XeroDetails", "QuickBooksDetails", "AvalaraDetails")
TRIAL_S = 60.0  # a trial that stands still longer (nothing the sandbox counts moves) is a failure: a hang
MAX_RESUMES = 12
POLL_S = 0.01


class TrialFailed(Exception):
    """The trial could not finish the way bulkload promises (timeout, crash, request bound, bad exit)."""


@dataclass
class Plan:
    """Everything a trial does, drawn from its seed."""

    target: str
    seed: int
    rows: int
    bad_every: int
    fault_rate: float
    drop_rate: float
    slow_rate: float
    slow_ms: int
    rate_limit: int  # 0 = no 429 storm
    #: "none"; "start": as soon as the ledger file exists (the run may not be recorded yet); "early": as soon
    #: as the ledger holds the run (before or around the first call); "random": after kill_after_requests;
    #: "writes": after kill_after_requests POSTs (rollback trials: the write that trips it is still in flight)
    kill: str
    kill_after_requests: int  # "random", "writes": kill once the sandbox has seen this many requests
    load_flags: list[str]
    customers: int = 0  # payorcrm
    resource: str = ""  # halopsa
    commit_delay_ms: tuple[int, int] = (0, 0)  # halopsa: each write commits this long after it was read
    latency_ms: int = 0  # rollback trials: calls stay in flight a while, so the kill meets some

    @property
    def api(self) -> str:
        """The target loaded (a rollback trial's is its name without ``-rollback``)."""
        return self.target.removesuffix("-rollback")

    @property
    def rollback(self) -> bool:
        return self.target in ROLLBACK

    def sandbox_flags(self) -> list[str]:
        flags = [
            "--seed",
            str(self.seed),
            "--fault-rate",
            f"{self.fault_rate:.4f}",
            "--drop-rate",
            f"{self.drop_rate:.4f}",
            "--slow-rate",
            f"{self.slow_rate:.4f}",
            "--slow-ms",
            str(self.slow_ms),
        ]
        if self.rate_limit:
            flags += ["--rate-limit", str(self.rate_limit)]
        if self.latency_ms:
            flags += ["--latency-ms", str(self.latency_ms)]
        if self.api == "halopsa":
            flags += ["--window-limit", "0"]  # HaloPSA's 300 per 5 minutes would make a trial wait minutes
        if self.commit_delay_ms[1]:
            flags += ["--commit-delay-ms", "{},{}".format(*self.commit_delay_ms)]
        return flags

    def describe(self) -> str:
        return (
            f"rows={self.rows} bad_every={self.bad_every} 5xx={self.fault_rate:.3f} drop={self.drop_rate:.3f} "
            f"slow={self.slow_rate:.3f}x{self.slow_ms}ms rate_limit={self.rate_limit or 'off'} "
            + (
                f"commit_delay={self.commit_delay_ms[0]}-{self.commit_delay_ms[1]}ms "
                if self.commit_delay_ms[1]
                else ""
            )
            + (f"latency={self.latency_ms}ms " if self.latency_ms else "")
            + f"kill={self.kill}{'@' + str(self.kill_after_requests) if self.kill in ('random', 'writes') else ''} "
            f"load flags: {' '.join(self.load_flags)}"
        )


@dataclass
class Result:
    target: str
    seed: int
    plan: str
    faults: int = 0
    killed: bool = False
    resumes: int = 0
    lost: int = 0
    doubled: int = 0
    in_doubt: int = 0
    wall_s: float = 0.0
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    kept: str = ""  # the trial's directory, kept when something went wrong
    # rollback trials: calls the ledger had in flight at the kill, records removed, records left behind
    in_flight: int = 0
    removed: int = 0
    #: records of calls in flight a look found, which the rollback kept and named (unsettled, exit 1)
    named: int = 0
    left: int = 0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.left or self.problems)


def plan_trial(target: str, seed: int, scale: float = 1.0) -> Plan:
    """The trial's faults, input size and kill point, from ``seed`` alone (``scale`` shrinks the input)."""
    rng = random.Random(f"{target}:{seed}")
    size = {
        "economic": (300, 2000),
        "halopsa": (150, 800),
        "visma-core": (150, 600),
        "payorcrm": (300, 1800),
        # a rollback deletes one record a call: smaller inputs keep a trial within its time
        "economic-rollback": (200, 800),
        "halopsa-rollback": (100, 400),
    }
    low, high = size[target]
    rows = max(20, int(rng.randint(low, high) * scale))
    storm = rng.random() < 0.3
    slow_ms = rng.choice((100, 300, 800, 1500))
    plan = Plan(
        target=target,
        seed=seed,
        rows=rows,
        bad_every=rng.choice((0, 37, 97, 250)),
        fault_rate=rng.uniform(0, 0.10),
        drop_rate=rng.uniform(0, 0.10),
        slow_rate=rng.uniform(0, 0.05),
        slow_ms=slow_ms,
        rate_limit=rng.choice((20, 40, 80)) if storm else 0,
        kill=rng.choices(("none", "start", "early", "random"), (2, 1, 1, 4))[0],
        kill_after_requests=0,
        load_flags=["--concurrency", str(rng.choice((2, 4, 8, 16)))],
    )
    if slow_ms > 1000 and rng.random() < 0.5:
        plan.load_flags += ["--timeout", "1"]  # slow answers become timeouts: retried with the key, or in doubt
    if rng.random() < 0.25:
        plan.load_flags += ["--attempts", "3"]  # retries run out under faults: exit 4, resume
    target = plan.api
    if target == "economic":
        batch = rng.choice((25, 50, 100))
        calls = rows // batch + 1
    elif target == "halopsa":
        plan.resource = rng.choice(HALOPSA_RESOURCES)
        batch = rng.choice((5, 10, 20))
        calls = rows // batch + 2
        plan.load_flags += ["--match-on", "name", "--window-limit", "0"]
    elif target == "visma-core":
        batch = 0  # one entry a call
        calls = rows
    else:
        plan.customers = max(10, rows // 8)
        batch = rng.choice((20, 50, 100))
        calls = (rows + plan.customers) // batch + 2
    if batch:
        plan.load_flags += ["--batch-size", str(batch)]
    plan.kill_after_requests = rng.randint(1, max(1, calls))
    if target == "halopsa":  # drawn last, so the other draws of a seed are what they were before
        low = rng.randint(0, 300)
        plan.commit_delay_ms = (low, rng.randint(low + 100, 1500))
        if plan.rollback:  # writes still committing when the rollback first looks (no draw more: seeds keep theirs)
            plan.commit_delay_ms = (low + 1000, plan.commit_delay_ms[1] + 1500)
            # each write takes its commit delay: killed sooner, the load leaves the rollback its share of the time
            plan.kill_after_requests = min(plan.kill_after_requests, 24)
        if rng.random() < 0.6:  # the client stops waiting while the write is still committing
            plan.load_flags += ["--timeout", f"{rng.uniform(max(low, 150), plan.commit_delay_ms[1]) / 1000:.2f}"]
        # a write lands at most a slow answer's wait plus its commit delay after it was sent: the settle delay
        # covers that, as --settle-s must cover a real API's commit time
        plan.load_flags += ["--settle-s", f"{(slow_ms + plan.commit_delay_ms[1]) / 1000 + 0.3:.2f}"]
    if plan.rollback:  # always killed, with calls in flight
        plan.kill = "writes"
        plan.latency_ms = rng.choice((5, 20, 40))
    return plan


# --- plumbing -------------------------------------------------------------------------------------------


class Trial:
    """One trial's processes, its bound in time (a Standstill of `time_limit` seconds: the sandbox's counts of
    requests, writes to commit and calls in flight, each read of them, are what moves) and its request bound."""

    def __init__(self, plan: Plan, workdir: Path, time_limit: float) -> None:
        self.plan = plan
        self.workdir = workdir
        self.still = Standstill(time_limit)
        self.env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(workdir / "cache")}
        self.sandbox: subprocess.Popen[str] | None = None
        self.url = ""
        self.root = ""  # where /_sandbox/ lives (e-conomic's API sits under a version path)
        self.max_requests = 0
        self.killed = False
        self.logs: list[Path] = []
        self.last_run = ""

    def left(self) -> float:
        return self.still.left()

    def start_sandbox(self) -> None:
        out = open(self.workdir / "sandbox.err", "w")  # noqa: SIM115 - closed with the process
        self.sandbox = subprocess.Popen(
            [sys.executable, "-m", "bulkload", "sandbox", self.plan.api, "--port", "0", *self.plan.sandbox_flags()],
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
            env=self.env,
        )
        out.close()
        self.logs.append(self.workdir / "sandbox.err")
        assert self.sandbox.stdout is not None
        line = self.sandbox.stdout.readline()
        if not line:
            raise TrialFailed(f"the sandbox did not start: {(self.workdir / 'sandbox.err').read_text()[-500:]}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self.root = self.url.split("/journalsapi")[0]

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.kill()
            self.sandbox.wait()
            if self.sandbox.stdout is not None:
                self.sandbox.stdout.close()

    def get(self, url: str, headers: dict[str, str] | None = None) -> Any:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=max(1.0, min(15.0, self.left()))) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = self.get(f"{self.root}/_sandbox/stats")
        self.still.saw((body["requests"], body.get("pending_commits"), body.get("in_flight")))
        return body

    def commits_landed(self) -> None:
        """Wait until the sandbox has committed every write it read (within the trial's time)."""
        while self.stats().get("pending_commits"):
            if self.left() <= 0:
                raise TrialFailed(f"the sandbox committed none of its writes to commit for {self.still.limit_s:g} s")
            time.sleep(0.05)

    def read_back(self, what: str) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = self.get(f"{self.root}/_sandbox/{what}")
        return body

    def run(
        self, name: str, args: list[str], kill: str = "none", kill_after: int = 0, ledger: Path | None = None
    ) -> tuple[int | None, bool]:
        """Run ``bulkload ARGS`` as a child; SIGKILL it per ``kill``. Returns (exit code or None, killed)."""
        err = self.workdir / f"{name}.err"
        self.last_run = name
        self.logs.append(err)
        with open(err, "w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bulkload", *args], env=self.env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        killed = False
        last_stats = 0.0
        self.still.moved()
        try:
            while proc.poll() is None:
                if self.left() <= 0:
                    raise TrialFailed(
                        f"`bulkload {args[0]}` still running, with no request the sandbox counted for "
                        f"{self.still.limit_s:g} s: a hang"
                    )
                now = time.monotonic()
                if ledger is not None and kill in ("start", "early"):
                    killed = ledger.exists() if kill == "start" else _holds_run(ledger)
                elif now - last_stats >= (POLL_S if kill in ("random", "writes") else 0.25):
                    last_stats = now
                    stats = self.stats()
                    requests = stats["requests"]
                    if requests > self.max_requests:
                        raise TrialFailed(f"more than {self.max_requests} requests: the request bound was crossed")
                    if kill == "writes":
                        requests = stats["by_method"].get("POST", {}).get("requests", 0)
                    killed = kill in ("random", "writes") and requests >= kill_after
                if killed:
                    self.killed = True
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    return None, True
                time.sleep(POLL_S / 2)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return proc.returncode, killed


def _holds_run(ledger: Path) -> bool:
    """True once the ledger has the run recorded (read-only look; WAL readers do not block the writer)."""
    if not ledger.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=0.05)) as db:
            return db.execute("SELECT 1 FROM meta WHERE key='run'").fetchone() is not None
    except sqlite3.Error:
        return False


def _lines(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(physical start line, row) for every row of a CSV whose header is line 1."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        start = 2
        for row in reader:
            yield start, row
            start = reader.line_num + 1


def _ledger(path: Path) -> tuple[dict[tuple[int, int], str], set[int], int]:
    """(bucket of every row not loaded by (file, line), ids the ledger says were created, calls in doubt)."""
    with sqlite3.connect(path) as db:
        buckets = {(f, ln): b for f, ln, b in db.execute("SELECT file_idx, line_no, bucket FROM rows")}
        # rows in doubt are not in the rows table: their chunk's state says it
        for f, blob in db.execute("SELECT file_idx, lines FROM chunks WHERE state IN ('in_doubt', 'sending')"):
            lines = array("i")
            lines.frombytes(blob)
            buckets.update(((f, ln), "in_doubt") for ln in lines)
        created = {int(i) for (i,) in db.execute("SELECT id FROM created")}
        in_doubt = int(db.execute("SELECT COUNT(*) FROM chunks WHERE state IN ('in_doubt', 'sending')").fetchone()[0])
    return buckets, created, in_doubt


# --- one trial ------------------------------------------------------------------------------------------


def make_input(plan: Plan, workdir: Path) -> tuple[list[str], list[Path]]:
    """Write the trial's input; returns the load arguments naming it and the files in load order."""
    p = plan
    if p.api == "economic":
        path = workdir / "entries.csv"
        write_file(path, p.rows, kind="economic", seed=p.seed, bad_every=p.bad_every)
        return [str(path)], [path]
    if p.api == "halopsa":
        path = workdir / f"{p.resource}.csv"  # the file's name says its resource
        write_file(path, p.rows, kind="halopsa", resource=p.resource, seed=p.seed, bad_every=p.bad_every, updates=False)
        return [str(path)], [path]
    if p.api == "visma-core":
        path = workdir / "entries.csv"
        write_file(path, p.rows, kind="visma-core", seed=p.seed, bad_every=p.bad_every)
        return [str(path)], [path]
    customers, invoices = workdir / "customers.csv", workdir / "invoices.csv"
    write_file(customers, p.customers, kind="payorcrm-customers", seed=p.seed, bad_every=p.bad_every)
    write_file(
        invoices,
        p.rows,
        kind="payorcrm-invoices",
        seed=p.seed,
        bad_every=p.bad_every,
        customers=p.customers,
        customers_bad_every=p.bad_every,
    )
    return ["--customers", str(customers), "--invoices", str(invoices), "--amount-unit", "major"], [customers, invoices]


def drive(trial: Trial, plan: Plan, inputs: list[str]) -> tuple[dict[str, Any], Path, int, bool]:
    """Load, kill, resume until done. Returns (final report, ledger, resumes, killed)."""
    workdir = trial.workdir
    ledger, rejects, report = workdir / "run.sqlite", workdir / "run.rejects.csv", workdir / "load.json"
    load_args = ["load", plan.api, *inputs, "--base-url", trial.url, "--no-progress", *plan.load_flags]
    code, killed = trial.run(
        "load",
        [*load_args, "--ledger", str(ledger), "--rejects", str(rejects), "--report", str(report)],
        kill=plan.kill,
        kill_after=plan.kill_after_requests,
        ledger=ledger,
    )
    last = report
    resumes = 0
    while code is None or code == 4:
        if resumes >= MAX_RESUMES:
            raise TrialFailed(f"still exit 4 after {MAX_RESUMES} resumes")
        resumes += 1
        last = workdir / f"resume{resumes}.json"
        code, _ = trial.run(
            f"resume{resumes}", ["resume", "--ledger", str(ledger), "--report", str(last), "--no-progress"]
        )
        err = (workdir / f"resume{resumes}.err").read_text()
        if code == 2 and killed and resumes == 1 and ("no ledger" in err or "not a bulkload ledger" in err):
            # killed before the run was recorded: nothing can have been sent, so the same load command again
            # (same ledger path) is what a user would do; anything the sandbox saw makes this a finding
            seen = trial.stats()["requests"]
            if seen:
                raise TrialFailed(f"the killed load left no resumable ledger, yet the sandbox saw {seen} requests")
            last = workdir / "load-again.json"
            code, _ = trial.run(
                "load-again", [*load_args, "--ledger", str(ledger), "--rejects", str(rejects), "--report", str(last)]
            )
    # 3 is a reconciliation mismatch: the trial fails, but what the sandbox holds is still counted (lost, doubled)
    if code not in (0, 1, 3):
        said = (workdir / f"{trial.last_run}.err").read_text(errors="replace").strip().splitlines()
        raise TrialFailed(f"final exit code {code} from `{trial.last_run}`: {said[-1] if said else ''}")
    if not last.exists():
        raise TrialFailed(f"no report at {last}")
    final: dict[str, Any] = json.loads(last.read_text())
    return final, ledger, resumes, killed


def drive_rollback(trial: Trial, plan: Plan, inputs: list[str], result: Result) -> None:
    """Load, SIGKILL after a random number of requests, let the sandbox carry out the calls that were in flight,
    roll back until the rollback no longer exits 4; it must end with 0, or 1 where each call it left unsettled is
    one a look found records for (`Result.named`: kept, never deleted on a look's word)."""
    workdir = trial.workdir
    ledger = workdir / "run.sqlite"
    trial.run(
        "load",
        [
            "load",
            plan.api,
            *inputs,
            "--base-url",
            trial.url,
            "--no-progress",
            *plan.load_flags,
            "--ledger",
            str(ledger),
            "--rejects",
            str(workdir / "run.rejects.csv"),
        ],
        kill="random",
        kill_after=plan.kill_after_requests,
        ledger=ledger,
    )
    # e-conomic: what arrived before the kill is carried out first. HaloPSA: rolled back at once, while writes the
    # load sent are still committing (the rollback must wait out their settle delay), counted once they all have
    while plan.api != "halopsa" and trial.stats()["in_flight"]:
        if trial.left() <= 0:
            raise TrialFailed(f"the sandbox carried out none of its calls in flight for {trial.still.limit_s:g} s")
        time.sleep(POLL_S)
    if not ledger.exists():
        return  # killed before the ledger was made: nothing was sent (the check below says so)
    with contextlib.closing(sqlite3.connect(ledger)) as db:
        result.in_flight = int(db.execute("SELECT COUNT(*) FROM chunks WHERE state = 'sending'").fetchone()[0])
    for runs in range(1, MAX_RESUMES + 1):
        report = workdir / f"rollback{runs}.json"
        code, _ = trial.run(f"rollback{runs}", ["rollback", "--ledger", str(ledger), "--report", str(report)])
        if code != 4:
            break
    else:
        raise TrialFailed(f"rollback still exit 4 after {MAX_RESUMES} runs")
    said = json.loads(report.read_text()) if report.exists() else {}
    result.removed = sum(
        json.loads((workdir / f"rollback{i}.json").read_text()).get("removed", 0)
        for i in range(1, runs + 1)
        if (workdir / f"rollback{i}.json").exists()
    )
    unsettled = said.get("unsettled") or []
    found = all(item.get("found") for item in unsettled) and len(unsettled) == said.get("unsettled_count")
    if code == 1 and found:
        result.named = sum(item["found"] for item in unsettled)
    elif code != 0:
        listed = {k: said.get(k) for k in ("status", "unsettled", "unexplained", "failed")}
        raise TrialFailed(f"rollback exit {code}: {json.dumps(listed)[:400]}")


def left_behind(trial: Trial, plan: Plan, files: list[Path]) -> int:
    """What the sandbox holds after a rollback trial; it held nothing before, so all of it is the run's."""
    if plan.api == "economic":
        journals = {int(r["journalNumber"]) for f in files for _, r in _lines(f) if r["journalNumber"].isdigit()}
        return len(economic_entries(trial, journals))
    trial.commits_landed()  # a write that commits after the count would be left behind unseen
    return len(trial.read_back(f"records/{plan.resource}"))


def economic_entries(trial: Trial, journals: set[int]) -> list[dict[str, Any]]:
    """Every draft entry in ``journals``, walked through the API itself (cursor paging, faults retried)."""
    out: list[dict[str, Any]] = []
    for journal in sorted(journals):
        params = {"filter": f"journalNumber$eq:{journal}"}
        while True:
            for _ in range(200):
                try:
                    page = trial.get(f"{trial.url}/draft-entries?{urllib.parse.urlencode(params)}", ECONOMIC_HEADERS)
                    break
                except urllib.error.HTTPError as exc:
                    if exc.code not in (429, 500, 502, 503) or trial.left() <= 0:
                        raise
                    time.sleep(0.05)
            else:
                raise TrialFailed("could not walk the journal: the sandbox kept refusing")
            out.extend(page["items"])
            if "cursor" not in page:
                break
            params = {**params, "cursor": page["cursor"]}
    return out


def check(trial: Trial, plan: Plan, files: list[Path], report: dict[str, Any], ledger: Path, result: Result) -> None:
    """Count lost and doubled rows from the sandbox's own record; note anything else that is wrong."""
    buckets, created, calls_in_doubt = _ledger(ledger)
    rows = [(i, ln, row) for i, f in enumerate(files) for ln, row in _lines(f)]
    bucket = {(i, ln): buckets.get((i, ln), "loaded") for i, ln, _ in rows}
    counts = Counter(bucket.values())
    result.in_doubt = report["in_doubt"]
    if report["rows_read"] != len(rows):
        result.problems.append(f"rows_read {report['rows_read']} != {len(rows)} rows in the input")
    parts = report["loaded"] + report["rejected"] + report["in_doubt"] + report["skipped"]
    # a row in no bucket, or left skipped at the end, is lost
    result.lost += max(0, len(rows) - (report["loaded"] + report["rejected"] + report["in_doubt"]))
    if report["rows_read"] != parts:
        result.problems.append(f"rows_read {report['rows_read']} != loaded+rejected+in_doubt+skipped {parts}")
    if report["skipped"]:
        result.problems.append(f"{report['skipped']} rows still skipped after the final resume")
    for name in ("loaded", "rejected", "in_doubt"):
        if counts[name] != report[name]:
            result.problems.append(f"ledger has {counts[name]} rows {name}, the report {report[name]}")
    if not report["reconcile"]["ok"]:
        result.problems.append(f"reconciliation not ok: {json.dumps(report['reconcile'])[:300]}")

    def tally(want: Counter[Any], maybe: Counter[Any], got: Counter[Any]) -> None:
        result.lost += sum(max(0, n - got[k]) for k, n in want.items())
        result.doubled += sum(max(0, n - want[k] - maybe[k]) for k, n in got.items())

    def split(key: Any) -> tuple[Counter[Any], Counter[Any], Counter[Any]]:
        loaded, doubt, rejected = Counter[Any](), Counter[Any](), Counter[Any]()
        for i, ln, row in rows:
            k = key(i, row)
            if k is None:
                continue
            {"loaded": loaded, "in_doubt": doubt, "rejected": rejected, "skipped": doubt}[bucket[(i, ln)]][k] += 1
        return loaded, doubt, rejected

    def stored_rejected(rejected: Counter[Any], got: Counter[Any], want: Counter[Any], maybe: Counter[Any]) -> None:
        phantom = sum(1 for k in rejected if got[k] > want[k] + maybe[k])
        if phantom:
            result.problems.append(f"{phantom} rejected rows are stored anyway")

    if plan.target == "economic":

        def entry_key(_: int, row: dict[str, str]) -> Any:
            try:
                return (
                    int(row["journalNumber"]),
                    int(row["voucherNumber"]),
                    round(float(row["amount"]) * 100),
                    row["text"],
                )
            except ValueError:
                return None  # a row spoiled so that it cannot even be read as a key: rejected

        entries = economic_entries(trial, {int(r["journalNumber"]) for _, _, r in rows if r["journalNumber"]})
        got = Counter(
            (e["journalNumber"], e["voucherNumber"], round(e["amount"] * 100), e.get("text", "")) for e in entries
        )
        want, maybe, rejected = split(entry_key)
        tally(want, maybe, got)
        stored_rejected(rejected, got, want, maybe)
        missing_ids = created - {e["entryNumber"] for e in entries}
        if missing_ids:
            result.problems.append(f"{len(missing_ids)} entry numbers in the ledger are not in the API")
        if report["in_doubt"]:
            result.problems.append(f"e-conomic run ended with {report['in_doubt']} rows in doubt")
    elif plan.target == "halopsa":
        trial.commits_landed()  # a write still to commit would be a double not yet counted
        stored = trial.read_back(f"records/{plan.resource}")
        got = Counter(r["name"] for r in stored)
        want, maybe, rejected = split(lambda _, row: row["name"] or None)
        tally(want, maybe, got)
        stored_rejected(rejected, got, want, maybe)
        missing_ids = created - {r["id"] for r in stored}
        if missing_ids:
            result.problems.append(f"{len(missing_ids)} record ids in the ledger are not in the sandbox")
    elif plan.target == "visma-core":
        stored = trial.read_back("entries")
        missing_ids = created - {e["Id"] for e in stored}
        result.lost += len(missing_ids)  # an entry the ledger holds as created, gone from the sandbox
        # one call creates at most one entry: more entries than calls that completed or are in doubt means
        # a call was carried out twice
        calls = report["reconcile"]["ids_returned"] + calls_in_doubt
        result.doubled += max(0, len(stored) - calls)
        if len(created) != report["reconcile"]["ids_returned"]:
            result.problems.append(f"ledger holds {len(created)} ids, the report {report['reconcile']['ids_returned']}")
    else:
        customers = Counter(c["customerno"] for c in trial.read_back("customers"))
        invoices = Counter(i["invoiceNumber"] for i in trial.read_back("invoices"))
        want, maybe, rejected = split(lambda i, row: ("c", row["customerno"]) if i == 0 else None)
        result.lost += sum(max(0, n - customers[k[1]]) for k, n in want.items())
        want, maybe, rejected = split(lambda i, row: row["invoiceNumber"] or None if i == 1 else None)
        tally(want, maybe, invoices)
        stored_rejected(rejected, invoices, want, maybe)


def run_trial(
    target: str, seed: int, *, scale: float = 1.0, time_limit: float = TRIAL_S, keep_dir: Path | None = None
) -> Result:
    """One trial end to end, its plan drawn from `seed` (plan_trial); never raises (a failure is in
    ``Result.problems``)."""
    return run_plan(plan_trial(target, seed, scale), time_limit=time_limit, keep_dir=keep_dir)


def run_plan(plan: Plan, *, time_limit: float = TRIAL_S, keep_dir: Path | None = None) -> Result:
    """One trial of `plan` end to end; never raises (a failure is in ``Result.problems``)."""
    target, seed = plan.target, plan.seed
    result = Result(target, seed, plan.describe())
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"bulkload-chaos-{target}-{seed}-"))
    trial = Trial(plan, workdir, time_limit)
    try:
        inputs, files = make_input(plan, workdir)
        trial.start_sandbox()
        calls = plan.rows if plan.api == "visma-core" else plan.rows // 5 + plan.customers // 5
        trial.max_requests = 200 + 30 * calls
        if plan.rollback:
            drive_rollback(trial, plan, inputs, result)
            result.left = left_behind(trial, plan, files) - result.named
        else:
            report, ledger, result.resumes, result.killed = drive(trial, plan, inputs)
            check(trial, plan, files, report, ledger, result)
        stats = trial.stats()
        result.faults = sum(stats["faults"].values())
        result.requests = stats["requests"]
    except TrialFailed as exc:
        result.problems.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - a harness error is reported with its trial, not fatal to the rest
        result.problems.append(f"harness error: {type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):  # the sandbox may be gone
            result.faults = result.faults or sum(trial.stats()["faults"].values())
        trial.stop()
    result.killed = trial.killed
    for log in trial.logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        blocks = text.split("Traceback")[1:]
        if log.name == "sandbox.err":
            # a load killed mid-request leaves the sandbox reading a body from a closed connection: aiohttp
            # logs that with its traceback; it is the kill, not a fault of either side
            blocks = [b for b in blocks if "ConnectionResetError: Connection lost" not in b]
        if blocks:
            result.problems.append(f"traceback in {log.name}: {blocks[0][-600:]!r}")
    result.wall_s = time.monotonic() - started
    if result.ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        if keep_dir is not None:
            keep_dir.mkdir(parents=True, exist_ok=True)
            dest = keep_dir / workdir.name
            shutil.move(str(workdir), dest)
            workdir = dest
        result.kept = str(workdir)
    return result


def run_chaos(
    targets: list[str],
    trials: int,
    seed: int,
    *,
    scale: float = 1.0,
    jobs: int = 1,
    time_limit: float = TRIAL_S,
    keep_dir: Path | None = None,
    verbose: bool = False,
) -> list[Result]:
    """``trials`` trials per target (trial i: seed + i); ``jobs`` targets run side by side."""

    def one_target(target: str) -> list[Result]:
        out = []
        for i in range(trials):
            r = run_trial(target, seed + i, scale=scale, time_limit=time_limit, keep_dir=keep_dir)
            if verbose:
                status = "ok" if r.ok else f"FAILED: lost {r.lost}, doubled {r.doubled}; {'; '.join(r.problems)}"
                print(
                    f"{target} seed {r.seed}: {r.wall_s:.1f} s, {r.faults} faults, killed={r.killed}, "
                    + (
                        f"in flight {r.in_flight}, removed {r.removed}, kept and named {r.named}, left {r.left}"
                        if r.target in ROLLBACK
                        else f"resumes={r.resumes}, in doubt {r.in_doubt}"
                    )
                    + f" — {status}\n    {r.plan}"
                    + (f"\n    kept: {r.kept}" if r.kept else ""),
                    file=sys.stderr,
                    flush=True,
                )
            out.append(r)
        return out

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        per_target = list(pool.map(one_target, targets))
    return [r for rs in per_target for r in rs]


#: the columns between "kills" and "failed trials": (heading, the figure of one target's trials)
Column = tuple[str, Callable[[list[Result]], str]]
LOAD_COLUMNS: list[Column] = [
    ("rows lost", lambda rs: str(sum(r.lost for r in rs))),
    ("rows doubled", lambda rs: str(sum(r.doubled for r in rs))),
    ("in-doubt rows", lambda rs: f"{sum(r.in_doubt for r in rs):,}"),
]
ROLLBACK_COLUMNS: list[Column] = [
    ("calls in flight at the kill", lambda rs: str(sum(r.in_flight for r in rs))),
    ("records removed", lambda rs: f"{sum(r.removed for r in rs):,}"),
    ("kept, named (found by a look)", lambda rs: str(sum(r.named for r in rs))),
    ("left behind", lambda rs: str(sum(r.left for r in rs))),
]


def table(results: list[Result]) -> str:
    """The Markdown table of the load trials, and one of the rollback trials when there are any."""
    loads = [r for r in results if r.target not in ROLLBACK]
    backs = [r for r in results if r.target in ROLLBACK]
    return "\n\n".join(_table(rs, columns) for rs, columns in ((loads, LOAD_COLUMNS), (backs, ROLLBACK_COLUMNS)) if rs)


def _table(results: list[Result], columns: list[Column]) -> str:
    head = ["target", "trials", "faults injected", "kills", *(h for h, _ in columns), "failed trials", "wall time"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for target in dict.fromkeys(r.target for r in results):
        rs = [r for r in results if r.target == target]
        cells = [
            target,
            str(len(rs)),
            f"{sum(r.faults for r in rs):,}",
            str(sum(r.killed for r in rs)),
            *(figure(rs) for _, figure in columns),
            str(sum(not r.ok for r in rs)),
            f"{sum(r.wall_s for r in rs):.1f} s",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--targets", default=",".join(TARGETS + ROLLBACK))
    parser.add_argument("--seed", type=int, default=None, help="first trial's seed (default: random, printed)")
    parser.add_argument("--jobs", type=int, default=1, help="targets run side by side (default 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the input sizes")
    parser.add_argument(
        "--keep",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bulkload-chaos-failures",
        help="where a failed trial's files are kept",
    )
    ns = parser.parse_args(argv)
    targets = [t.strip() for t in ns.targets.split(",") if t.strip()]
    unknown = set(targets) - set(TARGETS + ROLLBACK)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    seed = ns.seed if ns.seed is not None else random.SystemRandom().randrange(1_000_000)
    print(f"chaos: {ns.trials} trials per target, seeds {seed}..{seed + ns.trials - 1}", file=sys.stderr)
    results = run_chaos(targets, ns.trials, seed, scale=ns.scale, jobs=ns.jobs, keep_dir=ns.keep, verbose=True)
    print(table(results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(
            f"\nFAILED {r.target} seed {r.seed} (replay: python -m benchmarks.chaos --targets {r.target} "
            f"--seed {r.seed} --trials 1): lost {r.lost}, doubled {r.doubled}, left {r.left}\n  plan: {r.plan}\n"
            + "".join(f"  - {p}\n" for p in r.problems)
            + f"  files: {r.kept}"
        )
    if any(r.lost or r.doubled or r.left for r in results):
        return 1
    return 2 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
