"""Visma Core answers a server written from seed 003 gives and the sandbox, left alone, does not: a cost type the
API names with `#` or `?`, a create answered with what bulkload cannot read or without its `Amount`, a definition
whose `Name` is null, a case's costs answered as the one object seed 003's sample shows, and answers that echo
other values than were sent. The real sandbox serves each, behind a middleware that shapes its answers as such a
server does."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest
from aiohttp import web
from conftest import serving
from test_load_visma_core import job, read_csv, write

from bulkload import load
from bulkload.model import echoed
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, build_app
from bulkload.sandbox.visma_core import DEFAULT_DEFINITIONS

ENV = {"VISMA_CORE_TOKEN": "answers-token"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: a middleware's rule: given the request and the sandbox's handler, its answer
Rule = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


async def as_is(request: web.Request, handler: Handler) -> web.StreamResponse:
    return await handler(request)


def core_app(rule: Rule = as_is, fixture: Path | None = None) -> web.Application:
    """The Visma Core sandbox (starting from `fixture`, a JSON file), behind `rule`."""
    options = SandboxOptions(window_limit=0, fixture=None if fixture is None else str(fixture))
    app = build_app("visma-core", options)

    @web.middleware
    async def shaped(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await rule(request, handler)

    app.middlewares.insert(0, shaped)
    return app


async def created(url: str) -> list[dict[str, Any]]:
    """What the sandbox holds (its test-only read-back)."""
    async with aiohttp.ClientSession() as s, s.get(url + "/_sandbox/entries") as r:
        body: list[dict[str, Any]] = await r.json(loads=lambda t: json.loads(t, parse_float=Decimal))
        return body


async def loaded(tmp_path: Path, data: Path, app: web.Application, **kw: Any) -> tuple[Report, list[dict[str, Any]]]:
    """`data` loaded into `app`: the report, and the entries the sandbox holds then."""
    with anyio.fail_after(60):
        async with serving(app) as url:
            report = await load(job(tmp_path, data, url, **kw), env=ENV, raise_on_stop=False)
            return report, await created(url)


# --- a cost type is one path segment, whatever it holds ----------------------------------------------------------


async def test_a_cost_type_holding_a_hash_or_a_question_mark_is_looked_up_as_itself(tmp_path: Path) -> None:
    """Before: `GET .../AccountingCostTypes/FEE#1` left as `FEE` (the rest a fragment), and `FEE?a=1` as `FEE` with
    a query: their rows were booked under FEE's definition (18). Each is one path segment, quoted whole."""
    fee = msgspec.to_builtins(DEFAULT_DEFINITIONS["FEE"])
    definitions = {
        "FEE": fee,
        "FEE#1": {**fee, "Id": 31, "IsDraft": True},
        "FEE?a=1": {**fee, "Id": 32, "IsDraft": True},
        "A/B": {**fee, "Id": 33, "IsDraft": True},
    }
    data = write(
        tmp_path / "e.csv",
        [
            [1001, "FEE", "1.00", "fee", "", "2026-11-01", ""],
            [1002, "FEE#1", "2.00", "hash", "", "", ""],
            [1003, "FEE?a=1", "3.00", "query", "", "", ""],
            [1004, "A/B", "4.00", "slash", "", "", ""],
            [1005, "FEE#2", "5.00", "none", "", "2026-11-01", ""],  # no definition: rejected, not booked as FEE
        ],
    )
    fixture = tmp_path / "core.json"
    fixture.write_text(json.dumps({"definitions": definitions}))
    report, entries = await loaded(tmp_path, data, core_app(fixture=fixture))
    booked = {e["Description"]: e["EntryDefinitionId"] for e in entries}
    assert booked == {"fee": 18, "hash": 31, "query": 32, "slash": 33}, booked
    assert (report.loaded, report.rejected, report.exit_code) == (4, 1, 1), report


