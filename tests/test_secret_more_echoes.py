"""Six echoes of a credential the masking missed, each shown in clear in the rejects file, the report, the ledger
and the log. DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t59b, left open by the 2026-12-05 note:
  - JSON-escaped, then URL-encoded (a query string quoting a JSON body: `\\u00f8` as `%5Cu00f8`);
  - percent-encoded or quoted-printable from Latin-1 or Windows-1252, not UTF-8 (`ø` as `%F8`, `=F8`);
  - base64 of a JSON body that escapes the credential's `ø` (`ensure_ascii`, as Python's json and .NET write it);
  - a hex dump of `0x`-prefixed bytes (`0x73 0x6b`, `0x73,0x6b`, as C arrays and debuggers write them);
  - an HTML page that wraps the credential with `<br>` (an error page's long header value).
- Found while adding the `<br>`: the join of a line break with the white space around it started at every space of
  a run and read the run to its end each time; a text of 40,000 spaces and a line break took 15 s to redact, with
  any credential registered, and a padded answer's 64 KiB would take minutes. It starts at a run's first now.
- bulkload/masking.py (`_char_spellings`, `_backslashes`): an escape's backslashes may be percent-encoded, and a
  character of Latin-1 or Windows-1252 its one byte percent-encoded or quoted-printable; bulkload/redact.py
  (`_encoded`, `_JOINS`): the base64 of the value JSON-escaped, `0x` hex dumps, and `<br>` as a line break."""

from __future__ import annotations

import base64
import json
import quopri
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from test_secret_echoes import files_holding

from bulkload import redact

#: a letter beyond ASCII in Latin-1 (`ø`), one in Windows-1252 only (`€`), a quote and a backslash JSON escapes
SECRET = 'sk_live_Q7zXa9Kd2LmN4pR8tV1wø€Y3bC6eH0jF5g"U7iOq\\7zXa9Kd2L'
#: the same, ASCII only: its hex dumps and `<br>` splits are no matter of its letters
ASCII = "sk_live_Q7zXa9Kd2LmN4pR8tV1wY3bC6eH0jF5gU7iOq7zXa9Kd2L"


def _hex_dumps(value: str) -> list[str]:
    raw = value.encode()
    return [sep.join(f"0x{b:02x}" for b in raw) for sep in (" ", ",", ", ", "")] + [" ".join(f"0X{b:02X}" for b in raw)]


def _br_split(value: str) -> list[str]:
    return [
        f"{value[:17]}<br>{value[17:35]}<br>{value[35:]}",
        f"{value[:20]}<BR/>\n{value[20:]}",
        f"{value[:9]}<br />\r\n  {value[9:30]}\n<br>{value[30:]}",
    ]


def _echoes(value: str) -> dict[str, str]:
    escaped = json.dumps(value)[1:-1]
    body = json.dumps({"client_secret": value, "grant": "x"}).encode()
    out = {
        "json, then url": urllib.parse.quote(escaped, safe=""),
        "json, then url twice": urllib.parse.quote(urllib.parse.quote(escaped, safe=""), safe=""),
        "json, then url, as a form": urllib.parse.quote_plus(escaped),
        "json twice, then url": urllib.parse.quote(json.dumps(escaped)[1:-1], safe=""),
        "base64 of a json body": base64.b64encode(body).decode(),
        "base64 of a json body, url-safe": base64.urlsafe_b64encode(b"{ " + body).decode(),
    }
    try:
        out["cp1252, percent"] = urllib.parse.quote(value, safe="", encoding="cp1252")
        out["cp1252, quoted-printable"] = quopri.encodestring(value.encode("cp1252")).decode()
    except UnicodeEncodeError:
        pass
    for i, dump in enumerate(_hex_dumps(value)):
        out[f"0x dump {i}"] = dump
    for i, page in enumerate(_br_split(value)):
        out[f"<br> {i}"] = f"<html><body>X-Token: {page}<br>is not valid</body></html>"
    return out


