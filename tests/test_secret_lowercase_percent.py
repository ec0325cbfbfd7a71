"""Found by tester t22a: a credential the API echoes percent-encoded with lower-case hex digits (`%2b`, `%2f`, `%3d`,
as .NET's HttpUtility.UrlEncode writes them; RFC 3986 §2.1: upper- and lower-case hex digits in a percent-encoding
are equivalent) is not masked: a PayorCRM api_secret `sec+SECRET/zz9==` quoted so in a 400 lands in clear in the
rejects file, the report, the ledger and the log. bulkload/redact.py: every registered value is shown as *** "as
written, URL-encoded (a form body, a query) …"; DESIGN: secrets never in logs/reports/ledger/rejects."""

from __future__ import annotations

from pathlib import Path

import anyio
from aiohttp import web
from conftest import serving
from test_load_payorcrm import write
from test_payorcrm_answers import Handler, crm_app

from bulkload import Job, load, redact

SECRET = "sec+SECRET/zz9=="
ECHOED = "sec%2bSECRET%2fzz9%3d%3d"


def test_a_credential_percent_encoded_in_lower_case_hex_is_masked() -> None:
    redact.register(SECRET)
    try:
        assert ECHOED not in redact.redact(f"api_secret={ECHOED} was not accepted")
    finally:
        redact.forget()


async def test_a_refusal_quoting_the_secret_in_lower_case_hex_leaves_it_nowhere(tmp_path: Path) -> None:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = {"error": "invalid credentials", "detail": f"api_key=the-key&api_secret={ECHOED} was not accepted"}
        return web.json_response(body, status=400)

    data = write(tmp_path / "c.csv", ["customerno", "emailaddress1"], [["C1", "c1@example.com"]])
    with anyio.fail_after(30):
        async with serving(crm_app(rule)) as url:
            job = Job(
                target="payorcrm",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=str(tmp_path / "rejects.csv"),
                report=str(tmp_path / "report.json"),
                target_options={"kind": "customers"},
            )
            await load(job, env={"PAYORCRM_API_KEY": "the-key", "PAYORCRM_API_SECRET": SECRET}, raise_on_stop=False)
    leaked = [p.name for p in tmp_path.iterdir() if p.is_file() and ECHOED.encode() in p.read_bytes()]
    assert leaked == [], leaked