async def test_a_cost_type_of_a_dot_or_two_is_refused_before_any_call_with_its_order(tmp_path: Path) -> None:
    """Before: `.` and `..` were looked up as `.../AccountingCostTypes/.` and `/..`, which the client reads as the
    folder and the one above (RFC 3986 §5.2.4; written %2E, a server reads them so too): a server answering there
    named the rows' definition. Such a cost type is no path segment: its rows are refused before any call, saying
    why, and an order holding one is refused whole."""
    asked: list[str] = []

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/flow/"):  # the run's own calls, not the test's read-back
            asked.append(request.raw_path)
        return await handler(request)

    data = write(
        tmp_path / "e.csv",
        [
            [1001, "FEE", "1.00", "fee", "", "2026-11-01", ""],
            [1002, ".", "2.00", "dot", "", "2026-11-01", ""],
            [1003, "..", "3.00", "dots", "", "2026-11-01", ""],
            [1004, "OUTLAY", "4.00", "o1", "", "2026-11-01", "O"],
            [1004, "..", "5.00", "o2", "", "2026-11-01", "O"],
            [1004, "OUTLAY", "6.00", "o3", "", "2026-11-01", "O"],
        ],
    )
    report, entries = await loaded(tmp_path, data, core_app(rule))
    assert [e["Description"] for e in entries] == ["fee"], entries
    assert (report.loaded, report.rejected, report.exit_code) == (1, 5, 1), report
    lookups = sorted(p.rpartition("/AccountingCostTypes/")[2] for p in asked if "/AccountingCostTypes" in p)
    assert lookups == ["FEE", "OUTLAY"], asked
    rejects = {int(r["line"]): r for r in read_csv(tmp_path / "rejects.csv")}
    assert sorted(rejects) == [3, 4, 5, 6, 7], rejects
    for line, value in ((3, "."), (4, ".."), (6, "..")):
        assert rejects[line]["field"] == "accountingCostType", rejects[line]
        assert rejects[line]["reason"].startswith(f"{value}: cannot be looked up: in a URL's path"), rejects[line]
    said = "order O of case 1004 is rejected whole: line 6, a line of this order: accountingCostType '..' cannot"
    assert rejects[5]["reason"].startswith(said), rejects[5]


# --- a definition that does not say draft or final, one entry or several, stops the run ---------------------------


@pytest.mark.parametrize("field", ["IsDraft", "MergeOrderLinesToOneEntry"])
async def test_a_definition_without_a_field_that_decides_the_entries_stops_the_run_before_any_create(
    tmp_path: Path, field: str
) -> None:
    """Before: OUTLAY's definition answered without `MergeOrderLinesToOneEntry` booked order R-1's two lines as two
    entries, and without `IsDraft` booked them as final entries (`.../Entries`, which "cannot (easily) be changed
    later": seed 003), exit 0, where `"IsDraft": "false"` stopped the run. A definition is read whole, these fields
    never guessed: the run stops before any create, naming the cost type and the field (exit 4)."""
    asked: list[str] = []

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/flow/"):
            asked.append(f"{request.method} {request.path}")
        answer = await handler(request)
        if not request.path.endswith("/AccountingCostTypes/OUTLAY") or not isinstance(answer, web.Response):
            return answer
        assert isinstance(answer.body, bytes)
        return web.json_response({k: v for k, v in json.loads(answer.body).items() if k != field})

    data = write(
        tmp_path / "e.csv",
        [
            [1001, "OUTLAY", "1544.95", "Tinglysing skjøte", "Faktura 7781", "2026-02-01", "R-1"],
            [1001, "OUTLAY", "585.00", "Pantattest", "Faktura 7781", "2026-02-01", "R-1"],
            [1002, "FEE", "12500.00", "Honorar salg", "", "2026-02-01", ""],
        ],
    )
    report, entries = await loaded(tmp_path, data, core_app(rule))
    assert (report.exit_code, report.status, report.loaded) == (4, "stopped", 0), report
    assert entries == [] and not [a for a in asked if a.startswith("POST")], asked
    reason = report.stop_reason or ""
    assert "/AccountingCostTypes/OUTLAY: the answer is not what the API documents" in reason, reason
    assert f"missing required field `{field}`" in reason, reason


