"""The command line as a new user meets it: --version, help texts that state the defaults the code really uses
(read back from the help and compared with the Job a load would run with, so they cannot drift), each target's
environment variables and a working example, and "did you mean" for a mistyped option, choice or column."""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shlex
from pathlib import Path

import pytest

from bulkload.argparsing import chosen, parse
from bulkload.cli import _job, build_parser, main
from bulkload.errors import ConfigError
from bulkload.sandbox import SandboxOptions
from bulkload.targets import TARGETS


def help_of(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The help text of `bulkload ARGS --help`, its whitespace collapsed (argparse wraps to the terminal)."""
    with pytest.raises(SystemExit) as done:
        main([*args, "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def refusal(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """stderr of `bulkload ARGS` refused as a usage error (exit 2)."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    assert done.value.code == 2
    return capsys.readouterr().err


def default_in(text: str, flag: str) -> str:
    """The default an option's help states: "(default 50, ...", "(default and maximum 500)"."""
    found = re.search(rf"{flag} [A-Z_]+ [^()]*?\(default (?:and maximum )?([^,;)]+?)(?=[,;)]|: )", text)
    assert found, f"{flag} names no default in: {text}"
    return found[1].strip()


def example_of(text: str, target: str) -> list[str]:
    """The example command of a target's help, as argv after `bulkload`."""
    found = re.search(rf"example: export .*?\.\.\. bulkload (load {target} .*?report\.json)", text)
    assert found, text
    return shlex.split(found[1])


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"bulkload {importlib.metadata.version('bulkload')}"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_help_states_the_defaults_a_load_runs_with(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The defaults in `bulkload load TARGET --help` are those of the Job its own example command makes."""
    text = help_of(capsys, "load", target)
    args = example_of(text, target)
    cls = TARGETS[target]
    if "--base-url" in args:  # the example gives an address only where the API has none of its own
        assert "--base-url BASE_URL API root of your instance including its version path (required" in text
        with pytest.raises(ConfigError, match="give --base-url"):
            _job(parse(build_parser(), [a for a in args if a != "--base-url" and "YOUR-INSTANCE" not in a]))
    job = _job(parse(build_parser(), args))
    if "--base-url" not in args:
        assert default_in(text, "--base-url") == job.api_url
    assert int(default_in(text, "--batch-size")) == job.items_per_call
    assert re.search(rf"--batch-size BATCH_SIZE [^)]*(maximum|at most) {cls.api.max_items}\)", text)
    assert int(default_in(text, "--concurrency")) == job.concurrency
    assert int(default_in(text, "--daily-quota")) == job.daily_quota
    assert float(default_in(text, "--timeout")) == job.timeout_s
    assert int(default_in(text, "--attempts")) == job.attempts
    assert float(default_in(text, "--settle-s")) == job.settle_delay_s
    windows = job.windows()
    if windows:
        assert default_in(text, "--window-limit") == f"{windows[0][0]} per {windows[0][1]:.0f} s"
        assert float(default_in(text, "--window-s")) == windows[0][1]
    else:
        assert (
            "--window-s WINDOW_S length of the rolling window in seconds (default: no window; give --window-limit"
            in text
        )


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_target_help_names_its_environment_variables(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys, "load", target)
    creds = TARGETS[target].credentials
    for name in creds.names:
        assert f"{name} required" in text
        assert f"{name}=..." in text.split("example:")[1]
    for name in creds.optional:
        assert f"{name} optional" in text


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every subparser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _parsers(sub)
    return found


def test_every_command_has_a_description_and_every_option_help() -> None:
    for parser in _parsers(build_parser()):
        assert parser.description, parser.prog
        for action in parser._actions:
            assert action.help, f"{parser.prog} {action.option_strings or action.dest}"


def test_a_mistyped_option_is_refused_with_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    err = refusal(capsys, "load", "economic", "x.csv", "--bach-size", "5")
    assert "unrecognized arguments: --bach-size 5; did you mean --batch-size (not --bach-size)?" in err
    err = refusal(capsys, "load", "halopsa", "x.csv", "--match_on=name")
    assert "did you mean --match-on" in err
    # a required option missing because it was mistyped
    assert "did you mean --ledger (not --ledgr)?" in refusal(capsys, "resume", "--ledgr", "run.sqlite")


def test_a_credential_given_as_an_option_is_refused_saying_where_credentials_go_and_never_echoed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # found by a tester: `--token abc` was refused with "unrecognized arguments: --token abc; did you mean --rate
    # (not --token)?": the secret echoed to the terminal (and a CI log), and a guess by spelling
    err = refusal(capsys, "load", "economic", "x.csv", "--token", "s3cret-app-token")
    assert "s3cret" not in err and "did you mean" not in err, err
    assert "unrecognized arguments: --token ***; credentials are never given on the command line" in err, err
    err = refusal(capsys, "load", "halopsa", "x.csv", "--client-secret=s3cret", "--client-id", "s3cret-id", "-q")
    assert "s3cret" not in err and "--client-secret=*** --client-id ***;" in err, err
    assert "s3cret" not in refusal(capsys, "resume", "--ledger", "r.sqlite", "--api-key", "s3cret")


@pytest.mark.parametrize(
    "argv",
    [
        ("--token", "s3cretXYZ", "load", "economic", "x.csv"),  # before the command: "invalid choice: 's3cretXYZ'"
        ("load", "economic", "x.csv", "--pass", "s3cretXYZ"),
        ("load", "economic", "x.csv", "--pwd", "s3cretXYZ"),
        ("load", "economic", "x.csv", "--key", "s3cretXYZ"),
        ("load", "economic", "x.csv", "--auth=s3cretXYZ"),
        ("load", "economic", "x.csv", "--bearer", "s3cretXYZ"),
        ("load", "economic", "ECONOMIC_APP_SECRET_TOKEN=s3cretXYZ", "x.csv"),  # the assignment after `bulkload`
    ],
)
def test_a_credential_on_the_command_line_is_never_echoed_whatever_its_option_or_place(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    # tester t71h: each of these printed the value back to the terminal (and a CI log); the last was read as an
    # input file, "cannot read ECONOMIC_APP_SECRET_TOKEN=s3cretXYZ", and its rejects file named after it
    err = refusal(capsys, *argv)
    assert "s3cretXYZ" not in err and "***" in err, err


def test_an_option_of_another_command_is_refused_naming_the_command_that_takes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # tester t51a: `--resend-indoubt` on load was refused with no hint, `--match-on` on economic with "did you mean
    # --batch-size", `--kind` with "did you mean --window-s"
    err = refusal(capsys, "load", "economic", "x.csv", "--resend-indoubt")
    assert "--resend-in-doubt is an option of `bulkload resume`, not of `bulkload load economic`" in err
    err = refusal(capsys, "load", "economic", "x.csv", "--match-on", "name")
    assert "--match-on is an option of `bulkload load halopsa`, not of `bulkload load economic`" in err
    assert "did you mean" not in err
    err = refusal(capsys, "load", "economic", "x.csv", "--kind=costs")
    assert "--kind is an option of `bulkload load visma-core`, `bulkload load payorcrm`" in err
    assert "did you mean" not in err
    # the command's own option near a typo is still the one named
    err = refusal(capsys, "load", "economic", "x.csv", "--bach-size", "5")
    assert "did you mean --batch-size (not --bach-size)?" in err and "is an option of" not in err


def test_a_mistyped_command_target_or_choice_is_refused_with_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    assert "did you mean 'reconcile'?" in refusal(capsys, "reconcle", "--ledger", "x")
    assert "did you mean 'visma-core'?" in refusal(capsys, "load", "visma_core", "x.csv")
    assert "did you mean 'customers'?" in refusal(capsys, "load", "payorcrm", "--kind", "customer", "x.csv")


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        ([], ["-v", "-q"], "argument -q/--quiet: not allowed with argument -v/--verbose"),
        (["-v"], ["-q"], "argument -q/--quiet: not allowed with argument -v/--verbose"),
        (["-q"], ["-v"], "argument -v/--verbose: not allowed with argument -q/--quiet"),
        (["-vv"], ["--quiet"], "argument -q/--quiet: not allowed with argument -v/--verbose"),
        (["--quiet"], ["-v"], "argument -v/--verbose: not allowed with argument -q/--quiet"),
    ],
    ids=["after", "v-before-q-after", "q-before-v-after", "vv-before-quiet-after", "quiet-before-v-after"],
)
def test_v_and_q_are_refused_together_on_either_side_of_the_command(
    before: list[str], after: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # docs/cli.md: given before or after the command, and they exclude each other; argparse checks each side alone
    err = refusal(capsys, *before, "load", "economic", "x.csv", "--dry-run", *after)
    assert f"bulkload load economic: error: {said}" in err, err


def test_the_subparser_chosen_is_the_innermost() -> None:
    parser = build_parser()
    ns, _ = parser.parse_known_args(["load", "economic", "x.csv"])
    assert chosen(parser, ns).prog.endswith("load economic")


ENTRIES = "entryTypeNumber,journalNumber,voucherNumber,date,{amount},currency,accountNumber,text\n" + (
    "5,1,1,2026-11-01,10.00,DKK,1010,ok\n5,1,1,2026-11-01,-10.00,DKK,5820,ok\n"
)


def test_a_mistyped_column_is_refused_with_the_nearest_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(ENTRIES.format(amount="ammount"))
    assert main(["load", "economic", str(path), "--dry-run"]) == 2
    assert "no column amount (did you mean 'ammount'?): every economic row needs it" in capsys.readouterr().err


def test_title_lines_above_the_header_are_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # found by a tester: a report's title above the header was refused with advice to map the column 'Journal
    # export for Acme ApS' in [columns], which cannot help
    path = tmp_path / "e.csv"
    path.write_text("Journal export for Acme ApS\nPeriod 2026-10\n\n" + ENTRIES.format(amount="amount"))
    assert main(["load", "economic", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "its first line ('Journal export for Acme ApS') names none of the economic fields" in err, err
    assert "If title or notes lines stand above the header, remove them" in err, err


@pytest.mark.parametrize(("name", "shown"), [("amount\u200b", r"'amount\u200b'"), ("amo\u00a0unt", r"'amo\xa0unt'")])
def test_a_column_with_an_invisible_character_is_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, shown: str
) -> None:
    # found by a tester: "amount\u200b" (a zero-width space) was refused as "column(s) amount, did you mean
    # 'amount'?", two names that look alike
    path = tmp_path / "e.csv"
    path.write_text(ENTRIES.format(amount=name), encoding="utf-8")
    assert main(["load", "economic", str(path), "--dry-run"]) == 2
    assert f"no column amount (did you mean {shown}?)" in capsys.readouterr().err


def test_a_column_mapping_naming_a_column_the_file_lacks_says_which_is_close(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, config = tmp_path / "e.csv", tmp_path / "job.toml"
    path.write_text(ENTRIES.format(amount="Amout"))
    config.write_text('[columns]\nAmount = "amount"\n')
    assert main(["load", "economic", str(path), "--dry-run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "maps a column the file does not have: 'Amount' (to amount), did you mean 'Amout'?" in err
    path.write_text(ENTRIES.format(amount="Amount"))  # the mapping right: the file loads
    assert main(["load", "economic", str(path), "--dry-run", "--config", str(config), "-q"]) == 0


def test_sandbox_help_states_the_sandboxs_defaults() -> None:
    parser = next(p for p in _parsers(build_parser()) if p.prog.endswith("sandbox"))
    defaults = SandboxOptions()
    checked = 0
    for action in parser._actions:
        found = re.search(r"\(default (\d[\d.]*)\)", action.help or "")
        if found and hasattr(defaults, action.dest):
            assert float(found[1]) == getattr(defaults, action.dest), action.dest
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_attempts_help_says_a_429_in_a_rolling_window_may_hold_calls_the_whole_window(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # a tester read "else up to 8 s a pause" against a HaloPSA load that a 429 without Retry-After paused for the
    # whole 5-minute window: the window's rule (Guarantees, 429 Too Many Requests) holds calls until they fit
    text = help_of(capsys, "load", target)
    attempts = text.split("--attempts ATTEMPTS sends")[1].split("--settle-s SETTLE_S")[0]
    assert "else up to 8 s a pause" in attempts, attempts
    assert "without Retry-After up to the whole window" in attempts, attempts
    window = TARGETS[target].api.window
    said = f"(the API's {window[0]} calls per {window[1]:g} s, or --window-" if window else "(--window-limit)"
    assert said in attempts, attempts


@pytest.mark.parametrize("command", ["resume", "reconcile", "rollback"])
def test_a_ledger_given_without_ledger_is_named(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`bulkload resume run.sqlite` (the ledger as a bare word, as `load` takes its files) was refused with only
    `the following arguments are required: --ledger` (tester t42d): the refusal now gives the command's way."""
    said = refusal(capsys, command, "--report", "r.json", "my run.sqlite")
    assert said.splitlines()[-1].endswith("required: --ledger; did you mean --ledger 'my run.sqlite'?"), said
    assert "did you mean" not in refusal(capsys, command, "--report", "r.json")
