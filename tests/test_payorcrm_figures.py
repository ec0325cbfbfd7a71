"""What the summary and the report say of PayorCRM answers that give less than the rows sent: a count alone (short by
one, or as `uploaded`), nothing, or records that name no key in another order. A figure an answer did not give is
said to be not known, never 0; the expected figures are what was sent. The real sandbox serves each, its answers
shaped by a middleware as a server written from seed 004 gives them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from conftest import serving
from test_load_payorcrm import read_csv, write
from test_payorcrm_answers import Handler, Rule, crm_app, customers_file, load_both

from bulkload.model import Chunk
from bulkload.report import print_summary
from bulkload.results import Report
from bulkload.targets.payorcrm import PayorCRM
from bulkload.targets.payorcrm_answers import read_answer
from bulkload.targets.payorcrm_records import Customer

#: three calls of invoices at --batch-size 3: I1 EUR, I2 and I3 USD; I4 USD, I5 EUR, I6 USD; I7 USD alone
ROWS = [("I1", "10.00", "EUR"), ("I2", "20.00", "USD"), ("I3", "30.00", "USD")]
ROWS += [("I4", "40.00", "USD"), ("I5", "50.00", "EUR"), ("I6", "60.00", "USD"), ("I7", "70.00", "USD")]


def answering(shape: Any) -> Rule:
    """A server that stores each upload (the sandbox) and answers `shape(items sent, the sandbox's answer)`."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        items = json.loads(await request.read())
        real = await handler(request)
        assert isinstance(real, web.Response) and isinstance(real.body, bytes)
        if real.status != 200:
            return real
        return web.json_response(shape(items, json.loads(real.body)))

    return rule


async def loaded(tmp_path: Path, rule: Rule) -> tuple[Report, str]:
    """The report and the printed summary of 3 customers and the invoices of ROWS, 3 rows a call."""
    invoices = write(
        tmp_path / "i.csv",
        ["customerNumber", "invoiceNumber", "invoiceAmount", "currency", "itemText"],
        [["C1", number, amount, currency, f"line of {number}"] for number, amount, currency in ROWS],
    )
    with anyio.fail_after(60):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path), invoices, batch_size=3)
    printed = io.StringIO()
    print_summary(report, printed)
    return report, printed.getvalue()


async def test_an_answer_giving_a_count_alone_says_no_amount_of_the_api(tmp_path: Path) -> None:
    # found by a tester: a server answering {"success": true, "count": n-1} had the summary say "control totals,
    # kind invoices EUR amount: expected 22689.98, the API holds 0.00" (and 0 rows), while its note said the answer
    # gave no amounts. A count short of the rows sent now puts its call in doubt (payorcrm_answers.read); a count
    # alone of every row sent gives the rows and no amount, which is not known, never 0
    report, printed = await loaded(tmp_path, answering(lambda items, real: {"success": True, "count": len(items)}))
    rec = report.reconcile
    assert (report.loaded, report.exit_code, rec.ok) == (10, 0, True), rec
    assert (rec.expected_count, rec.remote_count) == (10, 10)
    assert "the API holds 0" not in printed, printed
    assert "for 7 rows the answer gave a count but no amounts" in printed, printed
    assert rec.remote_totals["per_scope"]["invoices"]["EUR"] == {"rows": 2, "amount": None, "debit": None}
    assert rec.expected_totals["per_scope"]["invoices"]["USD"] == {"rows": 5, "amount": "220.00", "debit": "220.00"}

    (tmp_path / "short").mkdir()
    short, printed = await loaded(
        tmp_path / "short", answering(lambda items, real: {"success": True, "count": len(items) - 1})
    )
    assert (short.loaded, short.in_doubt, short.exit_code) == (0, 3, 4), printed
    assert "the API holds 0" not in printed, printed


