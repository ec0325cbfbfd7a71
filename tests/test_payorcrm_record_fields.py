"""What a PayorCRM answer's records say in their fields, as a server written from seed 004 may write them: a status
per record as an HTTP status number, the fields sent echoed with other values, and the fields named in another
case. The real sandbox serves each, behind a middleware that shapes its answers (test_payorcrm_answers.crm_app)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from conftest import sandbox_read, serving
from msgspec import UNSET
from test_load_payorcrm import read_csv, write
from test_payorcrm_answers import (
    Handler,
    Rule,
    answered,
    crm_app,
    customers_file,
    load_both,
    two_customers,
    two_invoices,
)

from bulkload.model import ECHOED, NO_ID, Chunk
from bulkload.model import echoed as echoed_figures
from bulkload.targets.payorcrm import PayorCRM
from bulkload.targets.payorcrm_records import Invoice


# found by a tester: `"409.0"` (a status as text of a whole number written as a double writes it) was read as stored
@pytest.mark.parametrize("status", [409, "409.0", "409.00", " 409 "])
async def test_a_record_answered_with_a_status_of_http_failure_is_in_doubt(tmp_path: Path, status: Any) -> None:
    # found by a tester: a server answering each record with its own HTTP status, C2's `"status": 409` (not stored,
    # a customer number already there), was read as stored: "3 loaded, 0 in doubt", exit 0, the server holding 2.
    # Only a status in words was read
    def conflicting(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"customerno": r["customerno"], "status": status, "message": "customer number already exists"}
            if r["customerno"] == "C2"
            else {"customerno": r["customerno"], "status": 201}
            for r in results
        ]

    with anyio.fail_after(60):
        async with serving(crm_app(answered(conflicting))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
    assert (report.loaded, report.in_doubt, report.exit_code) == (2, 1, 1), report
    doubt = {int(r["line"]): r["last_error"] for r in read_csv(tmp_path / "in_doubt.csv")}
    assert list(doubt) == [3] and f"status: {status}" in doubt[3] and "already exists" in doubt[3], doubt


@pytest.mark.parametrize(
    ("said", "quoted"),
    [
        ({"status": 409}, "status: 409"),
        ({"status": "409"}, "status: 409"),
        ({"status": " 500 "}, "status:  500 "),
        ({"statusCode": 422}, "statusCode: 422"),
        ({"httpStatus": 400}, "httpStatus: 400"),
        ({"StatusCode": "404"}, "StatusCode: 404"),
        # found by a tester: a status with its reason phrase, a double, or a name in snake_case was read as success
        ({"status": "422 Unprocessable Entity"}, "status: 422 Unprocessable Entity"),
        ({"status": "400 Bad Request"}, "status: 400 Bad Request"),
        ({"status": 409.0}, "status: 409.0"),
        ({"status_code": 422}, "status_code: 422"),
        ({"http_status": "400"}, "http_status: 400"),
        ({"status": "200 OK, not saved"}, "status: 200 OK, not saved"),  # its phrase says it failed
        # a status as text is read as the number it writes, as a JSON number is (409.0)
        ({"status": "409.0"}, "status: 409.0"),
        ({"statusCode": "422.00"}, "statusCode: 422.00"),
        ({"status": "4.09e2"}, "status: 4.09e2"),
        ({"status": "409.0 Conflict"}, "status: 409.0 Conflict"),
    ],
)
def test_a_record_whose_status_is_an_http_failure_is_its_rows_failure(said: dict[str, Any], quoted: str) -> None:
    kind, chunk = two_customers()
    body = json.dumps([{"customerno": "C1", "id": 11}, {"customerno": "C2", "id": 12, **said}]).encode()
    assert kind.failed_items(body, chunk) == {1: ("", quoted)}


@pytest.mark.parametrize(
    "said",
    [
        {"status": 201},
        {"status": "200"},
        {"statusCode": 200},
        {"httpStatus": "201"},
        {"status": "201 Created"},
        {"status": 200.0},
        {"status_code": 200},
        {"status": "201.0"},
        {"status": "HTTP 201"},
        {"status": "HTTP/1.1 200 OK"},
    ],
)
def test_a_record_whose_status_is_an_http_success_is_stored(said: dict[str, Any]) -> None:
    kind, chunk = two_customers()
    body = json.dumps([{"customerno": "C1", "id": 11, **said}, {"customerno": "C2", "id": 12, **said}]).encode()
    assert kind.failed_items(body, chunk) == {}
    assert kind.created_ids(body, chunk) == [11, 12]


@pytest.mark.parametrize(
    "said",
    [
        {"status": 1},
        {"status": 4090.0},
        # no whole number, as 409.5 is none: no HTTP status
        {"status": "409.5"},
        {"status": "4090.0"},
        {"status": "201;"},
    ],
)
def test_a_record_whose_status_is_a_number_of_no_http_status_is_its_rows_failure(said: dict[str, Any]) -> None:
    # these were read as stored, as any status not of failure was: a tester's server answering "409;" or
    # "BadRequest" for a customer it refused had it counted loaded. A status says the record was stored only where
    # it reads as success (a 2xx, or words of success); one that reads neither way puts its row in doubt, id or none
    kind, chunk = two_customers()
    body = json.dumps([{"customerno": "C1", "id": 11}, {"customerno": "C2", "id": 12, **said}]).encode()
    assert set(kind.failed_items(body, chunk)) == {1}, said


def test_an_invoices_own_status_as_numbers_is_no_failure_where_it_is_the_status_sent() -> None:
    # an invoice's `status` is its own (seed 004's field, text): one sent "400" and echoed says nothing of the record
    kind, chunk = two_invoices("400")
    for given in ("400", 400):
        records = [{"invoiceNumber": f"I{n}", "id": n, "status": given} for n in (1, 2)]
        assert kind.failed_items(json.dumps(records).encode(), chunk) == {}
    # one the invoice was not sent with is the record's own
    kind, chunk = two_invoices(None)
    records = [{"invoiceNumber": "I1", "id": 1, "status": 400}, {"invoiceNumber": "I2", "id": 2, "status": "open"}]
    assert kind.failed_items(json.dumps(records).encode(), chunk) == {0: ("", "status: 400")}


def test_an_answer_whose_status_is_an_http_failure_says_the_upload_failed() -> None:
    kind, chunk = two_customers()
    with pytest.raises(ValueError, match="says the upload failed"):
        kind.created_ids(b'{"status": 500, "message": "internal error"}', chunk)
    assert kind.created_ids(b'{"status": 200, "uploaded": 2}', chunk) == [NO_ID, NO_ID]


async def test_fields_an_answer_echoes_with_other_values_than_sent_differ(tmp_path: Path) -> None:
    # found by a tester: the answer listed the invoice sent for customerNumber "00123" under "123" (another customer)
    # and with another dueDate; reconciliation compared only the count and invoiceAmount: "reconciled yes", exit 0
    def changed(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**r, "customerNumber": r["customerNumber"].lstrip("0"), "dueDate": "2026-12-30"}
            if "invoiceNumber" in r
            else r
            for r in results
        ]

    customers = write(tmp_path / "c.csv", ["customerno", "emailaddress1"], [["00123", "a@b.c"]])
    invoices = write(
        tmp_path / "i.csv",
        ["customerNumber", "invoiceNumber", "invoiceAmount", "currency", "dueDate"],
        [["00123", "I1", "100.00", "EUR", "2026-12-31"], ["00123", "I2", "5.00", "EUR", ""]],
    )
    with anyio.fail_after(60):
        async with serving(crm_app(answered(changed))) as url:
            report = await load_both(tmp_path, url, customers, invoices)
    rec = report.reconcile
    assert report.exit_code == 3 and not rec.ok, report
    (call,) = rec.calls_differing
    assert (call["lines"], call["fields_differing"]) == ("2-3", ["customerNumber", "dueDate"]), call


async def test_fields_an_answer_echoes_as_the_values_sent_written_otherwise_do_not_differ(tmp_path: Path) -> None:
    # a number given as text answered as a number, a date as a date-time of that date, an amount's text written
    # shorter: the values sent
    def rewritten(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                **r,
                "customerNumber": int(r["customerNumber"]),
                "dueDate": "2026-12-31T00:00:00",
                "balanceAmount": 1234.5,
                "Currency": "EUR",
            }
            if "invoiceNumber" in r
            else {**r, "emailaddress1": "a@b.c"}
            for r in results
        ]

    customers = write(tmp_path / "c.csv", ["customerno", "emailaddress1"], [["123", "a@b.c"]])
    invoices = write(
        tmp_path / "i.csv",
        ["customerNumber", "invoiceNumber", "invoiceAmount", "currency", "dueDate", "balanceAmount"],
        [["123", "I1", "100.00", "EUR", "2026-12-31", "1234.50"]],
    )
    with anyio.fail_after(60):
        async with serving(crm_app(answered(rewritten))) as url:
            report = await load_both(tmp_path, url, customers, invoices)
    rec = report.reconcile
    assert (report.exit_code, rec.ok, rec.calls_differing) == (0, True, []), rec
    assert rec.rows_not_checked["fields"] == 0, rec


def test_echoed_figures_of_several_rows_differ_where_one_differs() -> None:
    # model.echoed: a field given for each row of a call differs where any row's differs, is not checked where any
    # left it out (and none differs), and is the value sent where every row's is
    figures = echoed_figures([("a", 1, 1), ("a", 1, 2), ("b", 1, 1), ("b", 1, 1), ("c", 1, 1), ("c", 1, None)])
    assert figures == {"a": [0], "b": [1], "c": [0]}
    assert echoed_figures([("a", 1, UNSET), ("a", 1, 1)]) == {"a": []}
    assert echoed_figures([("a", 1, UNSET), ("a", 1, 2)]) == {"a": [0]}


@pytest.mark.parametrize("key", ["CustomerNo", "customer_no", "Customer-No"])
async def test_records_naming_their_key_in_another_case_give_each_row_its_own_id(tmp_path: Path, key: str) -> None:
    # found by a tester: records naming the customer as `CustomerNo` (a .NET server's case), listed in reverse, were
    # taken as naming no key: their ids were given by place, C1 the id of C3. And, for a while after, `customer_no`
    # (a Python server's snake case): C1, stored, in doubt for C3's failure, C3 loaded with C1's id
    def pascal(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": r["id"], key: r["customerno"]} for r in results][::-1]

    with anyio.fail_after(60):
        async with serving(crm_app(answered(pascal))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
            held = {c["customerno"]: c["id"] for c in await sandbox_read(url, "customers")}
    assert (report.loaded, report.exit_code) == (3, 0), report
    ids = {int(r["line"]): int(r["id"]) for r in read_csv(tmp_path / "success.csv")}
    assert ids == {2: held["C1"], 3: held["C2"], 4: held["C3"]}, ids
    assert report.reconcile.rows_ids_by_place == 0, report.reconcile


async def test_records_answered_in_dotnet_case_with_http_statuses_give_their_ids_and_failures(tmp_path: Path) -> None:
    # found by a tester: an id answered as `Id` was dropped (the success file held no id), and a record's status
    # "409 Conflict" (an HTTP status with its reason phrase) was read as stored
    def dotnet_records(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"Id": r["id"], "CustomerNo": no, "Status": "409 Conflict" if no == "C2" else "201 Created"}
            for r in results
            for no in [r["customerno"]]
        ][::-1]

    with anyio.fail_after(60):
        async with serving(crm_app(answered(dotnet_records))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
            held = {c["customerno"]: c["id"] for c in await sandbox_read(url, "customers")}
    assert (report.loaded, report.in_doubt, report.exit_code) == (2, 1, 1), report
    ids = {int(r["line"]): int(r["id"]) for r in read_csv(tmp_path / "success.csv")}
    assert ids == {2: held["C1"], 4: held["C3"]}, ids
    doubt = {int(r["line"]): r["last_error"] for r in read_csv(tmp_path / "in_doubt.csv")}
    assert list(doubt) == [3] and "Status: 409 Conflict" in doubt[3], doubt


@pytest.mark.parametrize("id_name", ["Id", "ID"])
def test_a_records_id_named_in_another_case_is_its_id(id_name: str) -> None:
    kind, chunk = two_customers()
    body = [{id_name: 12, "customerno": "C2"}, {id_name: "11", "customerno": "C1"}]
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [11, 12]
    body = [{id_name: 11}, {id_name: 12}]  # no key: by place
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [11, 12]
    # an id named twice, in two cases: which is its id cannot be told
    body = [{"id": 11, id_name: 21, "customerno": "C1"}, {"id": 12, "customerno": "C2"}]
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [NO_ID, NO_ID]


def test_a_record_naming_its_key_in_snake_case_that_says_it_failed_is_its_own_rows_failure() -> None:
    # found by fixing t21b's faults (its server's MODE=reverse_snake_key): records naming `customer_no`, in reverse,
    # were taken by place: C2's failure put C1 in doubt, C2 loaded with C1's id
    kind, chunk = two_customers()
    body = [{"id": None, "customer_no": "C2", "success": False}, {"id": 11, "customer_no": "C1", "success": True}]
    assert set(kind.failed_items(json.dumps(body).encode(), chunk)) == {1}
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [11, NO_ID]
    # named twice, in two spellings: which is the key cannot be told
    body = [{"id": 11, "customerno": "C1", "customer_no": "C2"}, {"id": 12, "customerno": "C2"}]
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [NO_ID, NO_ID]


def test_records_naming_a_field_twice_in_two_cases_give_no_ids_by_place() -> None:
    kind, chunk = two_customers()
    # which of the two names the key cannot be told: no pairing by key, and no ids by place
    body = [{"id": 11, "customerno": "C1", "CustomerNo": "C2"}, {"id": 12, "customerno": "C2", "CustomerNo": "C1"}]
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [NO_ID, NO_ID]
    # nor of any other field sent
    body = [{"id": 11, "emailaddress1": "a@x", "EmailAddress1": "b@x"}, {"id": 12, "emailaddress1": "b@x"}]
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [NO_ID, NO_ID]


def test_records_naming_no_key_whose_fields_in_another_case_show_another_order_give_no_ids() -> None:
    kind, chunk = two_customers()
    body = [{"id": 12, "EmailAddress1": "b@x"}, {"id": 11, "EmailAddress1": "a@x"}]
    assert kind.created_ids(json.dumps(body).encode(), chunk) == [NO_ID, NO_ID]


def test_amounts_and_currencies_named_in_another_case_are_read() -> None:
    kind = PayorCRM(["invoices"]).kind_of(0)
    sent = [
        Invoice(customerNumber="C1", invoiceNumber="I1", invoiceAmount=5, currency="EUR"),
        Invoice(customerNumber="C1", invoiceNumber="I2", invoiceAmount=6, currency="USD"),
    ]
    chunk = Chunk(1, 0, [2, 3], b"", records=sent)
    body = json.dumps(
        [
            {"Id": 2, "InvoiceNumber": "I2", "InvoiceAmount": 6, "Currency": "USD"},
            {"Id": 1, "InvoiceNumber": "I1", "InvoiceAmount": 5, "Currency": "EUR"},
        ]
    ).encode()
    totals = kind.returned_totals(body, kind.summarize(sent), chunk)
    assert totals is not None
    assert totals["invoices"] == {"EUR": [1, 5, 5], "USD": [1, 6, 6]}, totals
    assert all(figures == [1] for figures in totals.get(ECHOED, {}).values()), totals


def echoing(reshape: Callable[[str, Any], Any]) -> Rule:
    """The sandbox's answer to an upload, each record giving every field its row was sent with, as `reshape` (field,
    value sent) writes it: a server that stores the rows and echoes them."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        sent = await request.json()
        real = await handler(request)
        assert isinstance(real, web.Response) and isinstance(real.body, bytes)
        body = json.loads(real.body)
        if real.status != 200:
            return real
        body["results"] = [
            {**record, **{name: reshape(name, value) for name, value in row.items()}}
            for row, record in zip(sent, body["results"], strict=True)
        ]
        return web.json_response(body)

    return rule


