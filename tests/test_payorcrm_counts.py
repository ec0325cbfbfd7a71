"""Found by tester t22a: a PayorCRM answer that gives its count under a key written in another case (`Count`,
`Imported`, as a .NET server writes PascalCase) is not read, so 3 customers answered `{"Success": true, "Count": 1}`
load whole, exit 0 and reconciled, though the answer says it stored 1 of them. docs/payorcrm.md: `count` ...
`imported` are each read as the number of records the upload stored and compared with the rows sent; a key is read
in any case elsewhere (`CustomerNo` as a .NET server writes it, `Success`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from conftest import serving
from test_payorcrm_answers import Handler, crm_app, customers_file, load_both

from bulkload.targets.payorcrm_answers import read_answer


@pytest.mark.parametrize(
    "body", [b'{"Success": true, "Count": 1}', b'{"Imported": 1}', b'{"success": true, "Uploaded": 1}']
)
def test_a_count_under_a_key_in_another_case_is_read(body: bytes) -> None:
    assert read_answer(body).stored == 1


async def test_three_customers_answered_count_1_in_pascal_case_are_not_all_loaded(tmp_path: Path) -> None:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        await handler(request)  # the server stores them all; its answer says it stored 1
        return web.json_response({"Success": True, "Count": 1})

    with anyio.fail_after(30):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
    assert report.exit_code != 0 and report.loaded == 0, (report.exit_code, report.loaded, report.in_doubt)


# Found by tester t22a: an empty list of records under another key than `results` (`{"data": []}`, `{"success":
# true, "data": {"items": []}}`) is read as no answer at all, so 4 customers answered so load whole, exit 0, where
# `{"results": []}` stops the run ("stored 0 records for the 4 rows sent"). docs/payorcrm.md: "Records listed under
# another key than `results` are read as those under `results` are".
@pytest.mark.parametrize("body", [b'{"data": []}', b'{"success": true, "data": {"items": []}}', b'{"items": []}'])
def test_an_empty_list_of_records_under_another_key_is_read_as_under_results(body: bytes) -> None:
    assert read_answer(body).stored == read_answer(b'{"results": []}').stored == 0


async def test_three_customers_answered_an_empty_data_list_are_not_loaded(tmp_path: Path) -> None:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        await handler(request)
        return web.json_response({"data": []})

    with anyio.fail_after(30):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
    assert report.exit_code != 0 and report.loaded == 0, (report.exit_code, report.loaded, report.in_doubt)


# Found by tester t22a: a count in an object inside the answer (`{"success": true, "data": {"imported": 2}}`,
# `{"meta": {"count": 2}, "data": []}`) is not read, where failure is read anywhere in the answer ("an object inside
# it that says so of itself") and records under `{"data": {"items": [...]}}` are: 4 customers answered so load
# whole, exit 0.
@pytest.mark.parametrize("body", [b'{"success": true, "data": {"imported": 1}}', b'{"meta": {"count": 1}}'])
def test_a_count_inside_an_object_of_the_answer_is_read(body: bytes) -> None:
    assert read_answer(body).stored == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"Count": 2, "count": 3}',
        b'{"count": 2, "data": {"Imported": 3}}',
        b'{"meta": {"count": 2}, "data": [{"id": 1}]}',
        b'{"meta": {"count": 1}, "data": {"items": []}}',
    ],
)
def test_counts_that_disagree_anywhere_in_the_answer_leave_the_upload_in_doubt(body: bytes) -> None:
    with pytest.raises(ValueError, match="how many records it stored cannot be told"):
        read_answer(body)


def test_an_empty_list_that_says_nothing_failed_lists_no_records() -> None:
    # an empty list under a key that says what failed, warns or tells says none of those: no records
    assert read_answer(b'{"success": true, "errors": [], "warnings": [], "messages": []}').stored is None


# Found by tester t38a: a list of what the upload stored under a word of it (`{"message": "Saved", "saved": ["C1",
# "C3"]}`) was neither records (not objects) nor a count, so its `message` said stored: a server that kept 2 of 3
# customers answered so loaded 3, exit 0, the one left out and its invoices reported loaded. docs/payorcrm.md: such
# a list counts the records stored, held to the rows sent as a count is.
@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "Saved", "saved": ["C1", "C3"]}',
        b'{"success": true, "Created": [7, 9]}',
        b'{"status": "OK", "data": {"imported": ["C1", "C3"]}}',
        b'{"success": ["C1", "C3"]}',
    ],
)
def test_a_list_of_what_was_stored_counts_its_items(body: bytes) -> None:
    assert read_answer(body, 3).stored == 2


#: answers to an upload of customers that list one record fewer than were sent: the customer numbers saved, the ids
ANSWERED_ONE_SHORT = {
    "a list of the numbers saved": lambda sent: {"message": "Saved", "saved": [r["customerno"] for r in sent[:-1]]},
    "ids": lambda sent: {"message": "Saved", "ids": list(range(500, 500 + len(sent) - 1))},
}


@pytest.mark.parametrize("answered", ANSWERED_ONE_SHORT.values(), ids=ANSWERED_ONE_SHORT)
async def test_three_customers_answered_a_list_of_two_are_not_all_loaded(
    tmp_path: Path, answered: Callable[[list[dict[str, Any]]], dict[str, Any]]
) -> None:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        sent = await request.json()
        await handler(request)
        return web.json_response(answered(sent))

    with anyio.fail_after(30):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
    assert report.exit_code != 0 and report.loaded == 0, (report.exit_code, report.loaded, report.in_doubt)


# Found by tester t38a: values alone listed under a key read as no other thing (`{"message": "Saved", "ids": [500,
# 501]}`, `"customers": ["C1", "C3"]`) were not read, so a server that kept 2 of 3 customers and answered so loaded 3,
# exit 0, where an empty list under such a key (no record stored) is in doubt. docs/payorcrm.md: as many values as
# the rows sent stand; another number is in doubt.
@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "Saved", "ids": [500, 501]}',
        b'{"message": "Saved", "customers": ["C1", "C3"]}',
        b'{"success": true, "data": {"keys": ["C1", "C3"]}}',
    ],
)
def test_values_listed_other_than_the_rows_sent_leave_the_upload_in_doubt(body: bytes) -> None:
    with pytest.raises(ValueError, match="lists 2 values under .* for the 3 rows sent"):
        read_answer(body, 3)


def test_values_listed_as_many_as_the_rows_sent_stand() -> None:
    assert read_answer(b'{"message": "Saved", "ids": [500, 501, 502]}', 3).stored is None


# Found by tester t38a: an object within the answer giving each record's outcome by its key (`{"success": true,
# "results": {"C1": "ok", "C2": "error", "C3": "ok"}}`) was read for none, so C2, which the server refused, loaded,
# exit 0. docs/payorcrm.md: an outcome of failure alone under a key of any name, in an object within the answer,
# puts the call in doubt.
@pytest.mark.parametrize(
    "body",
    [
        b'{"success": true, "results": {"C1": "ok", "C2": "error", "C3": "ok"}}',
        b'{"message": "Saved", "data": {"C1": "Created", "C2": "Invalid email", "C3": "Created"}}',
    ],
)
def test_an_outcome_of_failure_by_key_within_the_answer_leaves_the_upload_in_doubt(body: bytes) -> None:
    with pytest.raises(ValueError, match="C2: "):
        read_answer(body, 3)


def test_outcomes_of_success_by_key_within_the_answer_stand() -> None:
    assert read_answer(b'{"success": true, "results": {"C1": "ok", "C2": "Created"}}', 2).stored is None


# Found by tester t38a: records that name no key field but say which row they are of, listing the failures first
# (`[{"row": 2, "status": "error"}, {"row": 1, "status": "ok"}, …]`, or `{"ref": "C2"}`), were taken by place: C2,
# which the server refused, loaded and C1, which it stored, in doubt. docs/payorcrm.md: such records in another
# order than the rows sent leave the call in doubt where one says it failed.
@pytest.mark.parametrize("named", ["row", "ref"])
async def test_records_that_say_they_are_another_rows_are_not_taken_by_place(tmp_path: Path, named: str) -> None:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        sent = await request.json()
        await handler(request)
        said = [
            {"row": i + 1, "status": "error" if i == 1 else "ok"}
            if named == "row"
            else {"ref": r["customerno"], "status": "error" if i == 1 else "ok"}
            for i, r in enumerate(sent)
        ]
        return web.json_response(said[1:2] + said[:1] + said[2:])  # the failure first

    with anyio.fail_after(30):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
    assert report.exit_code != 0 and report.loaded == 0, (report.exit_code, report.loaded, report.in_doubt)