@pytest.mark.parametrize("field", ["MergeOrderLinesToOneEntry", "IsDraft"])
async def test_one_definition_answered_two_ways_for_two_cost_types_stops_the_run_before_any_create(
    tmp_path: Path, field: str
) -> None:
    """Before: OUTLAY and UTLEGG answered as one definition, 19, merging for one and not for the other (or a draft for
    one only), booked order R-1 by one reading of it, exit 0. Which is definition 19 cannot be told: the run stops
    before any create, naming the definition and both cost types (exit 4)."""
    outlay = {"Id": 19, "Name": "a", "IsDraft": False, "MergeOrderLinesToOneEntry": True}
    fixture = tmp_path / "core.json"
    definitions = {"OUTLAY": outlay, "UTLEGG": {**outlay, "Name": "b", field: not outlay[field]}}
    fixture.write_text(json.dumps({"definitions": definitions}))
    data = write(
        tmp_path / "e.csv",
        [
            [1001, "OUTLAY", "1.00", "A", "", "2026-11-01", "R-1"],
            [1001, "UTLEGG", "2.00", "B", "", "2026-11-01", "R-1"],
        ],
    )
    report, entries = await loaded(tmp_path, data, core_app(fixture=fixture))
    assert (report.exit_code, report.status, report.loaded, entries) == (4, "stopped", 0, []), report
    reason = report.stop_reason or ""
    assert "the answers contradict each other about entry definition 19" in reason, reason
    assert "OUTLAY" in reason and "UTLEGG" in reason and field in reason, reason


async def test_a_lookup_answer_giving_a_key_twice_stops_the_run_before_any_call_that_reads_it(tmp_path: Path) -> None:
    """Before: FEE's definition answered `"IsDraft": false, …, "IsDraft": true` was read as its last value, a draft,
    and a case's costs answered with a cost giving `Amount` twice as its last: which value the API means cannot be
    told, as `"IsDraft": "true"` already stopped the run (exit 4)."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "GET" or not isinstance(answer, web.Response) or answer.status != 200:
            return answer
        assert isinstance(answer.body, bytes)
        text = answer.body.decode()
        if request.path.endswith("/AccountingCostTypes/FEE"):
            text = text[:-1] + ', "IsDraft": true}'
        elif request.path == costs_path(1501, "Buyer"):
            text = text.replace('"Amount":', '"Amount": 1, "Amount":', 1)
        return web.Response(body=text.encode(), content_type="application/json")

    app = core_app(rule)
    report, entries = await loaded(tmp_path, write(tmp_path / "e.csv", fees(1)), app)
    assert (report.exit_code, report.status, entries) == (4, "stopped", []), report
    reason = report.stop_reason or ""
    assert "/AccountingCostTypes/FEE: the answer is not what the API documents" in reason, reason
    assert "the key 'IsDraft' is given twice in one object" in reason, reason
    costs = write(
        tmp_path / "c.csv",
        [[1501, "Buyer", 150101, "", "700.25", "ny"]],
        header=["caseId", "type", "costId", "IsOptional", "Amount", "Comment"],
    )
    report, _ = await loaded(tmp_path / "costs", costs, app, target_options={"kind": "costs"})
    assert (report.exit_code, report.loaded) == (4, 0), report
    assert "the key 'Amount' is given twice in one object" in (report.stop_reason or ""), report.stop_reason


async def test_a_cost_the_api_lists_twice_rejects_its_row_saying_so(tmp_path: Path) -> None:
    """Before: a case's costs listing cost 150101 twice (other amounts) rejected its row by costId naming field
    entryDefinitionId, "cost 150101 matches 2 costs; give costId", where the row gave its costId."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.path != costs_path(1501, "Buyer") or not isinstance(answer, web.Response):
            return answer
        assert isinstance(answer.body, bytes)
        listed = json.loads(answer.body)
        return web.json_response([*listed, {**listed[0], "Amount": 999}])

    costs = write(
        tmp_path / "c.csv",
        [[1501, "Buyer", 150101, "", "700.25", "ny"]],
        header=["caseId", "type", "costId", "IsOptional", "Amount", "Comment"],
    )
    report, _ = await loaded(tmp_path, costs, core_app(rule), target_options={"kind": "costs"})
    assert (report.exit_code, report.rejected) == (1, 1), report
    (reject,) = read_csv(tmp_path / "rejects.csv")
    assert reject["field"] == "costId", reject
    assert "the API lists cost 150101 2 times on case 1501 (Buyer)" in reject["reason"], reject


# --- a create answered with what bulkload cannot read stops the run -----------------------------------------------


