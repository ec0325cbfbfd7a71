"""The pipeline in this process, fast: every target loads a small file into its sandbox app (served on 127.0.0.1
in this process, through the real client), stops at its daily quota and resumes to the end; a loaded run
reconciles again later (also after a resume that raised its quota). The sandbox's own record says every row
arrived once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import pytest
from conftest import CREDS, write_entries
from test_load_halopsa import ENV as HALO_ENV
from test_load_halopsa import stats
from test_load_halopsa import write as write_halo
from test_load_payorcrm import CUSTOMERS, INVOICES
from test_load_payorcrm import ENV as PAYOR_ENV
from test_load_payorcrm import write as write_payor
from test_load_visma_core import ENV as VISMA_ENV
from test_load_visma_core import write as write_visma

from bulkload import Job, load, reconcile, resume, rollback
from bulkload.errors import RunStopped
from bulkload.ledger import Ledger
from bulkload.sandbox import SandboxOptions, running


@dataclass(frozen=True)
class Case:
    """A target's small file (returns the Job's files and target options), its credentials, how many rows and
    how many records the sandbox holds after, and where the sandbox lists what it holds."""

    target: str
    env: dict[str, str]
    write: Callable[[Path], tuple[list[str], dict[str, Any]]]
    rows: int
    held: int
    listing: str
    options: SandboxOptions = SandboxOptions()


def _economic(folder: Path) -> tuple[list[str], dict[str, Any]]:
    write_entries(folder / "entries.csv", 30)
    return [str(folder / "entries.csv")], {}


def _halopsa(folder: Path) -> tuple[list[str], dict[str, Any]]:
    return [str(write_halo(folder / "XeroDetails.csv", 30))], {"resources": ["XeroDetails"]}


def _visma_core(folder: Path) -> tuple[list[str], dict[str, Any]]:
    rows = [[1000 + i, "FEE", f"{i}.50", f"Gebyr {i}", "", "2026-11-02", ""] for i in range(1, 31)]
    return [str(write_visma(folder / "entries.csv", rows))], {}


def _payorcrm(folder: Path) -> tuple[list[str], dict[str, Any]]:
    customers = write_payor(folder / "c.csv", CUSTOMERS, [[f"C{i}", f"c{i}@example.com", f"Co {i}"] for i in range(20)])
    invoices = write_payor(
        folder / "i.csv", INVOICES, [[f"C{i}", f"I-{i}", f"{i}.25", "DKK", "2026-12-01"] for i in range(20)]
    )
    return [], {"customers": str(customers), "invoices": str(invoices), "amount_unit": "major"}


def _held(body: Any) -> int:
    return len(body["items"] if isinstance(body, dict) else body)


CASES = [
    Case("economic", CREDS, _economic, 60, 60, "/draft-entries"),
    Case("halopsa", HALO_ENV, _halopsa, 30, 30, "/_sandbox/records/XeroDetails", SandboxOptions(window_limit=0)),
    Case("visma-core", VISMA_ENV, _visma_core, 30, 30, "/_sandbox/entries"),
    Case("payorcrm", PAYOR_ENV, _payorcrm, 40, 20, "/_sandbox/invoices"),
]


async def held(case: Case, url: str) -> int:
    headers = {"X-AppSecretToken": "x", "X-AgreementGrantToken": "y"} if case.target == "economic" else {}
    async with aiohttp.ClientSession(headers=headers) as s, s.get(url + case.listing) as r:
        assert r.status == 200, await r.text()
        return _held(await r.json())


def job(tmp_path: Path, case: Case, url: str, **kw: Any) -> Job:
    files, options = case.write(tmp_path)
    return Job(
        target=case.target,
        files=files,
        base_url=url,
        ledger=str(tmp_path / "run.sqlite"),
        rejects=str(tmp_path / "rejects.csv"),
        batch_size=5,
        concurrency=2,
        target_options=options,
        **kw,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.target for c in CASES])
async def test_a_load_stopped_at_its_quota_resumes_to_the_end_exactly_once(tmp_path: Path, case: Case) -> None:
    with anyio.fail_after(60):
        async with running(case.target, case.options) as url:
            stopped = await load(job(tmp_path, case, url, daily_quota=6), env=case.env, raise_on_stop=False)
            assert stopped.exit_code == 4 and stopped.status == "stopped", stopped.stop_reason
            assert "daily quota of 6 calls reached" in (stopped.stop_reason or "")
            assert 0 < stopped.loaded < case.rows and stopped.in_doubt == 0
            finished = await resume(str(tmp_path / "run.sqlite"), env=case.env, daily_quota=1000)
            assert finished.exit_code == 0 and finished.status == "complete", finished.stop_reason
            assert (finished.loaded, finished.rejected, finished.in_doubt) == (case.rows, 0, 0)
            assert finished.reconcile is not None and finished.reconcile.ok, finished.reconcile
            assert await held(case, url) == case.held
            # the raised quota is the run's from now on: reconciling again later does not stop at the old 6 calls
            again = await reconcile(str(tmp_path / "run.sqlite"), env=case.env)
            assert again.exit_code == 0 and again.reconcile is not None and again.reconcile.ok, again.stop_reason


async def test_a_reconcile_stopped_at_its_quota_goes_on_with_the_quota_it_is_given(tmp_path: Path) -> None:
    """A run the daily quota stops in its reconciliation is told to continue with `bulkload reconcile` and to give a
    raised quota with `--daily-quota N`, which reconcile took no such flag for (tester t64a): it now does, as resume
    and rollback do, and keeps it for the commands after it."""
    case = CASES[0]  # e-conomic: reconciled by walk and counts, several calls
    path = str(tmp_path / "run.sqlite")
    with anyio.fail_after(60):
        async with running(case.target, case.options) as url:
            loaded = await load(job(tmp_path, case, url), env=case.env)
            assert loaded.exit_code == 0 and loaded.loaded == case.rows, loaded.stop_reason
            with pytest.raises(RunStopped) as stopped:
                await reconcile(path, env=case.env, daily_quota=loaded.requests + 1)
            said = str(stopped.value)
            assert f"daily quota of {loaded.requests + 1} calls reached" in said, said
            assert "`--daily-quota N`" in said and f"`bulkload reconcile --ledger {path}`" in said, said
            raised = await reconcile(path, env=case.env, daily_quota=loaded.requests + 100)
            assert raised.exit_code == 0 and raised.reconcile is not None and raised.reconcile.ok, raised.stop_reason
            # the raised quota is the run's from now on
            again = await reconcile(path, env=case.env)
            assert again.exit_code == 0 and again.reconcile is not None and again.reconcile.ok, again.stop_reason


async def test_a_rollback_goes_at_the_rate_it_is_given_not_the_runs_and_keeps_it(tmp_path: Path) -> None:
    """A run loaded at one pace rolls back at the `--rate` rollback is given (tester t65b: a run loaded at --rate 3
    rolled 10,000 entries back at 3/s, 56 minutes, with no way to give the pace its agreement allowed), kept for the
    commands after it. Judged by the sandbox: at a server of 20 a rolling second, the rollback's DELETEs at the
    20/s it is given meet no 429 (at the run's stored 200/s, 5 of them)."""
    case = CASES[0]  # e-conomic: a DELETE an entry
    path = str(tmp_path / "run.sqlite")
    with anyio.fail_after(60):
        async with running(case.target, SandboxOptions(rate_limit=20)) as url:
            origin = url.split("/journalsapi")[0]
            loaded = await load(job(tmp_path, case, url, rate=200.0), env=case.env)
            assert loaded.exit_code == 0 and loaded.loaded == case.rows, loaded.stop_reason
            await anyio.sleep(1.1)  # the run's last calls out of the server's rolling second (the run's own
            # window, kept for the commands after it, is one of 200 calls a second: the rollback's knows none of them)
            before = (await stats(origin))["faults"]["rate_limited"]
            undone = await rollback(path, env=case.env, rate=20.0)
            after = await stats(origin)
            await anyio.sleep(1.1)  # the listing below out of the rollback's rolling second
            assert undone.exit_code == 0 and await held(case, url) == 0, undone
    assert after["faults"]["rate_limited"] == before, after["by_status"]
    assert Ledger.open(path).run.settings["rate"] == 20.0  # the rollback's pace is the run's from now on


@pytest.mark.parametrize("case", CASES, ids=[c.target for c in CASES])
async def test_a_loaded_run_reconciles_again_later(tmp_path: Path, case: Case) -> None:
    with anyio.fail_after(60):
        async with running(case.target, case.options) as url:
            loaded = await load(job(tmp_path, case, url), env=case.env)
            assert loaded.exit_code == 0 and loaded.loaded == case.rows, loaded.stop_reason
            again = await reconcile(str(tmp_path / "run.sqlite"), env=case.env)
            assert again.exit_code == 0 and again.status == "reconciled", again.reconcile
            assert again.reconcile is not None and again.reconcile.ok and again.loaded == case.rows
            assert await held(case, url) == case.held


async def test_a_worker_ending_on_an_error_while_the_producer_waits_stops_the_run_in_bulkloads_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 run in 6 of a queued job whose PostgreSQL connection was lost ended in an ExceptionGroup holding a
    # BrokenResourceError: the last worker's stream closed as it ended on its error, which woke the producer waiting
    # to hand it a chunk before the task group's cancellation reached it, and send raised beside the worker's error
    from bulkload.errors import RunStopped
    from bulkload.pipeline import Loader

    write_entries(tmp_path / "e.csv", 200)

    async def lost(self: Loader, chunk: Any) -> None:
        # the producer hands chunk 2 to the buffer (of 1: concurrency 1), reads chunk 3 and waits to hand it on
        while self.rows_read < 30:  # noqa: ASYNC110 (a plain count the producer keeps: no event to wait on)
            await anyio.sleep(0.01)
        for _ in range(5):  # then it reaches its send, which waits: the buffer is full
            await anyio.lowlevel.checkpoint()
        raise RunStopped("the ledger's connection was lost")

    monkeypatch.setattr(Loader, "deliver", lost)
    async with running("economic", SandboxOptions()) as url:
        job = Job("economic", [str(tmp_path / "e.csv")], base_url=url, batch_size=10, concurrency=1,
                  ledger=str(tmp_path / "l.sqlite"))  # fmt: skip
        with anyio.fail_after(60):
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.exit_code == 4 and "connection was lost" in str(report.stop_reason), report
