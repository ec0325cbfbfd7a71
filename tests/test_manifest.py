"""A manifest is read and checked before any job starts: its jobs, their defaults and outputs, and a clear refusal
(the file, the job, the reason) for what cannot work, above all a credential's value written into it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from bulkload.errors import ConfigError
from bulkload.fleet import check_paths
from bulkload.manifest import MAX_CONNECTIONS, Manifest, read_manifest

ENV = 'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT_A"}}\n'
SECRET = "s3cr3t-grant-value"


def write(tmp_path: Path, text: str) -> str:
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "b.csv").write_text("x\n")
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return str(path)


def test_jobs_with_their_defaults_agreements_and_outputs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'max_connections = 7\noutput_dir = "out"\n[defaults]\ntarget = "economic"\nrate = 5\n'
        'base_url = "http://127.0.0.1:1/api"\n' + ENV + '[[job]]\nname = "a"\nfiles = ["a.csv"]\n'
        'options = {journal = 2}\ncolumns = {"Beløb" = "amount"}\n'
        '[[job]]\nname = "b"\nagreement = "a"\nfiles = ["b.csv"]\nrate = 2\n',
    )
    manifest = read_manifest(path)
    assert manifest.max_connections == 7
    a, b = manifest.jobs
    assert (a.name, a.agreement, b.agreement) == ("a", "a", "a")  # the agreement defaults to the job's name
    assert list(manifest.agreements()) == ["a"] and manifest.agreements()["a"] == [a, b]
    assert a.ledger_path == str(tmp_path / "out" / "a" / "ledger.sqlite")
    assert b.report_path == str(tmp_path / "out" / "b" / "report.json")
    assert b.rejects_path == str(tmp_path / "out" / "b" / "rejects.csv")
    job = a.job({"APP": "app", "GRANT_A": SECRET})
    assert job.files == [str(tmp_path / "a.csv")]
    assert (job.rate, job.target_options, job.columns) == (5, {"journal": 2}, {"Beløb": "amount"})
    assert job.ledger == a.ledger_path and job.report == a.report_path
    assert job.config_credentials == {"ECONOMIC_APP_SECRET_TOKEN": "app", "ECONOMIC_AGREEMENT_GRANT_TOKEN": SECRET}
    assert b.job({"APP": "app", "GRANT_A": SECRET}).rate == 2  # the job's own key wins over [defaults]
    assert SECRET not in repr(job)


def test_a_jobs_timeout_is_its_flags_name_and_its_former_one_still_reads(tmp_path: Path) -> None:
    """A [[job]] takes the [job] table's keys, the load flags' long names: --timeout is `timeout`, and the key it
    had before (`timeout_s`) is still read, in [defaults] too; a job's own wins over [defaults] either way."""
    path = write(
        tmp_path,
        '[defaults]\ntarget = "economic"\ntimeout_s = 9\n' + ENV + '[[job]]\nname = "a"\nfiles = ["a.csv"]\n'
        '[[job]]\nname = "b"\nfiles = ["b.csv"]\ntimeout = 7\n',
    )
    a, b = read_manifest(path).jobs
    env = {"APP": "app", "GRANT_A": SECRET}
    assert (a.job(env).timeout_s, b.job(env).timeout_s) == (9, 7)


def test_defaults_without_a_cap_or_an_output_dir(tmp_path: Path) -> None:
    path = write(tmp_path, '[[job]]\nname = "a"\ntarget = "economic"\nfiles = ["a.csv"]\n' + ENV)
    manifest = read_manifest(path)
    assert manifest.max_connections == MAX_CONNECTIONS
    assert manifest.jobs[0].ledger_path == str(tmp_path / "fleet.runs" / "a" / "ledger.sqlite")


