"""A rejects file whose own rows show no date order is read as the run whose rejects file it is read its input,
never as the newest load of another file of its input's name (tester t44a): `A/entries.csv`, month first, rejected
voucher 2 (05/11/2026, 11 May); `B/entries.csv`, day first, loaded after it; A's rejects file, fixed in place, was
read day first, as B's run read B's file, and its voucher booked as 5 November, exit 0."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest
from conftest import CREDS, economic_job, serving

from bulkload import load
from bulkload.errors import ConfigError
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text"
MONTH_FIRST = [
    "5,1,1,11/30/2026,100.00,DKK,1010,a",
    "5,1,1,11/30/2026,-100.00,DKK,5600,b",
    "5,1,2,05/11/2026,200.00,DKK,1010,c",
    "5,1,2,05/11/2026,-200.00,DKK,9999,d",
]
DAY_FIRST = ["5,2,3,30/11/2026,100.00,DKK,1010,e", "5,2,3,30/11/2026,-100.00,DKK,5600,f"]


async def _fixed_after_a_file_of_its_name(
    tmp_path: Path, copy: str | None, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Load A (month first: its voucher 2 rejected for account 9999), then B of the same name (day first), each from
    its folder as `entries.csv`; fix account 9999 in A's rejects file (in place, or in a `copy` beside it) and load
    that: the dates of voucher 2 the journal then holds (ConfigError as that load raises it)."""
    a, b = tmp_path / "A", tmp_path / "B"
    for folder, rows in ((a, MONTH_FIRST), (b, DAY_FIRST)):
        folder.mkdir()
        (folder / "entries.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:
            for folder in (a, b):
                monkeypatch.chdir(folder)
                done = await load(economic_job(Path("entries.csv"), origin, "run.sqlite"), env=CREDS)
                assert done.rejected == (2 if folder == a else 0), done
            monkeypatch.chdir(a)
            rejects = Path("entries.csv.rejects.csv")
            fixed = Path(copy) if copy else rejects
            fixed.write_text(rejects.read_text().replace(",9999,", ",5600,"))
            await load(economic_job(fixed, origin, "again.sqlite"), env=CREDS)
    held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    return [str(e["date"])[:10] for e in held if e["voucherNumber"] == 2]


async def test_a_rejects_file_fixed_in_place_is_read_as_its_own_run_read_its_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _fixed_after_a_file_of_its_name(tmp_path, None, monkeypatch) == ["2026-05-11", "2026-05-11"]


async def test_a_copy_of_it_is_refused_where_two_files_of_its_input_name_were_read_two_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="could be 5 November or 11 May"):
        await _fixed_after_a_file_of_its_name(tmp_path, "fixed.csv", monkeypatch)
