"""A refusal that quotes a credential base64-encoded inside a longer text (a Basic authorization of `key:secret`, a
request dumped in base64) showed it: only the credential encoded alone was masked, and base64 of the same bytes
after one or two others is another text. DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t49e: `Authorization: Basic base64("the-key:" + api_secret)` in a PayorCRM 400 was in the
  files the run wrote. bulkload/redact.py: the base64 a credential's bytes give alone at each
  offset is masked."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from aiohttp import web
from test_secret_echoes import refused_with

from bulkload import redact

SECRET = "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3bC6eH0jF5gU7iO"


@pytest.mark.parametrize("before", ["", "k:", "key:", "the-key:"])
@pytest.mark.parametrize("after", ["", ":x", "\n"])
def test_a_credential_base64_encoded_amid_other_bytes_is_masked(before: str, after: str) -> None:
    redact.register(SECRET)
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(f"{before}{SECRET}{after}".encode()).decode()
        shown = redact.redact(f"Authorization: Basic {encoded}")
        assert "***" in shown and len(shown) < len("Authorization: Basic ") + 20, shown
    text = base64.b64encode(b"hello world, this is no secret at all").decode()
    assert redact.redact(text) == text


async def test_a_refusal_quoting_a_basic_authorization_of_the_secret_leaves_it_nowhere(tmp_path: Path) -> None:
    basic = base64.b64encode(f"the-key:{SECRET}".encode()).decode()
    answer = {"message": f"invalid credentials: Authorization: Basic {basic}"}
    written = await refused_with(tmp_path, SECRET, lambda: web.json_response(answer, status=400))
    seen = {p.name: p.read_bytes() for p in written}
    assert any(b"Authorization: Basic " in text for text in seen.values()), "the refusal was written nowhere"
    assert [name for name, text in seen.items() if basic[12:-4].encode() in text] == []