JOB = '[[job]]\nname = "a"\ntarget = "economic"\nfiles = ["a.csv"]\n'
REFUSED = [
    ("", "has no [[job]] table"),
    ("max_connections = 0\n" + JOB + ENV, "max_connections must be a whole number from 1"),
    ("max_conections = 3\n" + JOB + ENV, "unknown key max_conections, did you mean 'max_connections'?"),
    (JOB + ENV + "rat = 5\n", "job 'a': rat, did you mean 'rate'?"),
    (JOB + ENV + 'rate = "fast"\n', "(job 'a'): rate: expected float, got str"),
    (JOB + ENV + "concurrency = 0\n", "job 'a': `concurrency` must be between 1 and"),
    (JOB + ENV + "timeout = 5\ntimeout_s = 5\n", "job #1: timeout_s is timeout by its former name: give timeout only"),
    (JOB + ENV + 'ledger = "x.sqlite"\n', "unknown key job 'a': ledger"),
    (JOB + ENV + "options = {jurnal = 1}\n", "unknown setting options.jurnal, did you mean 'journal'?"),
    (JOB + ENV + JOB + ENV, "job 'a' is named twice"),
    ('[[job]]\nname = "a b"\ntarget = "economic"\nfiles = ["a.csv"]\n' + ENV, "job #1 needs a name of letters"),
    # found by tester t69c: '..' and '-a' were told to be of letters, digits, '.', '_' or '-', which they are
    ('[[job]]\nname = ".."\ntarget = "economic"\nfiles = ["a.csv"]\n' + ENV, "the first a letter or a digit"),
    ('[[job]]\nname = "-a"\ntarget = "economic"\nfiles = ["a.csv"]\n' + ENV, "the first a letter or a digit"),
    ('[[job]]\nname = "a"\ntarget = "xero"\nfiles = ["a.csv"]\n' + ENV, "target must be one of"),
    ('[[job]]\nname = "a"\ntarget = "economic"\n' + ENV, "files must be a list"),
    (JOB, 'give credentials = {env = {NAME = "VARIABLE"}} or credentials_file'),
    (JOB + ENV + 'credentials_file = "c.toml"\n', "give credentials"),
    (
        JOB + 'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP"}}\n',
        "credentials.env does not name ECONOMIC_AGREEMENT_GRANT_TOKEN",
    ),
    (JOB + 'credentials = {env = {ECONOMIC_APP_TOKEN = "APP"}}\n', "did you mean 'ECONOMIC_APP_SECRET_TOKEN'?"),
    ("[[job]\n", "is not valid TOML"),
]


