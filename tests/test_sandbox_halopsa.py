"""The HaloPSA sandbox through a real aiohttp client on loopback: client-credentials tokens and their
expiry, array POSTs that create and update atomically, list filters and paging, secrets that never come
back, the rolling window with HaloPSA's own 429, commit-then-drop, faults, and the generator and samples."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from conftest import AppClient

from bulkload.sandbox import TARGETS, SandboxOptions, running
from bulkload.sandbox import generate_data as gen
from bulkload.sandbox.common import SANDBOX_KEY, SlidingWindow, add_arguments, options_from_args
from bulkload.sandbox.halopsa import MAX_ITEMS, create_app, window_message
from bulkload.targets.halopsa_schema import PLURAL, RESOURCES

ROOT = Path(__file__).resolve().parent.parent
Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
CREDS = {"grant_type": "client_credentials", "client_id": "halo-client", "client_secret": "halo-secret", "scope": "all"}
CANARY = "sk_test_CANARY_0123456789"
NO_WINDOW = SandboxOptions(window_limit=0)


@pytest.fixture
def make_client(app_client: AppClient) -> MakeClient:
    async def make(options: SandboxOptions = NO_WINDOW, **kwargs: Any) -> Client:
        return await app_client(create_app(options, **kwargs))

    return make


async def token(client: Client, **changes: str) -> aiohttp.ClientResponse:
    return await client.post("/auth/token", data={**CREDS, **changes})


async def bearer(client: Client) -> dict[str, str]:
    resp = await token(client)
    assert resp.status == 200
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


async def post(client: Client, auth: dict[str, str], resource: str, items: Any) -> aiohttp.ClientResponse:
    return await client.post(f"/api/{resource}", json=items, headers=auth)


async def get(client: Client, auth: dict[str, str], path: str) -> Any:
    resp = await client.get(path, headers=auth)
    assert resp.status == 200, await resp.text()
    return await resp.json()


def xero(name: str = "Acme MSP – Xero UK", **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "tenant_id": "7c65c1e5-82e2-4662-b728-b4fa42485e3a",
        "authorized": True,
        "client_id": "40212EF7CCA5A5A19E4D6E3C1846D424",
        "client_top_level": 12,
        "sync_entities_list": [{"id": 1, "name": "Clients"}],
        "token_expiry": "2026-11-30T10:00:00Z",
        **changes,
    }


# -- tokens ------------------------------------------------------------------------------------------


async def test_tokens_are_issued_refused_and_expire_in_scaled_time(make_client: MakeClient) -> None:
    client = await make_client(
        SandboxOptions(window_limit=0, time_factor=100),
        client_id="halo-client",
        client_secret="halo-secret",
        token_ttl_s=60,
    )
    resp = await client.post("/auth/token?tenant=acme", data=CREDS)
    assert resp.status == 200
    body = await resp.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 1, "all")  # 60 s / 100, at least 1
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/api/XeroDetails", headers=auth)).status == 200

    for changes, status, error in (
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"client_secret": ""}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
    ):
        resp = await token(client, **changes)
        assert resp.status == status, changes
        assert (await resp.json())["error"] == error

    await asyncio.sleep(0.7)  # past 60 s / 100
    resp = await client.get("/api/XeroDetails", headers=auth)
    assert resp.status == 401
    assert (await resp.json())["error"] == "invalid_token"
    fresh = await bearer(client)
    assert fresh != auth and (await client.get("/api/XeroDetails", headers=fresh)).status == 200
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["tokens_issued"] == 2


async def test_any_pair_by_default_and_the_api_needs_a_valid_bearer(make_client: MakeClient) -> None:
    client = await make_client()
    assert (await token(client, client_id="anyone", client_secret="anything")).status == 200
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic aGFsbzpzZWNyZXQ="}):
        resp = await client.get("/api/XeroDetails", headers=headers)
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await post(client, headers, "XeroDetails", [xero()])).status == 401
    assert (await client.get("/_sandbox/stats")).status == 200  # the sandbox's own routes are open


# -- writes ------------------------------------------------------------------------------------------


async def test_one_array_creates_and_updates_in_request_order(make_client: MakeClient) -> None:
    client = await make_client()
    auth = await bearer(client)
    resp = await post(client, auth, "XeroDetails", [xero("A"), xero("B", _warning="ignored", colour="teal")])
    assert resp.status == 201
    saved = await resp.json()
    assert [(r["id"], r["name"]) for r in saved] == [(1, "A"), (2, "B")]
    assert saved[1]["_warning"] is None and "colour" not in saved[1]  # read-only and unknown fields ignored
    assert saved[0]["sync_entities_list"] == [{"id": 1, "name": "Clients"}]

    resp = await post(client, auth, "XeroDetails", [xero("C"), {"id": 1, "name": "A2", "authorized": False}])
    assert resp.status == 201
    assert [(r["id"], r["name"]) for r in await resp.json()] == [(3, "C"), (1, "A2")]
    one = await get(client, auth, "/api/XeroDetails/1")
    assert (one["name"], one["authorized"], one["client_top_level"]) == ("A2", False, 12)  # the rest is kept
    # ids count per resource
    assert [r["id"] for r in await (await post(client, auth, "AvalaraDetails", [{"name": "Tax"}])).json()] == [1]
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["records"]["XeroDetails"] == 3 and stats["records"]["AvalaraDetails"] == 1


async def test_a_bad_item_refuses_the_whole_array_naming_index_and_field(make_client: MakeClient) -> None:
    client = await make_client()
    auth = await bearer(client)
    assert (await post(client, auth, "XeroDetails", [xero()])).status == 201
    items = [
        xero("fine"),
        xero(client_top_level="12"),
        xero(authorized="yes", sync_entities_list="Clients"),
        xero(token_expiry="30.11.2026"),
        "not an object",
        {"id": 99, "name": "no such record"},
        {"id": 1, "name": None},  # null is fine
        xero(client_top_level=1.5, isdefault=1),
    ]
    resp = await post(client, auth, "XeroDetails", items)
    assert resp.status == 400
    body = await resp.json()
    assert body["message"] == "XeroDetails: 6 of 8 items refused, nothing was saved"
    assert body["errors"] == [
        {"index": 1, "field": "client_top_level", "message": "must be an integer"},
        {"index": 2, "field": "authorized", "message": "must be true or false"},
        {"index": 2, "field": "sync_entities_list", "message": "must be an array"},
        {"index": 3, "field": "token_expiry", "message": "must be an ISO 8601 date-time string"},
        {"index": 4, "field": "", "message": "must be an object"},
        {"index": 5, "field": "id", "message": "no XeroDetails with id 99"},
        {"index": 7, "field": "client_top_level", "message": "must be an integer"},
        {"index": 7, "field": "isdefault", "message": "must be true or false"},
    ]
    records = await get(client, auth, "/_sandbox/records/XeroDetails")
    assert [(r["id"], r["name"]) for r in records] == [(1, "Acme MSP – Xero UK")]  # atomic: nothing saved

    bc = [{"company": ["not", "an object"], "group_increment": True}]
    resp = await post(client, auth, "BusinessCentralDetails", bc)
    assert [(e["field"], e["message"]) for e in (await resp.json())["errors"]] == [
        ("company", "must be an object"),
        ("group_increment", "must be an integer"),
    ]
    raw = {**auth, "Content-Type": "application/json"}
    for body_bytes in (b"[]", b'{"name": "an object"}', b"[1,", b"nonsense"):
        resp = await client.post("/api/XeroDetails", data=body_bytes, headers=raw)
        assert resp.status == 400
        assert (await resp.json())["errors"] == []
    resp = await post(client, auth, "XeroDetails", [{"name": "x"}] * (MAX_ITEMS + 1))
    assert resp.status == 413

    opaque = await make_client(SandboxOptions(window_limit=0, opaque_errors=True))
    resp = await post(opaque, await bearer(opaque), "XeroDetails", items)
    assert resp.status == 400 and (await resp.json())["errors"] == []


# -- reads -------------------------------------------------------------------------------------------


async def test_list_filters_and_paging(make_client: MakeClient) -> None:
    client = await make_client()
    auth = await bearer(client)
    tenants = ["t-1", "t-2"]
    items = [xero(f"X{n}", tenant_id=tenants[n % 2], authorized=n % 3 != 0) for n in range(1, 8)]
    assert (await post(client, auth, "XeroDetails", items)).status == 201
    everything = await get(client, auth, "/api/XeroDetails")
    assert [r["id"] for r in everything] == [1, 2, 3, 4, 5, 6, 7]
    connected = await get(client, auth, "/api/XeroDetails?connectedonly=true")
    assert [r["id"] for r in connected] == [1, 2, 4, 5, 7]
    assert [r["id"] for r in await get(client, auth, "/api/XeroDetails?connectedonly=true&tenantid=t-1")] == [2, 4]
    assert len(await get(client, auth, "/api/XeroDetails?connectedonly=false")) == 7

    page = await get(client, auth, "/api/XeroDetails?pageinate=true&page_no=2&page_size=3")
    assert page["record_count"] == 7 and [r["id"] for r in page[PLURAL["XeroDetails"]]] == [4, 5, 6]
    page = await get(client, auth, "/api/XeroDetails?pageinate=true&page_no=3&page_size=3&connectedonly=true")
    assert page == {"record_count": 5, "xerodetails": []}
    page = await get(client, auth, "/api/XeroDetails?pageinate=true")  # page 1 of 50 by default
    assert page["record_count"] == 7 and len(page["xerodetails"]) == 7
    for query in ("pageinate=true&page_no=0", "pageinate=true&page_size=x", "connectedonly=perhaps"):
        resp = await client.get(f"/api/XeroDetails?{query}", headers=auth)
        assert resp.status == 400, query

    await post(client, auth, "QuickBooksDetails", [{"company_id": "123"}, {"company_id": "456", "authorized": True}])
    assert [r["id"] for r in await get(client, auth, "/api/QuickBooksDetails?companyid=456")] == [2]
    await post(client, auth, "ExactDetails", [{"division": 10}, {"division": 20, "isauthorized": True}])
    assert [r["id"] for r in await get(client, auth, "/api/ExactDetails?division=20&connectedonly=true")] == [2]
    await post(client, auth, "KashflowDetails", [{"enabled": True}, {"enabled": False}, {"name": "unset"}])
    for query, ids in (
        ("", [1, 3]),  # enabled unless told otherwise; no `enabled` at all counts as enabled
        ("?includedisabled=true", [1, 2, 3]),
        ("?includedisabled=true&includeenabled=false", [2]),
    ):
        assert [r["id"] for r in await get(client, auth, f"/api/KashflowDetails{query}")] == ids
    assert len(await get(client, auth, "/api/KashflowDetails?tenantid=4")) == 2  # no field to compare
    assert (await client.get("/api/KashflowDetails?tenantid=four", headers=auth)).status == 400


async def test_get_delete_and_resource_spellings(make_client: MakeClient) -> None:
    client = await make_client()
    auth = await bearer(client)
    await post(client, auth, "MYOBdetails", [{"company_name": "Acme Pty Ltd", "isdesktop": False}])
    await post(client, auth, "MYOBDetails", [{"company_name": "Acme NZ Ltd"}])
    one = await get(client, auth, "/api/myobdetails/1?includedetails=true")
    assert one == {
        "id": 1,
        "company_name": "Acme Pty Ltd",
        "isdesktop": False,
        "halointegrator_lastsync": None,
        "halointegrator_lasterror": None,
        "_warning": None,
    }
    page = await get(client, auth, "/api/MYOBDetails?pageinate=true")
    assert page["record_count"] == 2 and "myobdetails" in page
    assert (await client.delete("/api/MYOBdetails/1", headers=auth)).status == 204
    for path in ("/api/MYOBdetails/1", "/api/MYOBdetails/abc", "/api/Invoices", "/api/Invoices/1"):
        assert (await client.get(path, headers=auth)).status == 404, path
    assert (await client.delete("/api/MYOBdetails/1", headers=auth)).status == 404
    assert [r["id"] for r in await get(client, auth, "/api/MYOBdetails")] == [2]
    resp = await post(client, auth, "MYOBdetails", [{"id": 1, "company_name": "gone"}])
    assert resp.status == 400  # a deleted record cannot be updated


async def test_secrets_are_stored_but_never_returned(make_client: MakeClient) -> None:
    client = await make_client()
    auth = await bearer(client)
    seen: list[str] = []
    for resource, fields in RESOURCES.items():
        secret_names = [f.name for f in fields if f.secret]
        item = {"name": f"{resource} canary", **{name: f"{CANARY}_{name}" for name in secret_names}}
        resp = await post(client, auth, resource, [item])
        assert resp.status == 201
        seen.append(await resp.text())
        for path in (
            f"/api/{resource}",
            f"/api/{resource}?pageinate=true",
            f"/api/{resource}/1",
            f"/_sandbox/records/{resource}",
            "/_sandbox/stats",
        ):
            resp = await client.get(path, headers=auth)
            assert resp.status == 200
            seen.append(await resp.text())
        stored = await get(client, auth, f"/_sandbox/secrets/{resource}/1")
        assert stored == {"id": 1, **{name: f"{CANARY}_{name}" for name in secret_names}}
    updated = await post(client, auth, "XeroDetails", [{"id": 1, "new_refresh_token": "sk_test_rotated"}])
    seen.append(await updated.text())
    seen.append(await (await client.delete("/api/XeroDetails/1", headers=auth)).text())
    assert all(CANARY not in text and "sk_test_rotated" not in text for text in seen)
    assert all("new_client_secret" not in text for text in seen)
    assert (await client.get("/_sandbox/secrets/XeroDetails/1")).status == 404  # deleted with its record


# -- limits and faults -------------------------------------------------------------------------------


async def test_the_default_window_is_halopsas_and_its_429_is_word_for_word(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions())  # window_limit None: HaloPSA's own 300 per 5 minutes
    sandbox = client.app[SANDBOX_KEY] if client.app is not None else None
    assert sandbox is not None and sandbox.window is not None
    assert (sandbox.window.limit, sandbox.window.window_s) == (300, 300)
    auth = await bearer(client)  # the token call is the first of the 300

    async def call() -> int:
        async with client.get("/api/AvalaraDetails", headers=auth) as resp:
            return resp.status

    statuses = []
    for _ in range(6):
        statuses += await asyncio.gather(*(call() for _ in range(50)))
    assert statuses.count(200) == 299 and statuses.count(429) == 1
    resp = await client.get("/api/AvalaraDetails", headers=auth)
    assert resp.status == 429
    assert await resp.text() == "Rate Limit Reached - 300 Requests per rolling 5 minute window"
    assert 295 <= int(resp.headers["Retry-After"]) <= 300
    assert (await token(client)).status == 429  # the token endpoint is on the same host and window
    assert (await (await client.get("/_sandbox/stats")).json())["faults"]["window"] == 3

    assert create_app(SandboxOptions(window_limit=0))[SANDBOX_KEY].window is None
    assert window_message(SandboxOptions(window_limit=100, window_s=90)) == (
        "Rate Limit Reached - 100 Requests per rolling 90 second window"
    )


async def test_the_window_rolls_in_scaled_time_and_counts_token_calls(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(window_limit=4, window_s=60, time_factor=60))  # 1 s
    window = client.app[SANDBOX_KEY].window if client.app is not None else None
    assert window is not None and window.window_s == 1.0
    now = [1000.0]  # the window's clock moves only when the test says so: a busy machine changes nothing
    client.app[SANDBOX_KEY].window = SlidingWindow(window.limit, window.window_s, clock=lambda: now[0])
    auth = await bearer(client)
    assert (await token(client)).status == 200
    statuses = [(await client.get("/api/XeroDetails", headers=auth)).status for _ in range(3)]
    assert statuses == [200, 200, 429]  # two token calls and two reads fill the window of 4
    resp = await client.get("/api/XeroDetails", headers=auth)
    # the window the sandbox keeps, not the one it was scaled from (before: "per rolling 1 minute window")
    assert await resp.text() == "Rate Limit Reached - 4 Requests per rolling 1 second window"
    assert resp.headers["Retry-After"] == "1"
    now[0] += 1.0
    assert (await client.get("/api/XeroDetails", headers=auth)).status == 200


async def test_a_delayed_commit_lists_nothing_until_it_lands_though_the_client_gave_up(
    make_client: MakeClient,
) -> None:
    client = await make_client(SandboxOptions(window_limit=0, commit_delay_ms=(300, 300)))
    auth = await bearer(client)  # token calls are not writes: never delayed

    async def pending() -> int:
        count: int = (await (await client.get("/_sandbox/stats")).json())["pending_commits"]
        return count

    with pytest.raises(asyncio.TimeoutError):  # the client gives up long before the commit
        await client.post(
            "/api/XeroDetails", json=[xero("Late")], headers=auth, timeout=aiohttp.ClientTimeout(total=0.05)
        )
    assert await get(client, auth, "/api/XeroDetails") == [] and await pending() == 1
    for _ in range(100):  # the commit lands without anyone waiting for it
        if not await pending():
            break
        await asyncio.sleep(0.02)
    assert [r["name"] for r in await get(client, auth, "/api/XeroDetails")] == ["Late"]
    resp = await post(client, auth, "XeroDetails", [xero("Waited for")])  # a client that waits hears of it
    assert resp.status == 201 and [r["id"] for r in await resp.json()] == [2]
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["faults"]["delayed_commit"] == 2 and stats["pending_commits"] == 0


def test_commit_delays_are_drawn_from_the_seed_and_the_flag_takes_a_range() -> None:
    def delays(seed: int) -> list[float]:
        sandbox = create_app(SandboxOptions(commit_delay_ms=(100, 900), seed=seed))[SANDBOX_KEY]
        return [sandbox.commit_delay_s() for _ in range(5)]

    assert delays(3) == delays(3) != delays(4) and all(0.1 <= d <= 0.9 for d in delays(3))
    assert create_app(SandboxOptions(seed=3))[SANDBOX_KEY].commit_delay_s() == 0.0
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert options_from_args(parser.parse_args(["--commit-delay-ms", "200,900"])).commit_delay_ms == (200, 900)
    assert options_from_args(parser.parse_args(["--commit-delay-ms", "500"])).commit_delay_ms == (500, 500)
    for bad in ("900,200", "a,b", "1,2,3"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--commit-delay-ms", bad])


async def test_commit_then_drop_saves_the_post_but_answers_nothing(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(window_limit=0, drop_rate=1.0))
    auth = await bearer(client)  # token calls store nothing and are never dropped
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await post(client, auth, "FortnoxDetails", [{"name": "Acme AB – Fortnox SE"}])
    records = await get(client, auth, "/_sandbox/records/FortnoxDetails")
    assert [r["name"] for r in records] == ["Acme AB – Fortnox SE"]
    assert (await client.get("/api/FortnoxDetails/1", headers=auth)).status == 200  # reads are not dropped
    assert (await (await client.get("/_sandbox/stats")).json())["faults"]["drop"] == 1


async def test_injected_faults_happen_before_anything_and_replay_with_a_seed(make_client: MakeClient) -> None:
    async def statuses(options: SandboxOptions) -> list[int]:
        client = await make_client(options)
        return [(await client.get("/api/XeroDetails")).status for _ in range(20)]

    always = await statuses(SandboxOptions(window_limit=0, fault_rate=1.0))
    assert set(always) <= {500, 503}
    half = SandboxOptions(window_limit=0, fault_rate=0.5, seed=7)
    first = await statuses(half)
    assert first == await statuses(half)
    assert set(first) <= {401, 500, 503} and 401 in first and len(set(first)) > 1  # the rest reach auth
    client = await make_client(SandboxOptions(window_limit=0, fault_rate=1.0))
    resp = await token(client)
    assert resp.status in (500, 503) and (await resp.json())["status"] == resp.status


async def test_fixture_flags_and_registration(tmp_path: Path) -> None:
    fixture = tmp_path / "halo.json"
    fixture.write_text(json.dumps({"XeroDetails": [xero("Seeded")], "MYOBDetails": [{"company_name": "M"}]}))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    ns = parser.parse_args(["--fixture", str(fixture), "--window-limit", "0", "--time-factor", "10"])
    options = options_from_args(ns)
    assert (options.window_limit, options.window_s, options.time_factor) == (0, 300, 10)
    assert options_from_args(parser.parse_args([])).window_limit is None
    assert "halopsa" in TARGETS
    async with (
        running("halopsa", options) as base_url,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
    ):
        assert base_url.count("/") == 2
        async with session.post(f"{base_url}/auth/token", data=CREDS) as resp:
            auth = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
        async with session.get(f"{base_url}/api/XeroDetails", headers=auth) as resp:
            assert [r["name"] for r in await resp.json()] == ["Seeded"]
        async with session.get(f"{base_url}/api/MYOBdetails/1", headers=auth) as resp:
            assert (await resp.json())["company_name"] == "M"
    fixture.write_text(json.dumps({"XeroDetails": [{"client_top_level": "twelve"}]}))
    with pytest.raises(ValueError, match="fixture XeroDetails"):
        create_app(SandboxOptions(fixture=str(fixture)))


# -- the data generator and the samples ---------------------------------------------------------------


@pytest.mark.parametrize("resource", list(RESOURCES))
async def test_generated_rows_load_except_the_bad_ones(make_client: MakeClient, resource: str) -> None:
    rows = gen.halopsa_rows(60, seed=3, bad_every=13, resource=resource.upper())
    assert not isinstance(rows, list)  # streamed
    client = await make_client()
    auth = await bearer(client)
    refused, updates = [], 0
    for n, row in enumerate(rows, start=1):
        assert set(row) <= set(gen.halopsa_columns(resource))
        assert all(row[f.name].startswith("sk_test_") for f in RESOURCES[resource] if f.secret and f.name in row)
        if (await post(client, auth, resource, [row])).status != 201:
            refused.append(n)
        elif "id" in row:
            updates += 1
    assert refused == [13, 26, 39, 52]
    assert updates >= 5  # every 5th row once 20 records exist
    assert len(await get(client, auth, f"/_sandbox/records/{resource}")) == 60 - 4 - updates


def test_generator_writes_csv_with_json_cells_and_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "bc.csv"
    args = ["--kind", "halopsa", "--resource", "BusinessCentralDetails", "--rows", "30", "--bad-every", "10"]
    assert gen.main([*args, str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(gen.halopsa_columns("BusinessCentralDetails"))
    assert "_warning" not in rows[0] and "_importtype" not in rows[0]
    assert json.loads(rows[0]["environment"])["name"] == "Production"
    assert rows[0]["authorized"] in ("true", "false") and rows[0]["id"] == ""
    assert rows[9]["client_top_level"] == "twelve"
    with pytest.raises(json.JSONDecodeError):
        json.loads(rows[19]["environment"])  # the resource's first nested field
    assert rows[29]["id"] == "999999"
    jsonl = tmp_path / "k.jsonl"
    assert (
        gen.main(
            [
                "--kind",
                "halopsa",
                "--resource",
                "KashflowDetails",
                "--rows",
                "8",
                "--bad-every",
                "8",
                "--format",
                "jsonl",
                str(jsonl),
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 8 and "id" not in lines[0] and lines[7]["client_top_level"] == "twelve"


def _typed(resource: str, row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as a naive client would send it: typed where the text allows, left as text where not."""
    kinds = {f.name: f.kind for f in RESOURCES[resource]}
    item: dict[str, Any] = {}
    for name, text in row.items():
        if text == "":
            continue
        kind = kinds[name]
        if kind == "int" and text.lstrip("-").isdigit():
            item[name] = int(text)
        elif kind == "bool" and text in ("true", "false"):
            item[name] = text == "true"
        elif kind in ("array", "object"):
            try:
                item[name] = json.loads(text)
            except json.JSONDecodeError:
                item[name] = text
        else:
            item[name] = text
    return item