async def load_echoed(tmp_path: Path, reshape: Callable[[str, Any], Any], invoice: dict[str, str]) -> Any:
    customers = write(
        tmp_path / "c.csv",
        ["customerno", "emailaddress1", "phoneno"],
        [["00123", "a@b.c", "+1 715 724 1681"], ["124", "d@e.f", "+17706309380"]],
    )
    given = {"customerNumber": "00123", "invoiceNumber": "I1", "invoiceAmount": "211.03", "currency": "EUR"} | invoice
    invoices = write(tmp_path / "i.csv", list(given), [list(given.values())])
    with anyio.fail_after(60):
        async with serving(crm_app(echoing(reshape))) as url:
            return await load_both(tmp_path, url, customers, invoices)


def dotnet(name: str, value: Any) -> Any:
    """A record echoed as a .NET server may write it: objects with all their members, null where not given, named
    in PascalCase; a period as the number it is; a phone number without its spaces."""
    if isinstance(value, dict):
        given = {member[:1].upper() + member[1:]: v for member, v in value.items()}
        return {"Line1": None, "Line2": None, "City": None, "Zip": None, **given}
    if name == "fiscalPeriod":
        return int(value)
    if name == "phoneno":
        return value.replace(" ", "")
    return value


async def test_fields_echoed_as_a_dotnet_server_writes_them_are_the_values_sent(tmp_path: Path) -> None:
    # found by a tester: since fields echoed were compared (d80b412), a billAddr {"city": "Oslo"} echoed with its
    # other members null, and a fiscalPeriod "01" echoed as 1, were called other values: MISMATCH, exit 3, though
    # every row was stored as sent. A phone number echoed without its spaces is the number sent
    invoice = {"fiscalPeriod": "01", "fiscalYear": "2026", "billAddr": '{"city": "Oslo"}', "itemText": "Freight"}
    report = await load_echoed(tmp_path, dotnet, invoice)
    rec = report.reconcile
    assert (report.exit_code, rec.ok, rec.calls_differing) == (0, True, []), rec
    assert rec.rows_not_checked["fields"] == 0, rec


