"""A whole-number field holding a number grouped by thousands is refused with one reason in every target. Found by a
tester (t70i): HaloPSA's client_top_level of 1.234 was "not a whole number: '1.234'", where e-conomic's voucher of
1.234 in a file of decimal commas was told as 1234 with a point between thousands; a HaloPSA file (no field of
decimals) shows no decimal mark, and its 1,234 was told as against "the file's numbers have a decimal point". A Visma
Core caseId past 32 bits was "not a whole number: '3000000000'"."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from test_load_halopsa import ENV as HALO_ENV
from test_load_halopsa import job as halo_job
from test_load_visma_core import ENV as CORE_ENV
from test_load_visma_core import job as core_job
from test_load_visma_core import read_csv, write

from bulkload import load
from bulkload.sandbox import SandboxOptions, running


@pytest.mark.slow
async def test_a_halopsa_whole_number_grouped_by_thousands_is_told_so(tmp_path: Path) -> None:
    data = tmp_path / "XeroDetails.csv"
    data.write_text('name,client_top_level,item_group\nA,1.234,5\nB,"1,234",5\nC,7,12.345.678\nD,8,5\n')
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            report = await load(halo_job(tmp_path, data, url), env=HALO_ENV)
    assert (report.loaded, report.rejected, report.exit_code) == (1, 3, 1), report
    reasons = {r["line"]: (r["field"], r["reason"]) for r in read_csv(tmp_path / "XeroDetails.rejects.csv")}
    written = ": write the whole number without separators"
    assert reasons == {
        "2": (
            "client_top_level",
            f"'1.234' is 1.234 with a decimal point (no whole number), 1234 with a point between thousands{written}",
        ),
        # no number of the file shows its decimal mark: none is named as the file's
        "3": (
            "client_top_level",
            f"'1,234' is 1.234 with a decimal comma (no whole number), 1234 with a comma between thousands{written}",
        ),
        "4": ("item_group", f"'12.345.678' is 12345678 with points between thousands{written}"),
    }, reasons


async def test_a_visma_core_case_is_told_as_every_whole_number_is(tmp_path: Path) -> None:
    data = write(
        tmp_path / "e.csv",
        [
            ["1.234", "FEE", "100.00", "a", "", "2026-11-30", ""],
            [3000000000, "FEE", "100.00", "b", "", "2026-11-30", ""],
            [1001, "FEE", "100.00", "c", "", "2026-11-30", ""],
        ],
    )
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            report = await load(core_job(tmp_path, data, url), env=CORE_ENV)
    assert (report.loaded, report.rejected, report.exit_code) == (1, 2, 1), report
    reasons = {r["line"]: (r["field"], r["reason"]) for r in read_csv(tmp_path / "rejects.csv")}
    assert reasons == {
        # the file's amounts have a decimal point: 1.234 is a fraction that way, or thousands as another file writes
        "2": (
            "caseId",
            "'1.234' is 1.234 with the file's decimal point (no whole number), or 1234 with a point between "
            "thousands: write the whole number without separators",
        ),
        "3": ("caseId", "must be at most 2147483647, got 3000000000"),
    }, reasons
