"""Found by tester t22a: a credential an API echoes in JSON with its `+` and `=` escaped as `\\u002B` and `\\u003D`
(System.Text.Json's default encoder, ASP.NET Core's, escapes them so) is not masked: a Visma Core bearer token
`tok+SECRET/abc==` quoted so in a 400's body is written in clear to the rejects file, the report, the ledger, the
log and stderr (in a 401's message too). bulkload/redact.py: every registered value is shown as *** "as written, …
JSON- or repr-escaped (a message quoting a dict or a body)"; DESIGN: secrets never in logs/reports/ledger/rejects."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import serving
from test_load_visma_core import write

from bulkload import Job, load, redact

TOKEN = "tok+SECRET/abc=="
#: as System.Text.Json writes it by default
ESCAPED = "tok\\u002BSECRET/abc\\u003D\\u003D"


@pytest.mark.parametrize("echoed", [ESCAPED, "tok\\u002BSECRET/abc==", "tok\\u002bSECRET\\/abc=="])
def test_a_credential_json_escaped_as_dotnet_writes_it_is_masked(echoed: str) -> None:
    redact.register(TOKEN)
    assert "SECRET" not in redact.redact('{"Message": "Bearer ' + echoed + ' is expired"}')


async def test_a_refusal_quoting_the_token_json_escaped_leaves_it_nowhere(tmp_path: Path) -> None:
    async def definition(request: web.Request) -> web.Response:
        return web.json_response({"Id": 17, "Name": "Fee", "IsDraft": False, "MergeOrderLinesToOneEntry": False})

    async def create(request: web.Request) -> web.Response:
        body = '{"Message":"The request is invalid.","Header":"Bearer ' + ESCAPED + '"}'
        return web.Response(status=400, text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/flow/api/Integrations/Bookkeeping/AccountingCostTypes/{t}", definition)
    app.router.add_post("/flow/api/Integrations/Bookkeeping/Cases/{case}/Entries", create)
    data = write(tmp_path / "e.csv", [[1001, "FEE", "100.10", "Fee", "", "2026-11-01", ""]])
    with anyio.fail_after(30):
        async with serving(app) as url:
            job = Job(
                target="visma-core",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=str(tmp_path / "rejects.csv"),
                report=str(tmp_path / "report.json"),
            )
            report = await load(job, env={"VISMA_CORE_TOKEN": TOKEN}, raise_on_stop=False)
    assert report.rejected == 1
    leaked = [p.name for p in tmp_path.iterdir() if p.is_file() and b"SECRET" in p.read_bytes()]
    assert leaked == [], leaked
