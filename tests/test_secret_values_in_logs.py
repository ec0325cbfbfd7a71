"""A HaloPSA refusal (or a 5xx) that quotes the records' secret values in plain text, outside any key naming a secret,
was written in clear to the --log-file (and stderr under -vv) on its call's DEBUG attempt line, where the rejects
file, the in-doubt file and the ledger hid it (pipeline.hidden). Found by tester t69b against a server written from
seed 001 whose 400 said `refused: sk_… / sk_…` and whose 500 said `Crash while saving: sk_…|sk_…`. DESIGN: secrets
never in logs. bulkload/logs.py (`hiding`): the lines logged while a call is sent show its records' secret values as
***, however an answer quotes them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import anyio
import msgspec
import pytest
from aiohttp import web
from conftest import serving
from test_halopsa_answers import Handler, halo_app

from bulkload.cli import main

SECRETS = [f"sk_test_quoted{i:02d}abcdef0123456789" for i in range(4)]


def _refusing(status: int) -> object:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != "/api/XeroDetails":
            return await handler(request)
        items = msgspec.json.decode(await request.read())
        quoted = " / ".join(f"{item['new_client_secret']}|{item['code']}" for item in items)
        return web.Response(status=status, text=f"refused: {quoted}")

    return rule


@pytest.mark.parametrize("status", [400, 500])
async def test_an_answer_quoting_the_records_secrets_leaves_them_out_of_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    monkeypatch.setenv("HALO_CLIENT_ID", "log-client")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "log-client-secret")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "XeroDetails.csv"
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(["name", "tenant_id", "new_client_secret", "code"])
    w.writerows([[f"Tenant {i}", f"t-{i}", SECRETS[2 * i], SECRETS[2 * i + 1]] for i in range(2)])
    data.write_text(text.getvalue(), encoding="utf-8")
    logged = tmp_path / "run.log"
    with anyio.fail_after(60):
        async with serving(halo_app(tmp_path, [], _refusing(status))) as url:  # type: ignore[arg-type]
            args = ["-vv", "load", "halopsa", str(data), "--base-url", url, "--attempts", "2", "--settle-s", "0"]
            args += ["--no-progress", "--log-file", str(logged), "--ledger", str(tmp_path / "run.sqlite")]
            code = await anyio.to_thread.run_sync(lambda: main(args))
    assert code != 0
    said = logged.read_text()
    assert "refused: ***|***" in said, said  # the answer was logged
    err = capsys.readouterr().err
    for path in [logged, *tmp_path.glob("XeroDetails.csv.*"), tmp_path / "run.sqlite"]:
        held = path.read_bytes()
        assert not [s for s in SECRETS if s.encode() in held], path
    assert not [s for s in SECRETS if s in err], err
