"""A manifest's job is told what to set as the key of its table the manifest takes, not as a flag of `bulkload
load`: before (tester, t67a's brief), `bulkload run` told a job whose file is in Windows-1252 to "Give --encoding
cp1252", where its user sets `encoding = "cp1252"` in the job's table; so too the decimal mark, the date order, the
delimiter, and a setting the manifest gives that a load refuses (`--concurrency must be between …`). The commands a
way on gives to run by hand (`bulkload resume --ledger … --resend-in-doubt`) keep their flags. Against the real
multi-agreement e-conomic sandbox on loopback."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from pathlib import Path

import anyio
import pytest
from conftest import spawn_sandbox, write_entries

from bulkload import runner
from bulkload.cli import build_parser, main
from bulkload.dates import DateEvidence
from bulkload.errors import ConfigError
from bulkload.fleet import run_manifest
from bulkload.manifest import _JOB_KEYS, read_manifest
from bulkload.manifest_keys import keys_of, said_as_keys
from bulkload.sandbox import SandboxOptions, running
from bulkload.targets import TARGETS

ENV = {"APP": "app-secret", **{f"G{n}": f"grant-{n}" for n in range(5)}}
#: seconds a test may take at most, on a busy machine
BOUND_S = 60


def job(name: str, grant: str, extra: str = "") -> str:
    return (
        f'[[job]]\nname = "{name}"\nfiles = ["{name}.csv"]\n'
        f'credentials = {{env = {{ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "{grant}"}}}}\n'
        + extra
    )


def with_cells(path: Path, column: int, cell: str) -> None:
    """`path` (write_entries's) with every row's cell of `column` written `cell` (its amount's sign kept)."""
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    for row in rows[1:]:
        row[column] = ("-" if row[column].startswith("-") and column == 4 else "") + cell
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_a_files_encoding_decimal_mark_and_date_order_are_told_as_the_jobs_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The brief's case, and the other whole-file decisions: in the summary `bulkload run` prints and in fleet.json
    alike, each refused job is told the key of its table, with the value as the manifest writes it; the others
    load."""
    write_entries(tmp_path / "good.csv", 3)
    write_entries(tmp_path / "cp.csv", 3)
    text = (tmp_path / "cp.csv").read_text(encoding="utf-8").replace("Sale 1 VAT", "Sale 1 Købmand café")
    (tmp_path / "cp.csv").write_bytes(text.encode("cp1252"))
    write_entries(tmp_path / "dec.csv", 3)
    with_cells(tmp_path / "dec.csv", 4, "1,500")  # 1500 or 1.5: no other number says
    write_entries(tmp_path / "date.csv", 3)
    with_cells(tmp_path / "date.csv", 3, "05/03/2026")  # 5 March or 3 May: no other date says
    sandbox = spawn_sandbox("--agreements")
    try:
        for k, v in ENV.items():
            monkeypatch.setenv(k, v)
        (tmp_path / "m.toml").write_text(
            f'[defaults]\ntarget = "economic"\nbase_url = "{sandbox.url}"\n\n'
            + "".join(job(name, f"G{n}") for n, name in enumerate(("good", "cp", "dec", "date")))
        )
        assert main(["run", str(tmp_path / "m.toml"), "--no-progress"]) == 2
        printed = capsys.readouterr().out
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    jobs = {j["name"]: j for j in json.loads((tmp_path / "m.runs" / "fleet.json").read_text())["jobs"]}
    assert jobs["good"]["status"] == "complete", jobs["good"]
    told = {
        "cp": ["Give `encoding = \"cp1252\"` of job 'cp' in the manifest"],
        "dec": ['give `decimal = "."` of job \'dec\' in the manifest or `decimal = ","`'],
        "date": [
            "give `date_format = \"%d/%m/%Y\"` of job 'date' in the manifest (day first) or "
            '`date_format = "%m/%d/%Y"` (month first)'
        ],
    }
    for name, words in told.items():
        error = str(jobs[name]["error"])
        assert jobs[name]["status"] == "refused" and jobs[name]["exit_code"] == 2, jobs[name]
        said = re.search(rf"^{name}: .*$", printed, re.M)
        assert said is not None, printed
        for text in (error, said[0]):
            assert all(w in text for w in words), text
            assert not re.search(r"--(encoding|decimal|date-format)\b", text), text


async def test_a_given_setting_the_file_contradicts_is_told_as_the_jobs_key(tmp_path: Path) -> None:
    """A setting the manifest gave that the file refutes is named as the key given (`encoding = "cp1252"` … was
    given: leave `encoding` out), as is the one to give instead (a delimiter, a decimal mark)."""
    write_entries(tmp_path / "enc.csv", 3)
    text = (tmp_path / "enc.csv").read_text(encoding="utf-8")
    (tmp_path / "enc.csv").write_text(text.replace("Sale 1 VAT", "Sale 1 Købmand café"), encoding="utf-8")
    write_entries(tmp_path / "delim.csv", 3)
    write_entries(tmp_path / "pipe.csv", 3)
    (tmp_path / "pipe.csv").write_text((tmp_path / "pipe.csv").read_text(encoding="utf-8").replace(",", "|"))
    write_entries(tmp_path / "dec.csv", 3)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\n\n'
                + job("enc", "G0", 'encoding = "cp1252"\n')
                + job("delim", "G1", 'delimiter = ";"\n')
                + job("pipe", "G2")
                + job("dec", "G3", 'decimal = ","\n')
            )
            report = await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=ENV)
    errors = {o.name: str(o.error) for o in report.jobs}
    told = {
        "enc": [
            "`encoding = \"cp1252\"` of job 'enc' in the manifest was given, but the file is UTF-8",
            'leave `encoding` out (or give `encoding = "utf-8"`)',
        ],
        "delim": ['`delimiter = ";"` of job \'delim\' in the manifest was given: give `delimiter = ","`'],
        "pipe": ["give `delimiter = \"|\"` of job 'pipe' in the manifest"],
        "dec": ["`decimal = \",\"` of job 'dec' in the manifest reads numbers", 'give `decimal = "."`'],
    }
    for name, words in told.items():
        assert all(w in errors[name] for w in words), errors[name]
        assert not re.search(r"--(encoding|delimiter|decimal)\b", errors[name]), errors[name]


def test_a_setting_a_load_refuses_is_named_by_the_manifests_key(tmp_path: Path) -> None:
    """Checked as `bulkload load` checks it, before any job starts: named as the key, not the flag."""
    for extra, said in (
        ("concurrency = 0\n", "job 'b': `concurrency` must be between 1 and 1000"),
        ("window_limit = 5\n", "job 'b': `window_limit` needs `window_s` (the window's length in seconds)"),
        ("batch_size = 9999\n", "job 'b': `batch_size` must be between 1 and 500"),
        # no date format: refused as the manifest is read, not once the job's file is (tester, t68b's brief)
        ('date_format = "%Q"\n', "job 'b': `date_format = \"%Q\"` is not a date format: give dmy, mdy, or "),
        ('date_format = "%d-%m-%Y %z"\n', "job 'b': `date_format = \"%d-%m-%Y %z\"` reads an offset (%z)"),
    ):
        (tmp_path / "b.toml").write_text('[defaults]\ntarget = "economic"\n' + job("b", "G0", extra))
        with pytest.raises(ConfigError) as refused:
            read_manifest(str(tmp_path / "b.toml"))
        assert said in str(refused.value) and "--" not in str(refused.value), refused.value
    (tmp_path / "p.toml").write_text(
        '[[job]]\nname = "p"\ntarget = "payorcrm"\nbase_url = "http://127.0.0.1:9"\nfiles = ["c.csv"]\n'
        'credentials = {env = {PAYORCRM_API_KEY = "K", PAYORCRM_API_SECRET = "S"}}\n'
    )
    with pytest.raises(ConfigError) as refused:  # an option of the target's: said as one of the job's `options`
        read_manifest(str(tmp_path / "p.toml"))
    said = 'needs `kind = "customers"|"invoices"` of the `options` of the job in the manifest for FILE..., or '
    assert said + "`customers`/`invoices`" in str(refused.value) and "--" not in str(refused.value), refused.value


async def test_the_rows_in_doubt_way_on_names_the_key_of_a_new_load_and_keeps_the_commands_flags(
    tmp_path: Path,
) -> None:
    """What settles rows in doubt loads a file of the rows the API does not hold with `allow_duplicate_load =
    true`, in the table of the job that loads it (not this job's: its own file loaded again would double what it
    loaded); `bulkload resume --ledger … --resend-in-doubt`, a command run by hand, keeps its flags."""
    write_entries(tmp_path / "a.csv", 10)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(drop_rate=1.0), agreements=True) as url:
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\nattempts = 1\n\n' + job("a", "G0")
            )
            (outcome,) = (await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=ENV)).jobs
    assert outcome.report is not None and outcome.report.in_doubt > 0, outcome
    said = str(outcome.report.in_doubt_way_on)
    assert "with `allow_duplicate_load = true` in the table of the job that loads it, in the manifest" in said, said
    assert "--allow-duplicate-load" not in said, said
    commands = re.findall(r"`([^`]*bulkload resume[^`]*)`", said)
    assert any(c.endswith(" --resend-in-doubt") for c in commands), said
    stored = json.loads((tmp_path / "m.runs" / "a" / "report.json").read_text())["in_doubt_way_on"]
    assert stored == said


@pytest.mark.parametrize("target", list(TARGETS))
def test_the_keys_are_the_manifests_and_each_is_a_flag_of_the_load(target: str) -> None:
    """Read from the job table's types, not a list of their own: every key of a [[job]] that sets a load (its
    settings, its base_url, its options) is said for the flag of `bulkload load TARGET` it is, and every flag so
    said is one of that command's."""
    parser = build_parser(["load", target])
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (targets,) = [a for a in commands.choices["load"]._actions if isinstance(a, argparse._SubParsersAction)]
    flags = {option for action in targets.choices[target]._actions for option in action.option_strings}
    keys = keys_of(target)
    assert set(keys) <= flags, set(keys) - flags
    settings = {k.key for k in keys.values() if not k.option}
    not_settings = {"name", "agreement", "target", "files", "options", "columns", "credentials", "credentials_file"}
    assert settings == set(_JOB_KEYS) - not_settings
    assert {k.key for k in keys.values() if k.option} == set(TARGETS[target].flags.names)


def test_a_command_to_run_by_hand_keeps_its_flags() -> None:
    """A command in backticks is run as it is: its flags are that command's, even those that are keys of a job."""
    command = "`bulkload resume --ledger runs/a/ledger.sqlite --daily-quota 5 --rate 2`"
    assert said_as_keys(f"continue with {command}", "economic", "a") == f"continue with {command}"
    said = said_as_keys("a lower --rate; `--daily-quota N`", "economic", "a")
    assert said == "a lower `rate` of job 'a' in the manifest; `daily_quota = N`", said


async def test_a_hand_run_resume_of_a_jobs_ledger_stopped_at_its_quota_names_the_jobs_daily_quota(
    tmp_path: Path,
) -> None:
    """`bulkload resume --ledger` run by hand on a manifest job's ledger and stopped at the daily quota says to
    continue with `bulkload run MANIFEST --resume`, which takes the job's quota from its `daily_quota` in the
    manifest: it said "give it with `--daily-quota N`", a flag `bulkload run` has not."""
    write_entries(tmp_path / "big.csv", 60)
    creds = {"ECONOMIC_APP_SECRET_TOKEN": ENV["APP"], "ECONOMIC_AGREEMENT_GRANT_TOKEN": ENV["G0"]}
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\nbatch_size = 10\ndaily_quota = 4\n\n'
                + job("big", "G0")
            )
            (outcome,) = (await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=ENV)).jobs
            assert outcome.status == "stopped", outcome
            ledger = str(tmp_path / "m.runs" / "big" / "ledger.sqlite")
            report = await runner.resume(ledger, env=creds, raise_on_stop=False)
    said = str(report.stop_reason)
    assert report.status == "stopped" and "daily quota of 4 calls reached" in said, said
    assert "give it as the `daily_quota` of job 'big' in the manifest" in said and "--daily-quota" not in said, said
    assert f"`bulkload run {tmp_path / 'm.toml'} --resume`" in said, said


