"""The job file is read into typed Structs: an unknown or mistyped key is a configuration error (exit 2) naming
its path and what was expected; a flag whose value cannot work is refused the same way, before anything is read
or sent."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import CREDS, write_entries

from bulkload import Job
from bulkload.cli import build_parser, main
from bulkload.columns import column_letter
from bulkload.errors import ConfigError
from bulkload.job import JobTable, address, read_config
from bulkload.ledger import Ledger, RunInfo
from bulkload.sides import pair_of
from bulkload.targets import TARGETS


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    path = tmp_path / "e.csv"
    write_entries(path, 2)
    return path


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bulkload: error:") and "Traceback" not in err and "\n" not in err, err
    return err


BAD_FILES = [
    ('[job]\nconcurrency = "8"\n', "job.concurrency: expected int, got str"),
    ('[job]\nrate = "fast"\n', "job.rate: expected float, got str"),
    ("[job]\nconcurency = 8\n", "unknown setting job.concurency, did you mean 'concurrency'?"),
    ("[job]\ntimout = 30\n", "unknown setting job.timout, did you mean 'timeout'?"),
    ("[job]\ntimeout = 30\ntimeout_s = 30\n", "job.timeout_s is job.timeout by its former name: give timeout only"),
    ("timeout = 30\n", "timeout is a setting of the [job] table"),
    ("[job]\nno_regroup = 1\n", "job.no_regroup: expected bool, got int"),
    ('[job]\ndecimal = ";"\n', "job.decimal: expected one of ',', '.', got ';'"),
    ("[jobs]\nconcurrency = 8\n", "unknown setting jobs, did you mean 'job'?"),
    ("concurrency = 8\n", "concurrency is a setting of the [job] table"),
    ("job = 8\n", "job: expected object, got int"),
    ('[target]\njournal = "3"\n', "target.journal: expected int, got str"),
    ("[target]\njournl = 3\n", "unknown setting target.journl, did you mean 'journal'?"),
    ("[target]\nresource = 'XeroDetails'\n", "unknown setting target.resource"),  # another target's option
    ("[columns]\nBilagsnr = 5\n", "columns.Bilagsnr: expected a field name (str)"),
    ("[credentials]\nECONOMIC_APP_SECRET_TOKEN = 12345\n", "credentials.ECONOMIC_APP_SECRET_TOKEN: expected str"),
    ('[credentials]\nECONOMIC_APP_SECRET_TOKN = "x"\n', "did you mean 'ECONOMIC_APP_SECRET_TOKEN'?"),
    ("[job\n", "is not valid TOML"),
    ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "is not valid TOML: nested deeper than"),  # was a bug's exit 4
    ("[columns]\n" + '"c" = "d"\n' * 200_000, "is more than 1 MiB"),  # 44 MB of it cost 234 MB of RSS
]


@pytest.mark.parametrize(("text", "said"), BAD_FILES, ids=[s[:40] for _, s in BAD_FILES])
def test_an_unknown_or_mistyped_key_of_the_job_file_is_named_with_what_was_expected(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    config = tmp_path / "job.toml"
    config.write_text(text)
    err = refused(["load", "economic", str(data), "--config", str(config), "--dry-run"], capsys)
    assert said in err and str(config) in err
    assert not list(tmp_path.glob("*.rejects.csv"))  # refused before the file was read


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[job]\nconcurrency = 0\n", "--concurrency must be between 1 and 1000"),
        ("[job]\nrate = nan\n", "--rate must be a positive number"),
    ],
)
def test_a_value_of_the_job_file_out_of_range_is_refused_as_its_flag_would_be(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    config = tmp_path / "job.toml"
    config.write_text(text)
    assert said in refused(["load", "economic", str(data), "--config", str(config), "--dry-run"], capsys)


def test_a_secret_of_the_wrong_type_is_not_shown(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "job.toml"
    config.write_text("[credentials]\nECONOMIC_APP_SECRET_TOKEN = 987654321\n")
    assert "987654321" not in refused(["load", "economic", str(data), "--config", str(config)], capsys)


def test_a_job_file_of_every_table_is_read_typed(tmp_path: Path) -> None:
    config = tmp_path / "job.toml"
    config.write_text(
        '[job]\nconcurrency = 3\nrate = 10\ntimeout_s = 5\ndecimal = ","\nno_regroup = true\n'
        '[columns]\nBilagsnr = "voucherNumber"\nNotes = ""\n'
        "[target]\nresource = 'XeroDetails'\nmatch_on = 'name'\n"
        '[credentials]\nHALO_CLIENT_ID = "id"\nHALO_AUTH_URL = "http://127.0.0.1:1/auth"\n'
    )
    config.chmod(0o600)  # it holds credentials
    settings = read_config(str(config), "halopsa")
    assert settings == {
        "concurrency": 3,
        "rate": 10.0,
        "timeout_s": 5.0,
        "decimal": ",",
        "no_regroup": True,
        "columns": {"Bilagsnr": "voucherNumber", "Notes": ""},
        "target_options": {"resource": "XeroDetails", "match_on": "name"},
        "config_credentials": {"HALO_CLIENT_ID": "id", "HALO_AUTH_URL": "http://127.0.0.1:1/auth"},
    }
    assert isinstance(settings["rate"], float)


def test_every_load_flag_is_a_job_file_key_by_its_long_name() -> None:
    """cli.md: "[job] any of the load flags, by their long names with _ for -": each flag of `bulkload load` that
    is a setting (not one of the command's own: --config, --dry-run, --no-progress, the output flags; a target's
    flags go under [target]) is a [job] key by that name, read into the Job field the flag sets; and no key is
    other than a flag's name."""
    parser = build_parser(["load", "economic"])
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (targets,) = [a for a in commands.choices["load"]._actions if isinstance(a, argparse._SubParsersAction)]
    own = {"--help", "--config", "--dry-run", "--no-progress", "--verbose", "--quiet", "--log-file", "--log-format"}
    mine = set(TARGETS["economic"].flags.names)
    settings = {
        option: action
        for action in targets.choices["economic"]._actions
        for option in action.option_strings
        if option.startswith("--") and option not in own and action.dest not in mine
    }
    keys = {"--" + key.replace("_", "-"): key for key in JobTable.__struct_encode_fields__}
    assert set(settings) == set(keys)
    for flag, action in settings.items():
        value: Any = "."  # a str, and a --decimal
        if action.nargs == 0:
            value = True
        elif isinstance(action, argparse._AppendAction):
            value = ["x"]
        elif action.type in (int, float):
            value = action.type("5")
        table = msgspec.convert({keys[flag]: value}, JobTable)
        assert getattr(table, action.dest) == value, flag  # read into the field the flag sets