@pytest.mark.parametrize("value", [SECRET, ASCII], ids=["not ascii", "ascii"])
def test_each_echo_of_a_credential_is_masked(value: str) -> None:
    redact.register(value)
    leaked = {}
    for name, echo in _echoes(value).items():
        shown = redact.redact(f"refused: {echo} (ref 42)")
        middle = echo[len(echo) // 3 : 2 * len(echo) // 3]  # the credential's part of each echo
        if middle in shown or any(piece in shown for piece in ("Q7zXa9Kd2", "N4pR8tV1", "bC6eH0jF")):
            leaked[name] = shown
        assert shown.startswith("refused: ") and shown.endswith(" (ref 42)"), (name, shown)
    assert leaked == {}


def test_latin1_percent_encoding_of_a_credential_is_masked() -> None:
    value = "pässwörd-Q7zXa9Kd2LmN4pR8"
    redact.register(value)
    for echo in (
        urllib.parse.quote(value, encoding="latin-1"),
        urllib.parse.quote(urllib.parse.quote(value, encoding="latin-1")),
        quopri.encodestring(value.encode("latin-1")).decode(),
    ):
        assert redact.redact(f"password={echo};") == "password=***;", echo


def test_text_that_only_looks_like_an_echo_is_left_as_it_is() -> None:
    redact.register(ASCII)
    for text in (
        "<p>line one<br>line two<br/>\n0x73 0x6b 0x5f and %5Cu00f8, %F8 =F8</p>",
        f"{ASCII[:30]}<br>something else entirely",
        " ".join(f"0x{b:02x}" for b in ASCII[:20].encode()) + " 0x00 0x00",
    ):
        assert redact.redact(text) == text


@pytest.mark.parametrize("form", ["<br> 0", "0x dump 2", "json, then url"])
async def test_a_refusal_echoing_the_secret_so_leaves_it_nowhere(tmp_path: Path, form: str) -> None:
    echo = _echoes(SECRET)[form]
    thirds = (echo[: len(echo) // 3].encode(), echo[len(echo) // 3 : 2 * len(echo) // 3].encode())
    assert await files_holding(tmp_path, SECRET, f"refused: {echo}", b"refused", *thirds) == []


def test_long_runs_of_white_space_and_breaks_are_redacted_in_linear_time() -> None:
    """A megabyte of each run, then a line break or another character: before, the spaces alone took hours."""
    code = (
        "from bulkload import redact\n"
        f"redact.register({SECRET!r})\n"
        "for unit, end in ((' ', 'x\\n'), ('\\t', 'x\\n'), ('\\n ', 'x'), (' ', 'x<br>'), ('<br>', 'x'),"
        " ('%5C', 'x'), ('%255C', 'x'), ('0x73 ', 'x')):\n"
        "    text = unit * (1_000_000 // len(unit)) + end\n"
        "    assert redact.redact(text + ' ' + " + repr(SECRET) + ").endswith(' ***'), unit\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_registration_compiles_nothing_and_each_pattern_is_made_once_when_a_text_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A HaloPSA access token is registered between the token's answer and the first call with it, on the event
    loop: four compiles of every value's forms held the run's first call 60 ms (the pattern for URL-encoded escapes
    and the one for overlapping forms, each twice over), and HaloPSA's rolling window kept that gap at every window
    after (benchmark 9: 97.0-97.6 % of the window's minimum). One compile of a token as long as a real JWT (1,000
    characters) takes 0.4 s: a registration makes none, the first text that needs a pattern makes it, once."""
    compiled: list[str] = []
    real = redact.re.compile

    def counting(pattern: str, flags: int = 0) -> re.Pattern[str]:
        if len(pattern) > 1000:  # a credential's forms, not a small helper's
            compiled.append(pattern)
        return real(pattern, flags)

    monkeypatch.setattr(redact.re, "compile", counting)
    redact.register("sk_live_" + ASCII)
    assert compiled == [] and redact.known()
    assert (
        redact.redact("a log line of no credential, 429 after 12 calls")
        == "a log line of no credential, 429 after 12 calls"
    )
    assert compiled == []  # told without the pattern (`_may_hold`)
    assert redact.redact("refused: sk_live_" + ASCII) == "refused: ***"
    assert redact.redact("again: sk_live_" + ASCII) == "again: ***"
    assert len(compiled) == 1
    quoted = urllib.parse.quote(json.dumps("sk_live_" + ASCII + "ø")[1:-1], safe="")
    redact.register("sk_live_" + ASCII + "ø")
    assert len(compiled) == 1
    assert redact.redact(f"q={quoted}") == "q=***"  # the URL-encoded escapes' pattern, made now
    assert redact.redact(f"q={quoted}&again") == "q=***&again"
    assert len(compiled) == 2
