"""A PayorCRM refusal that quotes the api_secret in a form the masking missed left it in clear in the rejects file,
the report, the ledger and the log. DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t22a: percent-encoded with lower-case hex digits (`%2b`, `%2f`, `%3d`, as .NET's
  HttpUtility.UrlEncode writes them; RFC 3986 §2.1: upper- and lower-case hex digits in a percent-encoding are
  equivalent). bulkload/redact.py: every registered value is shown as *** "as written, URL-encoded …".
- Found by tester t29b: in another letter case (a server that upper-cases a header's value in its diagnostics): a hex
  or lower-case key (seed 004's `api_secret: 6ed0a…`) so echoed is the key all the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import serving
from test_load_payorcrm import write
from test_payorcrm_answers import Handler, crm_app

from bulkload import Job, load, redact
from bulkload.masking import scrub

SECRET = "sec+SECRET/zz9=="
ECHOED = "sec%2bSECRET%2fzz9%3d%3d"
HEX_SECRET = "6ed0a9c1E2bf4d3bad/S3cr+et"


async def leaked_after(tmp_path: Path, secret: str, detail: str) -> list[str]:
    """Load one customer against a PayorCRM app that refuses every call quoting `detail`; the files written that
    hold `detail` (the echo of `secret`)."""
    refusal = web.json_response({"error": "invalid credentials", "detail": detail}, status=400)
    written = await refused_with(tmp_path, secret, lambda: refusal)
    assert any(b"api_secret=" in p.read_bytes() for p in written), "the refusal was written nowhere"
    return [p.name for p in written if detail.encode() in p.read_bytes()]


async def refused_with(tmp_path: Path, secret: str, answer: Callable[[], web.Response]) -> list[Path]:
    """Load one customer (api_secret `secret`) against a PayorCRM app that answers every upload `answer()`; the
    files the load wrote."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        return answer()

    data = write(tmp_path / "c.csv", ["customerno", "emailaddress1"], [["C1", "c1@example.com"]])
    with anyio.fail_after(30):
        async with serving(crm_app(rule)) as url:
            job = Job(
                target="payorcrm",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=str(tmp_path / "rejects.csv"),
                report=str(tmp_path / "report.json"),
                target_options={"kind": "customers"},
            )
            await load(job, env={"PAYORCRM_API_KEY": "the-key", "PAYORCRM_API_SECRET": secret}, raise_on_stop=False)
    return [p for p in tmp_path.iterdir() if p.is_file()]


async def files_holding(tmp_path: Path, secret: str, answer: str, marker: bytes, *pieces: bytes) -> list[str]:
    """Load one customer (api_secret `secret`) against a PayorCRM app that refuses every upload with the text
    `answer` (status 400); the names of the files written that hold any of `pieces`, once `marker` (a part of the
    answer no credential is in) is seen written in one: a refusal written nowhere proves nothing."""
    written = await refused_with(tmp_path, secret, lambda: web.Response(text=answer, status=400))
    seen = {p.name: p.read_bytes() for p in written}
    assert any(marker in text for text in seen.values()), "the refusal was written nowhere"
    return [name for name, text in seen.items() if any(piece in text for piece in pieces)]


def test_a_credential_percent_encoded_in_lower_case_hex_is_masked() -> None:
    redact.register(SECRET)
    assert ECHOED not in redact.redact(f"api_secret={ECHOED} was not accepted")


async def test_a_refusal_quoting_the_secret_in_lower_case_hex_leaves_it_nowhere(tmp_path: Path) -> None:
    assert await leaked_after(tmp_path, SECRET, f"api_key=the-key&api_secret={ECHOED} was not accepted") == []


@pytest.mark.parametrize("fold", [str.upper, str.lower, str.swapcase])
def test_a_credential_in_another_case_is_masked(fold: Callable[[str], str]) -> None:
    echoed = fold(HEX_SECRET)
    redact.register(HEX_SECRET)
    assert echoed not in redact.redact(f"header api_secret={echoed} rejected")
    assert scrub(f"password {echoed} refused", [HEX_SECRET]) == "password *** refused"


async def test_a_refusal_quoting_the_secret_upper_cased_leaves_it_nowhere(tmp_path: Path) -> None:
    assert await leaked_after(tmp_path, HEX_SECRET, f"header api_secret={HEX_SECRET.upper()} rejected") == []


#: a secret whose start shows were an answer cut through it
CANARY = "Zq9-canary-Secret-77"


