"""Found by tester t22a: a PayorCRM upload answered 2xx with a text that is an HTTP reason phrase of failure (`Bad
Request`, `Service Unavailable`, `Bad Gateway`, `Unauthorized`; nginx's 502 page, served with 200 by a proxy that
rewrites its error pages) is read as success: the customers are counted loaded, exit 0 and reconciled, the server
holding none. `Conflict`, `Internal Server Error` and `409 Conflict` are read as failure (docs/payorcrm.md: "an
answer of text, JSON or plain, that is an outcome of failure (`"Upload failed: duplicate"`, `409 Conflict`, …)"
is never success); so are they at the level of a record (`"statusCode": "Bad Request"` says the record failed)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import sandbox_read, serving
from test_payorcrm_answers import Handler, crm_app, customers_file, load_both

from bulkload.targets.payorcrm_answers import read_answer

#: what reading an answer that is no success says: that it failed, or that it does not say stored (seed 004
#: documents no answer; only one that says stored reads as stored)
NO_SUCCESS = "says the upload failed|does not say the upload was stored"

NGINX_502 = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


@pytest.mark.parametrize(
    "text", ["Bad Request", "Service Unavailable", "Bad Gateway", "Unauthorized", "Gateway Timeout", NGINX_502]
)
def test_a_reason_phrase_of_failure_is_no_success(text: str) -> None:
    with pytest.raises(ValueError, match=NO_SUCCESS):
        read_answer(text.encode())


async def test_customers_answered_200_with_a_proxy_error_page_are_not_loaded(tmp_path: Path) -> None:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        return web.Response(status=200, text=NGINX_502, content_type="text/html")  # the upload never reached it

    with anyio.fail_after(30):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path))
            held = await sandbox_read(url, "customers")
    assert held == []
    assert report.exit_code != 0 and report.loaded == 0, (report.exit_code, report.loaded)


# ASP.NET Web API's own error bodies (HttpError), served with a 2xx, are read as success too, where `{"message":
# "Upload failed: duplicate customerno"}` is read as failure: docs/payorcrm.md, a `message` "in words of failure"
# says it failed.
@pytest.mark.parametrize(
    "body",
    [
        b'{"Message": "An error has occurred."}',
        b'{"Message": "Authorization has been denied for this request."}',
        b'{"message": "Service Unavailable"}',
    ],
)
def test_an_error_body_of_aspnet_is_no_success(body: bytes) -> None:
    with pytest.raises(ValueError, match=NO_SUCCESS):
        read_answer(body)