@pytest.mark.parametrize("said", ["uploaded", "nothing"])
async def test_the_expected_count_is_what_was_sent_and_an_untold_count_is_not_known(tmp_path: Path, said: str) -> None:
    # found by a tester: answered {"uploaded": n} (the sandbox's own default answer holds that key), the summary said
    # "expected / remote count 0 / 0" for the 10 rows loaded
    def answer(items: list[Any], real: dict[str, Any]) -> dict[str, Any]:
        return {"uploaded": real["uploaded"]} if said == "uploaded" else {}

    report, printed = await loaded(tmp_path, answering(answer))
    rec = report.reconcile
    assert (report.loaded, report.exit_code, rec.ok) == (10, 0, True), rec
    if said == "uploaded":  # read as the count of records stored, as `count` is
        assert (rec.expected_count, rec.remote_count, rec.rows_not_checked["count"]) == (10, 10, 0)
        assert "expected / remote count │ 10 / 10" in printed, printed
    else:
        assert (rec.expected_count, rec.remote_count, rec.rows_not_checked["count"]) == (10, None, 10)
        assert "expected / remote count │ 10 / not known" in printed, printed
        assert rec.remote_totals["per_scope"]["invoices"]["USD"]["amount"] is None


def test_an_answer_saying_two_counts_cannot_say_how_many_it_stored() -> None:
    with pytest.raises(ValueError, match="count 3, uploaded 2: how many records it stored cannot be told"):
        read_answer(b'{"count": 3, "uploaded": 2}')
    with pytest.raises(ValueError, match="uploaded 3 and lists 2 records"):
        read_answer(b'{"uploaded": 3, "results": [{"id": 1}, {"id": 2}]}')
    assert read_answer(b'{"uploaded": 2, "count": 2}').stored == 2


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        # found by a tester (t21b): a count written as text or as a double was not read, and 2 customers answered
        # so were loaded, exit 0, the server holding one
        (b'{"success": true, "count": "1"}', 1),
        (b'{"success": true, "count": 1.0}', 1),
        (b'{"success": true, "count": "1.0"}', 1),
        (b'{"uploaded": 1e0}', 1),
        # counts under the other names a server gives them (not `accepted`: test_accepted_is_not_stored)
        (
            b'{"data": {"Imported": 1}}',
            1,
        ),  # not `accepted`: taken for processing, not stored (test_accepted_is_not_stored)
        (b'{"inserted": 0}', 0),
        (b'{"imported": "2"}', 2),
        (b'{"count": null}', None),
    ],
)
def test_a_count_in_any_json_form_is_the_number_it_writes(body: bytes, stored: int | None) -> None:
    assert read_answer(body).stored == stored


@pytest.mark.parametrize("count", ['"1.5"', "1.5", '"one"', "true", '"2 customers"', "-1", "1e999999999"])
def test_a_count_that_is_no_whole_number_cannot_say_how_many_were_stored(count: str) -> None:
    with pytest.raises(ValueError, match="how many records it stored cannot be told"):
        read_answer(b'{"success": true, "count": %s}' % count.encode())


def keyless(reverse: bool) -> Rule:
    """Records as sent, with their ids and without their keys (customerno, invoiceNumber), in reverse order when
    `reverse`."""

    def shape(items: list[dict[str, Any]], real: dict[str, Any]) -> list[dict[str, Any]]:
        records = [
            {"id": r["id"], **{k: v for k, v in item.items() if k not in ("customerno", "invoiceNumber")}}
            for item, r in zip(items, real["results"])
        ]
        return records[::-1] if reverse else records

    return answering(shape)


async def test_records_naming_no_key_in_another_order_are_summed_as_they_are_and_get_no_ids(tmp_path: Path) -> None:
    # found by a tester: records answered without their keys, in reverse order, were taken in request order: the
    # run reported "the API holds 16229.48" EUR where 22689.98 was stored (exit 3), and the success file gave each
    # row another row's id
    report, printed = await loaded(tmp_path, keyless(reverse=True))
    rec = report.reconcile
    assert (report.loaded, report.exit_code, rec.ok) == (10, 0, True), printed
    assert rec.remote_totals == rec.expected_totals
    assert rec.remote_totals["per_scope"]["invoices"]["EUR"] == {"rows": 2, "amount": "60.00", "debit": "60.00"}
    ids = {(Path(r["file"]).name, int(r["line"])): r["id"] for r in read_csv(tmp_path / "success.csv")}
    # what the records carry says they are not in the rows' places: no id is given rather than another row's
    assert all(ids[("i.csv", line)] == "" for line in range(2, 8)) and ids[("i.csv", 8)] != "", ids
    assert all(ids[("c.csv", line)] == "" for line in (2, 3, 4)), ids
    assert rec.rows_ids_by_place == 0  # I7, alone in its call, is its one record


