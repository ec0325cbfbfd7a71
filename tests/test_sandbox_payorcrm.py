"""The PayorCRM sandbox through a real aiohttp client on loopback: api_key/api_secret auth, customer
upserts, atomic invoice uploads with indexed (or opaque) errors, no idempotency for invoices, the 413
past 1,000 items, commit-then-drop, and the data generator's customers and invoices for it."""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from conftest import AppClient

from bulkload.sandbox import TARGETS, SandboxOptions, running
from bulkload.sandbox import generate_data as gen
from bulkload.sandbox.payorcrm import MAX_ITEMS, create_app

AUTH = {"api_key": "key-1", "api_secret": "secret-1"}
ROOT = Path(__file__).resolve().parent.parent
Client = TestClient[Any, Any]
TIMEOUT = aiohttp.ClientTimeout(total=10)  # a hung sandbox fails the test instead of stalling the run
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
def make_client(app_client: AppClient) -> MakeClient:
    async def make(options: SandboxOptions | None = None, **kwargs: Any) -> Client:
        return await app_client(create_app(options, **kwargs))

    return make


def customer(no: str = "231231201", **changes: Any) -> dict[str, Any]:
    return {
        "companyname": "Payorcrm LLC",
        "firstname": "John",
        "lastname": "Doe",
        "phoneno": "+11122334455",
        "emailaddress1": "john.doe@payorcrm.com",
        "customerno": no,
        "cocode": "XY22",
        **changes,
    }


def invoice(
    number: str = "21321", customer_no: str = "231231201", amount: Any = 12112, **changes: Any
) -> dict[str, Any]:
    return {"customerNumber": customer_no, "invoiceNumber": number, "invoiceAmount": amount, **changes}


async def upload(client: Client, kind: str, items: Any, headers: dict[str, str] = AUTH) -> aiohttp.ClientResponse:
    return await client.post(f"/jsonApi/upload/{kind}", json=items, headers=headers)


