"""A listing page that lists one record twice (and so leaves another out: a server paging a join, or pages that
shift under another writer) is not whole. Before, the first page's entries were counted, not its records: 5
entries for a `record_count` of 5 read as whole, so --match-on took the record listed twice for two ("match more
than one XeroDetails record", its row rejected) and created the record left out again, a double in the books
(tester t65a)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from hostile import environment, served
from test_halopsa_answers import ENV, Handler, Rule, halo_app, is_listing, load_matching, tenants, write


def listing_one_twice(posts: list[str]) -> Rule:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path.startswith("/api/"):
            posts.append(request.path)
        answer = await handler(request)
        if not is_listing(request) or not isinstance(answer, web.Response) or answer.status != 200:
            return answer
        body = json.loads(answer.body)  # type: ignore[arg-type]
        records = body["xerodetails"]
        if len(records) > 1:
            records[-1] = records[0]  # the first listed twice, the last left out
        return web.json_response(body)

    return rule


def test_match_on_is_refused_where_a_page_lists_a_record_twice(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    posts: list[str] = []
    data = write(tmp_path / "XeroDetails.csv", tenants(5, "v2"))
    app = halo_app(tmp_path, tenants(5, "v1"), listing_one_twice(posts), page_size=1000)
    with served(app) as url, environment(ENV):
        code = load_matching(tmp_path, data, url)
    said = capfd.readouterr()
    assert code == 2, said
    assert "--match-on name: XeroDetails cannot be listed whole" in said.out + said.err, said
    assert posts == [], posts