def test_the_timeout_of_a_job_file_is_its_flags_name_and_its_former_one_still_reads(tmp_path: Path) -> None:
    config = tmp_path / "job.toml"
    for key in ("timeout", "timeout_s"):
        config.write_text(f"[job]\n{key} = 30\n")
        assert read_config(str(config), "economic")["timeout_s"] == 30.0


BAD_FLAGS = [
    (["--base-url", "notaurl"], "--base-url 'notaurl' is not an http(s) URL"),
    (["--base-url", "ftp://host/api"], "is not an http(s) URL"),
    (["--base-url", "http://"], "is not an http(s) URL"),
    (["--base-url", "http://[::1/api"], "is not an http(s) URL"),  # urlsplit's ValueError: a bug's exit 4
    # was 15 s of retries, exit 4; then "not an http(s) URL", where the port is what is wrong (a tester, t40d)
    (["--base-url", "http://127.0.0.1:99999/api"], "'http://127.0.0.1:99999/api' has no port a TCP connection can use"),
    (["--base-url", "http://u:secret@127.0.0.1:8o/api"], "'http://127.0.0.1:8o/api' has no port"),
    # a password in the address would be kept in the ledger, the report and the record of loads; never shown
    (["--base-url", "http://user:s3cret-pw@127.0.0.1:8700/api"], "holds a user name or password"),
    (["--base-url", "http://user:s3cret-pw@[::1/api"], "holds a user name or password"),
    # a query or fragment ends up in the middle of every call's path, and stays in the ledger (tester t34a: HTTP 404,
    # and every resume given the address without it called the stored one)
    (["--base-url", "http://127.0.0.1:8700/api?token=s3cret-pw"], "holds a query or fragment"),
    (["--base-url", "http://127.0.0.1:8700/api#s3cret-pw"], "holds a query or fragment"),
    (["--encoding", "rot13"], "unknown encoding 'rot13'"),  # a codec, but not of text: a bug's exit 4
    (["--timeout", "0"], "--timeout must be a positive number of seconds"),
    (["--timeout", "nan"], "--timeout must be a positive number of seconds"),
    (["--timeout", "1e-9"], "--timeout must be a positive number of seconds, from 0.1 to 86,400"),  # 47 s, exit 4
    (["--timeout", "1e12"], "--timeout must be a positive number of seconds, from 0.1"),
    (["--attempts", "0"], "--attempts must be at least 1"),
    (["--rate", "inf"], "--rate must be a positive number"),
    (["--rate", "1e300"], "--rate must be a positive number of requests per second, from 0.001 to 1,000,000"),
    (["--rate", "1e-300"], "--rate must be a positive number"),  # a run that waited for ever after its first call
    (["--window-limit", "-1"], "--window-limit must be a number of calls, or 0"),
    (["--window-s", "-1"], "--window-s must be a positive number"),
    (["--window-limit", "1", "--window-s", "1e9"], "--window-s must be a positive number of seconds, at most 86,400"),
    (["--concurrency", "100000"], "--concurrency must be between 1 and 1000"),
    # e-conomic has no window of its own: one half alone was silently ignored, no window kept
    (["--window-limit", "100"], "--window-limit needs --window-s (the window's length in seconds): economic has"),
    (["--window-s", "60"], "--window-s needs --window-limit (the calls allowed in it): economic has"),
]


