"""A refusal that quotes a credential holding letters outside ASCII as a server reads a header's bytes, as Latin-1
or Windows-1252 (HTTP's old charset of header values: `ø€` as `Ã¸â‚¬`), showed it in the rejects or in-doubt file,
the report, the ledger and the log. DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t49e: a Visma Core bearer token holding `ø€`, echoed so in a 400, was in the rejects file.
  bulkload/redact.py: a registered value's UTF-8 bytes read as Latin-1 or Windows-1252 are masked too."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from test_secret_echoes import refused_with

from bulkload import redact

SECRET = "sëcret-ø€-Q7zX\u2019Kx"


def misread(value: str, charset: str) -> str:
    """`value`'s UTF-8 bytes as a server reading them in `charset` shows them (an undefined byte as Latin-1)."""
    return "".join(bytes([b]).decode(charset, "ignore") or chr(b) for b in value.encode())


@pytest.mark.parametrize("charset", ["latin-1", "cp1252"])
def test_a_credential_read_in_another_charset_is_masked(charset: str) -> None:
    redact.register(SECRET)
    assert redact.redact(f"api_secret: {misread(SECRET, charset)}; rejected") == "api_secret: ***; rejected"
    assert redact.redact("Ã© and â‚¬ of no credential") == "Ã© and â‚¬ of no credential"


@pytest.mark.parametrize("charset", ["latin-1", "cp1252"])
async def test_a_refusal_quoting_the_secret_misread_leaves_it_nowhere(tmp_path: Path, charset: str) -> None:
    echoed = misread(SECRET, charset)
    answer = {"message": f"invalid api_secret: {echoed}"}
    written = await refused_with(tmp_path, SECRET, lambda: web.json_response(answer, status=400))
    seen = {p.name: p.read_bytes() for p in written}
    assert any(b"invalid api_secret: " in text for text in seen.values()), "the refusal was written nowhere"
    shown = {echoed.encode(), echoed.encode("unicode_escape"), echoed.encode("ascii", "backslashreplace")}
    assert [name for name, text in seen.items() if any(form in text for form in shown)] == []
