"""A rejects file whose fixed cell is written the other way than its input's (tester t42a): the input was read day
first (or with a decimal comma), and the user fixes the rejected date as `11/30/2026` (or the amount as
`-1500.000`). The rejects file's own rows then proved month first (a decimal point), and its untouched line of the
same voucher, `05/11/2026` (`1.500` KWD), which the input meant as 5 November (1500 KWD), was booked as 11 May
(1.5 KWD), exit 0. Rows carried over from an input are read as that input was read, or the file is refused."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest
from conftest import CREDS, economic_job, serving

from bulkload import load
from bulkload.errors import ConfigError
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app

HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text"


async def _fixed_and_loaded_back(
    tmp_path: Path, rows: list[str], bad: str, fixed: str, date_format: str | None = None
) -> list[dict[str, object]]:
    """Load `rows` (their voucher 2 rejected for `bad`; given `date_format`), write `fixed` in its place in the
    rejects file and load that back without options; what the journal then holds (ConfigError as that load raises
    it)."""
    data = tmp_path / "in.csv"
    data.write_text("\r\n".join([HEADER, *rows]) + "\r\n")
    rejects = tmp_path / "in.rejects.csv"
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:
            first = await load(
                economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(rejects), date_format=date_format),
                env=CREDS,
            )
            assert first.loaded == 2 and first.rejected == 2, first
            rejects.write_text(rejects.read_text().replace(f";{bad};", f";{fixed};"))
            try:
                await load(economic_job(rejects, origin, tmp_path / "again.sqlite"), env=CREDS)
            finally:
                held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    return held


async def test_a_date_fixed_month_first_in_a_day_first_rejects_file_is_refused(tmp_path: Path) -> None:
    rows = [
        "5;1;1;31/10/2026;100,00;DKK;1010;a",
        "5;1;1;31/10/2026;-100,00;DKK;5600;b",
        "5;1;2;05/11/2026;200,00;DKK;1010;c",
        "5;1;2;31/11/2026;-200,00;DKK;5600;d",
    ]
    with pytest.raises(ConfigError) as refused:
        await _fixed_and_loaded_back(tmp_path, rows, "31/11/2026;-200,00", "11/30/2026;-200,00")
    said = str(refused.value)
    assert "line 3 date '11/30/2026' is month first" in said and "'05/11/2026'" in said, said
    assert "day first" in said and "in.csv" in said, said


async def test_a_date_fixed_month_first_in_the_rejects_file_of_a_run_given_a_day_first_format_is_refused(
    tmp_path: Path,
) -> None:
    # every date reads both ways: the run was given --date-format %d/%m/%Y; its rejects file, loaded without it,
    # proves month first by the fixed cell
    rows = [
        "5;1;1;01/11/2026;100,00;DKK;1010;a",
        "5;1;1;01/11/2026;-100,00;DKK;5600;b",
        "5;1;2;05/11/2026;200,00;DKK;1010;c",
        "5;1;2;31/11/2026;-200,00;DKK;5600;d",
    ]
    with pytest.raises(ConfigError, match="month first"):
        await _fixed_and_loaded_back(tmp_path, rows, "31/11/2026;-200,00", "11/30/2026;-200,00", "%d/%m/%Y")


async def test_an_amount_fixed_with_a_decimal_point_in_a_decimal_comma_rejects_file_is_refused(tmp_path: Path) -> None:
    # KWD has 3 decimals: 1.500 read with a decimal point is 1.500 KWD, a number it can book
    rows = [
        "5;1;1;31-10-2026;1.234,500;KWD;1010;a",
        "5;1;1;31-10-2026;-1.234,500;KWD;5600;b",
        "5;1;2;31-10-2026;1.500;KWD;1010;c",
        "5;1;2;31-11-2026;-1.500;KWD;5600;d",
    ]
    with pytest.raises(ConfigError) as refused:
        await _fixed_and_loaded_back(tmp_path, rows, "31-11-2026;-1.500", "30-11-2026;-1500.000")
    said = str(refused.value)
    assert "line 3 amount '-1500.000' has a decimal point" in said and "'1.500'" in said, said
    assert "decimal comma" in said and "in.csv" in said, said


async def test_a_fix_written_the_inputs_way_loads(tmp_path: Path) -> None:
    rows = [
        "5;1;1;31/10/2026;100,00;DKK;1010;a",
        "5;1;1;31/10/2026;-100,00;DKK;5600;b",
        "5;1;2;05/11/2026;200,00;DKK;1010;c",
        "5;1;2;31/11/2026;-200,00;DKK;5600;d",
    ]
    held = await _fixed_and_loaded_back(tmp_path, rows, "31/11/2026", "30/11/2026")
    assert sorted(str(e["date"])[:10] for e in held if e["voucherNumber"] == 2) == ["2026-11-05", "2026-11-30"]


DASHED = [
    "5;1;1;13-11-2026;100,00;DKK;1010;a",
    "5;1;1;13-11-2026;-100,00;DKK;5600;b",
    "5;1;2;05-11-2026;200,00;DKK;1010;c",
    "5;1;2;31-11-2026;-200,00;DKK;5600;d",
]


async def test_a_date_fixed_day_first_written_another_way_loads_read_as_its_input(tmp_path: Path) -> None:
    # the input's dates have dashes, the fix points (tester t44a): its 05-11-2026 was refused as perhaps written by
    # another system, though the run that read it read it day first, as the fix is
    held = await _fixed_and_loaded_back(tmp_path, DASHED, "31-11-2026;-200,00", "30.11.2026;-200,00")
    assert sorted(str(e["date"])[:10] for e in held if e["voucherNumber"] == 2) == ["2026-11-05", "2026-11-30"]


async def test_a_date_fixed_month_first_written_another_way_names_the_order_its_input_was_read_in(
    tmp_path: Path,
) -> None:
    # before, the refusal said to give --date-format mdy, which books the input's 05-11-2026 as 11 May
    with pytest.raises(ConfigError) as refused:
        await _fixed_and_loaded_back(tmp_path, DASHED, "31-11-2026;-200,00", "11/30/2026;-200,00")
    said = str(refused.value)
    assert "is month first, but its rows were read day first" in said and "mdy" not in said, said
