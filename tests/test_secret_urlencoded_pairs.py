"""A credential's letter beyond U+FFFF (a surrogate pair in JSON) or beyond ASCII (its UTF-8 bytes in a bytes
repr()), escaped, then URL-encoded, was shown in clear in the rejects file, the report, the ledger and the log.
DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t60a: bb0e05b masks a JSON escape URL-encoded (`%5Cu00f8`), but the second half of a surrogate
  pair (`%5Cud83d%5Cude00`, a query quoting a JSON body of an emoji) and each UTF-8 byte after the first
  (`%5Cxc3%5Cxb8`) were matched after a backslash as it is only. bulkload/masking.py (`_char_spellings`): each of
  them starts with the backslashes of the escape's first, URL-encoded too.
- t60a too: a credential whose first character is written as an escape URL-encoded, right after text ending in `5C`
  (`A5C%5Cu00f8…`), was shown: the look-behind that keeps a spelling from starting inside a run of `%5C` looked for
  `5C` alone (masking.py, `_NOT_MID_URLENCODED_RUN`, now `%5C` whole)."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from test_secret_echoes import files_holding

from bulkload import redact

#: an emoji (a surrogate pair in JSON), a letter of Latin-1 and one of no single-byte charset
SECRET = "emoji😀-Q7zXa9Kd2L-ø中-mN4pR8tV1w"


def _echoes(value: str) -> dict[str, str]:
    escaped = json.dumps(value)[1:-1]
    as_bytes = repr(value.encode())[2:-1]
    return {
        "json, then url": urllib.parse.quote(escaped, safe=""),
        "json, then a form": urllib.parse.quote_plus(escaped),
        "json twice, then url": urllib.parse.quote(json.dumps(escaped)[1:-1], safe=""),
        "json, then url twice": urllib.parse.quote(urllib.parse.quote(escaped, safe=""), safe=""),
        "bytes repr, then url": urllib.parse.quote(as_bytes, safe=""),
    }


@pytest.mark.parametrize("form", list(_echoes(SECRET)))
def test_an_escape_of_a_pair_or_of_utf8_bytes_url_encoded_is_masked(form: str) -> None:
    echo = _echoes(SECRET)[form]
    redact.register(SECRET)
    assert redact.redact(f"GET /x?q={echo}&page=2 refused") == "GET /x?q=***&page=2 refused"


async def test_a_refusal_echoing_it_so_leaves_it_nowhere(tmp_path: Path) -> None:
    echo = _echoes(SECRET)["json, then url"]
    answer = f"refused: q={echo}"
    assert await files_holding(tmp_path, SECRET, answer, b"refused", b"Q7zXa9Kd2L", b"%5Cude00") == []


@pytest.mark.parametrize("before", ["A5C", "x255C", "%2525", "ref=95c"])
def test_an_escape_url_encoded_after_text_ending_in_5c_is_masked(before: str) -> None:
    # t60a: the check that no spelling starts inside a run of percent-encoded backslashes looked behind for `5C`
    # only, so text ending in it (a hex id) right before the credential's first escape kept it in clear
    secret = "ø" + SECRET  # its first character written as an escape
    echo = _echoes(secret)["json, then url"]
    redact.register(secret)
    assert redact.redact(f"GET /x?q={before}{echo}&page=2") == f"GET /x?q={before}***&page=2"
