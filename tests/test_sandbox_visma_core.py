"""The Visma Core sandbox through a real aiohttp client on loopback: bearer auth, definition lookup,
draft vs entry routing, exact amounts, no idempotency, costs (GET, PATCH), commit-then-drop, fixtures,
and the data generator's rows for it."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestClient
from conftest import AppClient

from bulkload.sandbox import TARGETS, SandboxOptions, add_arguments, options_from_args, running
from bulkload.sandbox import generate_data as gen
from bulkload.sandbox.common import SANDBOX_KEY, SlidingRate
from bulkload.sandbox.visma_core import DEFAULT_DEFINITIONS, create_app
from bulkload.sandbox.visma_core_costs import case_costs

AUTH = {"Authorization": "Bearer test-token"}
BK = "/flow/api/Integrations/Bookkeeping"
ROOT = Path(__file__).resolve().parent.parent
Client = TestClient[Any, Any]
TIMEOUT = aiohttp.ClientTimeout(total=10)  # a hung sandbox fails the test instead of stalling the run
MakeClient = Callable[..., Awaitable[Client]]
#: Decimals go out as JSON numbers with every digit, as a loader keeping amounts exact would send them
encode = msgspec.json.Encoder(decimal_format="number").encode
JSON = {**AUTH, "Content-Type": "application/json"}


@pytest.fixture
def make_client(app_client: AppClient) -> MakeClient:
    async def make(options: SandboxOptions | None = None, **kwargs: Any) -> Client:
        return await app_client(create_app(options, **kwargs))

    return make


async def exact(resp: aiohttp.ClientResponse) -> Any:
    """The body with every JSON number that has a fraction read as an exact Decimal."""
    return json.loads(await resp.text(), parse_float=Decimal)


async def created(client: Client) -> list[dict[str, Any]]:
    resp = await client.get("/_sandbox/entries")
    assert resp.status == 200
    rows: list[dict[str, Any]] = await exact(resp)
    return rows


def draft(amount: Any = 1544.95, **changes: Any) -> dict[str, Any]:
    return {"EntryDefinitionId": 17, "Amount": amount, "Description": "Vederlag", "Note": "Oppdrag 1-26", **changes}


def entry(amount: Any = 1544.95, **changes: Any) -> dict[str, Any]:
    return {**draft(amount, EntryDefinitionId=18), "EntryDate": "2026-11-30T00:00:00+01:00", **changes}


async def test_bearer_token_required_on_every_call(make_client: MakeClient) -> None:
    client = await make_client()
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcg=="}):
        resp = await client.get(f"{BK}/AccountingCostTypes/FEE", headers=headers)
        assert resp.status == 401
        assert resp.content_type == "application/problem+json"
    assert (await client.post(f"{BK}/Cases/1894/EntryDrafts", json=draft())).status == 401
    assert (await client.get("/flow/api/Conditions/Cases/1894/Costs/Buyer")).status == 401
    assert await created(client) == []
    assert (await client.get(f"{BK}/AccountingCostTypes/FEE", headers=AUTH)).status == 200

    strict = await make_client(token="right")
    assert (await strict.get(f"{BK}/AccountingCostTypes/FEE", headers=AUTH)).status == 401
    assert (await strict.get(f"{BK}/AccountingCostTypes/FEE", headers={"Authorization": "Bearer right"})).status == 200


async def test_definition_lookup_and_404(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get(f"{BK}/AccountingCostTypes/OUTLAY", headers=AUTH)
    assert await resp.json() == {
        "Id": 19,
        "Name": "Utlegg (tinglysing, attester)",
        "IsDraft": False,
        "MergeOrderLinesToOneEntry": True,
    }
    combos = {(d.IsDraft, d.MergeOrderLinesToOneEntry) for d in DEFAULT_DEFINITIONS.values()}
    assert len(combos) == 4
    resp = await client.get(f"{BK}/AccountingCostTypes/NOPE", headers=AUTH)
    assert resp.status == 404
    assert await resp.json() == {"Message": "No entry definition for accounting cost type NOPE for this user"}


async def test_draft_and_entry_answers_have_the_seed_shape(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.post(f"{BK}/Cases/1894/EntryDrafts", json=draft(), headers=AUTH)
    assert resp.status == 200
    body = await exact(resp)
    assert list(body) == ["Id", "CaseId", "EntryDefinitionId", "VAT", "CreatedById", "RegisteredDate",
                          "CreditAccountId", "DebitAccountId", "Amount", "Description", "Source",
                          "EncounterId"]  # fmt: skip
    assert (body["Id"], body["CaseId"], body["EntryDefinitionId"]) == (1, 1894, 17)
    assert body["Amount"] == Decimal("1544.95") and body["Source"] == "IntegrationsBookkeepingApi"
    resp = await client.post(f"{BK}/Cases/1894/Entries", json=entry(), headers=AUTH)
    assert resp.status == 200
    body = await exact(resp)
    assert list(body) == ["Id", "CaseId", "EntryNumber", "VAT", "CreditAccountId", "CreditAccountNumber",
                          "DebitAccountId", "DebitAccountNumber", "DebitLedgerNumber", "EntryDate", "RegisteredDate",
                          "Description", "CreatedById", "Amount", "EntrySource"]  # fmt: skip
    assert (body["Id"], body["EntryNumber"]) == (2, 1)  # ids shared by drafts and entries
    assert body["EntryDate"] == "2026-11-30T00:00:00+01:00"
    resp = await client.post(f"{BK}/Cases/1894/Entries", json=entry(EntryDate="2026-12-01"), headers=AUTH)
    assert (await resp.json())["EntryDate"] == "2026-12-01T00:00:00"


async def test_draft_and_entry_routing_rules(make_client: MakeClient) -> None:
    client = await make_client()
    refused = [
        (f"{BK}/Cases/1894/Entries", entry(EntryDefinitionId=17), "IsDraft true"),  # a draft definition
        (f"{BK}/Cases/1894/EntryDrafts", draft(EntryDefinitionId=18), "IsDraft false"),  # a booked one
        (f"{BK}/Cases/1894/Entries", {k: v for k, v in entry().items() if k != "EntryDate"}, "EntryDate"),
        (f"{BK}/Cases/1894/Entries", entry(EntryDate="30.11.2026"), "EntryDate"),
        (f"{BK}/Cases/1894/EntryDrafts", {k: v for k, v in draft().items() if k != "Amount"}, "Amount"),
        (f"{BK}/Cases/1894/EntryDrafts", draft(amount="1544.95"), "Amount"),
        (f"{BK}/Cases/1894/EntryDrafts", draft(amount=True), "Amount"),
        (f"{BK}/Cases/1894/EntryDrafts", draft(EntryDefinitionId=99), "No entry definition"),
        (f"{BK}/Cases/1894/EntryDrafts", [draft()], "invalid"),
    ]
    for path, body, words in refused:
        resp = await client.post(path, json=body, headers=AUTH)
        assert resp.status == 400, (path, body)
        assert words in (await resp.json())["Message"]
    resp = await client.post(f"{BK}/Cases/999/EntryDrafts", json=draft(), headers=AUTH)
    assert resp.status == 404
    assert await resp.json() == {"Message": "Case 999 does not exist"}
    assert await created(client) == []
    resp = await client.post(f"{BK}/Cases/1894/EntryDrafts", json=draft(Unknown="x"), headers=AUTH)
    assert resp.status == 200  # unknown fields are ignored


async def test_amounts_are_kept_exactly_and_the_same_body_twice_makes_two(make_client: MakeClient) -> None:
    client = await make_client()
    amounts = ["0.10", "0.20", "1544.95", "99999999999.99", "-12.5", "7"]
    for text in amounts:
        body = encode({"EntryDefinitionId": 18, "Amount": Decimal(text), "EntryDate": "2026-11-30"})
        resp = await client.post(f"{BK}/Cases/2001/Entries", data=body, headers=JSON)
        assert resp.status == 200
        assert str((await exact(resp))["Amount"]) == text  # echoed as a JSON number, every digit kept
    rows = await created(client)
    assert sum(r["Amount"] for r in rows) == sum(Decimal(t) for t in amounts)
    assert [r["Id"] for r in rows] == [1, 2, 3, 4, 5, 6]

    for _ in range(2):
        assert (await client.post(f"{BK}/Cases/2002/EntryDrafts", json=draft(), headers=AUTH)).status == 200
    twice = [r for r in await created(client) if r["CaseId"] == 2002]
    assert len(twice) == 2 and twice[0] == {**twice[1], "Id": twice[0]["Id"]}
    assert twice[0] == {"Kind": "draft", "Id": 7, "CaseId": 2002, "EntryDefinitionId": 17,
                        "Amount": Decimal("1544.95"), "Description": "Vederlag", "Note": "Oppdrag 1-26",
                        "EntryDate": None}  # fmt: skip
    stats = await (await client.get("/_sandbox/stats")).json()
    assert (stats["drafts"], stats["entries"], stats["patches"]) == (2, 6, 0)


async def test_costs_are_deterministic_arrays_per_type(make_client: MakeClient) -> None:
    client, other = await make_client(), await make_client()
    buyer = await exact(await client.get("/flow/api/Conditions/Cases/1894/Costs/Buyer", headers=AUTH))
    seller = await exact(await client.get("/flow/api/Conditions/Cases/1894/Costs/Seller", headers=AUTH))
    assert [c["Id"] for c in buyer] == [189401, 189402, 189403]
    assert [c["Id"] for c in seller] == [189404, 189405, 189406]
    assert await exact(await other.get("/flow/api/Conditions/Cases/1894/Costs/Seller", headers=AUTH)) == seller
    assert list(buyer[0]) == [
        "DisplayWarning", "Editable", "IsAccounted", "Optional", "Selected", "EntryDraftId", "Id", "Amount",
        "Comment", "Deleted", "EntryDefinitionId", "IsEditable", "IsHidden", "IsStandard", "IsOptional",
        "StandardCostStatusType", "StatusType", "AccountingType", "StandardCostPostStatusType",
        "SettlementStatementGroup", "VAT",
    ]  # fmt: skip
    for costs in (buyer, seller):
        assert [c["Editable"] for c in costs].count(False) == 1
        assert {c["EntryDefinitionId"] for c in costs} <= {d.Id for d in DEFAULT_DEFINITIONS.values()}
    assert buyer[0]["Amount"] == 585 and buyer[0]["Comment"] == "Tinglysing skjøte"
    assert (await client.get("/flow/api/Conditions/Cases/1894/Costs/Broker", headers=AUTH)).status == 400
    assert (await client.get("/flow/api/Conditions/Cases/12/Costs/Buyer", headers=AUTH)).status == 404


async def test_patch_updates_persists_and_refuses_locked_or_unknown_costs(make_client: MakeClient) -> None:
    client = await make_client()
    case = 1895  # 1895 % 3 == 2: the third cost of each type is already accounted
    path = f"/flow/api/Conditions/Properties/{case}/Costs/189501/Buyer"
    body = {"IsOptional": True, "Amount": 650.5, "Comment": "Tinglysing, nytt gebyr", "Id": 5, "Deleted": True}
    for _ in range(2):  # setting the same values again is harmless
        resp = await client.patch(path, json=body, headers=AUTH)
        assert resp.status == 200
        cost = await exact(resp)
        assert (cost["Id"], cost["IsOptional"], cost["Amount"], cost["Comment"], cost["Deleted"]) == (
            189501, True, Decimal("650.5"), "Tinglysing, nytt gebyr", False,
        )  # fmt: skip
    buyer = await exact(await client.get(f"/flow/api/Conditions/Cases/{case}/Costs/Buyer", headers=AUTH))
    assert buyer[0] == cost
    assert buyer[1]["Amount"] == 585  # the others are as they were

    resp = await client.patch(f"/flow/api/Conditions/Properties/{case}/Costs/189503/Buyer", json=body, headers=AUTH)
    assert resp.status == 400
    assert await resp.json() == {"Message": "Cost 189503 is not editable"}
    resp = await client.patch(f"/flow/api/Conditions/Properties/{case}/Costs/189504/Buyer", json=body, headers=AUTH)
    assert resp.status == 404  # a seller cost is not among the buyer costs
    resp = await client.patch(f"/flow/api/Conditions/Properties/{case}/Costs/189509/Seller", json=body, headers=AUTH)
    assert resp.status == 404
    resp = await client.patch(path, json={"Amount": "lots"}, headers=AUTH)
    assert resp.status == 400
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["patches"] == 2


async def test_commit_then_drop_stores_the_entry_but_the_client_gets_nothing(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(drop_rate=1.0))
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await client.post(f"{BK}/Cases/1894/Entries", json=entry(), headers=AUTH)
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await client.patch(
            "/flow/api/Conditions/Properties/1894/Costs/189401/Buyer", json={"Comment": "x"}, headers=AUTH
        )
    rows = await created(client)
    assert [(r["Kind"], r["Amount"]) for r in rows] == [("entry", Decimal("1544.95"))]
    costs = await exact(await client.get("/flow/api/Conditions/Cases/1894/Costs/Buyer", headers=AUTH))
    assert costs[0]["Comment"] == "x"
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["faults"]["drop"] == 2 and stats["entries"] == 1 and stats["patches"] == 1


async def test_shared_limits_and_faults_apply(make_client: MakeClient) -> None:
    limited = await make_client(SandboxOptions(rate_limit=2))
    sandbox = limited.app[SANDBOX_KEY]
    assert sandbox.rate is not None
    sandbox.rate = SlidingRate(2, clock=lambda: 1000.0)  # the three arrive at one instant, on a machine of any speed
    statuses = [(await limited.get(f"{BK}/AccountingCostTypes/FEE", headers=AUTH)).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    failing = await make_client(SandboxOptions(fault_rate=1.0, seed=1))
    resp = await failing.post(f"{BK}/Cases/1894/EntryDrafts", json=draft(), headers=AUTH)
    assert resp.status in (500, 503)
    assert await created(failing) == []  # a 5xx fault happens before anything is done


async def test_fixture_replaces_definitions_and_restricts_cases(make_client: MakeClient, tmp_path: Path) -> None:
    fixture = {
        "definitions": {"HONORAR": {"Id": 7, "Name": "Honorar", "IsDraft": False, "MergeOrderLinesToOneEntry": False}},
        "cases": [42, 43],
    }
    client = await make_client(fixture=fixture)
    assert (await client.get(f"{BK}/AccountingCostTypes/FEE", headers=AUTH)).status == 404
    assert (await (await client.get(f"{BK}/AccountingCostTypes/HONORAR", headers=AUTH)).json())["Id"] == 7
    assert (await client.post(f"{BK}/Cases/1894/Entries", json=entry(EntryDefinitionId=7), headers=AUTH)).status == 404
    assert (await client.post(f"{BK}/Cases/42/Entries", json=entry(EntryDefinitionId=7), headers=AUTH)).status == 200
    costs = await (await client.get("/flow/api/Conditions/Cases/43/Costs/Seller", headers=AUTH)).json()
    assert {c["EntryDefinitionId"] for c in costs} == {7}

    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = options_from_args(parser.parse_args(["--fixture", str(path)]))
    assert options.fixture == str(path)
    async with running("visma-core", options) as base_url, aiohttp.ClientSession(timeout=TIMEOUT) as session:
        assert base_url.count("/") == 2  # no prefix: paths start with /flow/api
        async with session.get(f"{base_url}{BK}/AccountingCostTypes/HONORAR", headers=AUTH) as resp:
            assert resp.status == 200
    with pytest.raises(ValueError, match="fixture"):
        create_app(fixture={"cases": "all"})
    assert "visma-core" in TARGETS


# -- the data generator ------------------------------------------------------------------------------


def test_entry_rows_group_orders_and_spoil_where_asked() -> None:
    rows = list(gen.visma_core_rows(600, seed=3, bad_every=50))
    assert len(rows) == 600
    orders: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.get("orderId"):
            orders.setdefault(row["orderId"], []).append(i)
    assert len(orders) > 20 and all(2 <= len(lines) <= 4 for lines in orders.values())
    assert all(lines == list(range(lines[0], lines[0] + len(lines))) for lines in orders.values())
    for lines in orders.values():  # an order's good lines share the case and the (merging) cost type
        good_lines = [rows[i] for i in lines if (i + 1) % 50]
        assert len({(r["caseId"], r["accountingCostType"]) for r in good_lines}) <= 1
        assert all(DEFAULT_DEFINITIONS[r["accountingCostType"]].MergeOrderLinesToOneEntry for r in good_lines)
        # each line its own description: an order giving a cost type and description twice is refused as a copy
        # with edits (the sample's order O-2026-000034 did: Tillegg, Megler, Megler, Tillegg, 4 rows more rejected)
        assert len({rows[i]["description"] for i in lines}) == len(lines), [rows[i] for i in lines]
    bad = [rows[i] for i in range(49, 600, 50)]
    assert any("amount" not in r for r in bad) and any(r["accountingCostType"] == "NOPE" for r in bad)
    assert any(r["accountingCostType"] == "FEE" and "entryDate" not in r for r in bad)
    assert any(r["caseId"] == 999 for r in bad)
    good = [r for i, r in enumerate(rows) if (i + 1) % 50]
    assert all(r["accountingCostType"] in DEFAULT_DEFINITIONS and r["caseId"] >= 1000 for r in good)
    assert all(len(r["amount"].split(".")[1]) == 2 for r in good)
    assert all("entryDate" in r for r in good if not DEFAULT_DEFINITIONS[r["accountingCostType"]].IsDraft)


def test_cost_rows_aim_at_the_sandbox_costs() -> None:
    ids = sorted(d.Id for d in DEFAULT_DEFINITIONS.values())
    rows = list(gen.visma_core_cost_rows(200, seed=5, bad_every=40))
    assert len(rows) == 200
    for i, row in enumerate(rows):
        costs = {c.Id: c for c in case_costs(int(row["caseId"]), ids)[row["type"]]}
        cost = costs.get(int(row["costId"]))
        if (i + 1) % 40:
            assert cost is not None and cost.Editable, row
        else:
            assert cost is None or not cost.Editable, row
    assert len({(r["caseId"], r["type"], r["costId"]) for r in rows}) == 200


async def test_samples_load_except_their_bad_rows(make_client: MakeClient) -> None:
    """The shipped samples, sent naively row by row: only the rows the README calls bad are refused."""
    client = await make_client()
    refused = []
    with (ROOT / "bulkload" / "samples" / "visma_core" / "entries.csv").open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            definition = DEFAULT_DEFINITIONS.get(row["accountingCostType"])
            if definition is None or not row["amount"]:
                refused.append(line)
                continue
            kind = "EntryDrafts" if definition.IsDraft else "Entries"
            body = {"EntryDefinitionId": definition.Id, "Amount": Decimal(row["amount"]), "EntryDate": row["entryDate"]}
            resp = await client.post(f"{BK}/Cases/{row['caseId']}/{kind}", data=encode(body), headers=JSON)
            if resp.status != 200:
                refused.append(line)
    assert refused == [61, 121, 181, 241, 301]
    refused = []
    with (ROOT / "bulkload" / "samples" / "visma_core" / "costs.csv").open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            body = {k: v for k, v in row.items() if k in ("Comment",) and v}
            if row["IsOptional"]:
                body["IsOptional"] = row["IsOptional"] == "true"
            if row["Amount"]:
                body["Amount"] = Decimal(row["Amount"])
            path = f"/flow/api/Conditions/Properties/{row['caseId']}/Costs/{row['costId']}/{row['type']}"
            if (await client.patch(path, data=encode(body), headers=JSON)).status != 200:
                refused.append(line)
    assert refused == [51, 101, 151, 201]
