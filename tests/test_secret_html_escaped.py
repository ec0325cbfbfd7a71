"""Found by tester t23a: a token endpoint whose error page quotes the client secret HTML-escaped (`&amp;`, `&lt;`,
`&quot;`: an HTML 500 page, as a web server's error page writes it) put the secret in the summary, the log and the
report, while its URL-encoded and JSON-\\u-escaped forms were masked (`***`)."""

from __future__ import annotations

import html
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import serving

from bulkload.cli import main

SECRET = 'Pa55 w&rd<"halo">-7Q'


def token_error_app() -> web.Application:
    async def token(request: web.Request) -> web.Response:
        await request.read()
        page = f"<html><body><h1>500</h1><p>Error for client_secret={html.escape(SECRET)}</p></body></html>"
        return web.Response(status=500, text=page, content_type="text/html")

    app = web.Application()
    app.router.add_post("/auth/token", token)
    return app


async def test_an_html_escaped_secret_in_an_error_page_is_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name\nA\n", encoding="utf-8")
    async with serving(token_error_app()) as origin:
        monkeypatch.setenv("HALO_CLIENT_ID", "cid")
        monkeypatch.setenv("HALO_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("HALO_AUTH_URL", origin + "/auth")
        report, log = tmp_path / "r.json", tmp_path / "log.txt"
        code = await anyio.to_thread.run_sync(
            lambda: main(
                ["-v", "load", "halopsa", str(data), "--base-url", origin, "--no-progress", "--attempts", "1"]
                + ["--ledger", str(tmp_path / "run.sqlite"), "--report", str(report), "--log-file", str(log)]
            )
        )
    out = capsys.readouterr()
    texts = {"stdout": out.out, "stderr": out.err, "report": report.read_text(), "log": log.read_text()}
    assert code != 0
    escaped = html.escape(SECRET)
    assert "Error for client_secret" in texts["stdout"] + texts["stderr"]  # the page was quoted
    leaked = [name for name, text in texts.items() if escaped in text]
    assert leaked == [], f"the secret, HTML-escaped ({escaped}), is in: {leaked}"
