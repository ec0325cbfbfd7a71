"""An error that names a row by index and quotes the value it refused ("Account 8888 could not be found.") is read
by no numbering under which the row its index names holds another value there: an API whose `errors` index counts
vouchers, not entries (seed 002 gives `errors` as `[ ]`), named a good voucher's line by such an index, and the run
rejected that voucher whole for an account none of its lines uses. A reading every numbering contradicts so names no
row: the call is split until the refusal can only be of the voucher left alone (isolating), and only a voucher that
holds the value is rejected. Against the independent e-conomic server (written from seed 002)."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
from conftest import CREDS, economic_job, serving
from economic_independent_server import Opts, make_app
from test_load_economic import read_csv
from test_reconcile_refused import entries

from bulkload import load
from bulkload.errors import APIError
from bulkload.targets.reasons import Untold, errors_counted


class Line(msgspec.Struct):
    accountNumber: int | None = None
    text: str = ""


def test_a_quoted_number_no_row_an_index_names_holds_rules_that_reading_out() -> None:
    rows = [Line(1011), Line(5600), Line(1012), Line(5600), Line(1013), Line(8888)]
    # voucher 3 of 3 refused, its index counting vouchers from 0: entry 2 (from 0) or 1 (from 1), neither 8888
    said = {"index": 2, "property": "accountNumber", "errorCode": "E", "message": "Account 8888 could not be found."}
    read = errors_counted(APIError(400, "x", errors=[said]), rows, field_key="property", unsaid="u")
    assert isinstance(read, Untold) and read.rows == frozenset(range(6)), read
    assert "quotes another accountNumber than the row its index names has, either way" in read.why
    # an index whose row holds the number quoted is read as before (from 0: entry 5)
    said["index"] = 5
    read = errors_counted(APIError(400, "x", errors=[said]), rows, field_key="property", unsaid="u")
    assert not isinstance(read, Untold) and read is not None and set(read) == {5} and read.base == 0, read
    # a line without the field (a customer's) cannot be refused for an account either
    rows[2] = Line(None)
    said["index"] = 2
    read = errors_counted(APIError(400, "x", errors=[said]), rows, field_key="property", unsaid="u")
    assert isinstance(read, Untold) and read.rows == frozenset(range(6)), read
    # a message of more than one number, or that says nothing of a value not found, tells nothing either way
    for message in ("Account 8888 could not be found in agreement 12.", "Account 8888 is barred."):
        said["message"] = message
        read = errors_counted(APIError(400, "x", errors=[said]), rows, field_key="property", unsaid="u")
        assert isinstance(read, Untold) and read.rows == frozenset({1, 2}) and len(read.said) == 2, read


async def test_vouchers_an_index_counting_vouchers_names_are_isolated_not_rejected_for_a_value_they_lack(
    tmp_path: Path,
) -> None:
    data = tmp_path / "e.csv"
    # line 2 of vouchers 4 and 12 books to account 9999, which the server lacks; the server's index counts vouchers:
    # 3 and 11, which name entries 3 and 2 (from 0 or from 1), both voucher 2's, and 11 and 10, both voucher 6's
    entries(data, 20, (4, 12))
    app = make_app(Opts(errors="byvoucher"))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS, raise_on_stop=False)
    rejected = sorted({int(row["voucherNumber"]) for row in read_csv(tmp_path / "rejects.csv")})
    assert rejected == [4, 12], rejected
    assert report.loaded == 36 and report.rejected == 4 and report.in_doubt == 0, report