#: sample file → the lines (CSV: counting the header as 1; JSONL: from 1) its README calls bad
SAMPLES = {
    "XeroDetails.csv": [16, 31, 46],
    "QuickBooksDetails.jsonl": [12, 24, 36],
    "AvalaraDetails.csv": [11, 21, 31],
    "KashflowDetails.csv": [9, 17, 25],
}


@pytest.mark.parametrize("name", list(SAMPLES))
async def test_samples_load_except_their_bad_rows(make_client: MakeClient, name: str) -> None:
    """The shipped samples, sent naively one item per POST: only the rows the README calls bad fail."""
    client = await make_client()
    auth = await bearer(client)
    resource = name.split(".")[0]
    path = ROOT / "bulkload" / "samples" / "halopsa" / name
    with path.open(encoding="utf-8", newline="") as f:
        if name.endswith(".csv"):
            items = [(line, _typed(resource, row)) for line, row in enumerate(csv.DictReader(f), start=2)]
        else:
            items = [(line, json.loads(text)) for line, text in enumerate(f, start=1)]
    refused = [line for line, item in items if (await post(client, auth, resource, [item])).status != 201]
    assert refused == SAMPLES[name]
    updates = sum(1 for line, item in items if "id" in item and line not in refused)
    assert len(await get(client, auth, f"/_sandbox/records/{resource}")) == len(items) - len(refused) - updates