@pytest.mark.parametrize(
    ("invoice", "reshape", "differing"),
    [
        # a member sent echoed otherwise, or one not sent echoed with a value: another address
        ({"billAddr": '{"city": "Oslo"}'}, lambda n, v: {**v, "city": "Bergen"} if n == "billAddr" else v, "billAddr"),
        ({"billAddr": '{"city": "Oslo"}'}, lambda n, v: {**v, "zip": "0150"} if n == "billAddr" else v, "billAddr"),
        ({"billAddr": '{"city": "Oslo"}'}, lambda n, v: {} if n == "billAddr" else v, "billAddr"),
        # a postcode is text: its leading zero is its own
        ({"billAddr": '{"zip": "0150"}'}, lambda n, v: {"zip": 150} if n == "billAddr" else v, "billAddr"),
        # a key or a reference keeps its leading zeros, and its spaces
        ({}, lambda n, v: int(v) if n == "customerNumber" else v, "customerNumber"),
        ({"reference1": "PO 12"}, lambda n, v: "PO12" if n == "reference1" else v, "reference1"),
        # another period
        ({"fiscalPeriod": "01"}, lambda n, v: 10 if n == "fiscalPeriod" else v, "fiscalPeriod"),
    ],
)
async def test_fields_echoed_with_another_meaning_still_differ(
    tmp_path: Path, invoice: dict[str, str], reshape: Callable[[str, Any], Any], differing: str
) -> None:
    report = await load_echoed(tmp_path, reshape, invoice)
    rec = report.reconcile
    assert report.exit_code == 3 and not rec.ok, report
    (call,) = rec.calls_differing
    assert call["fields_differing"] == [differing], call


