"""A HaloPSA listing page that holds no records, answered with its list left out or `null` (`{"record_count": 0}`,
`{"record_count": 0, "xerodetails": null}`: a .NET serializer that ignores nulls, or one that writes an empty list
as null) where its `record_count` leaves that page nothing. Found by tester t74b's server: a load into an instance
holding no XeroDetails yet stopped before its first create, "the answer is not what the API documents (an object
without the list of records under 'xerodetails' …); continue with `bulkload resume`", exit 4, and every resume met
the same answer: a load the user could not finish. The real sandbox behind a middleware that shapes its empty
pages so."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import serving
from test_halopsa_answers import ENV, Handler, Rule, halo_app, held, is_listing, job, tenants, write

from bulkload import load, reconcile, rollback


def empty_pages_as(shape: str) -> Rule:
    """A listing page without records answered with its list left out (`absent`) or as `null` (`null`)."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = await handler(request)
        if not is_listing(request) or not isinstance(answer, web.Response) or answer.status != 200:
            return answer
        page = json.loads(answer.body)  # type: ignore[arg-type]
        if isinstance(page, dict) and page.get("xerodetails") == []:
            if shape == "absent":
                del page["xerodetails"]
            else:
                page["xerodetails"] = None
        return web.json_response(page)

    return rule


@pytest.mark.parametrize("shape", ["absent", "null"])
async def test_a_listing_of_nothing_without_its_list_loads_reconciles_and_rolls_back(
    tmp_path: Path, shape: str
) -> None:
    data = write(tmp_path / "XeroDetails.csv", tenants(5, "v1"))
    app = halo_app(tmp_path, [], empty_pages_as(shape), page_size=2)
    with anyio.fail_after(60):
        async with serving(app) as url:
            loaded = await load(job(tmp_path, data, url), env=ENV, raise_on_stop=False)
            made = len(await held(url))
            again = await reconcile(str(tmp_path / "run.sqlite"), env=ENV)
            undone = await rollback(str(tmp_path / "run.sqlite"), env=ENV)
            left = await held(url)
    assert (loaded.status, loaded.loaded, loaded.exit_code) == ("complete", 5, 0), loaded.stop_reason
    assert made == 5 and loaded.reconcile.ok and again.reconcile.ok, (made, again.reconcile)
    assert (undone.removed, undone.exit_code, left) == (5, 0, []), undone