async def test_a_date_format_holding_a_quote_is_told_whole(tmp_path: Path) -> None:
    """A date format given with a quote in it (`%d %b '%y`, dates like 05 Mar '26) that reads none of the file's
    dates: the refusal writes it as a shell takes it back, '%d %b '"'"'%y', which was cut at its first quote's end:
    `date_format = "%d %b "` of job 'q' in the manifest"'"'%y' (tester t67e). Said whole, as the manifest writes it."""
    write_entries(tmp_path / "q.csv", 3)
    with_cells(tmp_path / "q.csv", 3, "05/03/2026")
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            given = 'date_format = "%d %b \'%y"\n'
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\n\n' + job("q", "G0", given)
            )
            (outcome,) = (await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=ENV)).jobs
    error = str(outcome.error)
    assert outcome.status == "refused", outcome
    assert "`date_format = \"%d %b '%y\"` of job 'q' in the manifest reads no date of the file" in error, error
    assert '"\'"' not in error and "--date-format" not in error, error


async def test_a_refusal_offering_two_date_formats_names_each_as_the_jobs_key(tmp_path: Path) -> None:
    """A file no date of which the job's `date_format` reads, where the date read shows no order, is offered the
    day-first and the month-first format; one whose two-digit-year dates read day first and year first, each
    format with the day it reads. Each is one the job may give: before (tester, t68b's brief), only the first was
    said as its key, the second left as `'%m %d %Y' (month first)`."""
    write_entries(tmp_path / "two.csv", 3)
    with_cells(tmp_path / "two.csv", 3, "3 4 2026")
    write_entries(tmp_path / "yy.csv", 3)
    with_cells(tmp_path / "yy.csv", 3, "26-11-05")
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\n\n'
                + job("two", "G0", 'date_format = "%d-%m-%Y"\n')
                + job("yy", "G1")
            )
            report = await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=ENV)
    errors = {o.name: str(o.error) for o in report.jobs}
    told = {
        "two": 'so no row would load: `date_format = "%d %m %Y"` (day first) or `date_format = "%m %d %Y"` (month '
        "first). Nothing was sent",
        "yy": "so no row would load: `date_format = \"%d-%m-%y\"` of job 'yy' in the manifest reads it as 2005-11-26 "
        '(day first), `date_format = "%y-%m-%d"` as 2026-11-05 (year first): the file\'s dates do not show which '
        "they are",
    }
    for name, said in told.items():
        assert said in errors[name] and "--" not in errors[name], errors[name]


def test_a_refusal_naming_the_dates_other_order_names_it_as_the_jobs_key() -> None:
    """A given format that does not read a date another order of its day, month and year reads (`%d-%m-%y` given,
    `32-11-05` read `%y-%m-%d`): each format the refusal names is one the job may give, said as its key. Before
    (t68b), the other was said bare: "but %y-%m-%d reads it as 2032-11-05", in a message that said the given one as
    `date_format = "%d-%m-%y"`."""
    evidence = DateEvidence("%d-%m-%y")
    for line, text in enumerate(["26-11-05", "2026-01-01", "32-11-05"], start=2):
        evidence.add(text, line, "date")
    with pytest.raises(ConfigError) as info:
        evidence.decide("%d-%m-%y", "entries.csv")
    said = said_as_keys(str(info.value), "economic", "yy")
    assert (
        "does not read line 4 date '32-11-05', but `date_format = \"%y-%m-%d\"` reads it as 2032-11-05 and "
        '`date_format = "%y-%d-%m"` as 2032-05-11'
    ) in said and "--" not in said, said
