"""A text holding a long run of backslashes (a message JSON-escaped over and over, an odd answer of 1 MB) made
`redact` and `scrub` read the run again from each of its backslashes: n²/2 steps, of any registered credential
(40,000 backslashes took 23 s, 1 MB hours), at each of the several places a refusal is redacted, so a load stalled
on one such answer. DESIGN: masking never hangs.

- Found by tester t59b. bulkload/masking.py (`spelled`): a spelling starts nowhere inside a run of backslashes but
  at its first, where all that matches from inside it matches too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from test_secret_echoes import refused_with

from bulkload import redact
from bulkload.masking import masked_secret_keys, scrub

SECRET = "sec+SECRET/zz9=="


def test_a_credential_after_a_run_of_backslashes_is_masked_the_run_kept() -> None:
    redact.register(SECRET)
    assert redact.redact("x " + "\\" * 6 + SECRET + " y") == "x " + "\\" * 6 + "*** y"
    assert redact.redact('x "' + "\\" * 7 + '"' + SECRET + " y") == 'x "' + "\\" * 7 + '"*** y'
    escaped = "\\\\\\\\u002B".join(SECRET.split("+"))  # `+` JSON-escaped as \u002B, then escaped twice over
    assert redact.redact("x " + escaped + " y") == "x *** y"
    assert scrub("x " + "\\" * 6 + SECRET + " y", [SECRET]) == "x " + "\\" * 6 + "*** y"


def test_a_megabyte_of_backslashes_is_read_at_once() -> None:
    """In a process of its own, bounded: before, hours (each backslash a start that read the run to its end)."""
    code = (
        "from bulkload import redact\n"
        "from bulkload.masking import scrub\n"
        f"redact.register({SECRET!r})\n"
        "text = '\\\\' * 1_000_000 + ' ' + " + repr(SECRET) + "\n"
        "assert redact.redact(text) == '\\\\' * 1_000_000 + ' ***'\n"
        f"assert scrub(text, [{SECRET!r}]) == '\\\\' * 1_000_000 + ' ***'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


async def test_a_refusal_of_many_backslashes_quoting_the_secret_leaves_it_nowhere(tmp_path: Path) -> None:
    """Before, each redaction of the answer's first 64 KiB took a minute: the load outlived its bound."""
    body = '{"error": "invalid", "detail": "invalid api_secret ' + SECRET + " " + "\\\\" * 40_000 + '"}'
    written = await refused_with(
        tmp_path, SECRET, lambda: web.Response(text=body, status=400, content_type="application/json")
    )
    seen = {p.name: p.read_bytes() for p in written}
    assert any(b"invalid api_secret" in text for text in seen.values()), "the refusal was written nowhere"
    assert [name for name, text in seen.items() if b"SECRET/zz9" in text] == []


def test_a_key_named_secret_is_masked_at_every_level_of_escaping_beside_a_run() -> None:
    for q in ('"', '\\"', '\\\\\\"', "'"):
        text = f"{q}api_secret{q}: {q}abcd{q}, {q}n{q}: {q}v{q} " + "\\" * 9
        assert masked_secret_keys(text) == f"{q}api_secret{q}: {q}***{q}, {q}n{q}: {q}v{q} " + "\\" * 9
    assert masked_secret_keys('x\\\\"api_secret": "abcd"') == 'x\\\\"api_secret": "***"'


def test_a_megabyte_of_backslashes_beside_a_quote_is_read_at_once() -> None:
    """In a process of its own, bounded: before, hours (masking.masked_secret_keys read the run again from each of
    its backslashes, looking for a quoted key); 60,000 backslashes in a refusal took 19 s."""
    code = (
        "from bulkload import redact\n"
        "from bulkload.masking import masked_secret_keys\n"
        "text = '{\"api_secret\": \"abcd\"} ' + '\\\\' * 1_000_000\n"
        "assert masked_secret_keys(text) == '{\"api_secret\": \"***\"} ' + '\\\\' * 1_000_000\n"
        f"redact.register({SECRET!r})\n"
        "assert redact.redact(text) == '{\"api_secret\": \"***\"} ' + '\\\\' * 1_000_000\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


#: a credential holding backslashes, two of them together, and a quote (each escaped in its own way)
WITH_BACKSLASHES = 'Kd7\\\\pQ"9zX\\a1/'


def test_a_credential_holding_backslashes_is_masked_however_often_escaped() -> None:
    redact.register(WITH_BACKSLASHES)
    text = WITH_BACKSLASHES
    for _ in range(5):
        shown = redact.redact(f"x {text} y")
        assert "***" in shown and "Kd7" not in shown and "9zX" not in shown, shown
        text = json.dumps(text)
    assert redact.redact("x " + repr(WITH_BACKSLASHES) + " y") == "x '***' y"


def test_a_near_miss_of_a_credential_holding_backslashes_is_left_at_once() -> None:
    """In a process of its own, bounded: before, its first letters and 2,000 backslashes took 40 s (each of the
    value's backslashes took any part of the run), and the 64 KiB a message is read of far longer."""
    code = (
        "from bulkload import redact\n"
        f"redact.register({WITH_BACKSLASHES!r})\n"
        "text = 'Kd7' + '\\\\' * 60_000 + 'Q'\n"
        "assert redact.redact(text) == text\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("before", ["%5C", "%5C%5C%5C", "%255C", "\\", "\\\\\\"])
def test_a_credential_starting_with_a_backslash_after_text_ending_in_backslashes_is_masked(before: str) -> None:
    """A credential whose first character is a backslash, escaped (and URL-encoded: `%5C%5Cabcd`) right after text
    ending in an odd run of backslashes (`C:\\dir\\`, `%5C`): the run then has an odd count that no escaping of the
    credential gives, and `_NOT_MID_RUN` / `_NOT_MID_URLENCODED_RUN` keep a match from starting inside it, where the
    full regex without them would mask it (tester t61c). Its rest is masked there: the value without its first
    backslashes is registered too (redact.register), which keeps the regex linear in a run's length."""
    redact.register("\\abcdsecret9")
    for credential in ("%5C%5Cabcdsecret9", "%5Cabcdsecret9", "\\\\abcdsecret9", "\\abcdsecret9"):
        if ("%" in before) == ("%" in credential):
            assert "abcdsecret9" not in redact.redact(f"path={before}{credential} end")
