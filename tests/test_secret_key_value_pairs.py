"""A secret in a list of key-value pairs (HaloPSA's `sync_entities_list`, "Sync entity list as key-value pairs",
seed 001; `company_object`, a KeyPair): the pair's name says what its value is, `{"key": "api_password", "value":
"…"}`, so its value is masked as a secret key's is. Before, only a key named as a secret was: such a value was
written to the rejects file as it was (tester t65a)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_secrets import CREDENTIALS, assert_no_canary, halopsa_sandbox_with, run

from bulkload.masking import MASK, mask_under, masked, masked_text, secret_rule, secret_texts
from bulkload.targets.halopsa_records import Resource

RULE = secret_rule(Resource("XeroDetails").secret_fields)
PAIRS = [{"key": "invoices", "value": True}, {"key": "api_password", "value": "pw-2026"}]


def test_the_value_of_a_pair_named_as_a_secret_is_masked() -> None:
    assert masked(PAIRS, RULE) == [{"key": "invoices", "value": True}, {"key": "api_password", "value": MASK}]
    assert masked({"Name": "client_secret", "Value": "s"}, RULE) == {"Name": "client_secret", "Value": MASK}
    assert json.loads(masked_text(json.dumps(PAIRS), RULE))[1]["value"] == MASK


def test_a_pair_whose_name_says_no_secret_is_kept() -> None:
    pairs = [{"key": "token_expiry", "value": "2026-12-01"}, {"name": "invoices", "value": "x"}]
    assert masked(pairs, RULE) == pairs
    assert masked_text(json.dumps(pairs), RULE) == json.dumps(pairs)


def test_a_pairs_secret_is_scrubbed_from_messages_and_its_mask_found_when_read_back() -> None:
    assert secret_texts({"sync_entities_list": PAIRS}, Resource("XeroDetails").secret_fields) == ["pw-2026"]
    assert mask_under(json.dumps(masked(PAIRS, RULE)), RULE) == "api_password"
    assert mask_under(json.dumps(PAIRS), RULE) is None


@pytest.mark.slow
def test_a_rejected_rows_pair_secret_is_not_in_the_rejects_file(tmp_path: Path) -> None:
    canary = "CANARY7f3e-pair"
    path = tmp_path / "XeroDetails.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "authorized", "sync_entities_list"])
        w.writerow(["Good", "true", json.dumps([{"key": "invoices", "value": True}])])
        w.writerow(["Bad", "maybe", json.dumps([{"key": "api_password", "value": canary}])])
    sandbox = halopsa_sandbox_with()
    try:
        assert sandbox.stdout is not None
        url = sandbox.stdout.readline().rsplit(" ", 1)[1].strip()
        out = run(
            ["load", "halopsa", str(path), "--base-url", url, "--no-progress", "--report", str(tmp_path / "r.json")],
            CREDENTIALS["halopsa"],
            tmp_path,
        )
    finally:
        sandbox.kill()
        sandbox.communicate(timeout=10)
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["loaded"], report["rejected"]) == (1, 1), out
    with open(tmp_path / "XeroDetails.csv.rejects.csv", newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert json.loads(row["sync_entities_list"]) == [{"key": "api_password", "value": MASK}]
    assert_no_canary(tmp_path, out, [canary], [path])