@pytest.mark.parametrize(("flags", "said"), BAD_FLAGS, ids=[s for _, s in BAD_FLAGS])
def test_a_flag_value_that_cannot_work_is_refused_before_anything_is_sent(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], said: str
) -> None:
    # no server listens on this port: a flag that got past the check would be a stopped run (4), not a 2
    argv = ["load", "economic", str(data), "--base-url", "http://127.0.0.1:9/api", *flags, "--no-progress"]
    out = refused(argv, capsys)
    assert said in out and "s3cret-pw" not in out
    assert not (tmp_path / "e.csv.ledger.sqlite").exists()


BAD_AUTH_URLS = [
    ("notaurl", "HALO_AUTH_URL 'notaurl' is not an http(s) URL: give the token endpoint's root with its scheme and"),
    ("ftp://host/auth", "HALO_AUTH_URL 'ftp://host/auth' is not an http(s) URL"),
    ("http://[::1/auth", "is not an http(s) URL"),
    ("http://user:s3cret-pw@127.0.0.1:8700/auth", "HALO_AUTH_URL holds a user name or password"),
    ("http://127.0.0.1:8700/auth?x=s3cret-pw", "HALO_AUTH_URL holds a query or fragment"),
]


@pytest.mark.parametrize(("url", "said"), BAD_AUTH_URLS, ids=[u for u, _ in BAD_AUTH_URLS])
@pytest.mark.parametrize("given", ["environment", "job file"])
def test_an_auth_url_that_cannot_work_is_refused_as_base_url_is_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, said: str, given: str
) -> None:
    # was a resumable stop (exit 4) of aiohttp's InvalidUrlClientError, and every resume stopped the same way
    monkeypatch.setenv("HALO_CLIENT_ID", "c")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "s")
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name,tenant_id\nAcme,t1\n")
    config = tmp_path / "job.toml"
    if given == "environment":
        monkeypatch.setenv("HALO_AUTH_URL", url)
        config.write_text("")
    else:
        config.write_text(f"[credentials]\nHALO_AUTH_URL = {url!r}\n")
        config.chmod(0o600)
    # no server listens on this port: an address that got past the check would be a stopped run (4), not a 2
    argv = ["load", "halopsa", str(data), "--base-url", "http://127.0.0.1:9", "--config", str(config), "-q"]
    out = refused(argv, capsys)
    assert said in out and "s3cret-pw" not in out
    assert not (tmp_path / "XeroDetails.csv.ledger.sqlite").exists()


