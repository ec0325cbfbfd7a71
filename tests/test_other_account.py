"""A command on an earlier run (rollback, resume, reconcile, `bulkload run --resume`) with credentials for another
account than the run's is refused before its first call (found by a tester: a rollback of agreement A's run with
agreement B's grant token in the shell deleted B's drafts of those entry numbers, exit 0, and a resume sent the rest
of A's file into B). Against the real sandboxes on loopback: e-conomic with a sandbox of its own per agreement, and
HaloPSA; judged by what each agreement's books hold and the calls the server counted."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, sandbox_read, write_entries

from bulkload import Job, load, reconcile, resume, rollback
from bulkload.errors import EXIT_USAGE, OtherAccount, RunStopped, command_on
from bulkload.fleet import run_manifest
from bulkload.ledger import Ledger
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running
from bulkload.sandbox.generate_data import write_file

#: every test here ends in seconds; a hang fails it instead of stalling the run
BOUND_S = 60
GRANT = "ECONOMIC_AGREEMENT_GRANT_TOKEN"
#: agreement B's credentials: the same app, another agreement's grant token
OTHER = {**CREDS, GRANT: "grant-of-agreement-b"}


def economic(tmp_path: Path, data: Path, url: str, name: str, **kw: Any) -> Job:
    ledger, rejects = str(tmp_path / f"{name}.sqlite"), str(tmp_path / f"{name}.rejects.csv")
    return Job(target="economic", files=[str(data)], base_url=url, ledger=ledger, rejects=rejects, **kw)


async def held(url: str, creds: dict[str, str]) -> int:
    """The draft entries the agreement of `creds` holds."""
    headers = {"X-AppSecretToken": creds["ECONOMIC_APP_SECRET_TOKEN"], "X-AgreementGrantToken": creds[GRANT]}
    async with aiohttp.ClientSession(headers=headers) as s, s.get(url + "/draft-entries/count") as r:
        return int(await r.json())


async def requests(url: str) -> int:
    """The API calls the server has counted, every agreement's."""
    async with aiohttp.ClientSession() as s, s.get(url.split("/journalsapi")[0] + "/_sandbox/stats") as r:
        return int((await r.json())["requests"])


def refused_for_the_agreement(err: pytest.ExceptionInfo[OtherAccount]) -> None:
    said = str(err.value)
    assert err.value.exit_code == EXIT_USAGE
    assert "another agreement than the one the run of" in said and f"Set {GRANT} to" in said, said
    assert "nothing was sent" in said and OTHER[GRANT] not in said and CREDS[GRANT] not in said, said


