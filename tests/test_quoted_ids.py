"""An id or whole number an answer writes as a JSON string of ASCII digits (`"entryNumber": "1001"`, `"Id": "145"`)
is read as that integer. Before, a server written from seed 002 that wrote its entry and journal numbers so had every
create answer refused as "not what the API documents": the rows in doubt, exit 4, and resume and rollback stopped the
same way, so nothing could ever be loaded into it; a Visma Core server (seed 003) writing `Id` so stopped every run
at its entry definitions' look-up, and had each created entry's rows in doubt (and a `CaseId` echoed so was told
as differing from the case sent). Anything else but digits is still
refused. Against the independent e-conomic server and the Visma Core sandbox behind a middleware."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import CREDS, economic_job, serving
from economic_independent_server import STORE, Opts, make_app
from test_load_visma_core import COST_HEADER, write
from test_reconcile_refused import entries
from test_visma_core_answers import Handler, core_app, loaded

from bulkload import load, reconcile, rollback
from bulkload.errors import BadAnswer
from bulkload.http import decoded
from bulkload.quoted_ids import as_int
from bulkload.targets.economic_entries import _Created, _Page


def test_digits_are_read_as_the_integer_they_write() -> None:
    page = decoded(b'{"items": [{"entryNumber": "1001", "journalNumber": "1", "voucherNumber": "07"}]}', _Page, "x")
    (item,) = page.items
    assert (item.entryNumber, item.journalNumber, item.voucherNumber) == (1001, 1, 7), item
    assert type(item.entryNumber) is int
    created = decoded(b'[{"entryNumber": "18446744073709551617"}]', list[_Created] | _Created, "x")
    assert created == [_Created(18446744073709551617)]  # read exactly (the ledger's own check refuses it after)
    # a string where the type takes one stays that string
    assert decoded(b'{"items": [{"entryNumber": 1, "text": "12"}]}', _Page, "x").items[0].text == "12"


@pytest.mark.parametrize("written", ['"1001.0"', '" 1001"', '"1001 "', '"1e3"', '""', '"-1"', '"+1"', '"١٢"', "true"])
def test_anything_but_digits_is_still_refused(written: str) -> None:
    with pytest.raises(BadAnswer) as caught:
        decoded(f'[{{"entryNumber": {written}}}]'.encode(), list[_Created] | _Created, "POST /draft-entries/bulk")
    assert "the answer is not what the API documents (Expected `int`" in str(caught.value), caught.value


@pytest.mark.parametrize("lost", [set(), {2}])
async def test_an_economic_server_writing_numbers_as_text_is_loaded_reconciled_and_rolled_back(
    tmp_path: Path, lost: set[int]
) -> None:
    """`lost`: creates answered 500 after they were stored, their keys not replayed: looked for before sent again."""
    data = tmp_path / "e.csv"
    entries(data, 6, ())  # 6 vouchers of 2 lines: 12 entries, 3 calls of 4
    app = make_app(Opts(ids_as_text=True, first=1001, fail_after_commit=lost, cache_errors=False))
    with anyio.fail_after(60):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=4)
            report = await load(job, env=CREDS, raise_on_stop=False)
            stored = sorted(app[STORE].entries)  # type: ignore[attr-defined]
            posts = app[STORE].posts  # type: ignore[attr-defined]
            proved = await reconcile(job.ledger_path, env=CREDS)
            undone = await rollback(job.ledger_path, env=CREDS)
    assert report.exit_code == 0 and report.loaded == 12 and report.in_doubt == 0, report.stop_reason
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    # the lost create's entries were found by the look, not made twice
    assert len(stored) == 12 and posts == 3 and proved.exit_code == 0, (posts, proved)
    assert undone.exit_code == 0 and undone.removed == 12, undone
    assert app[STORE].entries == {}  # type: ignore[attr-defined]


def _ids_as_text(body: bytes) -> bytes:
    return re.sub(rb'"(Id|CaseId|EntryDefinitionId)": ?(\d+)', rb'"\1": "\2"', body)


async def ids_written_as_text(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The sandbox's answer with every `Id`, `CaseId` and `EntryDefinitionId` written as a string of its digits."""
    answer = await handler(request)
    if not request.path.startswith("/flow/") or not isinstance(answer, web.Response) or answer.body is None:
        return answer
    body = _ids_as_text(answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode())
    return web.Response(status=answer.status, body=body, content_type="application/json")


async def test_a_visma_core_server_writing_its_ids_as_text_is_loaded(tmp_path: Path) -> None:
    data = write(
        tmp_path / "e.csv",
        [
            [1894, "OUTLAY", "10.00", "Takst", "", "2026-11-01", ""],
            [1895, "FEE", "2.50", "Gebyr", "", "2026-11-01", ""],
        ],
    )
    report, held = await loaded(tmp_path, data, core_app(ids_written_as_text))
    assert (report.loaded, report.in_doubt, report.exit_code) == (2, 0, 0), (report.stop_reason, report.reconcile)
    assert report.reconcile is not None and report.reconcile.ok and not report.reconcile.calls_differing
    assert sorted(e["Description"] for e in held) == ["Gebyr", "Takst"], held


async def test_a_visma_core_server_writing_its_cost_ids_as_text_has_its_costs_set(tmp_path: Path) -> None:
    """A costs load: each case's costs listed (`Id`, `EntryDefinitionId` as text), found by costId or entry
    definition, PATCHed and read back."""
    rows = [[1501, "Buyer", 150101, "", "700.25", "by id"], [1501, "Buyer", "", 21, "800.50", "by definition"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    report, _ = await loaded(tmp_path, data, core_app(ids_written_as_text), target_options={"kind": "costs"})
    assert (report.exit_code, report.loaded, report.rejected, report.in_doubt) == (0, 2, 0, 0), report.stop_reason
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile


def test_digits_past_what_python_converts_are_refused_as_any_text() -> None:
    """A string of more digits than int() converts (4300) is refused as "not what the API documents", where it was a
    ValueError's traceback out of the answer's reading (and out of a HaloPSA listing's ids)."""
    digits = "9" * 5000
    with pytest.raises(BadAnswer) as caught:
        decoded(f'[{{"entryNumber": "{digits}"}}]'.encode(), list[_Created] | _Created, "POST /draft-entries/bulk")
    assert "the answer is not what the API documents (Expected `int`" in str(caught.value), caught.value
    assert as_int(digits) == digits
