"""A manifest's job is told its rows' reasons in the words of its table, as its refusals are (test_fleet_keys_named):
before (tester, t68b's brief), the rejects file, the report's `rejects_by_reason` and the summary printed from it
said "expected format %d/%m/%Y (--date-format)" to a job whose user sets `date_format` in the manifest, and the
in-doubt file "raise --settle-s" where the job sets `settle_s`. Said once for each distinct reason
(manifest_keys.JobWords), not row by row; a load of its own says its flags as before. Against the real sandboxes on
loopback."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import anyio
import pytest
from conftest import spawn_sandbox, write_entries
from test_load_halopsa import write as write_halo

from bulkload import Job
from bulkload.cli import main
from bulkload.columns import COLUMNS_OF_CONFIG
from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.manifest_keys import JobWords, in_job_words
from bulkload.meters import QUOTA_RAISED
from bulkload.pipeline import NOT_FOUND_YET
from bulkload.runner import load
from bulkload.sandbox import SandboxOptions, running

CREDENTIALS = {"ECONOMIC_APP_SECRET_TOKEN": "app-secret", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant-0"}
#: seconds a test may take at most, on a busy machine
BOUND_S = 60


def with_dates(path: Path, bad: dict[int, str]) -> None:
    """`path` (write_entries's) with its dates written day first, D/M/YYYY, and the rows `bad` (by index) dated
    otherwise."""
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    for n, row in enumerate(rows[1:]):
        year, month, day = row[3].split("-")
        row[3] = bad.get(n, f"{day}/{month}/{year}")
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def reasons(path: Path, column: str = "reason") -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return [row[column] for row in csv.DictReader(fh)]


def test_a_jobs_rejected_rows_are_told_the_jobs_date_format_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows whose dates the job's `date_format` does not read: the rejects file, the report's `rejects_by_reason`
    and the summary a reconcile by hand on the job's ledger prints from it name `date_format`, never the flag; the
    same file loaded on its own keeps the flag."""
    write_entries(tmp_path / "a.csv", 4)
    with_dates(tmp_path / "a.csv", {0: "05.03.2026", 1: "05.03.2026", 2: "3 4 2026", 3: "3 4 2026"})
    (tmp_path / "own").mkdir()
    write_entries(tmp_path / "own" / "a.csv", 4, first_voucher=100)  # a load of its own: other vouchers
    with_dates(tmp_path / "own" / "a.csv", {0: "3 4 2026", 1: "3 4 2026"})
    sandbox = spawn_sandbox("--agreements")
    try:
        monkeypatch.setenv("APP", CREDENTIALS["ECONOMIC_APP_SECRET_TOKEN"])
        monkeypatch.setenv("G0", CREDENTIALS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
        (tmp_path / "m.toml").write_text(
            f'[defaults]\ntarget = "economic"\nbase_url = "{sandbox.url}"\n\n[[job]]\nname = "a"\nfiles = ["a.csv"]\n'
            'date_format = "%d/%m/%Y"\n'
            'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "G0"}}\n'
        )
        assert main(["run", str(tmp_path / "m.toml"), "--no-progress"]) == 1
        for name, value in CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        ledger = tmp_path / "m.runs" / "a" / "ledger.sqlite"
        assert main(["reconcile", "--ledger", str(ledger), "--no-progress"]) == 1
        printed = capsys.readouterr().out
        own = tmp_path / "own" / "a.csv"
        assert main(["load", "economic", str(own), "--base-url", sandbox.url, "--date-format", "%d/%m/%Y"]) == 1
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    key = "(expected format %d/%m/%Y (`date_format` of job 'a' in the manifest) or YYYY-MM-DD)"
    said = reasons(tmp_path / "m.runs" / "a" / "rejects.csv")
    assert len(said) == 4 and all(s.endswith(key) for s in said), said
    stored = json.loads((tmp_path / "m.runs" / "a" / "report.json").read_text())["rejects_by_reason"]
    assert [r["reason"] for r in stored] == ["not a valid date: '05.03.2026' " + key], stored
    shown = [line for line in printed.splitlines() if "expected format" in line]
    assert shown and all(key in line and "--date-format" not in line for line in shown), printed
    flag = "(expected format %d/%m/%Y (--date-format) or YYYY-MM-DD)"
    own_said = reasons(tmp_path / "own" / "a.csv.rejects.csv")
    assert len(own_said) == 2 and all(s.endswith(flag) for s in own_said), own_said


async def test_how_a_jobs_file_was_read_names_the_keys_it_was_given(tmp_path: Path) -> None:
    """The report's `inputs` say a decimal mark and a date format the job gave (`decimal_evidence`, `date_evidence`:
    "given: …") as the keys of its table, a format holding a space whole (before, `--date-format %d %m %Y`, unquoted,
    was no value to say); `date_format` and `decimal` stay the values read with. A load of its own says its flags."""
    write_entries(tmp_path / "a.csv", 2)
    with_dates(tmp_path / "a.csv", {n: "3 4 2026" for n in range(4)})
    write_entries(tmp_path / "own.csv", 2, first_voucher=100)
    with_dates(tmp_path / "own.csv", {})
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\n\n[[job]]\nname = "a"\nfiles = ["a.csv"]\n'
                'date_format = "%d %m %Y"\ndecimal = "."\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "G0"}}\n'
            )
            env = {"APP": CREDENTIALS["ECONOMIC_APP_SECRET_TOKEN"], "G0": CREDENTIALS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
            (outcome,) = (await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=env)).jobs
            own = Job(
                target="economic",
                files=[str(tmp_path / "own.csv")],
                base_url=url,
                date_format="%d/%m/%Y",
                decimal=".",
                report=str(tmp_path / "own.json"),
            )
            await load(own, env=CREDENTIALS)
    assert outcome.status == "complete", outcome
    (read,) = json.loads((tmp_path / "m.runs" / "a" / "report.json").read_text())["inputs"]
    assert read["date_format"] == "%d %m %Y" and read["decimal"] == ".", read
    assert read["date_evidence"] == "given: `date_format = \"%d %m %Y\"` of job 'a' in the manifest", read
    assert read["decimal_evidence"] == "given: `decimal = \".\"` of job 'a' in the manifest", read
    (read,) = json.loads((tmp_path / "own.json").read_text())["inputs"]
    assert read["date_evidence"] == "given: --date-format %d/%m/%Y", read
    assert read["decimal_evidence"] == "given: --decimal .", read


async def test_a_jobs_rows_in_doubt_are_told_the_jobs_settle_s_key(tmp_path: Path) -> None:
    """A call whose answer was lost while the API was still committing it, and which a look `settle_s` later did
    not find: its rows' reason in the in-doubt file names the job's `settle_s`, not --settle-s."""
    write_halo(tmp_path / "h.csv", 4)
    env = {"HID": "halo-test-client", "HSEC": "CANARY-CLIENT-SECRET-5f1e"}
    # the token and listing calls have 1.5 s on a busy machine; the writes commit 4 s after they arrive, well past
    # the call's timeout and the look 0.1 s after it
    with anyio.fail_after(BOUND_S):
        async with running("halopsa", SandboxOptions(window_limit=0, commit_delay_ms=(4000, 4000))) as url:
            (tmp_path / "m.toml").write_text(
                f'[[job]]\nname = "h"\ntarget = "halopsa"\nbase_url = "{url}"\nfiles = ["h.csv"]\nattempts = 1\n'
                'timeout_s = 1.5\nsettle_s = 0.1\noptions = {resource = "XeroDetails", match_on = "name"}\n'
                'credentials = {env = {HALO_CLIENT_ID = "HID", HALO_CLIENT_SECRET = "HSEC"}}\n'
            )
            (outcome,) = (await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=env)).jobs
            await anyio.sleep(2.6)  # the commits land before the sandbox stops
    assert outcome.report is not None and outcome.report.in_doubt == 4, outcome
    said = reasons(tmp_path / "m.runs" / "h" / "in_doubt.csv", "last_error")
    assert len(set(said)) == 1 and "did not find it yet" in said[0], said
    assert "a look `settle_s` of job 'h' in the manifest later" in said[0], said
    assert "(raise `settle_s` where the API commits slower)" in said[0] and "--" not in said[0], said


