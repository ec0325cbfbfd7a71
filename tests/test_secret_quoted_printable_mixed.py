"""A refusal that dumps a JSON body quoted-printable (a mail-like dump of a request whose body quotes the
credential: its `ø` JSON-escaped as `\\u00f8`, then its `=` as `=3D`, a soft line break anywhere) showed the
credential in clear in the rejects file, the report, the ledger and the log: quoted-printable was masked only of the
value as written, not inside another spelling; nor an RFC 2047 header's `=5F` for `_`. DESIGN: secrets never in
logs/reports/ledger/rejects.

- Found by tester t59b. bulkload/masking.py (`_char_spellings`): any character quoted-printable, `=XX` byte by byte
  of its UTF-8, is a spelling of it, as a percent-encoding is; bulkload/redact.py: a text holding `=` is read by the
  regex (`_ESCAPING`)."""

from __future__ import annotations

import json
import quopri
from pathlib import Path

from aiohttp import web
from test_secret_echoes import refused_with

from bulkload import redact

#: a letter beyond ASCII (JSON writes it `\u00f8`) and padded as base64 is (quoted-printable writes `=` as `=3D`)
SECRET = "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3bC6eH0jF5gU7iOq7zXa9Kd2Lø=="


def test_a_json_escaped_credential_quoted_printable_is_masked() -> None:
    escaped = json.dumps(SECRET)[1:-1]
    assert "\\u00f8" in escaped
    redact.register(SECRET)
    assert redact.redact("token=" + escaped.replace("=", "=3D")) == "token=***"
    # a soft break inside the escape, as a wrap at 76 characters may put it
    at = escaped.index("\\u00f8") + 3
    assert redact.redact(f"token: {escaped[:at]}=\n{escaped[at:].replace('=', '=3D')};") == "token: ***;"
    header = quopri.encodestring(SECRET.encode(), header=True).decode()
    assert "=5F" in header
    assert redact.redact(f"X-Token: =?utf-8?q?{header}?=") == "X-Token: =?utf-8?q?***?="
    assert redact.redact("a=3Db, x=y and =3D=3D, of no credential") == "a=3Db, x=y and =3D=3D, of no credential"


async def test_a_refusal_dumping_a_json_body_quoted_printable_leaves_the_secret_nowhere(tmp_path: Path) -> None:
    dumped = quopri.encodestring(json.dumps({"request": {"secret": SECRET}}).encode()).decode()
    echoed = "the request, as received:\n" + dumped
    written = await refused_with(tmp_path, SECRET, lambda: web.Response(text=echoed, status=400))
    seen = {p.name: p.read_bytes() for p in written}
    assert any(b"as received" in text for text in seen.values()), "the refusal was written nowhere"
    assert [name for name, text in seen.items() if b"Q7zXa9Kd2LmN4pR8tV1w" in text] == []