def test_a_window_that_counts_refused_requests_stays_full_while_they_come() -> None:
    # --window-counts-refused: a 429 takes a place as a request taken does, so a client that keeps meeting them
    # keeps the window full; without it, the refused ones leave no trace
    now = [0.0]
    kept, counting = SlidingWindow(2, 1.0, clock=lambda: now[0]), SlidingWindow(2, 1.0, lambda: now[0], True)
    at_one_s = []
    for window in (kept, counting):
        now[0] = 0.0
        assert [window.try_acquire() for _ in range(2)] == [0.0, 0.0]
        now[0] = 0.6
        assert window.try_acquire() == pytest.approx(0.4)  # refused: the first place frees at 1.0
        now[0] = 1.0
        at_one_s.append([window.try_acquire(), window.try_acquire()])
    # the places taken at 0.0 are free; where refusals count, the one at 0.6 holds one of them until 1.6
    assert at_one_s == [[0.0, 0.0], [0.0, pytest.approx(0.6)]]
    now[0] = 1.7  # the refusal at 1.0 holds a place until 2.0, as the request taken then does
    assert counting.try_acquire() == pytest.approx(0.3)
    now[0] = 2.0
    assert counting.try_acquire() == 0.0
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert options_from_args(parser.parse_args(["--window-counts-refused"])).window_counts_refused
    assert not options_from_args(parser.parse_args([])).window_counts_refused