@pytest.mark.parametrize(("text", "said"), REFUSED)
def test_refused_with_the_file_the_job_and_the_reason(tmp_path: Path, text: str, said: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_manifest(path)
    assert said in str(caught.value) and path in str(caught.value), str(caught.value)


LEAKS = [
    # the credential itself as a job's key, in the credentials table, or where a variable's name belongs
    JOB + ENV + f'ECONOMIC_AGREEMENT_GRANT_TOKEN = "{SECRET}"\n',
    JOB + f'credentials = {{ECONOMIC_AGREEMENT_GRANT_TOKEN = "{SECRET}"}}\n',
    JOB
    + 'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", '
    + f'ECONOMIC_AGREEMENT_GRANT_TOKEN = "{SECRET}"}}}}\n',
    f'[defaults]\nECONOMIC_AGREEMENT_GRANT_TOKEN = "{SECRET}"\n' + JOB + ENV,
]


@pytest.mark.parametrize("text", LEAKS)
def test_a_credential_value_in_the_manifest_is_refused_without_quoting_it(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_manifest(write(tmp_path, text))
    assert SECRET not in str(caught.value)
    assert "ECONOMIC_AGREEMENT_GRANT_TOKEN" in str(caught.value)


PAYOR = (
    '[[job]]\nname = "p"\ntarget = "payorcrm"\nbase_url = "http://127.0.0.1:1"\n'
    'credentials = {env = {PAYORCRM_API_KEY = "K", PAYORCRM_API_SECRET = "S"}}\n'
)


@pytest.mark.parametrize("files", ["files = []\n", ""])
def test_payorcrms_customers_then_invoices_is_a_job_of_options(tmp_path: Path, files: str) -> None:
    # found by a tester: no manifest form took `--customers C --invoices I` (files given: "give the files either
    # as --customers/--invoices or as FILE..."; files = []: "files must be a list of the input files' paths")
    path = write(
        tmp_path, PAYOR + files + 'options = {customers = "a.csv", invoices = "b.csv", amount_unit = "major"}\n'
    )
    (mjob,) = read_manifest(path).jobs
    for job in (mjob.job({"K": "k", "S": "s"}), mjob.job({"K": "k", "S": "s"})):  # the same each time it is made
        assert job.files == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]  # relative to the manifest
        assert job.target_options["file_kinds"] == ["customers", "invoices"]
    assert mjob.settings["files"] == job.files  # what a finished job's files are checked against


def test_payorcrms_files_given_both_ways_are_refused_naming_the_manifests_way(tmp_path: Path) -> None:
    path = write(tmp_path, PAYOR + 'files = ["a.csv"]\noptions = {customers = "a.csv", invoices = "b.csv"}\n')
    with pytest.raises(ConfigError) as caught:
        read_manifest(path)
    assert "options.customers/options.invoices" in str(caught.value) and "files = []" in str(caught.value)
    assert "--customers" not in str(caught.value), str(caught.value)


def test_a_missing_variable_is_named_at_job_time(tmp_path: Path) -> None:
    manifest = read_manifest(write(tmp_path, JOB + ENV))
    with pytest.raises(ConfigError, match="job 'a': the environment variable\\(s\\) GRANT_A are not set"):
        manifest.jobs[0].job({"APP": "app"})


def test_a_variable_holding_a_line_break_is_named_as_the_manifest_names_it_never_its_value(tmp_path: Path) -> None:
    manifest = read_manifest(write(tmp_path, JOB + ENV))
    with pytest.raises(ConfigError) as caught:
        manifest.jobs[0].job({"APP": "app", "GRANT_A": "grant-one\ngrant-two"})
    said = str(caught.value)
    assert said.startswith("job 'a': credential ECONOMIC_AGREEMENT_GRANT_TOKEN from the variable GRANT_A holds"), said
    assert "control character" in said and "grant-one" not in said and "grant-two" not in said, said


def test_a_credentials_file_must_be_0600(tmp_path: Path) -> None:
    creds = tmp_path / "c.toml"
    creds.write_text(f'ECONOMIC_APP_SECRET_TOKEN = "app"\nECONOMIC_AGREEMENT_GRANT_TOKEN = "{SECRET}"\n')
    os.chmod(creds, 0o644)
    path = write(tmp_path, JOB + 'credentials_file = "c.toml"\n')
    with pytest.raises(ConfigError, match="has mode 0644: others may read it; `chmod 600"):
        read_manifest(path)
    os.chmod(creds, 0o600)
    job = read_manifest(path).jobs[0].job({})
    assert job.config_credentials["ECONOMIC_AGREEMENT_GRANT_TOKEN"] == SECRET
    os.chmod(creds, 0o640)  # loosened after the manifest was read: refused when the job starts
    with pytest.raises(ConfigError, match="0640"):
        read_manifest(path)


def test_a_credentials_file_with_an_unknown_name(tmp_path: Path) -> None:
    creds = tmp_path / "c.toml"
    creds.write_text(f'ECONOMIC_GRANT = "{SECRET}"\n')
    os.chmod(creds, 0o600)
    manifest = read_manifest(write(tmp_path, JOB + 'credentials_file = "c.toml"\n'))
    with pytest.raises(ConfigError) as caught:
        manifest.jobs[0].job({})
    assert "ECONOMIC_GRANT is not a credential of economic" in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("given", ["", 'ECONOMIC_AGREEMENT_GRANT_TOKEN = " "\n'])
def test_a_credentials_file_without_a_credential_names_the_file_not_the_environment(tmp_path: Path, given: str) -> None:
    # found by tester t53b: a credentials file without the grant token was refused "missing credential: set
    # ECONOMIC_AGREEMENT_GRANT_TOKEN in the environment (a load may give it in the [credentials] table of its
    # --config instead)", which the job never reads (its credentials are the file's alone), told so where the shell
    # held another agreement's token under that name
    creds = tmp_path / "c.toml"
    creds.write_text(f'ECONOMIC_APP_SECRET_TOKEN = "{SECRET}"\n{given}')
    os.chmod(creds, 0o600)
    manifest = read_manifest(write(tmp_path, JOB + 'credentials_file = "c.toml"\n'))
    with pytest.raises(ConfigError) as caught:
        manifest.jobs[0].job({"ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant-of-another-agreement"})
    said = str(caught.value)
    assert said.startswith(f"job 'a': the credentials file {creds} does not give ECONOMIC_AGREEMENT_GRANT_TOKEN"), said
    assert "environment" not in said and "--config" not in said and SECRET not in said, said


def test_two_jobs_named_alike_but_for_case_are_refused_as_one_folder(tmp_path: Path) -> None:
    # a file system that does not tell case (macOS, Windows, a shared drive) makes out/Acme and out/acme one folder:
    # one job's rejects, in-doubt file and report would replace the other's
    two = JOB + ENV + JOB.replace('"a"', '"A"', 1) + ENV
    with pytest.raises(ConfigError) as caught:
        read_manifest(write(tmp_path, two))
    said = str(caught.value)
    assert "jobs 'a' and 'A'" in said and "one folder" in said and "nothing was sent" in said, said


def _two_jobs(tmp_path: Path) -> Manifest:
    return read_manifest(
        write(
            tmp_path, 'output_dir = "out"\n' + JOB + ENV + JOB.replace('"a"', '"b"', 1).replace("a.csv", "b.csv") + ENV
        )
    )


@pytest.mark.parametrize("spelled", ["{out}/a/rejects.csv", "{out}/b/../a/./rejects.csv", "{out}//a/rejects.csv"])
def test_two_jobs_writing_one_rejects_file_are_refused_naming_both_and_the_path(tmp_path: Path, spelled: str) -> None:
    # one job's rejects would replace the other's: the rows it rejected would be lost from the record
    manifest = _two_jobs(tmp_path)
    a, b = manifest.jobs
    (tmp_path / "out" / "b").mkdir(parents=True)
    b.settings["rejects"] = spelled.format(out=tmp_path / "out")
    with pytest.raises(ConfigError) as caught:
        check_paths(manifest)
    said = str(caught.value)
    assert "job 'b''s rejects file" in said and "job 'a''s rejects file" in said, said
    assert a.rejects_path in said and "nothing was sent" in said, said
    # its in-doubt and success files, beside it, are the other's too: refused alike where the rejects differ
    b.settings["rejects"] = str(tmp_path / "out" / "a" / "x.rejects.csv")
    b.settings["report"] = str(tmp_path / "out" / "a" / "in_doubt.csv")
    with pytest.raises(ConfigError) as caught:
        check_paths(manifest)
    assert "job 'b''s report" in str(caught.value) and "job 'a''s in-doubt file" in str(caught.value)


def test_two_jobs_folders_made_one_by_a_mount_are_refused_before_their_files_exist(tmp_path: Path) -> None:
    # a bind mount (or a folder a case-blind file system names twice) makes two paths one folder: a file yet to be
    # written there is told apart by its folder, not by the path it resolves to
    manifest = _two_jobs(tmp_path)
    (tmp_path / "out" / "a").mkdir(parents=True)
    (tmp_path / "out" / "b").mkdir()
    mounted = subprocess.run(["mount", "--bind", str(tmp_path / "out" / "a"), str(tmp_path / "out" / "b")], check=False)
    if mounted.returncode:
        pytest.skip("no bind mount here (not root)")
    try:
        with pytest.raises(ConfigError) as caught:
            check_paths(manifest)
    finally:
        subprocess.run(["umount", str(tmp_path / "out" / "b")], check=True)
    said = str(caught.value)
    assert "job 'a''s" in said and "job 'b''s" in said and "nothing was sent" in said, said


def test_a_queued_jobs_missing_variable_is_said_to_be_the_workers(tmp_path: Path) -> None:
    # found by a tester (t47d): a worker started without an agreement's variables failed its jobs with `the
    # environment variable(s) QA_GRANT are not set`, read in `bulkload status` from another shell: set there and
    # queued again, the job failed again, the variable still missing where the worker runs
    manifest = read_manifest(write(tmp_path, JOB + ENV))
    queued = dataclasses.replace(manifest.jobs[0], queue="postgresql://postgres@127.0.0.1:5432/postgres")
    with pytest.raises(ConfigError) as caught:
        queued.job({"APP": "app"})
    said = str(caught.value)
    assert said.startswith("job 'a': the environment variable(s) GRANT_A are not set in the environment of the worker")
    assert "start those workers again" in said, said
    with pytest.raises(ConfigError) as alone:  # `bulkload run` without --queue: the shell's own environment
        manifest.jobs[0].job({"APP": "app"})
    assert "worker" not in str(alone.value), str(alone.value)


def test_a_credential_put_where_its_variable_belongs_is_never_shown_as_one_not_set(tmp_path: Path) -> None:
    # found by tester t49e: `the environment variable(s) sk_live_Q7zX… are not set`, on stdout and in fleet.json
    secret = "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3b"
    manifest = read_manifest(write(tmp_path, JOB + ENV.replace('"GRANT_A"', f'"{secret}"')))
    with pytest.raises(ConfigError) as caught:
        manifest.jobs[0].job({"APP": "app"})
    said = str(caught.value)
    assert secret not in said and "credentials.env.ECONOMIC_AGREEMENT_GRANT_TOKEN's (not shown" in said, said


def test_a_credentials_file_line_of_name_and_value_swapped_does_not_show_the_value(tmp_path: Path) -> None:
    # found by tester t49e: `sk_live_… = "ECONOMIC_APP_SECRET_TOKEN"` named the credential as the unknown name
    creds = tmp_path / "c.toml"
    creds.write_text('sk_live_Q7zXa9Kd2LmN4pR8tV1wY3b = "ECONOMIC_APP_SECRET_TOKEN"\n')
    os.chmod(creds, 0o600)
    manifest = read_manifest(write(tmp_path, JOB + 'credentials_file = "c.toml"\n'))
    with pytest.raises(ConfigError) as caught:
        manifest.jobs[0].job({})
    assert "sk_live_" not in str(caught.value) and "a name (not shown" in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (f'ECONOMIC_APP_SECRET_TOKEN = "app"\nECONOMIC_AGREEMENT_GRANT_TOKEN = "{SECRET}\n', "(at line 2, column "),
        (f'ECONOMIC_APP_SECRET_TOKEN = "app"\nECONOMIC_AGREEMENT_GRANT_TOKEN = {SECRET}\n', "(at line 2, column "),
        (f'ECONOMIC_APP_SECRET_TOKEN = "\x01{SECRET}"\n', "(at line 1, column "),
    ],
)
def test_a_credentials_file_not_toml_says_where_never_what(tmp_path: Path, text: str, said: str) -> None:
    # found by tester t69c: "is not valid TOML" and no more, where the file has a line for each credential
    creds = tmp_path / "c.toml"
    creds.write_text(text)
    os.chmod(creds, 0o600)
    with pytest.raises(ConfigError) as caught:
        read_manifest(write(tmp_path, JOB + 'credentials_file = "c.toml"\n')).jobs[0].job({})
    message = str(caught.value)
    assert f"the credentials file {creds} is not valid TOML {said}" in message, message
    assert 'NAME = "value"' in message and SECRET not in message and "s3cr" not in message and "\x01" not in message


@pytest.mark.parametrize(("value", "kind"), [("12345678", "a number"), (f'["{SECRET}"]', "an array")])
def test_a_credential_given_as_no_string_is_told_so_not_unknown(tmp_path: Path, value: str, kind: str) -> None:
    # found by tester t69c: `ECONOMIC_AGREEMENT_GRANT_TOKEN = 12345678` was told "… is not a credential of economic
    # given as a string (known: …, ECONOMIC_AGREEMENT_GRANT_TOKEN)", naming as unknown the name it listed as known
    creds = tmp_path / "c.toml"
    creds.write_text(f'ECONOMIC_APP_SECRET_TOKEN = "app"\nECONOMIC_AGREEMENT_GRANT_TOKEN = {value}\n')
    os.chmod(creds, 0o600)
    manifest = read_manifest(write(tmp_path, JOB + 'credentials_file = "c.toml"\n'))
    with pytest.raises(ConfigError) as caught:
        manifest.jobs[0].job({})
    message = str(caught.value)
    assert f"ECONOMIC_AGREEMENT_GRANT_TOKEN is given as {kind}, not as a string: write it in double quotes" in message
    assert "is not a credential" not in message and SECRET not in message and "12345678" not in message, message
