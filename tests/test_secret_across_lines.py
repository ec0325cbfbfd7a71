"""A refusal that quotes a credential wrapped across lines (an answer wrapping its text at a width, as a diagnostic
dump does) showed it in pieces, whole but for the line breaks, in the rejects or in-doubt file, the ledger and the
log. DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t49e: a PayorCRM 400 echoing the request's headers in lines of 20 characters left the api_secret
  split over three lines in the in-doubt file, the ledger and the --log-file; an e-conomic one the
  X-AppSecretToken in the rejects file; and a JSON log line its pieces joined by `\\n` escapes.
  bulkload/redact.py: a registered form split by line breaks, real or escaped, is masked whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from aiohttp import web
from test_secret_echoes import refused_with

from bulkload import redact

SECRET = "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3bC6eH0jF5gU7iO"


def wrapped(text: str, width: int, brk: str = "\n") -> str:
    return brk.join(text[i : i + width] for i in range(0, len(text), width))


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\\n", "\n    "])
def test_a_credential_split_across_lines_is_masked_whole(brk: str) -> None:
    redact.register(SECRET, "gr ant%2B")
    for width in (7, 20, 41):
        shown = redact.redact(wrapped(f"api_secret: {SECRET}; grant: gr ant%2B; the end", width, brk))
        joined = shown.replace(brk, "").replace("\n", "").replace("\r", "").replace(" ", "")
        assert SECRET[1:-1] not in joined and "grant%2" not in joined, shown
        assert joined.endswith("theend"), shown


def test_a_text_without_a_credential_keeps_its_lines() -> None:
    redact.register(SECRET)
    text = "line one\nline two\\nthree\r\n  indented"
    assert redact.redact(text) == text


async def test_a_refusal_wrapping_the_secret_across_lines_leaves_it_nowhere(tmp_path: Path) -> None:
    echo = wrapped(f"Host: 127.0.0.1\napi_key: the-key\napi_secret: {SECRET}\nContent-Type: application/json", 20)
    written = await refused_with(tmp_path, SECRET, lambda: web.Response(status=400, text=f"error:\n{echo}"))
    seen = {p.name: p.read_bytes().replace(b"\r", b"").replace(b"\n", b"").replace(b"\\n", b"") for p in written}
    ledger = sqlite3.connect(tmp_path / "run.sqlite")
    seen["ledger"] = repr(ledger.execute("SELECT error FROM chunks").fetchall()).encode().replace(b"\\n", b"")
    ledger.close()
    assert any(b"HTTP 400: error:" in text for text in seen.values()), "the refusal was written nowhere"
    assert [name for name, text in seen.items() if SECRET[4:-4].encode() in text] == []


@pytest.mark.parametrize("wrapped", ["%5\nCu00f8", "%\r\n5Cu00f8", "%5=\nCu00f8", "%5<br>Cu00f8", "%25\n5Cu00f8"])
def test_a_break_inside_the_urlencoded_backslash_of_an_escape_is_masked(wrapped: str) -> None:
    """A form quoted in a URL, its JSON escapes URL-encoded (`%5Cu00f8`), wrapped at a width that split the `%5C`
    itself: the text held no whole `%5C`, and its lines joined again were read with the pattern that finds no escape
    URL-encoded; the credential was shown (tester t61c). bulkload/redact.py `_split_by_breaks`."""
    redact.register("øsecretvalue42")
    assert redact.redact(f"x={wrapped}secretvalue42 end") == "x=*** end"
