"""Month-end files as spreadsheets and ERP systems in Nordic and German locales export them (tester t32a): a weekday
that contradicts its date, amounts set out in groups of thousands where whole minor units are read, a voucher
loaded out of balance said where a cron log looks. Small files, loopback or --dry-run only."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import CREDS, serving, spawn_sandbox

from bulkload import Job, runner
from bulkload.cli import main, quiet_summary
from bulkload.report import unbalanced_said
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.sandbox.economic_web import PREFIX


def _weekday_load(tmp_path: Path, day: str, fmt: str = "%a %d.%m.%Y") -> tuple[int, dict[int, str]]:
    """A dry run of one voucher dated `day`, read --date-format `fmt`: the exit code, and line -> reason of the rows
    the rejects file holds."""
    data = tmp_path / "wd.csv"
    rows = [
        "entryTypeNumber;voucherNumber;date;amount;currency;accountNumber;text",
        f"5;1;{day};100,00;DKK;1010;a",
        f"5;1;{day};-100,00;DKK;5600;b",
    ]
    data.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    code = main(
        ["load", "economic", str(data), "--journal", "1", "--date-format", fmt, "--dry-run",
         "--base-url", "http://127.0.0.1:9/journalsapi/v11.0.2", "-q"]
    )  # fmt: skip
    rejects = tmp_path / "wd.csv.rejects.dry-run.csv"
    if not rejects.exists():
        return code, {}
    with rejects.open(newline="", encoding="utf-8") as fh:
        return code, {int(r["line"]): r["reason"] for r in csv.DictReader(fh, delimiter=";")}


def test_a_weekday_that_contradicts_its_date_is_refused_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`Mon 01.12.2026` is rejected by bulkload itself with the advice `--date-format '%a %d.%m.%Y'`; given that
    format, strptime ignores the weekday: 1 December 2026 (a Tuesday) and 2 December 2026 (a Wednesday), both
    written `Mon`, were loaded without a word. The date or the weekday is wrong, or day and month are swapped."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    # 2 December 2026 is a Wednesday, 12 February a Thursday: no reading names a Monday, the rows are rejected
    code, rejected = _weekday_load(tmp_path, "Mon 02.12.2026")
    assert code == 1 and set(rejected) == {2, 3}, (code, rejected)
    assert "its weekday is not its day's: 2026-12-02 is a Wednesday" in rejected[2], rejected
    # 12 January 2026 is a Monday: read month first the date holds, so the file writes dates in both orders
    capsys.readouterr()
    code, _ = _weekday_load(tmp_path, "Mon 01.12.2026")
    assert code == 2 and "month first" in capsys.readouterr().err
    # its own weekday: loads
    assert _weekday_load(tmp_path, "Wed 02.12.2026") == (0, {})
    # a weekday by its number (%u: Monday 1), tester t33b: '1 02.12.2026' was booked as 2 December
    code, rejected = _weekday_load(tmp_path, "1 02.12.2026", "%u %d.%m.%Y")
    assert code == 1 and "2026-12-02 is a Wednesday" in rejected[2], (code, rejected)
    assert _weekday_load(tmp_path, "3 02.12.2026", "%u %d.%m.%Y") == (0, {})
    # a weekday in Danish (t33b): it was told 'expected format %a %d.%m.%Y', the very format given
    code, rejected = _weekday_load(tmp_path, "ons 02.12.2026")
    assert code == 1 and "'ons' is no weekday or month name --date-format reads" in rejected[2], rejected
    # the locale's date and time (%c: the C locale's, bulkload's): it read no date at all, not even its own
    # day's; now its weekday is held to its date as %a's is
    assert _weekday_load(tmp_path, "Wed Dec  2 10:00:00 2026", "%c") == (0, {})
    code, rejected = _weekday_load(tmp_path, "Mon Dec  2 10:00:00 2026", "%c")
    assert code == 1 and "2026-12-02 is a Wednesday" in rejected[2], (code, rejected)


@pytest.mark.parametrize("amount", ["1.234.567", "1\u00a0234\u00a0567", "1 234 567"])
def test_payorcrm_grouped_amount_is_not_taken_for_minor_units_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], amount: str
) -> None:
    """`--amount-unit minor` is the default, and a file that writes an amount with decimals is refused as one in
    major units. An amount written with thousands separators (`1.234.567`, `1 234 567`, as Excel's `#.##0` format
    shows whole kroner) is a figure formatted for people, the major unit as plausibly: it was sent as 1234567 minor
    units (12,345.67 DKK), exit 0. It should be refused before the first call as the decimals are (or rejected
    naming the row and --amount-unit), not guessed."""
    monkeypatch.setenv("PAYORCRM_API_KEY", "k")
    monkeypatch.setenv("PAYORCRM_API_SECRET", "s")
    data = tmp_path / "inv.csv"
    rows = ["customerNumber;invoiceNumber;invoiceAmount;currency;dueDate", f"1;A1;{amount};DKK;31.12.2026"]
    data.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    code = main(
        ["load", "payorcrm", "--kind", "invoices", str(data), "--dry-run", "--base-url", "http://127.0.0.1:9", "-q"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "line 2: invoiceAmount" in err and "groups of thousands" in err, err
    data.write_text(data.read_text(encoding="utf-8").replace(amount, "1234567"), encoding="utf-8")
    assert (
        main(["load", "payorcrm", "--kind", "invoices", str(data), "--dry-run", "--base-url", "http://127.0.0.1:9"])
        == 0
    )


#: voucher 1: 100,00 against 3 x -33,33, a split that balances only with rounding
_UNBALANCED = [
    "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text",
    "5;1;1;31.12.2026;100,00;DKK;1010;a",
    "5;1;1;31.12.2026;-33,33;DKK;5600;b",
    "5;1;1;31.12.2026;-33,33;DKK;5600;c",
    "5;1;1;31.12.2026;-33,33;DKK;5600;d",
]


async def test_the_quiet_line_names_a_voucher_loaded_out_of_balance(tmp_path: Path) -> None:
    """100,00 against 3 x -33,33 (a split that balances only with rounding) is loaded as the file has it, and the
    full summary says `1 voucher loaded that does not balance in the input`. The -q line, which is all a cron job's
    log keeps, said only `complete: 4 loaded, 0 rejected, 0 in doubt, 0 skipped` (exit 0): a voucher out by 0,01
    went into the books with no word where the user looks. It names the warning for a last line without a line end;
    it should name the vouchers out of balance too."""
    data = tmp_path / "r.csv"
    data.write_text("\r\n".join(_UNBALANCED) + "\r\n", encoding="utf-8")
    async with serving(create_app(SandboxOptions())) as origin:
        job = Job(target="economic", files=[str(data)], base_url=origin + PREFIX, ledger=str(tmp_path / "l.sqlite"))
        report = await runner.load(job, env=CREDS)
    assert report.loaded == 4
    line = quiet_summary(report)
    assert "balance" in line, line


def test_a_manifest_run_names_a_voucher_loaded_out_of_balance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """t33b: `bulkload run m.toml -q` said `exit 0; report: …/fleet.json`, and its table nothing, though job a loaded
    voucher 1 out of balance (its report.json counted it)."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    sb = spawn_sandbox()
    try:
        (tmp_path / "a.csv").write_text("\r\n".join(_UNBALANCED) + "\r\n", encoding="utf-8")
        creds = ", ".join(f'{k} = "{k}"' for k in CREDS)
        (tmp_path / "m.toml").write_text(
            f'[defaults]\nagreement = "acme"\ntarget = "economic"\nbase_url = "{sb.url}"\n'
            f"credentials = {{env = {{{creds}}}}}\n"
            '[[job]]\nname = "a"\nfiles = ["a.csv"]\n',
            encoding="utf-8",
        )
        assert main(["run", str(tmp_path / "m.toml"), "-q"]) == 0
        assert "warning: a: 1 voucher loaded that does not balance in the input" in capsys.readouterr().out
        assert main(["run", str(tmp_path / "m.toml")]) == 0  # the job's stored report, shown again
        assert "a: warning: 1 voucher loaded that does not balance" in capsys.readouterr().out
    finally:
        sb.proc.kill()
        sb.proc.communicate(timeout=10)


def test_a_dry_run_names_a_voucher_it_would_load_out_of_balance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dry run plans voucher 1 (100,00 against 3 x -33,33) as the load would send it, and said nothing of its
    balance: the user who checks a file with --dry-run before month end learned it only from the load (a tester)."""
    data = tmp_path / "r.csv"
    data.write_text("\r\n".join(_UNBALANCED) + "\r\n", encoding="utf-8")
    report = runner.dry_run(Job(target="economic", files=[str(data)], ledger=str(tmp_path / "l.sqlite")))
    assert report.would_load == 4 and report.groups and report.groups.unbalanced == 1, report
    assert report.groups.unbalanced_list[0]["imbalance_minor_units"] == 1
    said = unbalanced_said(report)
    assert said == "1 voucher it would load that does not balance in the input, e.g. voucher 1 (journal 1)", said
    assert main(["load", "economic", str(data), "--dry-run", "--ledger", str(tmp_path / "l.sqlite"), "-q"]) == 0
    assert "warning: 1 voucher it would load that does not balance" in capsys.readouterr().out
