"""What a PayorCRM answer says of each record's outcome, in the words and forms a server written from seed 004 (which
documents no answer) may use: a status in words bulkload does not know, records listed as values alone, and errors
whose index counts the rows in an order of the server's own. Only what reads as success is taken for stored. The
real sandbox serves each, behind a middleware that shapes its answers (test_payorcrm_answers.crm_app)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from conftest import sandbox_read, serving
from test_load_payorcrm import read_csv, write
from test_payorcrm_answers import (
    Handler,
    Rule,
    answered,
    crm_app,
    customers_file,
    load_both,
    stores_the_rest_then_refuses,
    two_customers,
)

from bulkload.errors import BadRequest
from bulkload.model import NO_ID
from bulkload.targets.reasons import Untold

#: (field, what the server answers for a record it stored, what for one it did not): each a tester's server's
OUTCOMES = [
    ("statusCode", "Created", "BadRequest"),  # .NET's HttpStatusCode as its enum names it
    ("statusCode", "OK", "UnprocessableEntity"),
    ("status", "Created", "Bad Request"),
    ("status", "HTTP 201", "HTTP 409"),
    ("status", 201, "409;"),
    ("status", "Created", "Already exists"),
    ("status", "OK", "KO"),
    ("success", True, "N"),
    ("succeeded", True, False),
    ("isSuccess", True, False),
    ("created", True, False),
    # found by a tester (t21b): an outcome given as an object, or under a key bulkload did not read, was stored
    ("result", {"success": True}, {"success": False, "message": "duplicate customerno"}),
    ("status", {"code": 201}, {"code": 409, "message": "Conflict"}),
    ("outcome", "created", "rejected"),
    ("code", 201, 409),
]


@pytest.mark.parametrize(("field", "ok", "bad"), OUTCOMES)
async def test_a_record_whose_outcome_reads_neither_as_success_nor_as_a_known_failure_is_in_doubt(
    tmp_path: Path, field: str, ok: Any, bad: Any
) -> None:
    # found by a tester: C2's record answered `"statusCode": "BadRequest"` (or "Bad Request", "HTTP 409", "KO",
    # "succeeded": false, …), beside its id, was counted loaded: exit 0, `reconcile` exit 0, the server holding 3 of
    # the 4. Only words of failure bulkload knew were read as failure, anything else as success
    def outcomes(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, field: bad if r["customerno"] == "C2" else ok} for r in results]

    with anyio.fail_after(60):
        async with serving(crm_app(answered(outcomes))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 4))
    assert (report.loaded, report.rejected, report.in_doubt, report.exit_code) == (3, 0, 1, 1), report
    doubt = {int(r["line"]): r["last_error"] for r in read_csv(tmp_path / "in_doubt.csv")}
    assert list(doubt) == [3] and f"{field}: {json.dumps(bad).strip(chr(34))}" in doubt[3], doubt
    assert {int(r["line"]) for r in read_csv(tmp_path / "success.csv")} == {2, 4, 5}


@pytest.mark.parametrize(
    ("said", "failed"),
    [
        ({"isSuccess": "true", "was_created": 1, "Saved": "yes"}, False),
        ({"status": "Created successfully", "ok": True}, False),
        ({"success": "Y"}, True),  # neither true nor false: not clear
        ({"is_success": "false"}, True),
        ({"ok": None}, True),
        ({"status": "Pending"}, True),
        ({"state": "Active"}, True),
        # found by a tester (t21b): each counted loaded, exit 0, though the server did not store the record. An
        # object or list under an outcome key was read as success whatever it held, `outcome`, `code` and a
        # message were never read
        ({"result": {"success": False, "message": "duplicate customerno"}}, True),
        ({"status": {"code": 409, "message": "Conflict"}}, True),
        ({"status": ["failed"]}, True),
        ({"outcome": "rejected"}, True),
        ({"code": 409, "message": "Duplicate customerno, not saved"}, True),
        ({"message": "Duplicate customerno, not saved"}, True),
        ({"notSaved": True}, True),
        ({"warnings": ["not saved: duplicate"]}, True),
        # an outcome object or list is success only where what it holds reads as success
        ({"status": {"name": "x"}}, True),
        ({"result": {}}, True),
        ({"status": []}, True),
        ({"status": ["created", "pending"]}, True),
        ({"result": {"success": True, "message": "saved"}}, False),
        ({"status": {"code": 201, "message": "Created"}}, False),
        ({"status": ["created"]}, False),
        ({"outcome": "created", "code": "200"}, False),
        # a message is read where nothing else says how the record went, and only for words of failure
        ({"message": "welcome mail sent"}, False),
        ({"success": True, "message": "duplicate check passed"}, False),
        ({"warnings": ["phone number written without spaces"]}, False),
    ],
)
def test_what_a_records_outcome_field_says_of_it_id_or_none(said: dict[str, Any], failed: bool) -> None:
    kind, chunk = two_customers()
    body = json.dumps([{"customerno": "C1", "id": 11}, {"customerno": "C2", "id": 12, **said}]).encode()
    assert set(kind.failed_items(body, chunk)) == ({1} if failed else set()), said


#: a record per row, listed as a value alone: the server's answer for C1..C4, C2 not stored
LISTED = [
    {"results": [True, False, True, True]},
    [201, 409, 201, 201],
    ["Created", "Bad request: must be an email address", "Created", "Created"],
    {"results": ["OK", "KO", "OK", "OK"]},
]


@pytest.mark.parametrize("listed", LISTED)
async def test_records_listed_as_values_alone_are_read_as_each_rows_outcome(tmp_path: Path, listed: Any) -> None:
    # found by a tester: `{"results": [true, false, true, true]}`, `[201, 409, 201, 201]` or `["Created", "Bad
    # request: …", …]` was read as 4 records stored: C2, refused, counted loaded, exit 0 and `reconcile` exit 0
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        real = await handler(request)
        return web.json_response(listed) if real.status == 200 else real

    with anyio.fail_after(60):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 4))
    assert (report.loaded, report.rejected, report.in_doubt, report.exit_code) == (3, 0, 1, 1), report
    doubt = {int(r["line"]): r["last_error"] for r in read_csv(tmp_path / "in_doubt.csv")}
    assert list(doubt) == [3] and "listed as " in doubt[3], doubt


def test_values_alone_are_taken_by_place_only_one_a_row() -> None:
    kind, chunk = two_customers()
    assert kind.failed_items(b'[true, "201 Created"]', chunk) == {}
    assert kind.created_ids(b'{"results": [true, "OK"]}', chunk) == [NO_ID, NO_ID]
    # a number that is no HTTP status, a value of no outcome: not clear (an id alone is no record stored)
    assert kind.failed_items(b"[900000001, null]", chunk) == {0: ("", "listed as 900000001"), 1: ("", "listed as null")}
    for body in (b"[true]", b"[true, true, true]", b'{"results": [201]}'):
        with pytest.raises(ValueError, match="which rows were stored cannot be told"):
            kind.created_ids(body, chunk)


def refused_in_its_own_order(named: Callable[[dict[str, Any]], dict[str, Any]], calls: list[int]) -> Rule:
    """A server that stores the rows its refusal does not name (stores_the_rest_then_refuses) and answers 200 with
    errors naming the others by their index in the call reversed, each with what `named` says of its row."""
    storing = stores_the_rest_then_refuses(calls)

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        items = json.loads(await request.read())
        real = await storing(request, handler)
        assert isinstance(real, web.Response) and isinstance(real.body, bytes)
        if real.status != 400:
            return real
        errors = [
            {"index": len(items) - 1 - e["index"], **named(items[e["index"]]), "message": e["message"]}
            for e in json.loads(real.body)["errors"]
        ]
        return web.json_response({"errors": errors})

    return rule


@pytest.mark.parametrize(
    "named",
    [
        lambda item: {"field": "emailaddress1", "value": item["emailaddress1"]},
        lambda item: {"customerno": item["customerno"]},
        lambda item: {"CustomerNo": f" {item['customerno']} "},
    ],
)
async def test_an_error_whose_index_names_a_row_it_contradicts_rejects_no_row(
    tmp_path: Path, named: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    # found by a tester: a server counting the rows in its own order answered 2xx `{"errors": [{"index": 0, "field":
    # "emailaddress1", "value": "not-an-email", …}]}` (or naming `"customerno": "C4"`) for C4: bulkload took index 0
    # for counted from 0 and rejected C1, stored by the server (its rejects file would load C1 twice)
    customers = write(
        tmp_path / "c.csv",
        ["customerno", "emailaddress1"],
        [["C1", "a@example.com"], ["C2", "b@example.com"], ["C3", "c@example.com"], ["C4", "not-an-email"]],
    )
    calls: list[int] = []
    with anyio.fail_after(60):
        async with serving(crm_app(refused_in_its_own_order(named, calls))) as url:
            report = await load_both(tmp_path, url, customers)
            held = sorted(c["customerno"] for c in await sandbox_read(url, "customers"))
    assert held == ["C1", "C2", "C3"] and calls == [4, 3], (held, calls)
    assert (report.loaded, report.rejected, report.in_doubt) == (0, 0, 4), report
    assert read_csv(tmp_path / "rejects.csv") == []
    doubt = {int(r["line"]): r["last_error"] for r in read_csv(tmp_path / "in_doubt.csv")}
    assert sorted(doubt) == [2, 3, 4, 5]
    assert "than the row its index names has, either way it counts" in doubt[2], doubt


@pytest.mark.parametrize(
    ("errors", "named"),
    [
        # C2's value at index 1: from 0; index 1 from 1 names C1, whose email it is not
        ([{"index": 1, "field": "emailaddress1", "value": "b@x", "message": "taken"}], {1}),
        # naming C1 at index 1: from 1, though nothing else tells (no index 0, none equal to the rows)
        ([{"index": 1, "customerno": "C1", "message": "exists"}], {0}),
        ([{"index": 1, "field": "emailaddress1", "value": "a@x", "customerno": " C1 ", "message": "taken"}], {0}),
    ],
)
def test_an_error_naming_another_rows_value_rules_that_numbering_out(
    errors: list[dict[str, Any]], named: set[int]
) -> None:
    kind, chunk = two_customers()
    bad = kind.bad_items(BadRequest(400, "Some rows failed validation", errors=errors), chunk.entries(kind))
    assert isinstance(bad, dict) and set(bad) == named, bad


@pytest.mark.parametrize(
    "errors",
    [
        [{"index": 0, "field": "emailaddress1", "value": "b@x", "message": "taken"}],  # index 0: C1, not b@x
        [{"index": 1, "customerno": "C9", "message": "exists"}],  # neither C1 nor C2
        [{"index": 1, "field": "emailaddress1", "value": "b@x", "customerno": "C1", "message": "taken"}],
        [{"index": 0, "message": "bad"}, {"index": 1, "customerno": "C1", "message": "exists"}],
        # found by a tester (t21b): a server counting in an order of its own quoted the refused customer in its
        # message only; index 0 was taken as C1 (stored by the server), rejected, its rejects file loading it twice
        [{"index": 0, "field": "emailaddress1", "message": "customer C2: emailaddress1 'b@x' is not an email address"}],
        [{"index": 0, "message": "customer C2: emailaddress1 'b@x' is not an email address"}],
    ],
)
def test_an_error_contradicting_the_row_its_index_names_either_way_names_none(errors: list[dict[str, Any]]) -> None:
    kind, chunk = two_customers()
    bad = kind.bad_items(BadRequest(400, "Some rows failed validation", errors=errors), chunk.entries(kind))
    # any row may be the one refused: a resend sends each alone (pipeline.Loader.unplaced)
    assert isinstance(bad, Untold) and not bad.said and bad.rows == {0, 1}, bad
    assert "than the row its index names has, either way it counts" in bad.why, bad