@pytest.mark.parametrize(
    ("name", "sent", "said", "same"),
    [
        ("billAddr", {"city": "Oslo"}, {"line1": None, "city": "Oslo", "zip": None}, True),
        # a member named in another case, as a field is (found by a tester: a false MISMATCH), where one is
        ("billAddr", {"city": "Oslo"}, {"City": "Oslo"}, True),
        ("billAddr", {"a": {"zip": "0150"}}, {"A": {"ZIP": "0150", "Line1": None}}, True),
        ("billAddr", {"city": "Oslo"}, {"City": "Oslo", "city": "Oslo"}, False),  # which is the member: not told
        ("billAddr", {"city": "Oslo", "City": "Oslo"}, {"city": "Oslo", "City": "Oslo"}, True),
        ("billAddr", {"city": "Oslo", "City": "Oslo"}, {"CITY": "Oslo"}, False),
        ("billAddr", {"city": "Oslo"}, {"City": "Bergen"}, False),
        ("billAddr", {"city": "Oslo", "zip": None}, {"city": "OSLO"}, True),
        ("billAddr", {"n": Decimal("1.50")}, {"n": "1.5"}, True),
        ("billAddr", {"a": {"zip": "0150"}}, {"a": {"zip": "0150", "b": None}}, True),
        ("billAddr", {"a": {"zip": "0150"}}, {"a": {"zip": 150}}, False),
        ("billAddr", [{"city": "Oslo"}], [{"city": "Oslo", "zip": None}], True),
        ("billAddr", [{"city": "Oslo"}], [], False),
        ("fiscalPeriod", "01", "1", True),
        ("fiscalPeriod", "01", 1.0, False),  # a double is no period
        ("fiscalPeriod", "Q1", "q1", True),  # no number: text
        ("itemText", "Freight  in", "FREIGHT_IN", True),
        ("customerNumber", "00123", 123, False),
        ("customerNumber", "C 1", "C1", False),
        # a reference is compared exactly, its surrounding spaces aside (found by a tester: `ab_1` and `AB 1` for
        # `AB_1` were the customer sent): another case or `_` names another record
        ("customerNumber", "AB_1", "ab_1", False),
        ("customerNumber", "AB_1", "AB 1", False),
        ("customerNumber", "AB_1", " AB_1 ", True),
        ("customerNumber", "123", 123, True),
        ("invoiceNumber", "INV_7", "inv_7", False),
        ("invoiceNumber", "INV_7", "INV_7", True),
        # other names keep their words in any case or `_`
        ("reference1", "PO_12", "po 12", True),
    ],
)
def test_what_a_record_echoes_is_the_value_sent_by_its_meaning(name: str, sent: Any, said: Any, same: bool) -> None:
    fields = PayorCRM(["invoices"]).kind_of(0).answered_as
    assert fields.same(name, sent, said) is same