async def stored(client: Client, kind: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/_sandbox/{kind}")
    assert resp.status == 200
    rows: list[dict[str, Any]] = await resp.json()
    return rows


async def test_both_headers_required(make_client: MakeClient) -> None:
    client = await make_client()
    for headers in ({}, {"api_key": "k"}, {"api_secret": "s"}, {"api_key": "", "api_secret": "s"}):
        resp = await upload(client, "customers", [customer()], headers)
        assert resp.status == 401
        assert "api_key" in (await resp.json())["message"]
    assert await stored(client, "customers") == []
    strict = await make_client(api_key="key-1", api_secret="secret-1")
    assert (await upload(strict, "customers", [customer()], {**AUTH, "api_secret": "nope"})).status == 401
    assert (await upload(strict, "customers", [customer()])).status == 200


async def test_customers_are_upserted_by_customerno(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await upload(client, "customers", [customer("A1"), customer("A2")])
    assert resp.status == 200
    assert await resp.json() == {
        "uploaded": 2,
        "results": [{"id": 1, "customerno": "A1"}, {"id": 2, "customerno": "A2"}],
    }
    resp = await upload(client, "customers", [customer("A3"), customer("A1", lastname="Roe")])
    assert (await resp.json())["results"] == [{"id": 3, "customerno": "A3"}, {"id": 1, "customerno": "A1"}]
    rows = await stored(client, "customers")
    assert [(r["id"], r["customerno"], r["lastname"]) for r in rows] == [
        (1, "A1", "Roe"),
        (2, "A2", "Doe"),
        (3, "A3", "Doe"),
    ]
    resp = await upload(client, "customers", [customer("A4"), {"customerno": "A5"}, customer("A6", emailaddress1="x")])
    assert resp.status == 400
    assert await resp.json() == {
        "message": "Upload rejected",
        "errors": [
            {"index": 1, "field": "emailaddress1", "message": "is required"},
            {"index": 2, "field": "emailaddress1", "message": "must be an email address"},
        ],
    }
    assert len(await stored(client, "customers")) == 3  # atomic: A4 was not stored either


async def test_invoice_upload_is_atomic_and_names_every_bad_item(make_client: MakeClient) -> None:
    client = await make_client()
    assert (await upload(client, "customers", [customer()])).status == 200
    items = [
        invoice("I-1"),
        invoice("I-2", amount=1.5),
        invoice("I-3", amount="15"),
        {"customerNumber": "231231201", "invoiceAmount": 100},
        invoice("I-5", customer_no="123"),
        invoice("I-6", dueDate="30.11.2026"),
        invoice("I-7", billAddr={"line1": "1 Main St", "city": "Springfield"}, localAmount=100, postDate="2026-11-30"),
        invoice("I-8", billAddr="1 Main St"),
    ]
    resp = await upload(client, "invoices", items)
    assert resp.status == 400
    assert await resp.json() == {
        "message": "Upload rejected",
        "errors": [
            {"index": 1, "field": "invoiceAmount", "message": "must be an integer"},
            {"index": 2, "field": "invoiceAmount", "message": "must be an integer"},
            {"index": 3, "field": "invoiceNumber", "message": "is required"},
            {"index": 4, "field": "customerNumber", "message": "customer 123 does not exist"},
            {"index": 5, "field": "dueDate", "message": "must be an ISO date (YYYY-MM-DD)"},
            {"index": 7, "field": "billAddr", "message": "must be an object"},
        ],
    }
    assert await stored(client, "invoices") == []
    for body in (b"[]", b'{"not": "an array"}', b"[1,", b"nonsense"):
        resp = await client.post("/jsonApi/upload/invoices", data=body, headers={**AUTH, "Content-Type": "text/json"})
        assert resp.status == 400
        assert (await resp.json())["errors"] == []

    opaque = await make_client(SandboxOptions(opaque_errors=True))
    assert (await upload(opaque, "customers", [customer()])).status == 200
    resp = await upload(opaque, "invoices", items)
    assert resp.status == 400
    assert await resp.json() == {"message": "Upload rejected", "errors": []}


async def test_success_keeps_request_order_and_a_resend_doubles_invoices(make_client: MakeClient) -> None:
    client = await make_client()
    await upload(client, "customers", [customer("C1"), customer("C2")])
    items = [
        invoice("I-9", "C2", 500),
        invoice("I-1", "C1", 12112, billAddr={"city": "Oslo"}, invoiceDate="2026-11-02"),
    ]
    resp = await upload(client, "invoices", items)
    assert resp.status == 200
    expected = {
        "uploaded": 2,
        "results": [
            {"id": 1, "invoiceNumber": "I-9", "customerNumber": "C2", "invoiceAmount": 500},
            {"id": 2, "invoiceNumber": "I-1", "customerNumber": "C1", "invoiceAmount": 12112},
        ],
    }
    assert await resp.json() == expected
    resp = await upload(client, "invoices", items)  # the same upload again: stored again
    assert [r["id"] for r in (await resp.json())["results"]] == [3, 4]
    rows = await stored(client, "invoices")
    assert [r["invoiceNumber"] for r in rows] == ["I-9", "I-1", "I-9", "I-1"]
    assert rows[1] == {"id": 2, **items[1]}
    stats = await (await client.get("/_sandbox/stats")).json()
    assert (stats["customers"], stats["invoices"]) == (2, 4)


async def test_413_past_the_item_limit(make_client: MakeClient) -> None:
    client = await make_client()
    await upload(client, "customers", [customer()])
    big = [invoice(f"I-{n}", billAddr={"line1": "x" * 200}, shipAddr={"line1": "y" * 200}) for n in range(MAX_ITEMS)]
    resp = await upload(client, "invoices", big)  # over 1 MiB, within the limit: fine
    assert resp.status == 200
    resp = await upload(client, "invoices", [*big, invoice("one-too-many")])
    assert resp.status == 413
    assert "1000" in (await resp.json())["message"]
    assert len(await stored(client, "invoices")) == MAX_ITEMS


async def test_commit_then_drop_stores_the_upload_but_the_client_gets_nothing(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(drop_rate=1.0))
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await upload(client, "customers", [customer()])
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await upload(client, "invoices", [invoice()])
    assert [r["customerno"] for r in await stored(client, "customers")] == ["231231201"]
    assert [r["invoiceNumber"] for r in await stored(client, "invoices")] == ["21321"]
    stats = await (await client.get("/_sandbox/stats")).json()
    assert stats["faults"]["drop"] == 2


async def test_registered_without_a_prefix() -> None:
    assert "payorcrm" in TARGETS
    options = SandboxOptions(latency_ms=1)
    async with running("payorcrm", options) as base_url, aiohttp.ClientSession(timeout=TIMEOUT) as session:
        assert base_url.count("/") == 2
        async with session.post(f"{base_url}/jsonApi/upload/customers", json=[customer()], headers=AUTH) as resp:
            assert resp.status == 200


# -- the data generator and the samples ---------------------------------------------------------------


def test_invoices_point_at_the_good_customers_and_spoil_where_asked(tmp_path: Path) -> None:
    customers = list(gen.payorcrm_customer_rows(100, seed=1, bad_every=25))
    good = {c["customerno"] for c in customers if "@" in c.get("emailaddress1", "")}
    assert len(good) == 96
    rows = list(gen.payorcrm_invoice_rows(300, seed=2, bad_every=30, customers=100, customers_bad_every=25))
    assert len({r["invoiceNumber"] for r in rows}) == 300
    for n, row in enumerate(rows, start=1):
        if n % 30:
            assert row["customerNumber"] in good
            assert Decimal(row["invoiceAmount"]).as_tuple().exponent == -2
    bad = [rows[n - 1] for n in range(30, 301, 30)]
    assert "customerNumber" not in bad[0]
    assert bad[1]["invoiceAmount"] == "12.345"
    assert bad[2]["customerNumber"] in {c["customerno"] for c in customers} - good
    assert bad[3]["customerNumber"] == "999999999"
    out = tmp_path / "invoices.csv"
    assert gen.main(["--kind", "payorcrm-invoices", "--rows", "10", "--customers", "5", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as f:
        assert sum(1 for _ in csv.DictReader(f)) == 10


async def test_samples_load_except_their_bad_rows(make_client: MakeClient) -> None:
    """The shipped samples, sent naively one item per upload: only the rows the README calls bad fail."""
    client = await make_client()
    refused = []
    with (ROOT / "bulkload" / "samples" / "payorcrm" / "customers.csv").open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if (await upload(client, "customers", [{k: v for k, v in row.items() if v}])).status != 200:
                refused.append(line)
    assert refused == [41, 81, 121, 161, 201]
    refused = []
    with (ROOT / "bulkload" / "samples" / "payorcrm" / "invoices.csv").open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            item: dict[str, Any] = {k: v for k, v in row.items() if v}
            cents = Decimal(item["invoiceAmount"]) * 100
            if cents != cents.to_integral_value():
                refused.append(line)  # 12.345 cannot be sent as whole cents
                continue
            item["invoiceAmount"] = int(cents)
            if (await upload(client, "invoices", [item])).status != 200:
                refused.append(line)
    assert refused == [51, 101, 151, 201, 251, 301, 351, 401]
    assert len(await stored(client, "invoices")) == 400 - 8