async def test_records_naming_no_key_in_request_order_have_their_ids_said_to_be_by_place(tmp_path: Path) -> None:
    report, printed = await loaded(tmp_path, keyless(reverse=False))
    rec = report.reconcile
    assert (report.loaded, report.exit_code, rec.ok) == (10, 0, True), printed
    assert all(r["id"] for r in read_csv(tmp_path / "success.csv"))
    # 3 customers and 6 invoices in calls of more than one row; I7, alone in its call, is its record
    assert (rec.rows_ids_by_place, rec.rows_confirmed_by_id) == (9, 1), rec
    assert "9 rows were given the ids of the records at their places in the answer" in (rec.note or "")
    assert "the ids the API gave them (for 9 rows, the ids at their places in the answer: not proven)" in printed


def keyless_failing(shape: Any) -> Rule:
    """Records as sent, with their ids and without their customerno, the last (C3's) saying it failed, as `shape`
    lists them."""

    def answer(items: list[dict[str, Any]], real: dict[str, Any]) -> list[dict[str, Any]]:
        records = [
            {"id": r["id"], **{k: v for k, v in item.items() if k != "customerno"}}
            for item, r in zip(items, real["results"])
        ]
        records[-1] |= {"success": False, "message": "duplicate, not saved"}
        return list(shape(records))

    return answering(answer)


@pytest.mark.parametrize(
    ("shape", "said"),
    [
        # found by a tester: listed in reverse, C3's failure was taken for C1's (C1 in doubt, C3 loaded, exit 1)
        (lambda records: records[::-1], "in another order than the rows sent"),
        # fewer records than rows: which row each is cannot be told
        (lambda records: records[1:], "stored 2 records for the 3 rows sent"),
    ],
)
async def test_a_record_naming_no_key_that_says_it_failed_out_of_place_leaves_its_call_in_doubt(
    tmp_path: Path, shape: Any, said: str
) -> None:
    with anyio.fail_after(60):
        async with serving(crm_app(keyless_failing(shape))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 3, 4), report
    assert said in (report.stop_reason or ""), report.stop_reason


