"""A credential holding a quote, JSON- or repr-escaped, then HTML-escaped (an error page quoting a JSON body: `"` as
`\\&quot;`, repr()'s `\\'` as `\\&#x27;`), was shown in clear in the rejects file, the report, the ledger and the
log. DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t60a: after the backslash of its escape, a self-escaped character was matched as it is or
  percent-encoded only. bulkload/masking.py (`_char_spellings`): HTML-escaped too."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from test_secret_echoes import files_holding

from bulkload import redact

SECRET = "Q7zXa9Kd2L\"mN4p'R8tV1w/x"


def _echoes(value: str) -> dict[str, str]:
    escaped = json.dumps(value)[1:-1]
    return {
        "json, then html": html.escape(escaped),
        "json twice, then html": html.escape(json.dumps(escaped)[1:-1]),
        "repr, then html": html.escape(repr(value)[1:-1]),
        "json, then html by number": escaped.replace('"', "&#34;").replace("'", "&#39;"),
    }


@pytest.mark.parametrize("form", list(_echoes(SECRET)))
def test_an_escaped_quote_html_escaped_is_masked(form: str) -> None:
    echo = _echoes(SECRET)[form]
    redact.register(SECRET)
    assert redact.redact(f"<pre>token: {echo}</pre>") == "<pre>token: ***</pre>"


async def test_an_error_page_echoing_it_so_leaves_it_nowhere(tmp_path: Path) -> None:
    page = f"<html><body><pre>{{&quot;api_secret2&quot;: &quot;{_echoes(SECRET)['json, then html']}&quot;}}</pre>"
    assert await files_holding(tmp_path, SECRET, page, b"<html>", b"Q7zXa9Kd2L", b"mN4p") == []
