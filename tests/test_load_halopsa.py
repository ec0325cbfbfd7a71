"""HaloPSA through the real client against the sandbox: OAuth, re-runnable upserts, the rolling window,
exactly once under faults with --match-on, field-by-field reconciliation, and secrets that stay secret."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from bulkload import Job, dry_run, load, reconcile, resume
from bulkload.sandbox import SandboxOptions, running

ENV = {"HALO_CLIENT_ID": "halo-test-client", "HALO_CLIENT_SECRET": "CANARY-CLIENT-SECRET-5f1e"}
HEADER = ["name", "tenant_id", "tenant_name", "client_id", "new_client_secret", "new_refresh_token", "authorized",
          "isdefault", "enablesync", "sync_entities_list"]
CANARIES = ["CANARY-CLIENT-SECRET-5f1e", "CANARY-XERO-SECRET", "CANARY-REFRESH"]


def write(path: Path, n: int, *, bad: bool = False, prefix: str = "Acme MSP") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            w.writerow([f"{prefix} {i:04d} – Xero UK", f"tenant-{i:04d}", f"Tenant {i}", f"client-{i}",
                        f"CANARY-XERO-SECRET-{i}", f"CANARY-REFRESH-{i}", "true", "false", "true",
                        json.dumps([{"entity": "invoices", "enabled": True}])])
        if bad:
            w.writerow([f"{prefix} bad", "t", "T", "c", "CANARY-XERO-SECRET-bad", "", "maybe", "", "", ""])
    return path


def job(tmp_path: Path, data: Path, url: str, **kw: Any) -> Job:
    settings: dict[str, Any] = {
        "ledger": str(tmp_path / f"{data.stem}.sqlite"), "rejects": str(tmp_path / f"{data.stem}.rejects.csv"),
        "report": str(tmp_path / f"{data.stem}.json"), **kw,
    }
    settings["target_options"] = {"resources": ["XeroDetails"], **kw.get("target_options", {})}
    return Job(target="halopsa", files=[str(data)], base_url=url, **settings)


async def records(url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/records/XeroDetails") as r:
        body: list[dict[str, Any]] = await r.json()
        return body


async def stats(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/stats") as r:
        body: dict[str, Any] = await r.json()
        return body


@pytest.mark.slow
async def test_the_same_file_twice_with_match_on_creates_nothing_new(tmp_path: Path) -> None:
    data = write(tmp_path / "xero.csv", 120)
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            first = await load(job(tmp_path, data, url, target_options={"match_on": "name"}), env=ENV)
            created = len(await records(url))
            again = await load(job(tmp_path, data, url, ledger=str(tmp_path / "again.sqlite"),
                                   target_options={"match_on": "name"}), env=ENV)
            after = await records(url)
    assert (first["loaded"], first["reconcile"]["ok"]) == (120, True), first["reconcile"]
    assert created == 120 and len(after) == 120, "the second run created records"
    assert again["loaded"] == 120 and again["reconcile"]["ok"], again["reconcile"]
    assert again["reconcile"]["expected_count"] == 120


@pytest.mark.slow
async def test_a_token_that_expires_mid_run_is_renewed(tmp_path: Path) -> None:
    data = write(tmp_path / "xero.csv", 200)
    # a one-hour token at time factor 3600 lives one second; 40 calls of 100 ms, two at a time: two seconds
    options = SandboxOptions(window_limit=0, time_factor=3600, latency_ms=100)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            report = await load(job(tmp_path, data, url, batch_size=5, concurrency=2), env=ENV)
            seen = await stats(url)
    assert report["status"] == "complete" and report["loaded"] == 200, report["stop_reason"]
    assert seen["tokens_issued"] >= 2, "the token was not renewed"
    assert report["reconcile"]["ok"]


@pytest.mark.slow
async def test_the_rolling_window_is_never_exceeded(tmp_path: Path) -> None:
    data = write(tmp_path / "xero.csv", 700)
    # HaloPSA's 300 requests per 5 minutes, 100 times faster: 300 per 3 s, on both sides
    options = SandboxOptions(window_limit=300, window_s=300, time_factor=100)
    with anyio.fail_after(90):
        async with running("halopsa", options) as url:
            started = time.monotonic()
            report = await load(job(tmp_path, data, url, batch_size=1, concurrency=16, window_s=3.0), env=ENV)
            wall = time.monotonic() - started
            seen = await stats(url)
    assert report["loaded"] == 700 and report["rate_limited"] == 0, report
    assert seen["faults"]["rate_limited"] == 0
    # 700 creates + a token + a listing + the reconciliation listing: three windows' worth, so at least
    # two full windows must pass, and not much more than that
    assert report["requests"] > 600 and 6.0 <= wall < 6.0 * 1.5 + 3


@pytest.mark.slow
async def test_faults_with_match_on_load_every_record_exactly_once(tmp_path: Path) -> None:
    data = write(tmp_path / "xero.csv", 300)
    options = SandboxOptions(window_limit=0, fault_rate=0.05, drop_rate=0.1, seed=8)
    with anyio.fail_after(90):
        async with running("halopsa", options) as url:
            report = await load(job(tmp_path, data, url, batch_size=10, target_options={"match_on": "name"}),
                                env=ENV)
            if report["in_doubt"]:
                report = await resume(str(tmp_path / "xero.sqlite"), env=ENV, resend_in_doubt=True)
            stored = await records(url)
    names = [r["name"] for r in stored]
    assert len(names) == len(set(names)) == 300, "a record was created twice or lost"
    assert report["reconcile"]["ok"], report["reconcile"]


@pytest.mark.slow
async def test_reconcile_names_a_field_changed_behind_the_loaders_back(tmp_path: Path) -> None:
    data = write(tmp_path / "xero.csv", 20)
    async with running("halopsa", SandboxOptions(window_limit=0)) as url:
        first = await load(job(tmp_path, data, url), env=ENV)
        victim = (await records(url))[3]
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{url}/auth/token", data={"grant_type": "client_credentials", "client_id": "x",
                                                         "client_secret": "y", "scope": "all"}) as r:
                token = (await r.json())["access_token"]
            async with s.post(f"{url}/api/XeroDetails", json=[{"id": victim["id"], "tenant_name": "Changed"}],
                              headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status in (200, 201)
        later = await reconcile(str(tmp_path / "xero.sqlite"), env=ENV)
    assert first["reconcile"]["ok"] and not later["reconcile"]["ok"] and later["exit_code"] == 3
    (diff,) = later["reconcile"]["differences"]
    assert diff["id"] == victim["id"] and diff["field"] == "tenant_name" and diff["found"] == "Changed"


@pytest.mark.slow
async def test_secrets_reach_the_api_and_nothing_else(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write(tmp_path / "xero.csv", 60, bad=True)
    options = SandboxOptions(window_limit=0, drop_rate=0.2, fault_rate=0.05, seed=2)
    async with running("halopsa", options) as url:
        # ~30 writes: that no fault at all hits them is a 1-in-5,000 chance, not a flake to chase
        report = await load(job(tmp_path, data, url, batch_size=2, target_options={"match_on": "name"}), env=ENV)
        await resume(str(tmp_path / "xero.sqlite"), env=ENV, report=str(tmp_path / "resume.json"))
        await reconcile(str(tmp_path / "xero.sqlite"), env=ENV, report=str(tmp_path / "rec.json"))
        dry_run(job(tmp_path, data, url, rejects=str(tmp_path / "dry.rejects.csv"),
                    report=str(tmp_path / "dry.json")))
        faults = (await stats(url))["faults"]
        first = (await records(url))[0]
        async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/secrets/XeroDetails/{first['id']}") as r:
            stored = await r.json()
    assert report["rejected"] == 1 and faults["drop"] + faults["http_5xx"] > 0
    assert any(str(v).startswith("CANARY-XERO-SECRET-") for v in stored.values()), "the secret never arrived"
    produced = capsys.readouterr()
    streams = produced.out + produced.err
    for path in tmp_path.iterdir():
        if path.name == "xero.csv":
            continue
        content = path.read_bytes()
        for canary in CANARIES:
            assert canary.encode() not in content, f"{canary} leaked into {path.name}"
    for canary in CANARIES:
        assert canary not in streams


@pytest.mark.slow
async def test_updates_of_one_record_land_in_file_order(tmp_path: Path) -> None:
    first = tmp_path / "XeroDetails.csv"
    first.write_text("name,tenant_name\nTarget,v0\n")
    updates = tmp_path / "more" / "XeroDetails.csv"
    updates.parent.mkdir()
    for seed in range(6):  # answered at random speeds: without ordering, some earlier update lands last
        async with running("halopsa", SandboxOptions(window_limit=0, slow_rate=0.5, slow_ms=60, seed=seed)) as url:
            await load(job(tmp_path, first, url, ledger=str(tmp_path / f"a{seed}.sqlite")), env=ENV)
            (record,) = await records(url)
            updates.write_text("id,tenant_name\n" + "".join(f"{record['id']},v{i}\n" for i in range(1, 9)))
            report = await load(job(tmp_path, updates, url, ledger=str(tmp_path / f"b{seed}.sqlite"), batch_size=1,
                                    concurrency=8, allow_duplicate_load=True), env=ENV)
            (after,) = await records(url)
        assert report["loaded"] == 8 and report["reconcile"]["ok"], (seed, report["reconcile"])
        assert after["tenant_name"] == "v8", f"seed {seed}: an earlier row's update landed last"