def test_a_customers_key_echoed_in_another_case_is_another_customer() -> None:
    fields = PayorCRM(["customers"]).kind_of(0).answered_as
    assert not fields.same("customerno", "AB_1", "ab_1")
    assert fields.same("customerno", "AB_1", "AB_1")


@pytest.mark.parametrize("echoed", ["ab_1", "AB 1", "Ab_1"])
async def test_a_reference_echoed_in_another_case_or_spelling_differs(tmp_path: Path, echoed: str) -> None:
    # found by a tester: an invoice sent for customerNumber `AB_1` whose record said `ab_1` (or `AB 1`) was taken as
    # the customer sent, reconciled yes, exit 0: a key or a reference is compared exactly, as the group key is
    def renamed(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "customerNumber": echoed} if "invoiceNumber" in r else r for r in results]

    customers = write(tmp_path / "c.csv", ["customerno", "emailaddress1"], [["AB_1", "a@b.c"]])
    header = ["customerNumber", "invoiceNumber", "invoiceAmount", "currency"]
    invoices = write(tmp_path / "i.csv", header, [["AB_1", "I1", "1", "EUR"]])
    with anyio.fail_after(60):
        async with serving(crm_app(answered(renamed))) as url:
            report = await load_both(tmp_path, url, customers, invoices)
    rec = report.reconcile
    assert report.exit_code == 3 and not rec.ok, report
    (call,) = rec.calls_differing
    assert call["fields_differing"] == ["customerNumber"], call