def test_resume_checks_the_auth_url_it_is_given_as_a_load_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name,tenant_id\nAcme,t1\n")
    job = Job(target="halopsa", files=[str(data)], base_url="http://127.0.0.1:9")
    path = tmp_path / "run.sqlite"
    Ledger.create(path, RunInfo("halopsa", job.api_url, [], settings=job.settings())).close()
    monkeypatch.setenv("HALO_CLIENT_ID", "c")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "s")
    monkeypatch.setenv("HALO_AUTH_URL", "notaurl")
    said = refused(["resume", "--ledger", str(path), "-q"], capsys)
    assert "HALO_AUTH_URL 'notaurl' is not an http(s) URL" in said


@pytest.mark.parametrize("target", ["economic", "visma-core"])  # (PayorCRM's Api has no window either)
def test_a_window_needs_both_halves_where_the_api_has_none_and_halopsa_lends_its_own(target: str, data: Path) -> None:
    def job(target: str, **window: float) -> Job:
        files = [str(data.with_name("XeroDetails.csv" if target == "halopsa" else data.name))]
        return Job(target=target, files=files, base_url="http://127.0.0.1:9/api", **window)  # type: ignore[arg-type]

    for half in ({"window_limit": 100}, {"window_s": 60.0}):
        with pytest.raises(ConfigError, match="needs --window"):
            job(target, **half)
    assert job(target, window_limit=0).windows() == []  # 0 alone: no window
    assert job(target, window_limit=100, window_s=60).windows() == [(100, 60.0)]
    # HaloPSA's own window is 300 calls per 300 s: either half alone changes only that half
    assert job("halopsa", window_limit=100).windows() == [(100, 300.0)]
    assert job("halopsa", window_s=3.0).windows() == [(300, 3.0)]