async def test_a_rollback_with_another_agreements_token_is_refused_and_removes_nothing(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_entries(a, 10, seed=1)
    write_entries(b, 10, seed=2)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            assert (await load(economic(tmp_path, a, url, "a"), env=CREDS)).loaded == 20
            assert (await load(economic(tmp_path, b, url, "b"), env=OTHER)).loaded == 20
            calls = await requests(url)
            # before: "complete, removed 20", exit 0 — B's drafts of those entry numbers deleted
            with pytest.raises(OtherAccount) as err:
                await rollback(str(tmp_path / "a.sqlite"), env=OTHER)
            refused_for_the_agreement(err)
            with pytest.raises(OtherAccount):
                await reconcile(str(tmp_path / "a.sqlite"), env=OTHER)
            assert await requests(url) == calls  # not one call, to either agreement
            assert (await held(url, CREDS), await held(url, OTHER)) == (20, 20)
            undone = await rollback(str(tmp_path / "a.sqlite"), env=CREDS)
            left = (await held(url, CREDS), await held(url, OTHER))
    assert (undone.status, undone.removed, undone.already_removed, undone.unexplained_count) == ("complete", 20, 0, 0)
    assert left == (0, 20)


async def test_a_resume_with_another_agreements_token_is_refused_and_sends_nothing(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    write_entries(data, 100)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            job = economic(tmp_path, data, url, "a", daily_quota=4, batch_size=20, concurrency=1)
            with pytest.raises(RunStopped, match="daily quota"):  # stopped part way, as a quota stops it
                await load(job, env=CREDS)
            before = await held(url, CREDS)
            assert 0 < before < 200
            calls = await requests(url)
            # before: the rest of A's file went into agreement B
            with pytest.raises(OtherAccount) as err:
                await resume(str(tmp_path / "a.sqlite"), env=OTHER, daily_quota=0)
            refused_for_the_agreement(err)
            assert await requests(url) == calls
            assert (await held(url, CREDS), await held(url, OTHER)) == (before, 0)
            resumed = await resume(str(tmp_path / "a.sqlite"), env=CREDS, daily_quota=0)
            books = (await held(url, CREDS), await held(url, OTHER))
    assert (resumed.exit_code, resumed.loaded) == (0, 200), resumed
    assert books == (200, 0)


async def test_a_run_that_created_nothing_goes_on_with_the_right_credentials(tmp_path: Path) -> None:
    """The way on a run refused for its credentials is told (`nothing was created: with the right credentials,
    continue with bulkload resume`) stays open: the sandbox's demo agreement is read-only, so nothing was created."""
    data = tmp_path / "a.csv"
    write_entries(data, 5)
    demo = {"ECONOMIC_APP_SECRET_TOKEN": "demo", GRANT: "demo"}
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            stopped = await load(economic(tmp_path, data, url, "a"), env=demo, raise_on_stop=False)
            assert stopped.loaded == 0 and "with the right credentials" in str(stopped.stop_reason), stopped
            resumed = await resume(str(tmp_path / "a.sqlite"), env=CREDS)
            with pytest.raises(OtherAccount):  # from now on the run's credentials are these
                await rollback(str(tmp_path / "a.sqlite"), env=demo)
            books = await held(url, CREDS)
    assert (resumed.exit_code, resumed.loaded, books) == (0, 10, 10)


async def test_a_run_that_created_nothing_and_went_on_in_another_agreement_is_on_record_there(tmp_path: Path) -> None:
    """Found by a tester: a load into agreement B stopped before its first call, resumed with agreement A's token
    (it created nothing: it goes on there) and loaded into A, stayed on record as a load into B: a later load into
    B of vouchers of those numbers was rejected, "loaded by an earlier run ... possibly booked: reverse it in the
    books", though B never held them. The record of loads follows the run into the agreement it loaded into."""
    b, a = tmp_path / "b.csv", tmp_path / "a.csv"
    write_entries(b, 10, seed=1)
    write_entries(a, 10, seed=2)  # the same voucher numbers, other amounts
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            # stopped by its quota before its first POST: nothing created in B
            stopped = await load(economic(tmp_path, b, url, "b", daily_quota=1), env=OTHER, raise_on_stop=False)
            assert (stopped.status, stopped.loaded, await held(url, OTHER)) == ("stopped", 0, 0), stopped
            resumed = await resume(str(tmp_path / "b.sqlite"), env=CREDS, daily_quota=0)
            into_b = await load(economic(tmp_path, a, url, "a"), env=OTHER, raise_on_stop=False)
            into_a = await load(economic(tmp_path, a, url, "a2"), env=CREDS, raise_on_stop=False)
            books = (await held(url, CREDS), await held(url, OTHER))
    assert (resumed.exit_code, resumed.loaded) == (0, 20), resumed
    assert (into_b.exit_code, into_b.loaded, into_b.rejected) == (0, 20, 0), into_b
    # in A the run of b.sqlite did load those vouchers, with other amounts: refused there
    assert (into_a.loaded, into_a.rejected) == (0, 20), into_a
    assert "voucher 1 (journal 1) is already in the journal" in (tmp_path / "a2.rejects.csv").read_text()
    assert books == (20, 20)


async def test_a_halopsa_rollback_with_another_client_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name\nNorthwind IT\nIronclad Support\n", encoding="utf-8")
    env = {"HALO_CLIENT_ID": "tenant-a-client", "HALO_CLIENT_SECRET": "tenant-a-secret"}
    other = {"HALO_CLIENT_ID": "tenant-b-client", "HALO_CLIENT_SECRET": "tenant-b-secret"}
    ledger = str(tmp_path / "run.sqlite")
    with anyio.fail_after(BOUND_S):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            job = Job(target="halopsa", files=[str(data)], base_url=url, ledger=ledger)
            assert (await load(job, env=env)).loaded == 2
            with pytest.raises(OtherAccount) as err:
                await rollback(ledger, env=other)
            kept = len(await sandbox_read(url, "records/XeroDetails"))
            rotated = {**env, "HALO_CLIENT_SECRET": "tenant-a-secret-rotated"}  # the same client: the same tenant
            undone = await rollback(ledger, env=rotated)
            left = await sandbox_read(url, "records/XeroDetails")
    said = str(err.value)
    assert "another tenant" in said and "HALO_CLIENT_ID" in said and "tenant-b" not in said, said
    assert kept == 2
    assert (undone.status, undone.removed, undone.unexplained_count, left) == ("complete", 2, 0, [])


async def visma_core_entries(url: str) -> list[tuple[int, str, str]]:
    """What the Visma Core sandbox holds: (case, amount, description) of each entry and draft, sorted."""
    async with aiohttp.ClientSession() as s, s.get(url + "/_sandbox/entries") as r:
        return sorted((e["CaseId"], str(e["Amount"]), e["Description"]) for e in await r.json())


async def test_a_visma_core_run_stopped_goes_on_after_its_bearer_token_was_refreshed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a tester: the run's account was the bearer token's fingerprint, and a token changes at every
    refresh, so a stopped run was refused by resume, reconcile and rollback ("for another company", exit 2) with no
    way on. Visma Core names no company a run could read: the run's account is its address."""
    data = tmp_path / "entries.csv"
    write_file(data, 60, kind="visma-core", seed=2)
    ledger = str(tmp_path / "run.sqlite")
    with anyio.fail_after(BOUND_S):
        async with running("visma-core", SandboxOptions()) as url:
            job = Job(target="visma-core", files=[str(data)], base_url=url, ledger=ledger, daily_quota=20)
            stopped = await load(replace(job, concurrency=1), env={"VISMA_CORE_TOKEN": "token-a"}, raise_on_stop=False)
            assert stopped.status == "stopped" and 0 < stopped.loaded < 60, stopped
            refreshed = {"VISMA_CORE_TOKEN": "token-b"}
            checked = await reconcile(ledger, env=refreshed)
            resumed = await resume(ledger, env=refreshed, daily_quota=0)
            held_after = await visma_core_entries(url)
            with sqlite3.connect(ledger) as db:  # as a bulkload that kept no fingerprint left it
                db.execute("DELETE FROM meta WHERE key = 'account'")
            with caplog.at_level(logging.WARNING, logger="bulkload.account"):
                await reconcile(ledger, env={"VISMA_CORE_TOKEN": "token-d"})
        async with running("visma-core", SandboxOptions()) as url:  # the same file loaded in one go
            once = Job(target="visma-core", files=[str(data)], base_url=url, ledger=str(tmp_path / "once.sqlite"))
            assert (await load(once, env={"VISMA_CORE_TOKEN": "token-c"})).loaded == 60
            held_once = await visma_core_entries(url)
    assert checked.status == "reconciled", checked
    assert (resumed.exit_code, resumed.loaded, resumed.rejected, resumed.in_doubt) == (0, 60, 0, 0), resumed
    assert held_after == held_once  # every row once: what a run never stopped leaves
    # no credential of it names the company: none is said to be unchecked
    assert not [r.getMessage() for r in caplog.records if r.name == "bulkload.account"]


async def test_the_ledger_keeps_a_salted_fingerprint_never_the_token_nor_its_hash(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    write_entries(data, 3)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            await load(economic(tmp_path, data, url, "a"), env=CREDS)
            await load(economic(tmp_path, data, url, "b", allow_duplicate_load=True), env=CREDS)
    kept = []
    for name in ("a", "b"):
        with sqlite3.connect(tmp_path / f"{name}.sqlite") as db:
            (value,) = db.execute("SELECT value FROM meta WHERE key = 'account'").fetchone()
        kept.append(json.loads(value))
        stored = b"".join(p.read_bytes() for p in tmp_path.glob(f"{name}.sqlite*"))
        for secret in CREDS.values():
            plain = hashlib.sha256(secret.encode()).hexdigest()
            for shown in (secret, plain, plain[:32], hashlib.sha256(secret.encode()).digest()):
                assert (shown.encode() if isinstance(shown, str) else shown) not in stored, (name, shown)
    assert all(len(k["fingerprint"]) == 32 and len(k["salt"]) == 32 for k in kept), kept
    # a salt of each ledger's own: one token, two fingerprints that cannot be matched with each other
    assert kept[0]["salt"] != kept[1]["salt"] and kept[0]["fingerprint"] != kept[1]["fingerprint"]


async def test_a_ledger_of_an_earlier_bulkload_gets_the_fingerprint_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "a.csv"
    write_entries(data, 3)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            await load(economic(tmp_path, data, url, "a"), env=CREDS)
            with sqlite3.connect(tmp_path / "a.sqlite") as db:  # as a bulkload before this one left it
                db.execute("DELETE FROM meta WHERE key = 'account'")
            with caplog.at_level(logging.WARNING, logger="bulkload.account"):
                checked = await reconcile(str(tmp_path / "a.sqlite"), env=CREDS)
            with pytest.raises(OtherAccount):
                await rollback(str(tmp_path / "a.sqlite"), env=OTHER)
            books = (await held(url, CREDS), await held(url, OTHER))
    assert checked.exit_code == 0
    said = [r.getMessage() for r in caplog.records if r.name == "bulkload.account"]
    assert len(said) == 1 and "earlier bulkload" in said[0] and "cannot be checked" in said[0], said
    assert GRANT in said[0] and CREDS[GRANT] not in said[0]
    assert books == (6, 0)


async def test_a_manifest_job_resumed_with_another_agreements_token_is_refused(tmp_path: Path) -> None:
    write_entries(tmp_path / "a.csv", 100)
    manifest = tmp_path / "fleet.toml"
    env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "ACME_GRANT": CREDS[GRANT]}
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            manifest.write_text(
                f'[[job]]\nname = "acme"\ntarget = "economic"\nbase_url = "{url}"\nfiles = ["a.csv"]\n'
                "daily_quota = 4\nbatch_size = 20\nconcurrency = 1\n"
                f'credentials = {{env = {{ECONOMIC_APP_SECRET_TOKEN = "APP", {GRANT} = "ACME_GRANT"}}}}\n'
            )
            (stopped,) = (await run_manifest(read_manifest(str(manifest)), env=env)).jobs
            assert stopped.status == "stopped", stopped
            before = await held(url, CREDS)
            manifest.write_text(manifest.read_text().replace("daily_quota = 4", "daily_quota = 0"))
            swapped = {**env, "ACME_GRANT": OTHER[GRANT]}  # the variable now holds agreement B's token
            (refused,) = (await run_manifest(read_manifest(str(manifest)), env=swapped, resume=True)).jobs
            books = (await held(url, CREDS), await held(url, OTHER))
            (done,) = (await run_manifest(read_manifest(str(manifest)), env=env, resume=True)).jobs
            after = await held(url, CREDS)
    (mjob,) = read_manifest(str(manifest)).jobs
    ledger = Ledger.open(mjob.ledger_path)
    ledger.set_status("rolling_back")  # a rollback of the job stopped part way
    ledger.close()
    (rolling,) = (await run_manifest(read_manifest(str(manifest)), env=env, resume=True)).jobs
    said = str(refused.error)
    assert (refused.status, refused.exit_code) == ("refused", EXIT_USAGE), refused
    assert f"job 'acme': its credentials ({GRANT} from the variable ACME_GRANT) are for another agreement" in said
    assert f"(`bulkload run {mjob.manifest} --resume`)" in said and OTHER[GRANT] not in said, said
    assert books == (before, 0)
    assert (done.status, after) == ("complete", 200)
    # told to finish the rollback with the job's own credentials: `bulkload rollback` reads the target's names
    rollback = f"{command_on('rollback', mjob.ledger_path)}`"
    assert f'`ECONOMIC_APP_SECRET_TOKEN="$APP" {GRANT}="$ACME_GRANT" {rollback}' in str(rolling.error), rolling
