"""A 2xx answer in the charset its Content-Type names, other than UTF-8, is read (http.in_utf8): before, a Visma Core
create the server carried out and answered in ISO-8859-1 was taken for an answer not the API's, its rows in doubt and
the run stopped (tester t72d)."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from conftest import serving

from bulkload.http import Client, decoded, in_utf8

ENTRY = {"Id": 1003, "Description": "Tinglysingsgebyr, Ørsted – Strandveien 66"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps(ENTRY, ensure_ascii=False).encode("iso-8859-1", "replace"), "application/json; charset=iso-8859-1"),
        (json.dumps(ENTRY, ensure_ascii=False).encode("cp1252"), "application/json; charset=windows-1252"),
        (json.dumps(ENTRY, ensure_ascii=False).encode("utf-16"), "application/json; charset=utf-16"),
        (json.dumps(ENTRY, ensure_ascii=False).encode("utf-16-le"), 'application/json; charset="UTF-16LE"'),
    ],
)
def test_an_answer_in_the_charset_it_names_is_read_in_utf8(body: bytes, content_type: str) -> None:
    text = json.dumps(ENTRY, ensure_ascii=False)
    expected = text.encode("iso-8859-1", "replace").decode("iso-8859-1") if "8859" in content_type else text
    assert in_utf8(body, content_type).decode("utf-8") == expected


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "application/json; charset=iso-8859-1"],
)
def test_an_answer_in_utf8_is_left_as_it_is_whatever_single_byte_charset_it_names(content_type: str | None) -> None:
    # a servlet container labels UTF-8 iso-8859-1 by default: read as Latin-1, Ø would be Ã˜
    body = json.dumps(ENTRY, ensure_ascii=False).encode("utf-8")
    assert in_utf8(body, content_type) is body


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=x-no-such-charset", "application/json; charset=utf-16"]
)
def test_an_answer_its_charset_cannot_decode_is_left_as_it_is(content_type: str) -> None:
    body = b'{"Id": 12\xff}'  # no charset Python knows here; an odd number of bytes, no UTF-16
    assert in_utf8(body, content_type) is body


@pytest.mark.parametrize("charset", ["hex", "base64", "rot13", "zlib"])
def test_an_answer_labelled_with_a_codec_that_is_no_text_encoding_is_left_as_it_is(charset: str) -> None:
    # codecs.lookup knows these, and bytes.decode refuses them with a LookupError: it escaped as a traceback
    body = json.dumps(ENTRY, ensure_ascii=False).encode("cp1252")
    assert in_utf8(body, f"application/json; charset={charset}") is body


@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "utf-32"])
def test_an_answer_in_utf8_labelled_utf16_is_left_as_it_is(charset: str) -> None:
    # an even number of bytes of UTF-8 decodes as UTF-16 into other characters ('{"Id": 12}' became '≻摉㨢ㄠ紲'): a
    # JSON text in UTF-16 or UTF-32 holds NUL bytes, and one without any is not in it
    body = b'{"Id": 1000}'
    assert in_utf8(body, f"application/json; charset={charset}") is body


async def test_a_create_answered_in_latin1_is_read_by_the_client() -> None:
    async def create(request: web.Request) -> web.Response:
        body = json.dumps(ENTRY, ensure_ascii=False).encode("iso-8859-1", "replace")
        return web.Response(status=201, body=body, headers={"Content-Type": "application/json; charset=iso-8859-1"})

    app = web.Application()
    app.router.add_post("/Entries", create)
    async with serving(app) as origin, Client(origin, {}) as client:
        response = await client.send("POST", "/Entries", body=b"{}")
    assert decoded(response.body, dict, "POST /Entries")["Description"] == "Tinglysingsgebyr, Ørsted ? Strandveien 66"
