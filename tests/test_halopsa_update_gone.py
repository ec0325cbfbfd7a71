"""A HaloPSA call answered 404 for an update naming a record that is not there (deleted since, or never listed
whole), by a server that saved the records before it in the array: its rows are refused, the others in doubt or
looked for, never taken for a wrong address and left unsent, which each `bulkload resume` sent again, creating the
saved records once more (tester t72d). The server is written from seeds 000/001 and their README (an independent one,
not bulkload's sandbox): it saves an array record by record, and its listing's record_count is above the records it
lists, so no listing is whole and the update is sent."""

from __future__ import annotations

import csv
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hostile import environment, served

from bulkload.cli import main

pytestmark = pytest.mark.slow

RESOURCE = "XeroDetails"


def halo_app() -> tuple[web.Application, dict[int, dict[str, Any]]]:
    held: dict[int, dict[str, Any]] = {}
    tokens: set[str] = set()

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_secret") != "SECRET-t72d":
            return web.json_response({"error": "invalid_client"}, status=401)
        tokens.add(t := secrets.token_hex(8))
        return web.json_response({"access_token": t, "token_type": "Bearer", "expires_in": 3600})

    def authed(request: web.Request) -> bool:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in tokens

    async def listing(request: web.Request) -> web.Response:
        if not authed(request):
            return web.json_response({"message": "unauthorized"}, status=401)
        size, page = int(request.query.get("page_size", "50")), int(request.query.get("page_no", "1"))
        records = [held[i] for i in sorted(held)][(page - 1) * size : page * size]
        # counts two records more than it lists: the listing is never whole
        return web.json_response({"record_count": len(held) + 2, RESOURCE.lower(): records})

    async def post(request: web.Request) -> web.Response:
        if not authed(request):
            return web.json_response({"message": "unauthorized"}, status=401)
        saved = []
        for item in await request.json():
            if "id" in item:
                if item["id"] not in held:  # record by record: those before it stay saved
                    return web.json_response({"message": f"no {RESOURCE} {item['id']}"}, status=404)
                held[item["id"]].update(item)
                saved.append(held[item["id"]])
            else:
                record_id = 100 + len(held)
                held[record_id] = saved_one = {**item, "id": record_id}
                saved.append(saved_one)
        return web.json_response(saved, status=201)

    async def one(request: web.Request) -> web.Response:
        if not authed(request):
            return web.json_response({"message": "unauthorized"}, status=401)
        record = held.get(int(request.match_info["id"]))
        return web.json_response(record) if record else web.json_response({"message": "not found"}, status=404)

    app = web.Application()
    app.router.add_post("/auth/token", token)
    app.router.add_get(f"/api/{RESOURCE}", listing)
    app.router.add_post(f"/api/{RESOURCE}", post)
    app.router.add_get(f"/api/{RESOURCE}/{{id:\\d+}}", one)
    return app, held


def test_an_update_answered_404_after_the_creates_before_it_were_saved_never_creates_them_twice(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / f"{RESOURCE}.csv"
    with open(data, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name"])
        w.writerows([["", "Alpha"], ["", "Beta"], ["7", "Gone"], ["", "Delta"]])
    ledger = tmp_path / "l.sqlite"
    app, held = halo_app()
    with served(app) as origin:
        env = {"HALO_CLIENT_ID": "cid", "HALO_CLIENT_SECRET": "SECRET-t72d", "HALO_AUTH_URL": origin + "/auth"}
        args = ["--base-url", origin, "--ledger", str(ledger), "--no-progress"]
        with environment(env):
            load = main(["load", "halopsa", str(data), "--report", str(tmp_path / "r.json"), *args])
            report = json.loads((tmp_path / "r.json").read_text())
            out = capfd.readouterr()
            after_load = len(held)
            resumed = main(["resume", "--ledger", str(ledger), "--no-progress"])
    said = out.out + out.err
    assert after_load == 2  # Alpha and Beta, saved before the 404
    assert len(held) == 2, "a resume created the saved records again"
    assert "is --base-url right?" not in said
    # 3, not 2 (a wrong address): the rows are in doubt, and the server's record_count is above what the run loaded
    assert (load, resumed) == (3, 3)
    assert report["in_doubt"] == 4  # a refusal naming no record: the call's rows in doubt, never sent again