def creates_answered(rewrite: Callable[[dict[str, Any]], bytes]) -> Rule:
    """Every create is carried out by the sandbox and answered 201 with `rewrite(its answer)`."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "POST" or answer.status != 200 or not isinstance(answer, web.Response):
            return answer
        assert isinstance(answer.body, bytes)
        return web.Response(status=201, body=rewrite(json.loads(answer.body)), content_type="application/json")

    return rule


def fees(n: int) -> list[list[Any]]:
    """`n` FEE lines (an entry each) on cases 1000, 1001, …"""
    return [[1000 + i, "FEE", f"{i}.01", f"fee {i}", "", "2026-11-01", ""] for i in range(n)]


@pytest.mark.parametrize(
    "rewrite",
    [lambda created: json.dumps({**created, "Amount": None}).encode(), lambda created: b""],
    ids=["amount-null", "empty-201"],
)
async def test_a_create_answer_it_cannot_read_stops_the_run_with_that_call_in_doubt(
    tmp_path: Path, rewrite: Callable[[dict[str, Any]], bytes]
) -> None:
    """Before: each of 20 creates was answered so, each was in doubt, and the run went on to the last (20 of 20 in
    doubt, exit 1). As docs/guarantees.md says, such an answer stops the run (exit 4) with its call in doubt, and
    nothing more is sent."""
    data = write(tmp_path / "e.csv", fees(20))
    report, entries = await loaded(tmp_path, data, core_app(creates_answered(rewrite)), concurrency=1)
    assert (report.exit_code, report.status) == (4, "stopped"), report
    assert (report.loaded, report.in_doubt, report.rejected) == (0, 1, 0), report
    assert (report.rows_read, report.skipped, report.rows_not_sent) == (1, 0, 19), report  # the rest not yet sent
    assert "the answer is not what the API documents" in (report.stop_reason or ""), report.stop_reason
    assert len(entries) == 1


# --- an answer without its amount is not checked, never 0 ---------------------------------------------------------


async def test_a_create_answer_without_its_amount_is_counted_and_its_amount_not_checked(tmp_path: Path) -> None:
    """Before: an answer without `Amount` was read as 0.00, and an exact load failed reconciliation (exit 3, "the API
    holds 0.00"). What an answer does not say is not checked: the rows are counted under rows_not_checked.amounts."""
    data = write(tmp_path / "e.csv", fees(5))
    without = creates_answered(lambda created: json.dumps({k: v for k, v in created.items() if k != "Amount"}).encode())
    report, entries = await loaded(tmp_path, data, core_app(without))
    assert (report.exit_code, report.loaded, len(entries)) == (0, 5, 5), report
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    assert report.reconcile.rows_not_checked == {"count": 0, "amounts": 5, "fields": 0, "lines_one_id": 0}, (
        report.reconcile
    )
    assert report.reconcile.remote_count == 5


async def test_a_create_answer_whose_amount_is_a_string_is_counted_and_its_amount_not_checked(tmp_path: Path) -> None:
    """Before: `"Amount": "0.01"` (a JSON string; seed 003 answers a number) was read as the number 0.01 and passed
    as proof of the amount sent. An amount of another JSON type is no amount: the rows are counted under
    rows_not_checked.amounts, as an answer without one is."""
    data = write(tmp_path / "e.csv", fees(3))
    text = creates_answered(lambda created: json.dumps({**created, "Amount": str(created["Amount"])}).encode())
    report, entries = await loaded(tmp_path, data, core_app(text))
    assert (report.exit_code, report.loaded, len(entries)) == (0, 3, 3), report
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    assert report.reconcile.rows_not_checked == {"count": 0, "amounts": 3, "fields": 0, "lines_one_id": 0}, (
        report.reconcile
    )
    assert report.reconcile.remote_count == 3


def amounts_answered(written: Callable[[Decimal], str]) -> Rule:
    """Every create answered with its `Amount` written as `written(the amount)`, a JSON number."""

    def rewrite(created: dict[str, Any]) -> bytes:
        amount = Decimal(str(created["Amount"]))
        return json.dumps({**created, "Amount": "@"}).replace('"@"', written(amount)).encode()

    return creates_answered(rewrite)


async def test_a_create_answer_whose_amount_is_the_double_sent_written_long_is_the_amount_sent(tmp_path: Path) -> None:
    """Before: 2129.95 answered as `2.12995000000000005e+03` (the double the API holds it as, written with 17
    digits) was counted as not checked and, at once, named as differing in its Amount (exit 3). A number whose
    nearest double is the one of the amount sent is that amount (money.nearest_double): the load reconciles."""
    rows = [
        [1001, "OUTLAY", "1544.95", "Tinglysing skjøte", "", "2026-02-01", "R-1"],
        [1001, "OUTLAY", "585.00", "Pantattest", "", "2026-02-01", "R-1"],
        [1002, "FEE", "0.10", "Porto", "", "2026-02-05", ""],
        [1003, "SALARY", "45000.11", "Provisjon", "", "", ""],
        [1004, "FEE", "-999999.99", "Kreditt", "", "2026-02-05", ""],
    ]
    long = amounts_answered(lambda amount: f"{float(amount):.17e}")
    report, entries = await loaded(tmp_path, write(tmp_path / "e.csv", rows), core_app(long))
    assert (report.exit_code, report.loaded, len(entries)) == (0, 5, 4), report
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    assert report.reconcile.rows_not_checked == {"count": 0, "amounts": 0, "fields": 0, "lines_one_id": 0}, (
        report.reconcile
    )
    assert report.reconcile.calls_differing_count == 0


async def test_a_create_answer_whose_amount_is_another_with_a_fraction_of_a_cent_differs_only(tmp_path: Path) -> None:
    """An `Amount` with a fraction of a cent that is not the double of the amount sent (10.005 for 10.00) is a
    difference: its call is named with `Amount` (exit 3), and its rows are not also counted as not checked."""
    rows = [[1001, "FEE", "10.00", "fee", "", "2026-02-01", ""], [1002, "FEE", "2.00", "fee", "", "2026-02-01", ""]]
    off = amounts_answered(lambda amount: f"{amount:.2f}5" if amount == 10 else str(amount))
    report, _ = await loaded(tmp_path, write(tmp_path / "e.csv", rows), core_app(off))
    assert (report.exit_code, report.loaded) == (3, 2), report
    assert report.reconcile is not None and not report.reconcile.ok
    assert report.reconcile.rows_not_checked == {"count": 0, "amounts": 0, "fields": 0, "lines_one_id": 0}, (
        report.reconcile
    )
    (call,) = report.reconcile.calls_differing
    assert (call["lines"], call["fields_differing"]) == ("2-2", ["Amount"]), call


# --- answer shapes that are harmless ------------------------------------------------------------------------------


def costs_path(case: int, kind: str) -> str:
    return f"/flow/api/Conditions/Cases/{case}/Costs/{kind}"


async def test_a_definition_whose_name_is_null_and_costs_answered_as_one_object_load(tmp_path: Path) -> None:
    """Before: a definition answered with `"Name": null` stopped the run in setup, and so every resume (Name is
    never used), and a case's costs answered as one object, as seed 003's sample shows them, stopped the run at its
    row. The fields used are read; the costs are an array or the one cost."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "GET" or not isinstance(answer, web.Response) or answer.status != 200:
            return answer
        assert isinstance(answer.body, bytes)
        said = json.loads(answer.body)
        if "/AccountingCostTypes/" in request.path:
            return web.json_response({**said, "Name": None})
        if request.path == costs_path(1501, "Buyer"):
            return web.json_response(said[0])  # the case's first cost only, as an object
        return answer

    app = core_app(rule)
    entries = write(tmp_path / "e.csv", fees(2))
    report, booked = await loaded(tmp_path, entries, app)
    assert (report.exit_code, report.loaded, len(booked)) == (0, 2, 2), report
    costs = write(
        tmp_path / "c.csv",
        [[1501, "Buyer", 150101, "", "700.25", "ny"]],
        header=["caseId", "type", "costId", "IsOptional", "Amount", "Comment"],
    )
    report, _ = await loaded(tmp_path / "costs", costs, app, target_options={"kind": "costs"})
    assert (report.exit_code, report.loaded) == (0, 1), report


# --- what an answer echoes of what was sent is compared -----------------------------------------------------------


async def test_a_create_answered_with_another_case_definition_or_date_is_a_call_that_differs(tmp_path: Path) -> None:
    """Before: only the count and amount of each answer were compared, and entries answered on another case, of
    another definition and on another date reconciled `ok` (exit 0). What the answer echoes of what was sent is
    compared field by field; the calls that differ are named with their fields (exit 3)."""

    def elsewhere(created: dict[str, Any]) -> bytes:
        moved = {**created, "CaseId": created["CaseId"] + 1, "EntryDefinitionId": 99}
        return json.dumps(moved | ({"EntryDate": "2023-12-31T00:00:00+01:00"} if "EntryDate" in created else {}))

    rows = [*fees(2), [1005, "SALARY", "7.00", "draft", "", "", ""]]
    report, _ = await loaded(tmp_path, write(tmp_path / "e.csv", rows), core_app(creates_answered(elsewhere)))
    assert (report.exit_code, report.loaded) == (3, 3), report
    assert report.reconcile is not None and not report.reconcile.ok
    assert report.reconcile.calls_differing_count == 3
    fields = [call["fields_differing"] for call in report.reconcile.calls_differing]
    assert fields == [["CaseId", "EntryDate", "EntryDefinitionId"]] * 2 + [["CaseId", "EntryDefinitionId"]], fields


async def test_a_create_answered_with_another_note_is_a_call_that_differs(tmp_path: Path) -> None:
    """Found by tester t69b: a server that answers the `Note` of the entry it holds (seed 003's answers show none),
    cut short or another than was sent, reconciled `ok`, exit 0, where its `Description` so answered differed. A
    note answered is compared as the description is; an answer without one (as seed 003's) leaves it unchecked and
    uncounted, and a note of none answered as null or "" is the note sent."""

    def noted(created: dict[str, Any]) -> bytes:
        note = {1000: "a note cut", 1001: None, 1002: "a note sent whole"}[created["CaseId"]]
        return json.dumps({**created, "Note": note}).encode()

    rows = [
        [1000 + i, "FEE", f"{i}.01", f"fee {i}", note, "2026-11-01", ""]
        for i, note in enumerate(["a note cut short", "", "a note sent whole"])
    ]
    report, _ = await loaded(tmp_path, write(tmp_path / "e.csv", rows), core_app(creates_answered(noted)))
    assert (report.exit_code, report.loaded) == (3, 3), report
    assert report.reconcile is not None and report.reconcile.calls_differing_count == 1, report.reconcile
    assert [call["fields_differing"] for call in report.reconcile.calls_differing] == [["Note"]]
    assert report.reconcile.rows_not_checked["fields"] == 0, report.reconcile


@pytest.mark.parametrize(
    ("answered", "same"),
    [
        ("2026-10-31T23:00:00Z", True),  # local midnight at +01:00, written in UTC
        ("2026-10-31T22:00:00.000Z", True),  # at +02:00
        ("2026-11-01T05:00:00+00:00", True),  # at -05:00
        ("2026-11-01T00:00:00+02:00", True),  # as seed 003 writes it
        ("2026-10-31T00:00:00+01:00", False),  # another day, whatever the zone
        ("2026-10-30T23:00:00Z", False),  # 31 October's midnight at +01:00
        ("2026-11-01T23:00:00Z", False),  # 2 November's: its own date part is no proof
        ("2026-10-31T10:00:00Z", False),  # midnight of 1 November at +14:00, or of 31 October at -10:00
        ("2026-10-31T23:07:00Z", False),  # midnight in no zone
    ],
)
async def test_an_entry_date_answered_as_the_instant_of_its_local_midnight_is_the_date_sent(
    tmp_path: Path, answered: str, same: bool
) -> None:
    """Found by a tester: sent "2026-11-01" (no time, no offset; seed 003 shows EntryDate sent and answered as
    "2022-02-01T00:00:00+02:00" and says nothing of zones), a server answered "2026-10-31T23:00:00Z", the instant of
    its local midnight at +01:00, and the load was told "the API answered another EntryDate than was sent" (exit
    3), where the server holds 1 November. An answer that is local midnight of the date sent at an offset where
    it is midnight of no other date in any zone (-12:00 to +14:00) is that date; any other date differs."""

    def dated(created: dict[str, Any]) -> bytes:
        return json.dumps({**created, "EntryDate": answered}).encode()

    report, entries = await loaded(tmp_path, write(tmp_path / "e.csv", fees(1)), core_app(creates_answered(dated)))
    assert [entry["EntryDate"] for entry in entries] == ["2026-11-01T00:00:00"]
    assert report.loaded == 1, report
    assert report.reconcile is not None and report.reconcile.ok is same, report.reconcile
    if not same:
        assert report.exit_code == 3, report
        assert [call["fields_differing"] for call in report.reconcile.calls_differing] == [["EntryDate"]]


async def test_a_field_an_answer_leaves_out_is_counted_not_checked(tmp_path: Path) -> None:
    """An answer without the case and the description it was sent: those are not checked, and the rows are counted
    under rows_not_checked.fields; the load reconciles."""

    def without(created: dict[str, Any]) -> bytes:
        return json.dumps({k: v for k, v in created.items() if k not in ("CaseId", "Description")}).encode()

    report, _ = await loaded(tmp_path, write(tmp_path / "e.csv", fees(3)), core_app(creates_answered(without)))
    assert (report.exit_code, report.loaded) == (0, 3), report
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    assert report.reconcile.rows_not_checked == {"count": 0, "amounts": 0, "fields": 3, "lines_one_id": 0}


async def test_a_cost_patch_answered_with_a_rounded_amount_is_a_call_that_differs(tmp_path: Path) -> None:
    """Before: a cost PATCH's answer was never compared (every call counted [1, 0, 0]): 12.5 answered as 12
    reconciled `ok`. The values the row set are compared with the cost the answer gives (exit 3)."""

    async def rounded(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "PATCH" or not isinstance(answer, web.Response) or answer.status != 200:
            return answer
        assert isinstance(answer.body, bytes)
        cost = json.loads(answer.body, parse_float=Decimal)
        return web.Response(
            body=json.dumps({**cost, "Amount": round(cost["Amount"])}, default=str), content_type="application/json"
        )

    costs = write(
        tmp_path / "c.csv",
        [[1501, "Buyer", 150101, "", "12.50", ""], [1501, "Buyer", 150103, "", "13.00", "heltall"]],
        header=["caseId", "type", "costId", "IsOptional", "Amount", "Comment"],
    )
    report, _ = await loaded(tmp_path, costs, core_app(rounded), target_options={"kind": "costs"})
    assert (report.exit_code, report.loaded) == (3, 2), report
    assert report.reconcile is not None and report.reconcile.calls_differing_count == 1
    (call,) = report.reconcile.calls_differing
    assert (call["lines"], call["fields_differing"]) == ("2-2", ["Amount"]), call


async def test_a_cost_patch_answered_with_its_amount_as_a_string_is_a_call_that_differs(tmp_path: Path) -> None:
    """Before: a PATCH answered `"Amount": "12.50"` (a JSON string; seed 003 answers a number) was read as the number
    12.50 and matched what the row set (exit 0). A value of another JSON type than was sent differs, as an echoed
    case or date of one does (exit 3)."""

    async def as_text(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "PATCH" or not isinstance(answer, web.Response) or answer.status != 200:
            return answer
        assert isinstance(answer.body, bytes)
        cost = json.loads(answer.body, parse_float=Decimal)
        return web.Response(body=json.dumps({**cost, "Amount": str(cost["Amount"])}), content_type="application/json")

    costs = write(
        tmp_path / "c.csv",
        [[1501, "Buyer", 150101, "", "12.50", ""], [1501, "Buyer", 150103, "true", "", ""]],
        header=["caseId", "type", "costId", "IsOptional", "Amount", "Comment"],
    )
    report, _ = await loaded(tmp_path, costs, core_app(as_text), target_options={"kind": "costs"})
    assert (report.exit_code, report.loaded) == (3, 2), report
    assert report.reconcile is not None and report.reconcile.calls_differing_count == 1
    (call,) = report.reconcile.calls_differing
    assert (call["lines"], call["fields_differing"]) == ("2-2", ["Amount"]), call


def test_an_echoed_field_is_the_value_sent_another_value_or_not_said() -> None:
    fields = [("CaseId", 1001, 1001), ("Other", 1001, 1002), ("Text", 1001, "1001"), ("Gone", 1001, msgspec.UNSET)]
    said = echoed(fields)
    assert said == {"CaseId": [1], "Other": [0], "Text": [0], "Gone": []}


async def test_the_fields_an_answer_leaves_out_are_named_in_the_reconciliation_note(tmp_path: Path) -> None:
    """Found by a tester: a month's salary draft (SALARY, its date given) beside a fee was reconciled with "for 1
    rows the answer left out a field it echoes of what was sent: bulkload could not check that field": which field
    (a draft's answer shows no EntryDate, seed 003) the user was left to guess. The note names it."""
    rows = [
        [1703, "SALARY", "15000.00", "Lønn", "", "2026-11-30", ""],
        [1704, "FEE", "5.00", "Gebyr", "", "2026-11-30", ""],
    ]
    report, entries = await loaded(tmp_path, write(tmp_path / "e.csv", rows), core_app())
    assert (report.exit_code, report.loaded, len(entries)) == (0, 2, 2), report
    assert report.reconcile is not None and report.reconcile.rows_not_checked["fields"] == 1, report.reconcile
    said = "for 1 row the answer left out EntryDate, which it echoes of what was sent: bulkload could not check it"
    assert said in report.reconcile.note, report.reconcile.note