async def test_a_record_naming_no_key_that_says_it_failed_in_place_is_its_rows_failure(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with serving(crm_app(keyless_failing(lambda records: records))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
    assert (report.loaded, report.in_doubt, report.exit_code) == (2, 1, 1), report
    (doubt,) = read_csv(tmp_path / "in_doubt.csv")
    assert doubt["line"] == "4" and "duplicate, not saved" in doubt["last_error"], doubt


@pytest.mark.parametrize(
    ("echoed", "failed"),
    [
        ("alice@x.com", "bad"),  # the e-mail address lower-cased, as the echo is compared (Fields.same)
        (" Alice@X.com ", "BAD"),
    ],
)
def test_records_naming_no_key_in_another_order_by_what_they_echo_in_another_case_are_not_taken_by_place(
    echoed: str, failed: str
) -> None:
    # found by a tester (t21b): a server lower-casing the e-mail address it echoes listed its records in reverse;
    # compared to the letter, the echoes did not show the order, and C2's failure was taken for C1's (C1 in doubt,
    # C2 loaded with C1's id)
    kind = PayorCRM(["customers"]).kind_of(0)
    two = [Customer(customerno="C1", emailaddress1="Alice@X.com"), Customer(customerno="C2", emailaddress1="bad")]
    chunk = Chunk(1, 0, [2, 3], b"", records=two)
    body = json.dumps(
        {
            "results": [
                {"id": None, "emailaddress1": failed, "success": False},
                {"id": 11, "emailaddress1": echoed, "success": True},
            ]
        }
    ).encode()
    with pytest.raises(ValueError, match="in another order than the rows sent"):
        kind.failed_items(body, chunk)
    # in the rows' order, so echoed, they are taken by place
    body = json.dumps([{"id": 11, "emailaddress1": echoed}, {"id": 12, "emailaddress1": failed}]).encode()
    assert kind.created_ids(body, chunk) == [11, 12]


async def test_a_count_of_the_invoices_for_their_lines_is_in_doubt_saying_both_readings(tmp_path: Path) -> None:
    # found by a tester: {"success": true, "count": 2} for 3 lines of 2 invoices may count the invoices (every line
    # stored) or 2 of the lines (one not): that stays in doubt, and the reason says both and what to do
    invoices = write(
        tmp_path / "i.csv",
        ["customerNumber", "invoiceNumber", "lineItem", "invoiceAmount", "currency"],
        [["C1", "D-1", "1", "100", "DKK"], ["C1", "D-1", "2", "40", "DKK"], ["C2", "D-2", "1", "50", "DKK"]],
    )
    # a count of the invoices sent (a customer: of itself)
    counted = answering(
        lambda items, real: {"success": True, "count": len({i.get("invoiceNumber", n) for n, i in enumerate(items)})}
    )
    with anyio.fail_after(60):
        async with serving(crm_app(counted)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 2), invoices)
    assert (report.loaded, report.in_doubt, report.exit_code) == (2, 3, 4), report.stop_reason
    reason = report.stop_reason or ""
    assert (
        "the API's answer says it stored 2 records for the 3 rows sent, lines of 2 invoices: the 2 invoices, every "
        "line stored, or 2 of the 3 lines, the others not, which cannot be told" in reason
    ), reason
    assert "Check PayorCRM for the call's rows" in reason and "--resend-in-doubt" in reason, reason


def amounts_as(write_amount: Any) -> Rule:
    """The sandbox's answer with each record's invoiceAmount (minor units) written as `write_amount(amount)`."""

    def shape(items: list[Any], real: dict[str, Any]) -> dict[str, Any]:
        records = real["results"]
        return {
            "results": [
                {**r, "invoiceAmount": write_amount(r["invoiceAmount"])} if "invoiceAmount" in r else r for r in records
            ]
        }

    return answering(shape)


@pytest.mark.parametrize(
    ("write_amount", "fields"),
    [
        (lambda units: units / 100, []),  # 10.0 for 1000: the minor units taken as major ones
        (lambda units: str(units // 100), []),  # "10" for 1000
        (lambda units: units + 0.5, ["invoiceAmount"]),  # 1000.5: no whole number of minor units, none sent
        (lambda units: "ten", ["invoiceAmount"]),  # no number
    ],
)
async def test_an_amount_answered_as_a_fraction_or_text_is_compared_by_its_value(
    tmp_path: Path, write_amount: Any, fields: list[str]
) -> None:
    # found by a tester: a server answering invoiceAmount 10.0 for the 1000 sent (a JSON number with a fraction) had
    # the note say "the answer gave a count but no amounts … could not check their amounts", reconciled, exit 0;
    # 10 was found to differ (exit 3). An amount is read by its value whatever its JSON form
    report, printed = await loaded(tmp_path, amounts_as(write_amount))
    rec = report.reconcile
    assert (report.loaded, report.exit_code, rec.ok) == (10, 3, False), printed
    assert "no amounts" not in (rec.note or ""), rec.note
    assert rec.calls_differing_count == 3 and all(c.get("fields_differing", []) == fields for c in rec.calls_differing)


@pytest.mark.parametrize("write_amount", [float, str, lambda units: f"{units}.00", lambda units: f"{units / 100}e2"])
async def test_an_amount_answered_as_the_value_sent_in_another_json_form_matches(
    tmp_path: Path, write_amount: Any
) -> None:
    report, printed = await loaded(tmp_path, amounts_as(write_amount))
    rec = report.reconcile
    assert (report.loaded, report.exit_code, rec.ok) == (10, 0, True), printed
    assert rec.rows_not_checked["amounts"] == 0 and rec.remote_totals == rec.expected_totals, rec