@pytest.mark.parametrize("into", [5, 10, 19])
async def test_an_answer_cut_through_the_credential_it_quotes_shows_no_part_of_it(tmp_path: Path, into: int) -> None:
    # tester t36f: a refusal of no JSON was cut to its first 200 characters before it was masked; a credential the
    # cut went through was no longer found whole, and its start was shown (all but its last character, at `into` 19)
    text = "Refused. " + "." * (200 - 9 - len("api_secret=") - into) + f"api_secret={CANARY} is not valid"
    written = await refused_with(tmp_path, CANARY, lambda: web.Response(status=400, text=text))
    assert any(b"Refused. ...." in p.read_bytes() for p in written), "the refusal was written nowhere"
    assert [p.name for p in written if CANARY[:5].encode() in p.read_bytes()] == []


async def test_a_refusal_in_utf_16_shows_the_credential_it_quotes_nowhere(tmp_path: Path) -> None:
    # tester t36f: .NET's `charset=utf-16` answer, read as UTF-8, held a NUL between every two letters, and the
    # credential it quoted was not found: shown with a NUL between each two of its characters
    said = json.dumps({"message": f"api_secret {CANARY} is not valid"}).encode("utf-16-le")

    def answer() -> web.Response:
        return web.Response(status=400, body=said, content_type="application/json", charset="utf-16-le")

    written = await refused_with(tmp_path, CANARY, answer)
    assert any(b"is not valid" in p.read_bytes() for p in written), "the refusal was written nowhere"
    assert [p.name for p in written if CANARY[:5].encode() in p.read_bytes().replace(b"\x00", b"")] == []


#: a secret beyond ASCII, its tail in ASCII: a bytes repr() of it shows the tail as it is
UTF8_SECRET = "Sëcret€-bytes-canary-88"


@pytest.mark.parametrize(
    "echo",
    [
        lambda text: repr(text.encode()),  # a Python server quoting the request's raw bytes
        lambda text: "".join(f"\\x{byte:02x}" for byte in text.encode()),  # a C string of every byte
        lambda text: "".join(f"\\U{ord(char):08x}" for char in text),  # every character as Python's \U escape
    ],
    ids=["bytes-repr", "c-string", "U-escapes"],
)
def test_a_credential_beyond_ascii_echoed_as_escaped_bytes_is_masked(echo: Callable[[str], str]) -> None:
    # tester t54b: a server quoting the request's headers as a bytes repr() (`S\xc3\xabcret\xe2\x82\xac-…`) showed a
    # credential holding `ë` or `€` in clear: its UTF-8 bytes as `\xXX` were no spelling masking knew
    redact.register(UTF8_SECRET)
    shown = redact.redact(f"refused: {echo('api_secret: ' + UTF8_SECRET)} is not valid")
    assert echo(UTF8_SECRET)[-20:] not in shown and "canary" not in shown
    assert "***" in shown


async def test_a_refusal_quoting_the_request_as_bytes_shows_the_credential_nowhere(tmp_path: Path) -> None:
    detail = repr(f"api_key=the-key&api_secret={UTF8_SECRET}".encode())
    written = await refused_with(
        tmp_path, UTF8_SECRET, lambda: web.json_response({"error": "invalid credentials", "detail": detail}, status=400)
    )
    assert any(b"api_secret=" in p.read_bytes() for p in written), "the refusal was written nowhere"
    assert [p.name for p in written if b"canary" in p.read_bytes()] == []


@pytest.mark.parametrize("separator", [" ", ":", "-"])
async def test_a_refusal_dumping_the_request_in_hex_a_byte_apart_shows_the_credential_nowhere(
    tmp_path: Path, separator: str
) -> None:
    # tester t54b: a diagnostic dumping the request's bytes in hex, a space or a colon between two (`61 70 69 …`,
    # Wireshark's `61:70:69`), showed the credential whole: only its hex with nothing between was masked
    detail = f"api_key=the-key&api_secret={CANARY}".encode().hex(separator).upper()
    written = await refused_with(
        tmp_path, CANARY, lambda: web.json_response({"error": "invalid credentials", "detail": detail}, status=400)
    )
    quoted = b"api_secret=".hex(separator).upper().encode()
    assert any(quoted in p.read_bytes().upper() for p in written), "the refusal was written nowhere"
    shown = CANARY.encode().hex(separator).upper()[:-6].encode()
    assert [p.name for p in written if shown in p.read_bytes().upper()] == []
