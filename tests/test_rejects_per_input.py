"""A load of several inputs writes one rejects file for each input (Job.rejects_paths), so that no rejects file mixes
rows read two ways (a file's decimal mark and date order are decided for the file), and the report's `rejects_load`
loads them back together, each read as its input was (loads.read_before): a second input's 01/11/2026, day first
as its own 13/11/2026 proved, is 1 November, its 1.500 KWD (decimal comma) 1500 KWD, though its rejects file's rows
alone show neither."""

from __future__ import annotations

import shlex
from pathlib import Path

import anyio
import msgspec
import pytest
from conftest import CREDS, PREFIX, serving

from bulkload import load
from bulkload.job import Job
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text"
US = [
    HEADER,
    "5,1,1,11/30/2026,100.00,DKK,1010,a",
    "5,1,1,11/30/2026,-100.00,DKK,5600,b",
    "5,1,2,11/30/2026,50.00,DKK,1010,c",
    "5,1,2,11/30/2026,-50.00,DKK,56x0,bad",
]
DK = [
    HEADER.replace(",", ";"),
    "5;1;3;13/11/2026;2,50;DKK;1010;d",
    "5;1;3;13/11/2026;-2,50;DKK;5600;e",
    "5;1;4;01/11/2026;1.500;KWD;1010;f",
    "5;1;4;01/11/2026;-1.500;KWD;56x0;bad",
]


@pytest.mark.parametrize("rejects", [None, "out/r.csv"], ids=["beside-each-input", "rejects-given"])
async def test_each_input_has_its_rejects_file_and_they_load_back_as_their_inputs_were_read(
    tmp_path: Path, rejects: str | None
) -> None:
    # found by testers: one rejects file held both inputs' rows, and loaded back read them one way: the second
    # file's 01/11/2026 booked 11 January, its 1.500 KWD booked 1.5, exit 0
    us, dk = tmp_path / "us.csv", tmp_path / "dk.csv"
    us.write_text("\n".join(US) + "\n")
    dk.write_text("\n".join(DK) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:
            first = Job(
                target="economic",
                files=[str(us), str(dk)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=rejects and str(tmp_path / rejects),
            )
            report = await load(first, env=CREDS, raise_on_stop=False)
            assert report.loaded == 4 and report.rejected == 4, report
            paths = (
                [f"{us}.rejects.csv", f"{dk}.rejects.csv"]
                if rejects is None
                else [f"{out}/r.csv", f"{out}/dk.csv.rejects.csv"]
            )
            assert report.rejects_file == paths[0] and report.rejects_files == paths, report
            assert report.rejects_load == shlex.join(["bulkload", "load", "economic", *paths]), report
            assert "01/11/2026" not in Path(paths[0]).read_text() and "11/30/2026" not in Path(paths[1]).read_text()
            for path in paths:  # the user fixes the bad account in place
                Path(path).write_bytes(Path(path).read_bytes().replace(b"56x0", b"5600"))
            again = Job(target="economic", files=paths, base_url=origin + PREFIX, ledger=str(tmp_path / "f.sqlite"))
            loaded = await load(again, env=CREDS, raise_on_stop=False)
    assert loaded.loaded == 4 and loaded.exit_code == 0, loaded
    held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    days = {e["voucherNumber"]: str(e["date"])[:10] for e in held}
    assert days[2] == "2026-11-30" and days[4] == "2026-11-01", days
    assert sorted(float(e["amount"]) for e in held if e["voucherNumber"] == 4) == [-1500.0, 1500.0], held


def test_the_rejects_paths_are_one_for_each_input_beside_it_or_in_the_rejects_folder(tmp_path: Path) -> None:
    files = [str(tmp_path / "a" / "x.csv"), str(tmp_path / "b" / "y.csv")]
    beside = Job(target="economic", files=files).rejects_paths()
    assert beside == [(f"{files[0]}.rejects.csv", [0]), (f"{files[1]}.rejects.csv", [1])]
    given = Job(target="economic", files=files, rejects=str(tmp_path / "out" / "r.csv")).rejects_paths()
    assert given == [(str(tmp_path / "out" / "r.csv"), [0]), (str(tmp_path / "out" / "y.csv.rejects.csv"), [1])]


def test_payorcrm_loads_several_rejects_files_of_one_kind_with_kind_and_of_two_kinds_by_their_options() -> None:
    from bulkload.targets.payorcrm import PayorCRM

    given = PayorCRM.flags.given
    assert given is not None
    one_kind = {"file_kinds": ["invoices", "invoices"]}
    assert given({0: "a.rejects.csv", 1: "b.rejects.csv"}, one_kind) == [
        "a.rejects.csv",
        "b.rejects.csv",
        "--kind",
        "invoices",
    ]
    two_kinds = {"file_kinds": ["customers", "invoices"]}
    assert given({0: "c.rejects.csv", 1: "i.rejects.csv"}, two_kinds) == [
        "--customers",
        "c.rejects.csv",
        "--invoices",
        "i.rejects.csv",
    ]


def test_halopsa_loads_rejects_files_with_their_resource_or_by_their_names() -> None:
    from bulkload.targets.halopsa import HaloPSA

    given = HaloPSA.flags.given
    assert given is not None
    one = {"resources": ["XeroDetails", "XeroDetails"], "match_on": ["name"], "tenant": "acme"}
    assert given({0: "out/r.csv", 1: "out/b.csv.rejects.csv"}, one) == [
        "out/r.csv",
        "out/b.csv.rejects.csv",
        "--resource",
        "XeroDetails",
        "--match-on",
        "name",
        "--tenant",
        "acme",
    ]
    two = {"resources": ["XeroDetails", "AvalaraDetails"], "match_on": [], "tenant": None}
    named = {0: "XeroDetails.csv.rejects.csv", 1: "AvalaraDetails.jsonl.rejects.csv"}
    assert given(named, two) == list(named.values())
    # --rejects named the first input's file after no resource: its name would read it as none, or another
    assert given({0: "run2/rejects.csv", 1: "AvalaraDetails.jsonl.rejects.csv"}, two) is None
    assert given({0: "AvalaraDetails.csv", 1: "AvalaraDetails.jsonl.rejects.csv"}, two) is None
    # a further input of the last resource given
    assert given({2: "x.csv"}, {"resources": ["XeroDetails"], "match_on": [], "tenant": None}) == [
        "x.csv",
        "--resource",
        "XeroDetails",
    ]