def test_resume_checks_the_daily_quota_it_is_given_as_a_load_does(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = Job(target="economic", files=[str(data)])
    path = tmp_path / "run.sqlite"
    Ledger.create(path, RunInfo("economic", job.api_url, [], settings=job.settings())).close()
    said = refused(["resume", "--ledger", str(path), "--daily-quota", "-1", "--no-progress"], capsys)
    assert "--daily-quota must be 0 (off) or a number of calls" in said


def test_debit_and_credit_columns_mapped_to_one_amount_are_named_with_how_to_make_one_signed_column(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an e-conomic export (Danish) with Debet;Kredit, both mapped to amount: the refusal named a column 'amount' the
    # header has not, and not the mapping that made the two columns one field
    path = tmp_path / "dc.csv"
    path.write_text(
        "Bilagstype;Kladde;Bilag;Dato;Debet;Kredit;Valuta;Konto;Tekst\n"
        "5;1;9931;31-10-2026;100,00;;DKK;1010;a\n5;1;9931;31-10-2026;;100,00;DKK;5600;a\n"
    )
    names = ("entryTypeNumber", "journalNumber", "voucherNumber", "date", "amount", "amount", "currency")
    config = tmp_path / "job.toml"
    pairs = zip(("Bilagstype", "Kladde", "Bilag", "Dato", "Debet", "Kredit", "Valuta", "Konto", "Tekst"), names)
    config.write_text("[columns]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in pairs))
    err = refused(["load", "economic", str(path), "--config", str(config), "--dry-run"], capsys)
    assert "columns 'Debet' (5) and 'Kredit' (6) are both mapped to 'amount' by the [columns] table" in err, err
    assert "a field takes one column" in err and "appears twice" not in err
    assert "one signed amount" in err and "credits negative" in err, err
    # the spreadsheet formula names the file's own columns, 5 and 6 (E and F), not fixed letters (a tester, t40a: the
    # advice said =E2-F2 for a file whose debit and credit were D and E)
    assert "=E2-F2 where the debit is column E and the credit F" in err, err
    path.write_text(
        "Bilagstype;Kladde;Bilag;Debet;Kredit;Dato;Valuta;Konto;Tekst\n5;1;9931;100,00;;31-10-2026;DKK;1010;a\n"
    )
    err = refused(["load", "economic", str(path), "--config", str(config), "--dry-run"], capsys)
    assert "=D2-E2 where the debit is column D and the credit E" in err, err


def test_a_column_is_named_by_its_spreadsheet_letters() -> None:
    assert [column_letter(n) for n in (1, 4, 26, 27, 52, 53, 702, 703)] == [
        "A",
        "D",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


def test_an_api_address_is_the_url_the_client_resolves() -> None:
    same = ["HTTPS://Api.Example.com:443/v1/", "https://api.example.com/v1/./x/..", "https://api.example.com/%76%31"]
    assert {address(url) for url in same} == {"https://api.example.com/v1"}
    assert address("https://u:p@api.example.com/v1?q=1#f") == "https://api.example.com/v1"
    # a reserved character percent-encoded is another path than the character (RFC 3986 §2.2): another place
    assert (
        address("https://api.example.com/a%2fb")
        == "https://api.example.com/a%2Fb"
        != address("https://api.example.com/a/b")
    )
    assert address("http://[::1]:8080/a/") == "http://[::1]:8080/a"


@pytest.mark.parametrize(
    "line", ['sk_live_Q7zXa9Kd2LmN4pR8tV1wY3b = "ECONOMIC_APP_SECRET_TOKEN"', "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3b = 1"]
)
def test_a_credential_written_as_a_name_of_credentials_is_not_shown(tmp_path: Path, line: str) -> None:
    # found by tester t49e: a line's name and value swapped showed the credential as the unknown setting
    config = tmp_path / "job.toml"
    config.write_text(f"[credentials]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        read_config(str(config), "economic")
    assert "sk_live_" not in str(caught.value) and "a name of [credentials] (not shown" in str(caught.value)


def test_a_mistyped_credential_name_is_named(tmp_path: Path) -> None:
    config = tmp_path / "job.toml"
    config.write_text('[credentials]\nECONOMIC_APP_SECRET_TOKN = "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3b"\n')
    with pytest.raises(ConfigError, match="unknown setting credentials.ECONOMIC_APP_SECRET_TOKN, did you mean"):
        read_config(str(config), "economic")


@pytest.mark.parametrize("token", ["F86D081884C7D659A2FEAA0C55AD015A", "JBSWY3DPEHPK3PXP"])
def test_a_credential_in_capitals_written_as_a_name_of_credentials_is_not_shown(tmp_path: Path, token: str) -> None:
    # found by tester t50c: a key of upper-case hex (or base32) is in capitals, as names are, and a line's name and
    # value swapped showed it whole as the unknown setting
    config = tmp_path / "job.toml"
    config.write_text(f'[credentials]\n{token} = "ECONOMIC_APP_SECRET_TOKEN"\n')
    with pytest.raises(ConfigError) as caught:
        read_config(str(config), "economic")
    assert token not in str(caught.value) and "a name of [credentials] (not shown" in str(caught.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_job_file_holding_credentials_that_others_may_read_is_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int
) -> None:
    """Found by a tester (t52e): a job file's [credentials] were read from a file of mode 0644, though a manifest's
    credentials file must be 0600. Refused as that one is, exit 2, naming the mode and `chmod 600`; a job file of
    no credentials may be read by others, and one of mode 0600 is read."""
    config = tmp_path / "job.toml"
    config.write_text('[credentials]\nECONOMIC_APP_SECRET_TOKEN = "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3b"\n')
    config.chmod(mode)
    said = refused(["load", "economic", str(data), "--config", str(config), "--dry-run"], capsys)
    assert f"the config {config} holds [credentials] and has mode {mode:04o}: others may read it; `chmod 600" in said
    assert "sk_live" not in said
    config.chmod(0o600)
    assert read_config(str(config), "economic")["config_credentials"] == {
        "ECONOMIC_APP_SECRET_TOKEN": "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3b"
    }
    config.write_text("[job]\nconcurrency = 3\n")
    config.chmod(0o644)
    assert read_config(str(config), "economic")["concurrency"] == 3


def test_a_side_column_dropped_or_unmapped_beside_unsigned_amounts_refuses_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a DATEV/SAP export writes amounts unsigned and each one's side in a column of its own (S = Soll, H = Haben):
    # the refusal of that column as no field said to map it to "" to drop it, and so dropped, the credit was booked
    # as a debit, voucher 9101 out by 2,469.00, exit 0 (tester t72c)
    path = tmp_path / "datev.csv"
    path.write_text(
        "Typ;Journal;Belegnr;Datum;Betrag;Soll/Haben-Kennzeichen;Währung;Konto;Notiz\n"
        "5;1;9101;30.11.2026;1.234,50;S;DKK;1010;x\n5;1;9101;30.11.2026;1.234,50;H;DKK;5600;\n"
    )
    names = ("entryTypeNumber", "journalNumber", "voucherNumber", "date", "amount")
    config = tmp_path / "job.toml"
    pairs = [*zip(("Typ", "Journal", "Belegnr", "Datum", "Betrag"), names), ("Währung", "currency")]
    table = "[columns]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in [*pairs, ("Konto", "accountNumber"), ("Notiz", "")])
    config.write_text(table)
    for how in ("is no field", "is dropped by the [columns] mapping"):
        err = refused(["load", "economic", str(path), "--config", str(config), "--dry-run"], capsys)
        assert (
            f"column 'Soll/Haben-Kennzeichen' (6) gives each amount's side ('S' on line 2, 'H' on line 3) and {how}"
            in err
        )
        assert "a credit as a debit" in err and '=IF(F2="H",-E2,E2)' in err, err
        config.write_text(table + '"Soll/Haben-Kennzeichen" = ""\n')
    # amounts written signed already: the side column says the sign again, and dropping it loses nothing
    path.write_text(path.read_text().replace("1.234,50;H", "-1.234,50;H"))
    assert main(["load", "economic", str(path), "--config", str(config), "--dry-run", "-q"]) == 0, capsys.readouterr()


@pytest.mark.parametrize(
    ("values", "pair"),
    [
        (["S", "H", "S"], ("s", "h")),
        (["Dr", "CR"], ("dr", "cr")),
        (["Soll", "Haben", ""], ("soll", "haben")),
        (["+", "-"], ("+", "-")),
        (["S"], None),  # one side only: no proof it is a side column
        (["S", "H", "x"], None),
        (["Dr", "Db", "Cr"], None),
        (["Rent", "Fee"], None),
    ],
)
def test_a_side_column_is_told_by_its_words(values: list[str], pair: tuple[str, str] | None) -> None:
    assert pair_of(values) == pair


@pytest.mark.parametrize(
    ("debit", "credit", "told"),
    [
        ("Debet", "Kredit", True),
        ("Debit Amount", "Credit Amount", True),
        ("Sollbetrag", "Habenbetrag", True),
        ("Debet", "Kreditor", False),  # a supplier's number, no side
        ("Beløb", "Kredit", False),  # the amount not named as a side: nothing to pair
    ],
)
def test_a_debit_column_mapped_to_amount_beside_a_credit_column_dropped_refuses_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], debit: str, credit: str, told: bool
) -> None:
    # a ledger export of Debet;Kredit, the empty side written 0,00: Debet mapped to amount and Kredit dropped booked
    # the credit line as 0.00, voucher 9801 out by 1,234.50, exit 0 with a warning (tester t72c)
    path = tmp_path / "dc.csv"
    path.write_text(
        f"Type;Journal;Bilag;Dato;{debit};{credit};Valuta;Konto\n"
        "5;1;9801;30-11-2026;1.234,50;0,00;DKK;1010\n5;1;9801;30-11-2026;0,00;1.234,50;DKK;5600\n"
    )
    names = ("entryTypeNumber", "journalNumber", "voucherNumber", "date", "amount", "", "currency", "accountNumber")
    config = tmp_path / "job.toml"
    pairs = zip(("Type", "Journal", "Bilag", "Dato", debit, credit, "Valuta", "Konto"), names)
    config.write_text("[columns]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in pairs))
    argv = ["load", "economic", str(path), "--config", str(config), "--dry-run", "-q"]
    if not told:
        assert main(argv) == 0, capsys.readouterr()
        return
    err = refused(argv, capsys)
    assert f"column {debit!r} (5) is mapped to amount, and column {credit!r} (6), named as the other side's, is " in err
    assert "=E2-F2 where the debit is column E and the credit F" in err and "nothing was sent" in err, err


@pytest.mark.parametrize(
    ("target", "options", "text"),
    [
        (
            "payorcrm",
            ["--kind", "invoices", "--amount-unit", "major"],
            "customerNumber;invoiceNumber;invoiceAmount;Soll/Haben;currency\n"
            "100234;1900001;1.234,50;S;EUR\n100234;1900002;234,50;H;EUR\n",
        ),
        (
            "visma-core",
            [],
            "caseId;accountingCostType;amount;Soll/Haben;description\n1493;FEE;1.234,50;S;a\n1493;FEE;234,50;H;b\n",
        ),
    ],
)
def test_a_side_column_dropped_beside_any_amount_of_money_refuses_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, options: list[str], text: str
) -> None:
    # an SAP open-items export with its Soll/Haben column dropped: the credit memo 1900002 would be uploaded to
    # PayorCRM as an invoice of +234.50 (tester t72c); the side is looked for beside every amount of money
    path = tmp_path / "sh.csv"
    path.write_text(text)
    config = tmp_path / "job.toml"
    config.write_text('[columns]\n"Soll/Haben" = ""\n')
    argv = [
        "load",
        target,
        str(path),
        *options,
        "--config",
        str(config),
        "--dry-run",
        "--base-url",
        "http://127.0.0.1:9",
    ]
    err = refused(argv, capsys)
    assert (
        "column 'Soll/Haben' (4) gives each " in err and "'H' on line 3) and is dropped by the [columns] mapping" in err
    )


@pytest.mark.parametrize(
    ("column", "values", "refused_so"),
    [
        ("Paid by", ("Debit", "Credit"), False),  # the card the invoice was paid with
        ("Type", ("D", "C"), False),  # a status of the export's own
        ("Size", ("S", "H"), False),
        ("S/H", ("S", "H"), True),
        ("Debit/Credit Indicator", ("Debit", "Credit"), True),
        ("Type", ("Dr", "Cr"), True),  # words no file writes of anything but a side
    ],
)
def test_a_column_of_words_that_say_other_things_too_is_a_side_column_beside_invoices_only_named_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, values: tuple[str, str], refused_so: bool
) -> None:
    # 5f5dba7 looked for a side column beside PayorCRM's invoiceAmount too: an ordinary invoice export with a
    # "Paid by" column of Debit and Credit (cards), dropped, was refused as if it gave each invoice's side (tester t72e)
    path = tmp_path / "invoices.csv"
    path.write_text(
        f"customerNumber,invoiceNumber,invoiceAmount,currency,{column}\n"
        f"100234,INV-1,100.00,USD,{values[0]}\n100235,INV-2,250.50,USD,{values[1]}\n"
    )
    config = tmp_path / "job.toml"
    config.write_text(f'[columns]\n"{column}" = ""\n')
    argv = ["load", "payorcrm", str(path), "--kind", "invoices", "--amount-unit", "major", "--config", str(config)]
    argv += ["--dry-run", "-q", "--base-url", "http://127.0.0.1:9"]
    if refused_so:
        assert f"column {column!r} (5) gives each invoiceAmount's side" in refused(argv, capsys)
    else:
        assert main(argv) == 0, capsys.readouterr()


@pytest.mark.parametrize("target", ["economic", "halopsa", "visma-core"])
def test_a_load_of_no_file_says_how_to_name_them(target: str) -> None:
    """Helper t74d: `bulkload load economic` (no file) said "no input file given" and no more: the way on is the
    target's help, which says how it takes its files (HaloPSA's --resource, Visma Core's --kind)."""
    with pytest.raises(ConfigError) as refused:
        Job(target, [])
    assert str(refused.value) == (
        f"no input file given: name the files to load (`bulkload load {target} --help` says how {target} takes them)"
    )