@pytest.mark.parametrize(
    "text",
    [
        "not a valid date: '3 4 2026' (expected format %d/%m/%Y (--date-format) or YYYY-MM-DD)",
        "not a valid date: '3 4 26' (expected D-M-YYYY; for dates of another format give --date-format: "
        "--date-format '%d %m %y' (day first) or --date-format '%m %d %y' (month first))",
        NOT_FOUND_YET,
        "'1.500' read with the file's decimal point is 1.500: give --decimal ,",
        "a row: load it with --allow-duplicate-load; or give --decimal , here",
        "amount '7': `bulkload resume --ledger x.sqlite --rate 2` then --rate 3",
        f"field 'x' is not in the {COLUMNS_OF_CONFIG}; and {QUOTA_RAISED}",
        "a value 'load' then --no-regroup and --journal 2",
        "got '--date-format' as a value, then --encoding cp1252.",
        "a word--date-format runs on; then --decimal , is one",
        "the quota: give it with `--daily-quota N`",
        "nothing to say of flags",
    ],
)
def test_a_reason_is_said_as_the_whole_is(text: str) -> None:
    """JobWords says a text from where its first flag's words start, so that the rows' values before it do not make
    each reason another: what it says is what in_job_words says of the whole text."""
    assert JobWords("economic", "j")(text) == in_job_words(text, "economic", "j")


def test_reasons_differing_in_their_values_alone_are_said_once() -> None:
    """10,000 rows rejected for one reason, each quoting its own date: one text to say (the rest is the row's
    value), said once."""
    words = JobWords("economic", "j")
    said = {
        words(f"not a valid date: '{n} 4 2026' (expected format %d/%m/%Y (--date-format) or YYYY-MM-DD)")
        for n in range(10_000)
    }
    assert len(said) == 10_000 and all(re.search(r"\(`date_format` of job 'j' in the manifest\)", s) for s in said)
    assert words._said.cache_info().misses == 1, words._said.cache_info()
