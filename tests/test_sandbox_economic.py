"""The e-conomic sandbox through a real aiohttp client on loopback: auth, media type, bulk creates and
their atomic 400s, idempotency (replay, in progress, commit-then-drop), cursors, counts, paging,
objectVersion, deletes, journals and booking, and the shared limits and faults."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestClient
from conftest import AppClient

from bulkload.sandbox import SandboxOptions, running
from bulkload.sandbox.common import SANDBOX_KEY, SandboxStats, SlidingRate
from bulkload.sandbox.economic import ECONOMIC_KEY, MAX_BULK, PREFIX, create_app

AUTH = {"X-AppSecretToken": "app-secret", "X-AgreementGrantToken": "grant-1"}
Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


def entry(voucher: int = 1, journal: int = 1, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "entryTypeNumber": 5,
        "journalNumber": journal,
        "voucherNumber": voucher,
        "date": "2026-11-30",
        "amount": 1250.0,
        "currency": "DKK",
        "accountNumber": 2750,
        "contraAccountNumber": 5600,
        "text": f"Husleje november, bilag {voucher}",
        "vatCode": "I25",
    }
    base.update(changes)
    return base


@pytest.fixture
def make_client(app_client: AppClient) -> MakeClient:
    async def make(options: SandboxOptions | None = None, **kwargs: Any) -> Client:
        return await app_client(create_app(options, **kwargs))

    return make


async def post_bulk(client: Client, entries: list[dict[str, Any]], **headers: str) -> aiohttp.ClientResponse:
    return await client.post(f"{PREFIX}/draft-entries/bulk", json=entries, headers={**AUTH, **headers})


# JSON with Decimals as numbers with their digits: aiohttp's json= would go through float and lose them
_exact = msgspec.json.Encoder(decimal_format="number")


async def send_exact(client: Client, method: str, path: str, payload: Any) -> aiohttp.ClientResponse:
    headers = {**AUTH, "Content-Type": "application/json"}
    return await client.request(method, f"{PREFIX}{path}", data=_exact.encode(payload), headers=headers)


class ExactEntry(msgspec.Struct):
    entryNumber: int
    amount: Decimal
    exchangeRate: Decimal | None = None


class ExactPage(msgspec.Struct):
    items: list[ExactEntry]


async def count(client: Client, flt: str | None = None) -> int:
    params = {"filter": flt} if flt else {}
    resp = await client.get(f"{PREFIX}/draft-entries/count", params=params, headers=AUTH)
    assert resp.status == 200, await resp.text()
    value = await resp.json()
    assert isinstance(value, int)
    return value


async def stats(client: Client) -> dict[str, Any]:
    resp = await client.get("/_sandbox/stats")
    assert resp.status == 200
    result: dict[str, Any] = await resp.json()
    return result


async def test_auth_401_without_tokens_403_for_demo_writes(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get(f"{PREFIX}/draft-entries")
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
    resp = await client.get(f"{PREFIX}/draft-entries", headers={"X-AppSecretToken": "only-one"})
    assert resp.status == 401
    demo = {"X-AppSecretToken": "demo", "X-AgreementGrantToken": "demo"}
    assert (await client.get(f"{PREFIX}/journals", headers=demo)).status == 200
    resp = await client.post(f"{PREFIX}/draft-entries/bulk", json=[entry()], headers=demo)
    assert resp.status == 403
    assert await count(client) == 0

    strict = await make_client(tokens=("app-secret", "grant-1"))
    assert (await strict.get(f"{PREFIX}/journals", headers={**AUTH, "X-AgreementGrantToken": "x"})).status == 401
    assert (await strict.get(f"{PREFIX}/journals", headers=AUTH)).status == 200


async def test_415_without_json_content_type(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.post(f"{PREFIX}/draft-entries/bulk", data=b"[]", headers={**AUTH, "Content-Type": "text/plain"})
    assert resp.status == 415
    body = await resp.json(content_type=None)
    assert "application/json" in body["detail"]


async def test_bulk_create_numbers_entries_in_request_order(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await post_bulk(client, [entry(voucher=v) for v in (7, 8, 9)])
    assert resp.status == 201
    assert await resp.json() == [{"entryNumber": 1}, {"entryNumber": 2}, {"entryNumber": 3}]
    resp = await post_bulk(client, [entry(voucher=10)])
    assert await resp.json() == [{"entryNumber": 4}]
    got = await (await client.get(f"{PREFIX}/draft-entries/2", headers=AUTH)).json()
    assert got["voucherNumber"] == 8
    assert got["date"] == "2026-11-30T00:00:00"
    assert got["objectVersion"]
    assert None not in got.values() and "exchangeRate" not in got  # absent, never null

    resp = await client.post(f"{PREFIX}/draft-entries", json=entry(voucher=11), headers=AUTH)
    assert resp.status == 201
    assert await resp.json() == {"entryNumber": 5}
    assert resp.headers["Location"] == f"{PREFIX}/draft-entries/5"


async def test_bulk_is_atomic_and_names_every_bad_entry(make_client: MakeClient) -> None:
    client = await make_client()
    batch = [
        entry(1),
        entry(2, accountNumber=9999),
        entry(3),
        entry(4, amount=None),
        entry(5, date="2024-02-30"),
        entry(6, text="x" * 251),
        entry(7, entryTypeNumber=7),
        entry(8, currency="XYZ"),
        entry(9, journalNumber=77),
        entry(10, amount=1e16),
        entry(11, date="2014-12-31"),
        entry(12, supplierPaymentType=3),
        {k: v for k, v in entry(13).items() if k not in ("accountNumber", "contraAccountNumber")},
        {k: v for k, v in entry(14).items() if k != "currency"},
        entry(15, contraAccountNumber=1),
        entry(16, unknownField="ignored"),
    ]
    resp = await post_bulk(client, batch)
    assert resp.status == 400
    body = await resp.json(content_type=None)
    assert set(body) >= {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "errors",
        "traceId",
        "errorCode",
        "traceTimeUtc",
    }
    assert body["errorCode"] == "JournalEntryAccountNotFound"
    found = {(e["index"], e["property"], e["errorCode"]) for e in body["errors"]}
    assert found == {
        (1, "accountNumber", "JournalEntryAccountNotFound"),
        (3, "amount", "NullNotAllowed"),
        (4, "date", "InvalidDate"),
        (5, "text", "JournalEntryTextTooLong"),
        (6, "entryTypeNumber", "JournalEntryTypeNotCorrect"),
        (7, "currency", "JournalEntryCurrencyNotFound"),
        (8, "journalNumber", "JournalNotFound"),
        (9, "amount", "JournalEntryAmountExceedsDigitLimit"),
        (10, "date", "JournalEntryDateAccountingYearDoesNotExist"),
        (11, "supplierPaymentType", "JournalEntrySupplierPaymentTypeNotValid"),
        (12, "accountNumber", "JournalEntryAccountAndContraAccountNotSet"),
        (13, "currency", "JournalEntryCurrencyNotSet"),
        (14, "contraAccountNumber", "JournalEntryContraAccountNotFound"),
    }
    assert all(e["message"] for e in body["errors"])
    assert await count(client) == 0  # nothing of the batch was stored
    assert (await post_bulk(client, [entry(1)])).status == 201
    assert await (await client.get(f"{PREFIX}/draft-entries/1", headers=AUTH)).json() is not None


EXACT = ["99999999999999.99", "-99999999999999.99", "1234567890123456.78", "0.10", "1250.00"]


async def test_amounts_come_back_with_the_digits_they_were_sent_with(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await send_exact(
        client, "POST", "/draft-entries/bulk", [entry(v, amount=Decimal(a)) for v, a in enumerate(EXACT)]
    )
    assert resp.status == 201, await resp.text()
    listed = await (await client.get(f"{PREFIX}/draft-entries", headers=AUTH)).text()
    for amount in EXACT:
        assert f'"amount":{amount},' in listed  # a JSON number, the very digits: not 99999999999999.98, not "0.10"
    items = msgspec.json.decode(listed, type=ExactPage).items
    assert [str(i.amount) for i in items] == EXACT
    for number, amount in enumerate(EXACT, 1):
        raw = await (await client.get(f"{PREFIX}/draft-entries/{number}", headers=AUTH)).text()
        assert f'"amount":{amount},' in raw
        assert str(msgspec.json.decode(raw, type=ExactEntry).amount) == amount
    # the paged list, in store order and re-encoded after a sort, says the same
    for params in ({}, {"sort": "-voucherNumber"}):
        paged = await (await client.get(f"{PREFIX}/draft-entries/paged", params=params, headers=AUTH)).text()
        got = msgspec.json.decode(paged, type=list[ExactEntry])
        assert sorted(str(i.amount) for i in got) == sorted(EXACT)

    # an update keeps its digits too, and a JSON integer stays one
    rows = msgspec.json.decode(listed, type=dict[str, list[dict[str, Any]]])["items"][:2]
    changed = [
        {**rows[0], "amount": Decimal("0.01"), "currency": "EUR", "exchangeRate": Decimal("746.0200")},
        {**rows[1], "amount": 1250},
    ]
    assert (await send_exact(client, "PUT", "/draft-entries/bulk", changed)).status == 200
    one = await (await client.get(f"{PREFIX}/draft-entries/1", headers=AUTH)).text()
    assert '"amount":0.01,' in one and '"exchangeRate":746.0200,' in one
    assert '"amount":1250,' in await (await client.get(f"{PREFIX}/draft-entries/2", headers=AUTH)).text()


async def test_digit_limit_counts_significant_digits_as_written(make_client: MakeClient) -> None:
    client = await make_client()
    # 18 significant digits (leading zeros do not count, trailing ones do) and |amount| < 1e16: stored
    fits = [
        "9999999999999999.99",
        "-9999999999999999.99",
        "0.123456789012345678",
        "1.00000000000000000",
        "123456789012345678E-2",
        "0.000000000000000001",
        "0",
    ]
    # 19 digits, or 1e16 and more however few digits: refused
    refused = [
        "9999999999999999.999",
        "0.1234567890123456789",
        "1.000000000000000000",
        "123456789012345.6789",
        "1E16",
        "-1e16",
        "10000000000000000",
        "1E+400",
    ]
    resp = await send_exact(
        client, "POST", "/draft-entries/bulk", [entry(v, amount=Decimal(a)) for v, a in enumerate(refused)]
    )
    assert resp.status == 400
    errors = (await resp.json(content_type=None))["errors"]
    assert [(e["index"], e["property"], e["errorCode"]) for e in errors] == [
        (i, "amount", "JournalEntryAmountExceedsDigitLimit") for i in range(len(refused))
    ]
    assert await count(client) == 0
    resp = await send_exact(
        client, "POST", "/draft-entries/bulk", [entry(v, amount=Decimal(a)) for v, a in enumerate(fits)]
    )
    assert resp.status == 201, await resp.text()
    listed = msgspec.json.decode(
        await (await client.get(f"{PREFIX}/draft-entries", headers=AUTH)).read(), type=ExactPage
    )
    assert [i.amount.as_tuple() for i in listed.items] == [Decimal(a).as_tuple() for a in fits]


async def test_money_must_be_a_json_number(make_client: MakeClient) -> None:
    client = await make_client()
    batch = [
        entry(0, amount="1250.00"),  # the seed documents a number; a string is refused, not read
        entry(1, currency="EUR", exchangeRate="746.02"),
        entry(2, amount=True),
        entry(3, currency="EUR", exchangeRate=None),
        entry(4, exchangeRate=100.0),  # DKK at 100 in any spelling is fine
        entry(5, exchangeRate=100.5),
    ]
    resp = await post_bulk(client, batch)
    assert resp.status == 400
    errors = (await resp.json(content_type=None))["errors"]
    assert [(e["index"], e["property"], e["errorCode"]) for e in errors] == [
        (0, "amount", "InvalidPropertyValue"),
        (1, "exchangeRate", "InvalidPropertyValue"),
        (2, "amount", "InvalidPropertyValue"),
        (3, "exchangeRate", "NullNotAllowed"),
        (5, "exchangeRate", "JournalEntryExchangeRateMustBeOneHundredForBaseCurrency"),
    ]
    assert errors[0]["message"] == "Expected `number`, got `str`"
    one = await client.post(f"{PREFIX}/draft-entries", json=entry(1, amount="12.5"), headers=AUTH)
    assert (await one.json(content_type=None))["errors"][0]["errorCode"] == "InvalidPropertyValue"
    assert await count(client) == 0


async def test_a_badly_typed_entry_does_not_blur_the_others_amounts(make_client: MakeClient) -> None:
    # a type error sends the batch through the item-by-item decode: it must read numbers exactly too
    client = await make_client()
    batch = [
        entry(0, voucherNumber="x"),
        entry(1, amount=Decimal("0.1234567890123456789")),
        entry(2, amount=Decimal("0.10")),
        entry(3, amount=Decimal("9999999999999999.99")),
    ]
    resp = await send_exact(client, "POST", "/draft-entries/bulk", batch)
    assert resp.status == 400
    errors = (await resp.json(content_type=None))["errors"]
    assert [(e["index"], e["property"], e["errorCode"]) for e in errors] == [
        (0, "voucherNumber", "InvalidPropertyValue"),
        (1, "amount", "JournalEntryAmountExceedsDigitLimit"),
    ]


async def test_opaque_errors_hide_which_entry_is_bad(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(opaque_errors=True))
    resp = await post_bulk(client, [entry(1), entry(2, accountNumber=9999)])
    assert resp.status == 400
    body = await resp.json(content_type=None)
    assert body["errors"] == []
    assert body["errorCode"] == "JournalEntryAccountNotFound"
    assert await count(client) == 0


async def test_too_many_and_empty_lists(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await post_bulk(client, [entry(v) for v in range(MAX_BULK + 1)])
    assert resp.status == 400
    assert (await resp.json(content_type=None))["errorCode"] == "OneAPITooManyEntries"
    resp = await post_bulk(client, [])
    assert (await resp.json(content_type=None))["errorCode"] == "OneAPIEntriesListCannotBeEmpty"
    assert (await post_bulk(client, [entry(v) for v in range(MAX_BULK)])).status == 201
    resp = await client.post(
        f"{PREFIX}/draft-entries/bulk", data=b"[{", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert (await resp.json(content_type=None))["errorCode"] == "InvalidJson"


async def test_idempotency_key_replays_without_side_effects(make_client: MakeClient) -> None:
    client = await make_client()
    first = await post_bulk(client, [entry(1), entry(2)], **{"Idempotency-Key": "chunk-1"})
    assert first.status == 201 and "X-ResultFromCache" not in first.headers
    again = await post_bulk(client, [entry(1), entry(2)], **{"Idempotency-Key": "chunk-1"})
    assert again.status == 201
    assert again.headers["X-ResultFromCache"] == "true"
    assert await again.json() == await first.json()
    assert await count(client) == 2
    # the key is scoped by agreement: another agreement's identical key is a new request
    other = await post_bulk(client, [entry(1)], **{"Idempotency-Key": "chunk-1", "X-AgreementGrantToken": "grant-2"})
    assert other.status == 201 and "X-ResultFromCache" not in other.headers
    # refusals are cached too
    bad = [entry(1, accountNumber=9999)]
    assert (await post_bulk(client, bad, **{"Idempotency-Key": "bad"})).status == 400
    replay = await post_bulk(client, [entry(1)], **{"Idempotency-Key": "bad"})
    assert replay.status == 400 and replay.headers["X-ResultFromCache"] == "true"
    assert await count(client) == 3


async def test_idempotency_cache_expires(make_client: MakeClient) -> None:
    client = await make_client(idempotency_ttl_s=0.05)
    await post_bulk(client, [entry(1)], **{"Idempotency-Key": "k"})
    await asyncio.sleep(0.1)
    resp = await post_bulk(client, [entry(1)], **{"Idempotency-Key": "k"})
    assert "X-ResultFromCache" not in resp.headers
    assert await count(client) == 2


async def test_key_in_progress_gets_409(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(latency_ms=1000))
    slow = asyncio.ensure_future(post_bulk(client, [entry(1)], **{"Idempotency-Key": "busy"}))
    for _ in range(1000):  # until the first is being worked on, holding the key (the stats route is not counted)
        if (await stats(client))["in_flight"]:
            break
        await asyncio.sleep(0.01)
    resp = await post_bulk(client, [entry(1)], **{"Idempotency-Key": "busy"})
    assert resp.status == 409
    assert (await resp.json(content_type=None))["errorCode"] == "IdempotencyKeyInUse"
    assert (await slow).status == 201
    assert (await post_bulk(client, [entry(1)], **{"Idempotency-Key": "busy"})).headers["X-ResultFromCache"] == "true"
    assert await count(client) == 1


async def test_commit_then_drop_is_replayed_on_retry(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(drop_rate=1.0))
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await post_bulk(client, [entry(1), entry(2), entry(3)], **{"Idempotency-Key": "dropped"})
    assert await count(client) == 3  # committed although the client never heard
    client.app[SANDBOX_KEY].options.drop_rate = 0.0
    retry = await post_bulk(client, [entry(1), entry(2), entry(3)], **{"Idempotency-Key": "dropped"})
    assert retry.status == 201
    assert retry.headers["X-ResultFromCache"] == "true"
    assert await retry.json() == [{"entryNumber": 1}, {"entryNumber": 2}, {"entryNumber": 3}]
    assert await count(client) == 3
    assert (await stats(client))["faults"]["drop"] == 1


async def test_cursor_walk_with_and_without_filter(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(page_size=1000))
    for start in range(0, 2500, 500):
        batch = [entry(v, journal=1 + v % 2) for v in range(start, start + 500)]
        assert (await post_bulk(client, batch)).status == 201
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str] = {"cursor": cursor} if cursor else {}
        page = await (await client.get(f"{PREFIX}/draft-entries", params=params, headers=AUTH)).json()
        pages.append(page)
        cursor = page.get("cursor")
        if cursor is None:
            break
    assert [len(p["items"]) for p in pages] == [1000, 1000, 500]
    assert [p.get("cursor") for p in pages] == ["1001", "2001", None]
    numbers = [i["entryNumber"] for p in pages for i in p["items"]]
    assert numbers == list(range(1, 2501))

    first = await (
        await client.get(f"{PREFIX}/draft-entries", params={"filter": "journalNumber$eq:2"}, headers=AUTH)
    ).json()
    assert len(first["items"]) == 1000 and all(i["journalNumber"] == 2 for i in first["items"])
    rest = await (
        await client.get(
            f"{PREFIX}/draft-entries",
            headers=AUTH,
            params={"filter": "journalNumber$eq:2", "cursor": first["cursor"]},
        )
    ).json()
    assert len(rest["items"]) == 250 and "cursor" not in rest
    assert rest["items"][0]["entryNumber"] == int(first["cursor"])


async def test_cursor_walk_of_an_entry_number_range(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(page_size=100))
    for start in range(0, 1000, 500):
        assert (await post_bulk(client, [entry(v, journal=1 + v % 2) for v in range(start, start + 500)])).status == 201
    numbers: list[int] = []
    flt = "journalNumber$eq:2$and:entryNumber$gt:300$and:entryNumber$lte:650$and:entryNumber$lt:700"
    params = {"filter": flt}
    while True:
        page = await (await client.get(f"{PREFIX}/draft-entries", params=params, headers=AUTH)).json()
        numbers += [i["entryNumber"] for i in page["items"]]
        if "cursor" not in page:
            break
        params = {"filter": flt, "cursor": page["cursor"]}
    # journal 2 holds the even entry numbers (voucher v → entry v + 1)
    assert numbers == list(range(302, 651, 2))


async def test_count_with_filters(make_client: MakeClient) -> None:
    client = await make_client()
    await post_bulk(client, [entry(v, journal=1 + v % 3, accountNumber=1010 if v < 5 else 2750) for v in range(12)])
    assert await count(client) == 12
    assert await count(client, "journalNumber$eq:1") == 4
    assert await count(client, "journalNumber$eq:9") == 0
    assert await count(client, "voucherNumber$gte:10") == 2
    assert await count(client, "accountNumber$in:[1010]$and:journalNumber$ne:1") == 3
    assert await count(client, "currency$eq:dkk$and:date$gte:2026-11-01") == 12
    for refused in ("amount$gt:0", "currency$like:DK", "date$in:[2026-11-30]", "voucherNumber$eq:x"):
        resp = await client.get(f"{PREFIX}/draft-entries/count", params={"filter": refused}, headers=AUTH)
        assert resp.status == 400, refused
        assert (await resp.json(content_type=None))["errorCode"] == "InvalidFilter"


async def test_paged_sorting_and_limits(make_client: MakeClient) -> None:
    client = await make_client()
    await post_bulk(client, [entry(v) for v in (5, 3, 9, 1, 7)])
    url = f"{PREFIX}/draft-entries/paged"
    page = await (await client.get(url, params={"pageSize": "2", "skipPages": "1"}, headers=AUTH)).json()
    assert [i["entryNumber"] for i in page] == [3, 4]  # a bare array, as the seed shows
    page = await (await client.get(url, params={"sort": "-voucherNumber", "pageSize": "3"}, headers=AUTH)).json()
    assert [i["voucherNumber"] for i in page] == [9, 7, 5]
    page = await (await client.get(url, headers=AUTH)).json()
    assert len(page) == 5
    for params in ({"sort": "amount"}, {"pageSize": "101"}, {"skipPages": "-1"}):
        assert (await client.get(url, params=params, headers=AUTH)).status == 400


async def test_put_with_object_version_and_conflict(make_client: MakeClient) -> None:
    client = await make_client()
    await post_bulk(client, [entry(1), entry(2)])
    one = await (await client.get(f"{PREFIX}/draft-entries/1", headers=AUTH)).json()
    resp = await client.put(f"{PREFIX}/draft-entries", json={**one, "text": "Rettet tekst"}, headers=AUTH)
    assert resp.status == 200
    new_version = (await resp.json())["objectVersion"]
    assert new_version != one["objectVersion"]
    assert (await (await client.get(f"{PREFIX}/draft-entries/1", headers=AUTH)).json())["text"] == "Rettet tekst"

    stale = await client.put(f"{PREFIX}/draft-entries", json={**one, "text": "Overwrite"}, headers=AUTH)
    assert stale.status == 409
    body = await stale.json()
    assert body["message"] == "Update conflict. Version does not match."
    assert body["property"] == "version"

    moved = await client.put(
        f"{PREFIX}/draft-entries",
        json={**one, "objectVersion": new_version, "journalNumber": 2},
        headers=AUTH,
    )
    assert (await moved.json(content_type=None))["errorCode"] == "JournalNumberCannotBeChangedOnDraftEntry"
    missing = await client.put(f"{PREFIX}/draft-entries", json={**one, "entryNumber": 99}, headers=AUTH)
    assert missing.status == 404

    rows = (await (await client.get(f"{PREFIX}/draft-entries", headers=AUTH)).json())["items"]
    resp = await client.put(f"{PREFIX}/draft-entries/bulk", json=[{**r, "amount": 10.0} for r in rows], headers=AUTH)
    assert resp.status == 200
    assert [r["entryNumber"] for r in await resp.json()] == [1, 2]
    again = await client.put(f"{PREFIX}/draft-entries/bulk", json=[{**r, "amount": 20.0} for r in rows], headers=AUTH)
    assert again.status == 409
    assert [e["entryNumber"] for e in (await again.json())["errors"]] == [1, 2]
    amounts = [r["amount"] for r in (await (await client.get(f"{PREFIX}/draft-entries", headers=AUTH)).json())["items"]]
    assert amounts == [10.0, 10.0]


async def test_deletes(make_client: MakeClient) -> None:
    client = await make_client()
    await post_bulk(client, [entry(1, journal=1), entry(2, journal=2), entry(3, journal=2)])
    assert (await client.delete(f"{PREFIX}/draft-entries/1", headers=AUTH)).status == 204
    assert (await client.get(f"{PREFIX}/draft-entries/1", headers=AUTH)).status == 404
    assert (await client.delete(f"{PREFIX}/draft-entries/1", headers=AUTH)).status == 404
    assert await count(client, "journalNumber$eq:1") == 0
    assert (await client.delete(f"{PREFIX}/draft-entries/delete/2", headers=AUTH)).status == 204
    assert await count(client) == 0
    assert (await client.delete(f"{PREFIX}/draft-entries/delete/77", headers=AUTH)).status == 404
    # numbers are never reused
    assert await (await post_bulk(client, [entry(4)])).json() == [{"entryNumber": 4}]


async def test_journals_and_booking(make_client: MakeClient) -> None:
    client = await make_client()
    journals = await (await client.get(f"{PREFIX}/journals", headers=AUTH)).json()
    assert [j["number"] for j in journals["items"]] == list(range(1, 11)) and "cursor" not in journals
    assert journals["items"][1]["name"] == "Month-end accruals"
    assert "isStandingJournal" not in journals["items"][0]  # false booleans are omitted
    resp = await client.post(f"{PREFIX}/journals", json={"name": "Import 2026"}, headers=AUTH)
    assert resp.status == 201
    number = (await resp.json())["number"]
    assert number == 11
    assert (await client.post(f"{PREFIX}/journals", json={"type": 1}, headers=AUTH)).status == 400
    got = await (await client.get(f"{PREFIX}/journals/{number}", headers=AUTH)).json()
    resp = await client.put(f"{PREFIX}/journals", json={**got, "name": "Import nov 2026"}, headers=AUTH)
    assert resp.status == 200
    assert (await client.put(f"{PREFIX}/journals", json={**got, "name": "stale"}, headers=AUTH)).status == 409
    assert await (await client.get(f"{PREFIX}/journals/count", headers=AUTH)).json() == 11
    assert (
        await (await client.get(f"{PREFIX}/journals/count", params={"filter": "number$gt:9"}, headers=AUTH)).json() == 2
    )
    paged = await (
        await client.get(f"{PREFIX}/journals/paged", params={"sort": "-number", "pageSize": "2"}, headers=AUTH)
    ).json()
    assert [j["number"] for j in paged] == [11, 10]

    await post_bulk(client, [entry(v, journal=number) for v in range(4)])
    resp = await client.delete(f"{PREFIX}/journals/{number}", headers=AUTH)
    assert resp.status == 400
    assert (await resp.json(content_type=None))["errorCode"] == "JournalMustBeEmptyBeforeDeleting"
    assert (await client.post(f"{PREFIX}/journals/{number}/book", headers=AUTH)).status == 204
    assert await count(client, f"journalNumber$eq:{number}") == 0
    assert (await stats(client))["booked"] == 4
    assert (await client.delete(f"{PREFIX}/journals/{number}", headers=AUTH)).status == 204
    assert (await client.get(f"{PREFIX}/journals/{number}", headers=AUTH)).status == 404
    resp = await post_bulk(client, [entry(1, journal=number)])
    assert (await resp.json(content_type=None))["errorCode"] == "JournalNotFound"


async def test_rate_limit_answers_429_with_retry_after(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(rate_limit=5))
    sandbox = client.app[SANDBOX_KEY]
    # on a clock that stands still the twelve arrive at one instant, however long a busy machine takes to send them
    assert sandbox.rate is not None
    sandbox.rate = SlidingRate(5, clock=lambda: 1000.0)
    sandbox.stats = SandboxStats(clock=lambda: 1000.0)
    answers = await asyncio.gather(*(client.get(f"{PREFIX}/journals", headers=AUTH) for _ in range(12)))
    statuses = sorted(r.status for r in answers)
    assert statuses.count(200) == 5 and statuses.count(429) == 7
    limited = next(r for r in answers if r.status == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert (await limited.json(content_type=None))["status"] == 429
    s = await stats(client)  # the stats route itself is never limited
    assert s["faults"]["rate_limited"] == 7
    assert s["by_status"] == {"200": 5, "429": 7}
    assert s["max_requests_per_second"] == 12
    assert s["requests"] == 12


async def test_daily_quota(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(daily_quota=3))
    statuses = [(await client.get(f"{PREFIX}/journals", headers=AUTH)).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    resp = await client.get(f"{PREFIX}/journals", headers=AUTH)
    assert resp.status == 429
    assert 86_000 < int(resp.headers["Retry-After"]) <= 86_401
    assert (await resp.json(content_type=None))["errorCode"] == "QuotaExceeded"
    assert (await stats(client))["faults"]["quota"] == 1


async def test_seeded_faults_are_5xx_and_do_nothing(make_client: MakeClient) -> None:
    async def run() -> list[int]:
        client = await make_client(SandboxOptions(fault_rate=0.3, seed=42))
        statuses = [(await post_bulk(client, [entry(v)])).status for v in range(40)]
        s = await stats(client)
        assert s["faults"]["http_5xx"] == sum(code >= 500 for code in statuses)
        assert await count(client) == statuses.count(201)  # a faulted write stored nothing
        return statuses

    first = await run()
    assert set(first) <= {201, 500, 503} and {500, 503} & set(first) and 201 in first
    assert 5 <= sum(code >= 500 for code in first) <= 20
    assert await run() == first  # the same seed, the same faults


async def test_slow_responses(make_client: MakeClient) -> None:
    client = await make_client(SandboxOptions(slow_rate=1.0, slow_ms=80))
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await client.get(f"{PREFIX}/journals", headers=AUTH)).status == 200
    assert loop.time() - started >= 0.08
    assert (await stats(client))["faults"]["slow"] == 1


async def test_store_is_reachable_for_tests(make_client: MakeClient) -> None:
    client = await make_client()
    await post_bulk(client, [entry(1)])
    eco = client.app[ECONOMIC_KEY]
    assert len(eco.store.entries) == 1


async def test_running_serves_on_loopback() -> None:
    async with running("economic", SandboxOptions()) as base_url:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith(PREFIX)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(headers=AUTH, timeout=timeout) as session:
            async with session.post(f"{base_url}/draft-entries/bulk", json=[entry(1)]) as resp:
                assert resp.status == 201
            async with session.get(f"{base_url}/draft-entries/count") as resp:
                assert await resp.json() == 1
    with pytest.raises(KeyError):
        async with running("nope"):
            pass


@pytest.mark.slow
async def test_module_entry_point_announces_its_url() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bulkload.sandbox", "economic", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line.startswith("sandbox economic listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1].strip()
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{base_url}/journals/count", headers=AUTH) as resp,
        ):
            assert await resp.json() == 10
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
