"""An upload answered 404 at a path where the API carried out an upload of the same input before is a refusal of what
it names (an invoice's customer not found), never a wrong address: before, the call was left unsent, exit 2 (`is
--base-url right?`), and each `bulkload resume` sent it again, saving once more the invoices the server had saved of
it before the 404 (tester t72d). The server is written from seed 004 (independent of bulkload's sandbox): it saves an
upload record by record and answers 404 at an invoice whose customer it does not hold."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hostile import CREDENTIALS, environment, served

from bulkload.cli import main

pytestmark = pytest.mark.slow


def payorcrm_app(status: int = 404) -> tuple[web.Application, dict[str, list[dict[str, Any]]]]:
    """The upload API, saving record by record and answering `status` at an invoice whose customer it lacks."""
    held: dict[str, list[dict[str, Any]]] = {"customers": [], "invoices": []}

    async def upload(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        for item in await request.json():
            if kind == "invoices" and item["customerNumber"] not in {c["customerno"] for c in held["customers"]}:
                return web.json_response({"message": f"customer {item['customerNumber']} not found"}, status=status)
            held[kind].append(item)
        return web.json_response({"status": "success"})

    app = web.Application()
    app.router.add_post("/jsonApi/upload/{kind:customers|invoices}", upload)
    return app, held


def write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.mark.parametrize("status", [404, 405, 415])
def test_an_invoice_upload_answered_404_for_its_customer_is_refused_and_never_saved_twice(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], status: int
) -> None:
    """405 and 415 alike (t73b): the same method and media type were carried out at that path for the same file, so
    neither says the address is wrong; before, each stopped the run as `is --base-url right?` (exit 2), and the
    resume saved I5 again."""
    invoices = write(
        tmp_path / "invoices.csv",
        [
            ["customerNumber", "invoiceNumber", "invoiceAmount"],
            ["C1", "I1", "100"],
            ["C1", "I2", "200"],
            ["C1", "I3", "300"],
            ["C1", "I4", "400"],
            ["C1", "I5", "500"],
            ["C9", "I6", "600"],
        ],
    )
    customers = write(tmp_path / "customers.csv", [["customerno", "emailaddress1"], ["C1", "a@example.com"]])
    ledger, report = tmp_path / "l.sqlite", tmp_path / "r.json"
    app, held = payorcrm_app(status)
    with served(app) as origin, environment(CREDENTIALS["payorcrm"]):
        load = main(
            ["load", "payorcrm", "--customers", str(customers), "--invoices", str(invoices), "--base-url", origin]
            + ["--ledger", str(ledger), "--report", str(report), "--batch-size", "2", "--no-progress"]
        )
        saved = len(held["invoices"])
        resumed = main(["resume", "--ledger", str(ledger), "--no-progress"])
    said = capfd.readouterr()
    figures = json.loads(report.read_text())
    assert saved == 5  # I1-I4, and I5 of the last call, [I5, I6], saved before the 404 at I6
    assert len(held["invoices"]) == saved, "a resume saved invoices again"
    assert "is --base-url right?" not in said.out + said.err
    assert (load, resumed) == (1, 1)
    # the refused call names no record: its two rows are in doubt (a server saving record by record may have saved
    # the one before the invoice whose customer it did not find), never sent again
    assert (figures["loaded"], figures["in_doubt"]) == (1 + 4, 2)  # the customer and I1-I4
    doubtful = [p for p in tmp_path.iterdir() if "doubt" in p.name]
    assert doubtful and f"HTTP {status}" in doubtful[0].read_text(), doubtful  # the status named


@pytest.mark.parametrize("status", [404, 405, 415])
def test_the_first_invoice_upload_answered_404_after_the_customers_upload_is_refused_never_saved_twice(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], status: int
) -> None:
    """The customers' upload was carried out at the run's --base-url, so the address is right for the invoices' too
    (the paths are seed 004's): the first invoice upload answered 404 for a customer the API lacks, after it saved
    the invoice before it, is refused. Before (t73b): the run stopped as `is --base-url right?` (exit 2) and the
    resume sent that upload again, saving I1 twice."""
    invoices = write(
        tmp_path / "invoices.csv",
        [["customerNumber", "invoiceNumber", "invoiceAmount"], ["C1", "I1", "100"], ["C9", "I2", "200"]],
    )
    customers = write(tmp_path / "customers.csv", [["customerno", "emailaddress1"], ["C1", "a@example.com"]])
    ledger = tmp_path / "l.sqlite"
    app, held = payorcrm_app(status)
    with served(app) as origin, environment(CREDENTIALS["payorcrm"]):
        load = main(
            ["load", "payorcrm", "--customers", str(customers), "--invoices", str(invoices), "--base-url", origin]
            + ["--ledger", str(ledger), "--batch-size", "2", "--no-progress"]
        )
        saved = [i["invoiceNumber"] for i in held["invoices"]]
        resumed = main(["resume", "--ledger", str(ledger), "--no-progress"])
    said = capfd.readouterr()
    assert saved == ["I1"] and [i["invoiceNumber"] for i in held["invoices"]] == saved, held
    assert "is --base-url right?" not in said.out + said.err, said
    assert (load, resumed) == (1, 1), said


def test_a_chunk_of_the_second_file_is_named_by_its_number_in_that_file() -> None:
    """t73b: the invoices' first chunk was named 'chunk 16777217 (lines 2-3)' (its sequence number, file 2's)."""
    from bulkload.chunking import FILE_SHIFT
    from bulkload.pipeline import named_call

    assert named_call(1, "", [2, 3]) == "chunk 1 (lines 2-3)"
    assert named_call((1 << FILE_SHIFT) + 1, "", [2, 3]) == "chunk 1 of file 2 (lines 2-3)"
    assert named_call((2 << FILE_SHIFT) + 7, "b", [301, 400]) == "chunk 7.b of file 3 (lines 301-400)"
