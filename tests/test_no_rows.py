"""An input that holds no rows (a CSV of its header only, a JSONL file that is empty or of blank lines only) is
refused before the first call (exit 2), naming the file, for every target and each input of a load of several:
a month-end export that came out empty is almost surely the wrong file, never a run that loaded nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkload.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "bulkload" / "samples"
ENV = {
    "ECONOMIC_APP_SECRET_TOKEN": "a",
    "ECONOMIC_AGREEMENT_GRANT_TOKEN": "g",
    "HALO_CLIENT_ID": "c",
    "HALO_CLIENT_SECRET": "s",
    "VISMA_CORE_TOKEN": "t",
    "PAYORCRM_API_KEY": "k",
    "PAYORCRM_API_SECRET": "s",
}
#: nothing listens there: a file that got past the check would meet a stopped run (exit 4), not a refusal
NOWHERE = "http://127.0.0.1:9/api"


def header_of(sample: str) -> str:
    """The header line of a sample file of the package (bulkload/samples)."""
    return (SAMPLES / sample).read_text(encoding="utf-8").splitlines()[0] + "\n"


def refused(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """stderr of `bulkload ARGS` refused before the first call: exit 2, one line, no ledger made."""
    assert main([*argv, "--base-url", NOWHERE, "--attempts", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bulkload: error:") and "\n" not in err and "Traceback" not in err, err
    assert not list(tmp_path.glob("*.ledger.sqlite*")), "a refused run leaves no ledger"
    return err


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


EMPTY = [
    ("header only", "entries.csv", "economic/entries.csv", "(only its header)"),
    ("empty", "entries.jsonl", None, "(it is empty)"),
    ("blank lines", "entries.jsonl", "\n \n\r\n", "(only blank lines)"),
]


@pytest.mark.parametrize(
    "target",
    [["economic"], ["halopsa"], ["visma-core"], ["payorcrm", "--kind", "invoices"]],
    ids=lambda t: t[0],
)
@pytest.mark.parametrize(("name", "file", "text", "said"), EMPTY, ids=[e[0] for e in EMPTY])
def test_an_input_of_no_rows_is_refused_naming_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    target: list[str],
    name: str,
    file: str,
    text: str | None,
    said: str,
) -> None:
    samples = {
        "economic": "economic/entries.csv",
        "halopsa": "halopsa/XeroDetails.csv",
        "visma-core": "visma_core/entries.csv",
        "payorcrm": "payorcrm/invoices.csv",
    }
    if target[0] == "halopsa":
        file = file.replace("entries", "XeroDetails")
    path = tmp_path / file
    path.write_text(header_of(samples[target[0]]) if name == "header only" else text or "", encoding="utf-8")
    err = refused(tmp_path, ["load", *target, str(path)], capsys)
    assert f"{path}: the file holds no rows {said}" in err, err


@pytest.mark.parametrize("empty", ["customers", "invoices"])
def test_each_input_of_a_load_of_several_is_refused_when_it_holds_no_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], empty: str
) -> None:
    # customers with an invoices file of its header only (or the other way round) is a wrong export, not a load
    # of customers alone: that is `--customers C` without --invoices
    files = {}
    for kind in ("customers", "invoices"):
        files[kind] = tmp_path / f"{kind}.csv"
        sample = (SAMPLES / "payorcrm" / f"{kind}.csv").read_text(encoding="utf-8")
        files[kind].write_text(header_of(f"payorcrm/{kind}.csv") if kind == empty else sample, encoding="utf-8")
    argv = ["load", "payorcrm", "--customers", str(files["customers"]), "--invoices", str(files["invoices"])]
    err = refused(tmp_path, [*argv, "--amount-unit", "major"], capsys)
    assert f"{files[empty]}: the file holds no rows (only its header)" in err, err


def test_a_dry_run_of_an_input_of_no_rows_is_refused_as_the_load_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "entries.csv"
    path.write_text(header_of("economic/entries.csv"), encoding="utf-8")
    err = refused(tmp_path, ["load", "economic", str(path), "--dry-run"], capsys)
    assert f"{path}: the file holds no rows (only its header)" in err, err
