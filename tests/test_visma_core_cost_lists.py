"""Visma Core costs: what a case's costs list says of a cost besides its values (`Deleted`), lists longer than one
OData page (`$top`, default 100: seeds README), and how a PATCH answered with what bulkload cannot read is named. The
real sandbox serves each case, behind a middleware that shapes its answers as a server written from seed 003 does."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from test_load_visma_core import COST_HEADER, read_csv, write
from test_visma_core_answers import Handler, Rule, core_app, costs_path, loaded

COSTS = {"kind": "costs"}
#: the costs an OData page holds where `$top` is not given (seeds README)
DEFAULT_TOP = 100


def listed(
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], *, paged: bool = True, cap: int = DEFAULT_TOP
) -> Rule:
    """Case 1501's Buyer costs answered as `change(the sandbox's costs)`, a page at a time as `$top` (default 100) and
    `$skip` ask (`paged` False: `$skip` ignored, every page from the first), and at most `cap` a page whatever `$top`
    asks (server-driven paging, telling nothing of it in the answer)."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.path != costs_path(1501, "Buyer") or not isinstance(answer, web.Response):
            return answer
        assert isinstance(answer.body, bytes)
        costs = change(json.loads(answer.body))
        top = int(request.query.get("$top", DEFAULT_TOP))
        skip = int(request.query.get("$skip", 0)) if paged else 0
        return web.json_response(costs[skip : skip + min(top, cap)])

    return rule


def deleted(ids: set[int]) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda costs: [{**c, "Deleted": c["Id"] in ids} for c in costs]


async def test_a_cost_listed_deleted_is_never_patched_and_never_a_match_by_definition(tmp_path: Path) -> None:
    """Before: a row whose cost (by entryDefinitionId, or by costId) was listed `"Deleted": true` was PATCHed and
    counted loaded, exit 0. A deleted cost is not the live cost the row means: its row is rejected saying so, and a
    definition that a deleted cost and a live one share finds the live one."""

    def changed(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # cost 150101 (definition 19) deleted, and a deleted cost of 150103's definition 21 beside it
        return [*deleted({150101})(costs), {**costs[2], "Id": 150199, "Deleted": True}]

    rows = [[1501, "Buyer", 150101, "", "700.25", "by id"], [1501, "Buyer", "", 19, "700.25", "by definition"]]
    rows.append([1501, "Buyer", "", 21, "800.50", "the live one"])
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    asked: list[str] = []

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "PATCH":
            asked.append(request.path)
        return await listed(changed)(request, handler)

    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS)
    assert (report.exit_code, report.loaded, report.rejected) == (1, 1, 2), report
    assert asked == ["/flow/api/Conditions/Properties/1501/Costs/150103/Buyer"], asked
    reasons = {int(r["line"]): (r["field"], r["reason"]) for r in read_csv(tmp_path / "rejects.csv")}
    assert reasons[2][0] == "costId" and "cost 150101 of case 1501 (Buyer) is listed Deleted" in reasons[2][1]
    assert reasons[3][0] == "entryDefinitionId", reasons
    assert "only cost with entry definition 19 on case 1501 (Buyer), 150101, is listed Deleted" in reasons[3][1]


@pytest.mark.parametrize("answer", ["read", "lost"])
async def test_a_cost_listed_deleted_beside_its_live_replacement_is_no_cost_listed_twice(
    tmp_path: Path, answer: str
) -> None:
    """Before: a case whose costs list cost 150101 `"Deleted": true` and, beside it, live (its replacement, one Id)
    rejected the row as "the API lists cost 150101 2 times …: which it is cannot be told", and a PATCH whose answer
    was lost (`lost`: 204, counted by the cost read back; the deleted one listed from then on) was in doubt. A
    deleted cost is none the row sets: the live one is, and is found again by the look after the PATCH."""
    patched: list[str] = []

    def changed(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if answer == "lost" and not patched:
            return costs
        return [{**costs[0], "Deleted": True, "Amount": 1}, *costs]

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "PATCH" and answer == "lost":
            patched.append(request.path)
            await handler(request)
            return web.Response(status=204)
        return await listed(changed)(request, handler)

    data = write(tmp_path / "c.csv", [[1501, "Buyer", 150101, "", "700.25", "the live one"]], header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS, settle_s=0.2)
    assert (report.loaded, report.rejected, report.in_doubt) == (1, 0, 0), report
    assert report.exit_code == {"read": 0, "lost": 4}[answer], report  # a 204 stops the run, its row counted


def padded(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """117 costs of other definitions before the sandbox's three, one of them (9005) of 150103's definition 21."""
    extra = [{**costs[0], "Id": 9000 + i, "EntryDefinitionId": 21 if i == 5 else 1000 + i} for i in range(117)]
    return [*extra, *costs]


async def test_a_case_of_more_costs_than_a_page_is_read_page_by_page(tmp_path: Path) -> None:
    """Before: a case's costs were read with one GET without `$top`, whose answer holds at most 100 (OData's default
    page): cost 150101, the 118th, was "not found", and entry definition 21 matched cost 9005 only, which was
    PATCHed, though 150103, past the first page, has it too. Every page is read, `$top` and `$skip`."""
    rows = [[1501, "Buyer", 150101, "", "700.25", "page two"], [1501, "Buyer", "", 21, "800.50", "two have it"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(listed(padded)), target_options=COSTS)
    assert (report.exit_code, report.loaded, report.rejected) == (1, 1, 1), report
    (reject,) = read_csv(tmp_path / "rejects.csv")
    assert reject["line"] == "3" and "entry definition 21 matches 2 costs" in reject["reason"], reject


@pytest.mark.parametrize("size", [100, 199, 200])
async def test_a_case_of_costs_that_fill_their_overlapping_pages_is_read_whole(tmp_path: Path, size: int) -> None:
    """The pages overlap by one cost (`$skip` 0, 99, 198): a list of exactly 100, or 199, ends on a page holding the
    overlap alone; the last cost, 150103, is found, and a definition it shares with the first cost matches both."""

    def sized(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        first = {**costs[0], "Id": 9000, "EntryDefinitionId": costs[2]["EntryDefinitionId"]}
        extra = [{**costs[0], "Id": 9000 + i, "EntryDefinitionId": 1000 + i} for i in range(1, size - 3)]
        return [first, *extra, *costs]

    rows = [[1501, "Buyer", 150103, "", "700.25", "the last"], [1501, "Buyer", "", 21, "800.50", "first and last"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(listed(sized)), target_options=COSTS)
    assert (report.loaded, report.rejected) == (1, 1), report
    (reject,) = read_csv(tmp_path / "rejects.csv")
    assert "entry definition 21 matches 2 costs" in reject["reason"], reject


async def test_a_case_whose_costs_pages_repeat_the_first_is_refused_not_guessed(tmp_path: Path) -> None:
    """A server that answers every `$skip` with the first page lists no more than its first 100 costs: which are
    the case's cannot be told, and its rows are rejected naming the case, never matched against a part."""
    rows = [[1501, "Buyer", 150101, "", "700.25", "page two"], [1501, "Buyer", "", 1003, "800.50", "page one"]]
    rows.append([1502, "Buyer", 150201, "", "900.75", "another case"])
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(listed(padded, paged=False)), target_options=COSTS)
    assert (report.exit_code, report.loaded, report.rejected) == (1, 1, 2), report
    for reject in read_csv(tmp_path / "rejects.csv"):
        assert "the Buyer costs of case 1501 cannot be read whole" in reject["reason"], reject
        assert "$skip=99 listed the costs $skip=0 did" in reject["reason"], reject


def padded_to(size: int) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """`size` costs: costs of definitions of their own before the sandbox's three (150101, definition 19, the
    `size - 2`th; 150103, definition 21, the last)."""
    return lambda costs: [{**costs[0], "Id": 9000 + i, "EntryDefinitionId": 1000 + i} for i in range(size - 3)] + costs


def counting(shaped: Rule, asked: list[str]) -> Rule:
    """`shaped`, noting each GET of case 1501's Buyer costs (`GET` and its `$skip`) and each PATCH in `asked`."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == costs_path(1501, "Buyer") or request.method == "PATCH":
            asked.append(f"{request.method} {request.query.get('$skip', '')}".strip())
        return await shaped(request, handler)

    return rule


#: the GETs of a read of 230 costs paged 50 at a time: the first page, the read after it (more: read on), the pages
#: from the last cost seen, the page of the last cost alone, the read after it (nothing), that page again
READ_230_BY_50 = [f"GET {skip}" for skip in (0, 50, 49, 98, 147, 196, 229, 230, 229)]


async def test_a_case_whose_server_pages_50_costs_whatever_top_asks_is_read_on_to_its_end(tmp_path: Path) -> None:
    """Before: a server answering at most 50 costs a page whatever `$top` asks (server-driven paging, nothing in the
    answer says so) had every read after its first page list more, was taken for a list that moved 3 times, and
    the case's rows were rejected "cannot be read whole", though nothing about it is ambiguous. The read after a
    page shorter than asked that lists more is read on from (`$skip` = the costs seen - 1, the pages overlapping by
    one): 230 costs, cost 150101 the 228th and 150103 (entry definition 21) the last, both rows loaded, no
    rejection. GETs: 9 a read (READ_230_BY_50), each row's read before its PATCH, and reconciliation's read back."""
    rows = [[1501, "Buyer", 150101, "", "700.25", "the 228th"], [1501, "Buyer", "", 21, "800.50", "the last"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    asked: list[str] = []
    report, _ = await loaded(
        tmp_path, data, core_app(counting(listed(padded_to(230), cap=50), asked)), target_options=COSTS
    )
    assert (report.exit_code, report.loaded, report.rejected) == (0, 2, 0), report
    assert asked == [*READ_230_BY_50, "PATCH"] * 2 + READ_230_BY_50, asked


async def test_a_case_whose_server_pages_fewer_costs_than_asked_is_read_whole_with_two_gets_more(
    tmp_path: Path,
) -> None:
    """A server answering at most 50 costs a page, of a case of the sandbox's three: the page of 3, the read after
    it at `$skip=3` (nothing), and the page at `$skip=2` listing the last cost alone prove the list whole: 3 GETs
    before each row's PATCH, and after them for reconciliation's read back."""
    rows = [[1501, "Buyer", 150101, "", "700.25", "one"], [1501, "Buyer", "", 21, "800.50", "two"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    asked: list[str] = []
    report, _ = await loaded(
        tmp_path, data, core_app(counting(listed(lambda c: c, cap=50), asked)), target_options=COSTS
    )
    assert (report.loaded, report.rejected) == (2, 0), report
    assert asked == ["GET 0", "GET 3", "GET 2", "PATCH"] * 2 + ["GET 0", "GET 3", "GET 2"], asked


async def test_a_case_whose_costs_move_after_a_short_page_is_read_again_never_guessed(tmp_path: Path) -> None:
    """Pages of 50 whatever `$top` asks, 230 costs; right after the page at `$skip=49` (read on after a short page)
    another writer deletes cost 9010, of the first page, so the costs after it move up a place: the page at
    `$skip=98` does not begin with the cost the one before it ended with, a list that moved, read again from its
    first page, whole then (229 costs). Both rows load. GETs before the first PATCH: 4 (0, 50, 49, 98) and 9; 9
    after the last, reconciliation's read back."""
    removed: list[int] = []
    shaped = listed(lambda costs: [c for c in padded_to(230)(costs) if c["Id"] not in removed], cap=50)

    async def deleting(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await shaped(request, handler)
        if request.path == costs_path(1501, "Buyer") and request.query.get("$skip") == "49" and not removed:
            removed.append(9010)
        return answer

    rows = [[1501, "Buyer", 150101, "", "700.25", "the 228th"], [1501, "Buyer", "", 21, "800.50", "the last"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    asked: list[str] = []
    report, _ = await loaded(tmp_path, data, core_app(counting(deleting, asked)), target_options=COSTS)
    assert (report.exit_code, report.loaded, report.rejected) == (0, 2, 0), report
    after = [f"GET {skip}" for skip in (0, 50, 49, 98, 147, 196, 228, 229, 228)]
    assert asked == ["GET 0", "GET 50", "GET 49", "GET 98", *after, "PATCH", *after, "PATCH", *after], asked


def moving(moves: int) -> Rule:
    """Case 1501's Buyer costs: 100 costs of other definitions (one of them, 9005, of 150101's definition 19) before
    the sandbox's three, paged as `listed` pages them; another writer deletes one of the first page's costs right after
    each read of that page, `moves` times, so that the costs after it move up one place between the pages."""
    removed: list[int] = []

    def change(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        extra = [{**costs[0], "Id": 9000 + i, "EntryDefinitionId": 19 if i == 5 else 1000 + i} for i in range(100)]
        return [c for c in [*extra, *costs] if c["Id"] not in removed]

    paged = listed(change)

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await paged(request, handler)
        first = request.path == costs_path(1501, "Buyer") and request.query.get("$skip", "0") == "0"
        if first and len(removed) < moves:
            removed.append(9010 + len(removed))
        return answer

    return rule


@pytest.mark.parametrize("moves", ["once", "always"])
async def test_a_case_whose_costs_move_while_their_pages_are_read_is_read_again_never_guessed(
    tmp_path: Path, moves: str
) -> None:
    """Before: a cost deleted from the first page while the second was asked moved cost 150101, the 101st, onto the
    first page: neither page listed it, so its row was "not found" and the row by its entry definition 19 matched
    cost 9005 alone and PATCHed it. The pages overlap by one cost, and a page that does not begin with the cost the
    one before it ended with is a list that moved: it is read again from the first page (`once`: read whole then),
    and where it moves at every read (`always`) the case's rows are rejected, its costs not read whole."""
    asked: list[str] = []
    shaped = moving({"once": 1, "always": 1000}[moves])

    async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "PATCH":
            asked.append(request.path)
        return await shaped(request, handler)

    rows = [[1501, "Buyer", 150101, "", "700.25", "by id"], [1501, "Buyer", "", 19, "800.50", "by definition"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(counted), target_options=COSTS)
    reasons = {int(r["line"]): r["reason"] for r in read_csv(tmp_path / "rejects.csv")}
    if moves == "once":
        assert (report.loaded, report.rejected) == (1, 1), report
        assert asked == ["/flow/api/Conditions/Properties/1501/Costs/150101/Buyer"], asked
        assert "a cost with entry definition 19 matches 2 costs" in reasons[3], reasons
        return
    assert (report.loaded, report.rejected, asked) == (0, 2, []), report
    for reason in reasons.values():
        assert "the Buyer costs of case 1501 cannot be read whole: $skip=99 did not begin" in reason, reason
        assert "the list moved while its pages were read, at each of 3 reads" in reason, reason


async def test_a_patch_answered_with_what_cannot_be_read_is_named_as_that_patch(tmp_path: Path) -> None:
    """Before: a cost PATCH answered 204 with no body stopped the run as "the create call: the answer is not what the
    API documents": a costs load creates nothing. The stop names the PATCH, its cost, case and fields."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        return web.Response(status=204) if request.method == "PATCH" else answer

    data = write(tmp_path / "c.csv", [[1501, "Buyer", 150101, "", "700.25", ""]], header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS)
    assert report.exit_code == 4, report
    said = report.stop_reason or ""
    assert "create" not in said, said
    assert "the PATCH of cost 150101 on case 1501 (Buyer), Amount: the answer is not what" in said, said


@pytest.mark.parametrize("server", ["patched", "not_patched", "unreadable_after"])
async def test_a_patch_answered_unreadably_is_loaded_only_as_the_cost_read_back_proves(
    tmp_path: Path, server: str
) -> None:
    """A PATCH answered 204 is counted by what the cost read back holds, never by the answer: the values sent
    (`patched`: loaded, the read after the PATCH its evidence), those it held before (`not_patched`: not carried out,
    not yet sent, for resume), or no telling (`unreadable_after`: the costs unreadable since: in doubt, resume reads
    the cost again). Asked after 6981911: "1 loaded, 0 in doubt" of a stopped run was taken for a count on no
    evidence."""
    asked: list[str] = []

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        asked.append(request.method)
        if request.method == "PATCH":
            if server != "not_patched":
                await handler(request)
            return web.Response(status=204)
        if server == "unreadable_after" and "PATCH" in asked and request.path == costs_path(1501, "Buyer"):
            return web.Response(text="<html>")
        return await handler(request)

    data = write(tmp_path / "c.csv", [[1501, "Buyer", 150101, "", "700.25", ""]], header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS, settle_s=0.2)
    assert report.exit_code == 4 and "the PATCH of cost 150101" in (report.stop_reason or ""), report
    figures = (report.loaded, report.in_doubt, report.rows_not_sent)
    assert figures == {"patched": (1, 0, 0), "not_patched": (0, 0, 1), "unreadable_after": (0, 1, 0)}[server], report
    assert asked[asked.index("PATCH") + 1 :].count("GET") >= 1, asked  # the cost read back, whatever it showed


async def test_a_case_whose_server_caps_a_later_page_by_bytes_is_never_read_short(tmp_path: Path) -> None:
    """A server paging by bytes (server-driven paging, nothing in the answer says so): the first page's 100 short
    costs fit, the second page at `$skip=99` holds only as many long costs as fit (32). That short later page
    was taken as the list's end: cost 150101 past it "not found", and entry definition 21, which cost 9005 (page one)
    and 150103 (past the short page) share, matched 9005 alone, which was PATCHed, exit 0 (tester t21c); then, its
    read after listing more, for a list that moved, 3 times, and both rows rejected "cannot be read whole". The list
    is read on, page after short page, each from the last cost seen: 150101 loaded, and definition 21 matches both.
    GETs before the PATCH: 8, $skip 0, 99 (the 100th and 32 long), 132 (more: read on), 131 (32 long), 162 (the last
    18 long and the 3), 182 (the last alone), 183 (nothing), 182."""

    def long_tail(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        short = [
            {**costs[0], "Id": 9000 + i, "Comment": "c", "EntryDefinitionId": 21 if i == 5 else 1000 + i}
            for i in range(100)
        ]
        long = [{**costs[0], "Id": 9100 + i, "Comment": "L" * 1000, "EntryDefinitionId": 2000 + i} for i in range(80)]
        return [*short, *long, *costs]

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.path != costs_path(1501, "Buyer") or not isinstance(answer, web.Response):
            if request.method == "PATCH":
                patched.append(request.path)
            return answer
        assert isinstance(answer.body, bytes)
        costs = long_tail(json.loads(answer.body))
        cap = len(json.dumps(costs[:100])) + 10  # the first page's 100 short costs fit, no more
        top = int(request.query.get("$top", DEFAULT_TOP))
        skip = int(request.query.get("$skip", 0))
        page = costs[skip : skip + top]
        while len(json.dumps(page)) > cap:
            page = page[:-1]
        return web.json_response(page)

    patched: list[str] = []
    rows = [[1501, "Buyer", 150101, "", "700.25", "past the short page"], [1501, "Buyer", "", 21, "800.50", "two"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    asked: list[str] = []
    report, _ = await loaded(tmp_path, data, core_app(counting(rule, asked)), target_options=COSTS)
    assert "/flow/api/Conditions/Properties/1501/Costs/9005/Buyer" not in patched, (patched, report)
    assert (report.loaded, report.rejected) == (1, 1), report
    (reject,) = read_csv(tmp_path / "rejects.csv")
    assert reject["line"] == "3" and "entry definition 21 matches 2 costs" in reject["reason"], reject
    assert asked[: asked.index("PATCH")] == [f"GET {skip}" for skip in (0, 99, 132, 131, 162, 182, 183, 182)], asked


async def test_a_costs_row_of_a_case_that_does_not_exist_is_rejected_not_the_run_stopped(tmp_path: Path) -> None:
    """A case that does not exist answers its costs GET 404 (the sandbox: "Case 999 does not exist"), as a create on
    it does, which rejects its rows (docs/visma-core.md). A costs row naming it stopped the whole run, exit 2, the
    rows after it not sent, "(is --base-url right?)", and every `bulkload resume` stopped on it again: the run can
    never finish (tester t21c). Its row is rejected naming the case; the other rows load."""
    rows = [[1501, "Buyer", 150101, "", "700.25", "before"], [999, "Buyer", 99901, "", "1.00", "no such case"]]
    rows.append([1502, "Buyer", 150201, "", "900.75", "after"])
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(), target_options=COSTS)
    assert (report.exit_code, report.loaded, report.rejected) == (1, 2, 1), report
    (reject,) = read_csv(tmp_path / "rejects.csv")
    assert reject["line"] == "3" and "999" in reject["reason"], reject


async def test_a_patch_answered_with_another_cost_is_no_clean_success(tmp_path: Path) -> None:
    """The PATCH of cost 150101 answered with cost 150102 (another `Id`, the values sent): the run said complete,
    reconciled, exit 0, and its success file named 150102 as the row's id, a cost the row never set (tester t21c).
    The answer's `Id` is what the PATCH's path sent: one that differs is an echo that differs (calls_differing,
    exit 3), never the row's id."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "PATCH" or not isinstance(answer, web.Response):
            return answer
        assert isinstance(answer.body, bytes)
        cost = json.loads(answer.body)
        return web.json_response({**cost, "Id": cost["Id"] + 1})

    data = write(tmp_path / "c.csv", [[1501, "Buyer", 150101, "", "700.25", ""]], header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS)
    ids = [r["id"] for r in read_csv(tmp_path / "success.csv")] if (tmp_path / "success.csv").exists() else []
    assert report.exit_code != 0 or ids == ["150101"], (report, ids)


async def test_a_first_page_longer_than_asked_is_not_taken_whole_where_skip_lists_more(tmp_path: Path) -> None:
    """A server that pages 200 costs whatever `$top` asks, and takes `$skip`: its first page of 200 was read as the
    whole list ("an endpoint that takes no $top"), never proven by one more read as a short first page is: entry
    definition 21, which cost 9005 (first page) and 150103 (the 220th, past 200) share, matched 9005 alone, which
    was PATCHed, exit 0 (tester t21c)."""

    def many(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        extra = [{**costs[0], "Id": 9000 + i, "EntryDefinitionId": 21 if i == 5 else 1000 + i} for i in range(217)]
        return [*extra, *costs]

    patched: list[str] = []

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method == "PATCH":
            patched.append(request.path)
        if request.path != costs_path(1501, "Buyer") or not isinstance(answer, web.Response):
            return answer
        assert isinstance(answer.body, bytes)
        skip = int(request.query.get("$skip", 0))
        return web.json_response(many(json.loads(answer.body))[skip : skip + 200])

    data = write(tmp_path / "c.csv", [[1501, "Buyer", "", 21, "800.50", "two have it"]], header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS)
    assert "/flow/api/Conditions/Properties/1501/Costs/9005/Buyer" not in patched, (patched, report)
    (reject,) = read_csv(tmp_path / "rejects.csv")
    assert "entry definition 21 matches 2 costs" in reject["reason"], reject  # read on past the first 200: whole


@pytest.mark.parametrize("first", ["missing", "only"])
async def test_a_costs_row_of_a_case_that_does_not_exist_first_is_told_by_another_case_that_answers(
    tmp_path: Path, first: str
) -> None:
    """A case that does not exist met before any case's costs answered (the file's first row, as a resume whose rows
    left begin with it meets it): a case of the file that answers proves the address, so the row is rejected naming
    the case, and the rest load (`missing`); a file of that case alone has none to tell it by, and its row is
    rejected as entries of one cost type without a definition are (`only`)."""
    rows = [[999, "Buyer", 99901, "", "1.00", "no such case"]]
    if first == "missing":
        rows += [[1501, "Buyer", 150101, "", "700.25", "after"], [1502, "Buyer", 150201, "", "900.75", "after"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(), target_options=COSTS)
    assert (report.exit_code, report.loaded, report.rejected) == (1, len(rows) - 1, 1), report
    (reject,) = read_csv(tmp_path / "rejects.csv")
    assert reject["line"] == "2" and reject["field"] == "caseId", reject
    said = "case 999 does not exist: GET /flow/api/Conditions/Cases/999/Costs/Buyer answered HTTP 404"
    assert said in reject["reason"], reject


async def test_costs_of_every_case_answering_404_is_a_wrong_address_that_stops_the_run(tmp_path: Path) -> None:
    """A wrong --base-url answers 404 to every case's costs: not rows to reject, one by one, as cases that do not
    exist, but a stop (exit 2), once the file's next cases (ADDRESS_PROBES at most, one GET each) answered 404 too
    and no case's costs answered; nothing is PATCHed."""
    asked: list[str] = []

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        asked.append(f"{request.method} {request.path}")
        if request.path.startswith("/flow/api/Conditions/"):
            return web.Response(status=404, text="Not Found")
        return await handler(request)

    rows = [[case, "Buyer", case * 100 + 1, "", "1.00", ""] for case in (1501, 1502, 1503, 1501, 1504)]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS)
    assert (report.exit_code, report.loaded, report.rejected) == (2, 0, 0), report
    said = report.stop_reason or ""
    assert "the costs of case 1501 (Buyer) answered HTTP 404" in said and "is --base-url right?" in said, said
    assert "1502 (Buyer), 1503 (Buyer), 1504 (Buyer)" in said, said
    # each row's case read once at most (side by side), and the file's other cases once
    assert not [a for a in asked if a.startswith("PATCH")] and len(asked) <= len(rows) + 3, asked


@pytest.mark.parametrize("by", ["costId", "entryDefinitionId"])
async def test_a_patch_answered_with_another_cost_names_the_call_and_gives_the_row_the_cost_it_set(
    tmp_path: Path, by: str
) -> None:
    """The answer of a PATCH is of the cost whose Id its path sends (Call.writes): answered with another `Id`, the
    call is named in calls_differing, `fields_differing` ["Id"] (exit 3), and the success file gives the row the
    cost it set, 150101, found by its id or by its entry definition alike, never the one answered."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "PATCH" or not isinstance(answer, web.Response):
            return answer
        assert isinstance(answer.body, bytes)
        return web.json_response({**json.loads(answer.body), "Id": 150102})

    row = [1501, "Buyer", 150101, "", "700.25", ""] if by == "costId" else [1501, "Buyer", "", 19, "700.25", ""]
    data = write(tmp_path / "c.csv", [row], header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS)
    assert (report.exit_code, report.loaded) == (3, 1), report
    (call,) = report.reconcile.calls_differing
    assert call["fields_differing"] == ["Id"], call
    assert [r["id"] for r in read_csv(tmp_path / "success.csv")] == ["150101"]


async def test_the_look_after_a_lost_patch_proves_a_short_later_page_as_the_read_before_it_does(tmp_path: Path) -> None:
    """The look after a PATCH answered 204 (its answer unreadable) reads the case's costs as the read for the PATCH
    does: 120 costs, pages at `$skip` 0 and 99, the read at 120 (nothing) and the page at 119 of the last cost
    alone that prove the short page the end, each time;
    cost 150101, the 118th, found holding the values sent: loaded."""
    asked: list[str] = []
    shaped = listed(padded)

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "PATCH":
            asked.append("PATCH")
            await handler(request)
            return web.Response(status=204)
        if request.path == costs_path(1501, "Buyer"):
            asked.append(f"GET {request.query.get('$skip', '')}")
        return await shaped(request, handler)

    data = write(tmp_path / "c.csv", [[1501, "Buyer", 150101, "", "700.25", ""]], header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(rule), target_options=COSTS, settle_s=0.2)
    assert (report.loaded, report.in_doubt) == (1, 0), report
    assert asked[:5] == ["GET 0", "GET 99", "GET 120", "GET 119", "PATCH"], asked
    assert asked[5:9] == ["GET 0", "GET 99", "GET 120", "GET 119"], asked
