"""Planted credentials and secret field values never appear in stdout, stderr, the sandbox's own logs, the
ledger, the report, the rejects or in-doubt files — for every target and every command."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import bulkload_cmd, child_env

from bulkload.demo import DEMO_ENV

CANARY = "CANARY7f3e"
CREDENTIALS = {
    "economic": {"ECONOMIC_APP_SECRET_TOKEN": f"{CANARY}-app", "ECONOMIC_AGREEMENT_GRANT_TOKEN": f"{CANARY}-grant"},
    "halopsa": {"HALO_CLIENT_ID": "canary-client", "HALO_CLIENT_SECRET": f"{CANARY}-client-secret"},
    "visma-core": {"VISMA_CORE_TOKEN": f"{CANARY}-bearer"},
    "payorcrm": {"PAYORCRM_API_KEY": f"{CANARY}-key", "PAYORCRM_API_SECRET": f"{CANARY}-secret"},
}


def inputs(target: str, tmp: Path) -> tuple[list[str], list[str]]:
    """(files and target flags, extra flags) with a good row, a bad row, and secrets where the API has them."""
    if target == "economic":
        path = tmp / "e.csv"
        path.write_text("entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n"
                        "5,1,1,2026-11-01,10.00,DKK,1010,ok\n5,1,2,2026-11-01,,DKK,1010,no amount\n")
        return [str(path)], []
    if target == "halopsa":
        path = tmp / "XeroDetails.csv"
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["name", "new_client_secret", "new_refresh_token", "authorized"])
            w.writerow(["Good", f"{CANARY}-field-secret", f"{CANARY}-refresh", "true"])
            w.writerow(["Bad", f"{CANARY}-field-secret-2", f"{CANARY}-refresh-2", "maybe"])
        return [str(path)], ["--match-on", "name"]
    if target == "visma-core":
        path = tmp / "v.csv"
        path.write_text("caseId,accountingCostType,amount,description,entryDate\n"
                        "1001,FEE,10.00,ok,2026-11-01\n1001,FEE,,no amount,2026-11-01\n")
        return [str(path)], []
    path = tmp / "c.csv"
    path.write_text("customerno,emailaddress1\nC1,a@example.com\nC2,\n")
    return ["--kind", "customers", str(path)], []


def run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(bulkload_cmd(*args), env=child_env(env), cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout + done.stderr


def assert_no_canary(tmp: Path, streams: str, canaries: list[str]) -> None:
    for canary in canaries:
        assert canary not in streams, f"{canary} in a stream"
    for path in tmp.rglob("*"):
        if path.is_file() and path.suffix not in (".csv", ".jsonl") or path.name.endswith(("rejects.csv",
                                                                                             "in_doubt.csv")):
            content = path.read_bytes()
            for canary in canaries:
                assert canary.encode() not in content, f"{canary} leaked into {path.name}"


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(CREDENTIALS))
def test_no_command_shows_a_secret(tmp_path: Path, target: str) -> None:
    env = CREDENTIALS[target]
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "bulkload", "sandbox", target, "--port", "0", "--drop-rate", "0.3", "--seed", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert sandbox.stdout is not None
        url = sandbox.stdout.readline().rsplit(" ", 1)[1].strip()
        files, flags = inputs(target, tmp_path)
        common = ["--base-url", url, "--ledger", str(tmp_path / "run.sqlite"), "--report", str(tmp_path / "r.json"),
                  "--rejects", str(tmp_path / "run.rejects.csv"), "--no-progress"]
        out = run(["load", target, *files, *flags, *common], env, tmp_path)
        out += run(["resume", "--ledger", str(tmp_path / "run.sqlite"), "--report", str(tmp_path / "r2.json"),
                    "--no-progress"], env, tmp_path)
        out += run(["reconcile", "--ledger", str(tmp_path / "run.sqlite"), "--report", str(tmp_path / "r3.json")],
                   env, tmp_path)
        out += run(["load", target, *files, *flags, "--dry-run", "--base-url", url,
                    "--rejects", str(tmp_path / "dry.rejects.csv"), "--report", str(tmp_path / "dry.json")], env,
                   tmp_path)
        out += run(["rollback", "--ledger", str(tmp_path / "run.sqlite"), "--report", str(tmp_path / "r4.json")],
                   env, tmp_path)
        assert json.loads((tmp_path / "r.json").read_text())["rejected"] == 1
    finally:
        sandbox.kill()
        logs, errors = sandbox.communicate(timeout=10)
    assert_no_canary(tmp_path, out + logs + errors, [CANARY])


@pytest.mark.slow
def test_the_demo_shows_none_of_its_credentials(tmp_path: Path) -> None:
    out = run(["demo", "--workdir", str(tmp_path / "demo")], {}, Path(__file__).resolve().parent.parent)
    assert "all reconciled" in out
    assert_no_canary(tmp_path, out, [v for k, v in DEMO_ENV.items() if "SECRET" in k or "TOKEN" in k])
