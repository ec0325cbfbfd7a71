"""Hostile servers: answers longer than a call can ask for, answers that are not what the API documents, token
answers that are no token, addresses that lead nowhere. Each ends in a clear message and the exit code the README
gives it, never a traceback, and never a row in doubt that was not sent."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import sqlite3
import ssl
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web
from conftest import child_env, serving
from hostile import CREDENTIALS, Answer, Hostile, environment, load_args, report_of, served

from benchmarks.common import measure
from bulkload.cli import main
from bulkload.errors import AnswerTooLarge, BadAnswer, ConnectError, MaybeSentError, ServerError, Unreachable
from bulkload.http import Client, decoded
from bulkload.sandbox.hostile import self_signed_context

MB = 1024 * 1024
#: the most a run that meets a 50 MB answer may hold at its peak (kB): a run costs ~60 MB; reading the answer
#: whole costs twice the answer on top
RSS_BOUND_MB = 150


# --- answers read up to a cap ----------------------------------------------------------------------------------


def streaming_app(total: int, *, status: int = 200, claimed: bool = False) -> tuple[web.Application, dict[str, int]]:
    """Answers every call with `total` bytes, written 1 MB at a time (chunked, or with its Content-Length)."""
    written = {"bytes": 0}

    async def handle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status)
        if claimed:
            resp.content_length = total
        await resp.prepare(request)
        piece = b" " * MB
        try:
            while written["bytes"] < total:
                await resp.write(piece)
                written["bytes"] += len(piece)
        except ConnectionError:
            pass  # the client went away: what it read is all it wanted
        return resp

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app, written


@pytest.mark.parametrize("claimed", [False, True], ids=["chunked", "content-length"])
async def test_a_2xx_answer_past_the_calls_cap_is_refused_without_reading_the_rest(claimed: bool) -> None:
    app, written = streaming_app(50 * MB, claimed=claimed)
    async with serving(app) as origin, Client(origin, {}) as client:
        with pytest.raises(AnswerTooLarge) as caught:
            await client.send("GET", "/draft-entries/paged", max_bytes=MB)
        with pytest.raises(AnswerTooLarge) as write:
            await client.send("POST", "/draft-entries/bulk", body=b"[]", max_bytes=MB)
    text = str(caught.value)
    assert "GET /draft-entries/paged" in text and "1 MB" in text, text
    assert ("Content-Length says 52,428,800 bytes" in text) == claimed, text
    # a read's answer leaves nothing in doubt; a write's may have been acted on
    assert not caught.value.acted_on and write.value.acted_on
    # the server could write the socket buffers full and no more: the rest was never read
    assert written["bytes"] < 20 * MB, written


async def test_a_compressed_answer_is_capped_as_it_expands() -> None:
    """256 MB of spaces gzip-compressed to 256 KB: the cap counts what the answer expands to, not what it weighs."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(b" " * MB) for _ in range(256)) + packer.flush()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    app = web.Application()
    app.router.add_get("/x", handle)
    async with serving(app) as origin, Client(origin, {}) as client:
        with pytest.raises(AnswerTooLarge) as caught:
            await client.send("GET", "/x", max_bytes=MB)
    assert len(bomb) < MB and "GET /x answered more than the 1 MB" in str(caught.value)


async def test_an_error_answer_past_the_cap_keeps_its_status() -> None:
    app, _ = streaming_app(20 * MB, status=503)
    async with serving(app) as origin, Client(origin, {}) as client:
        with pytest.raises(ServerError) as caught:
            await client.send("GET", "/x", max_bytes=MB)
    assert caught.value.status == 503 and caught.value.retryable


async def test_an_answer_whose_headers_are_too_large_is_a_lost_answer_in_our_words() -> None:
    async def huge(request: web.Request) -> web.Response:
        return web.Response(text="{}", headers={"X-Huge": "a" * 100_000})

    app = web.Application()
    app.router.add_get("/x", huge)
    async with serving(app) as origin, Client(origin, {}) as client:
        with pytest.raises(MaybeSentError) as caught:
            await client.send("GET", "/x")
    said = str(caught.value)
    assert "GET /x: the answer's headers were too large to read" in said, said
    assert "ClientResponseError" not in said and "message=" not in said and caught.value.retryable


async def test_no_answer_within_the_timeout_says_the_timeout_given() -> None:
    # found by a tester: --timeout 0.5 was told as "no answer within 0 s"
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="{}")

    app = web.Application()
    app.router.add_get("/x", silent)
    async with serving(app) as origin, Client(origin, {}, timeout_s=0.25) as client:
        with pytest.raises(MaybeSentError, match=r"GET /x: no answer within 0\.25 s"):
            await client.send("GET", "/x")


async def test_an_answer_that_comes_too_slowly_is_said_to_have_begun() -> None:
    # found by a tester (t70e): a server that sent its head at once and then its body a byte at a time (slow-loris)
    # was told as "no answer within 60 s", as if none had come
    async def dribbling(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=200)
        resp.content_length = 100
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b" ")
            await asyncio.sleep(0.1)
        return resp

    app = web.Application()
    app.router.add_get("/x", dribbling)
    async with serving(app) as origin, Client(origin, {}, timeout_s=0.25) as client:
        with pytest.raises(MaybeSentError) as caught:
            await client.send("GET", "/x")
    said = str(caught.value)
    assert said.startswith("GET /x: its answer (HTTP 200) began but did not arrive whole within 0.25 s"), said


@pytest.mark.parametrize(
    ("body", "into", "said"),
    [
        (b"<!DOCTYPE html><html>Sign in</html>", int, "JSON is malformed"),
        (b'"12.0"', int, "Expected `int`, got `str`"),  # "12" is read as 12 (quoted_ids)
        (b'[{"voucherNumber": 1}]', list[dict[str, int]] | None, ""),
        (b'{"items": [{"voucherNumber": 1}]}', "paged", "missing required field `entryNumber`"),
        (b"", int, "it is empty"),
        # an empty 2xx body is no JSON text: before, msgspec's "Input data was truncated" said it was cut short (t73b)
        (b"", int, "(no JSON text where the API documents one; it is empty)"),
        (b" \r\n", int, "(no JSON text where the API documents one; it is empty)"),
    ],
)
def test_an_answer_that_is_not_what_the_api_documents_names_the_call_and_what_was_wrong(
    body: bytes, into: object, said: str
) -> None:
    from bulkload.targets.economic import _Paged

    kind = _Paged if into == "paged" else into
    if not said:  # what does decode is returned as it is
        assert decoded(body, kind, "GET /x") == [{"voucherNumber": 1}]
        return
    with pytest.raises(BadAnswer) as caught:
        decoded(body, kind, "GET /draft-entries/count")
    assert "GET /draft-entries/count" in str(caught.value) and said in str(caught.value), str(caught.value)
    assert not caught.value.acted_on


# --- addresses that lead nowhere ------------------------------------------------------------------------------


async def test_nothing_listening_is_a_wrong_address_on_the_first_call_and_a_restart_later(closed_port: int) -> None:
    async with Client(f"http://127.0.0.1:{closed_port}", {}) as client:
        with pytest.raises(Unreachable) as caught:
            await client.send("GET", "/x")
        assert f"nothing listens at 127.0.0.1:{closed_port}" in str(caught.value)
        client.answered = True  # the API answered an earlier call of the run: now it is restarting
        with pytest.raises(ConnectError) as later:
            await client.send("GET", "/x")
    assert not isinstance(later.value, Unreachable) and later.value.retryable


async def test_a_name_that_does_not_resolve_is_a_wrong_address() -> None:
    async with Client("https://nonexistent.invalid", {}) as client:
        with pytest.raises(Unreachable) as caught:
            await client.send("GET", "/x")
    assert "nonexistent.invalid does not resolve" in str(caught.value), str(caught.value)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    return self_signed_context(tmp_path_factory.mktemp("tls"))


async def test_a_certificate_that_does_not_verify_is_a_wrong_address_at_any_call(self_signed: ssl.SSLContext) -> None:
    app, _ = streaming_app(10)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed)
        await site.start()
        async with Client(f"https://127.0.0.1:{runner.addresses[0][1]}", {}) as client:
            client.answered = True  # later in a run too: a certificate that does not verify never will
            with pytest.raises(Unreachable) as caught:
                await client.send("GET", "/x")
    finally:
        await runner.cleanup()
    assert "certificate does not verify" in str(caught.value) and "self-signed" in str(caught.value), caught.value


async def test_https_to_a_server_of_plain_http_says_to_try_http() -> None:
    # OpenSSL's "wrong version number" alone (a tester: --base-url https:// at a sandbox of plain HTTP) leaves the
    # user to guess that the server there speaks no TLS
    app, _ = streaming_app(10)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with Client(f"https://127.0.0.1:{port}", {}) as client:
            with pytest.raises(Unreachable) as caught:
                await client.send("GET", "/x")
    finally:
        await runner.cleanup()
    said = str(caught.value)
    assert "no TLS connection could be made" in said and f"the address is http://127.0.0.1:{port}/" in said, said


# --- whole runs: the exit code and the message --------------------------------------------------------------------


def run(args: list[str], target: str, capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The CLI in this process; (exit code, what it wrote)."""
    capfd.readouterr()
    with environment(CREDENTIALS[target]):
        code = main(args)
    out = capfd.readouterr()
    return code, out.out + out.err


def chunk_states(ledger: Path) -> list[str]:
    with sqlite3.connect(ledger) as db:
        return [state for (state,) in db.execute("SELECT state FROM chunks ORDER BY seq")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "answer", "said"),
    [
        (
            "/paged",
            Answer(body=b"<html><body>Sign in</body></html>", content_type="text/html"),
            "GET /draft-entries/paged: the answer is not what the API documents (JSON is malformed",
        ),
        ("/paged", Answer(body=b'[{"voucherNumber": 1, "amount": 5}]'), "missing required field `entryNumber`"),
        (
            "/count",
            Answer(body=b'"many"'),
            "GET /draft-entries/count: the answer is not what the API documents (Expected `int`",
        ),
        # t25: a page where JSON belongs is most often another server's: the message asks about the address
        ("/count", Answer(body=b"<html></html>", content_type="text/html"), "a page where the API answers JSON, is "),
        ("/paged", Answer(stream=50 * MB), "GET /draft-entries/paged answered more than the 64 KB"),
    ],
    ids=["baseline-html", "baseline-no-entryNumber", "count-not-a-number", "count-html", "baseline-50MB"],
)
def test_an_economic_read_answered_with_what_it_cannot_read_stops_the_run_exit_4(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], where: str, answer: Answer, said: str
) -> None:
    api = Hostile("economic", lambda method, path, n: answer if path.endswith(where) else None)
    with served(api.app()) as origin:
        code, out = run(load_args("economic", origin, tmp_path), "economic", capfd)
    assert code == 4, out
    assert said in out, out
    report = report_of(tmp_path)
    # the run's report says so, and nothing is in doubt: stopped in setup before a row was read, or at a chunk's
    # baseline with the rows read not yet sent
    assert report is not None and report["status"] == "stopped" and report["exit_code"] == 4
    assert (report["in_doubt"], report["loaded"], report["skipped"], report["rows_read"]) == (0, 0, 0, 0), report
    assert report["rows_not_sent"] == 4, report
    # the read's own failure, not retried: said as the call's, not as a chunk given up on
    assert report["stop_reason"].startswith("GET /draft-entries/"), report["stop_reason"]
    assert chunk_states(tmp_path / "run.sqlite") in ([], ["pending"]), "a chunk never sent must stay unsent"
    assert not any(method == "POST" for method, _ in api.calls), api.calls
    assert api.streamed < 20 * MB


@pytest.mark.slow
def test_a_walked_entry_whose_amount_no_64_bit_integer_holds_stops_the_reconciliation_in_our_words(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # before: "internal error (a bug in bulkload): OverflowError" from the ledger, where the API listed 1e30
    def huge(body: bytes) -> bytes:
        return re.sub(rb'"amount":\s*-?[0-9.]+', b'"amount": 1e30', body, count=1)

    api = Hostile("economic", lambda method, path, n: Answer(rewrite=huge) if path.endswith("/draft-entries") else None)
    with served(api.app()) as origin:
        code, out = run(load_args("economic", origin, tmp_path), "economic", capfd)
    assert code == 4 and "internal error" not in out, out
    assert "GET /draft-entries: the answer is not what the API documents (entry 1 has the amount 1E+30" in out, out


@pytest.mark.slow
def test_a_write_answered_past_its_cap_is_in_doubt_and_resume_replays_its_key(tmp_path: Path) -> None:
    """Run as a child process, so its peak RSS is its own: a 50 MB answer to the bulk POST is read up to the 2 MB
    cap; the call may have been carried out, so its rows are in doubt until resume sends it again with its key."""
    state = {"hostile": True}
    api = Hostile(
        "economic", lambda method, path, n: Answer(stream=50 * MB) if state["hostile"] and method == "POST" else None
    )
    with served(api.app()) as origin:
        # its process tree's RSS sampled (a fork of this pytest process would count in the child's own maxrss)
        run = measure(
            [sys.executable, "-m", "bulkload", *load_args("economic", origin, tmp_path)],
            env=child_env(CREDENTIALS["economic"]),
            stderr=tmp_path / "err.txt",
            timeout_s=120,
        )
        report = report_of(tmp_path)
        said = run["said"]
        assert run["exit"] == 4, said
        assert report is not None and (report["in_doubt"], report["loaded"]) == (4, 0), report
        assert "answered more than the 2 MB bulkload reads of that call" in report["stop_reason"], report
        assert "Traceback" not in said and api.streamed < 20 * MB, (said, api.streamed)
        # reading the 50 MB whole (as before) costs more than 100 MB on top of the ~105 MB of loader and planner
        assert run["peak_rss_mb"] < RSS_BOUND_MB, f"peak RSS {run['peak_rss_mb']:.0f} MB"
        state["hostile"] = False

        def resume(*flags: str) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any]]:
            args = ["resume", "--ledger", str(tmp_path / "run.sqlite"), "--report", str(tmp_path / "resumed.json")]
            done = subprocess.run(
                [sys.executable, "-m", "bulkload", *args, "--no-progress", *flags],
                env=child_env(CREDENTIALS["economic"]),
                capture_output=True,
                timeout=120,
            )
            return done, json.loads((tmp_path / "resumed.json").read_text())

        _, looked = resume()
        assert (looked["loaded"], looked["in_doubt"]) == (0, 4), looked  # looked for: nothing found, no telling
        why = (tmp_path / "e.csv.in_doubt.csv").read_text()
        assert "answered more than the 2 MB" in why and "its key is older" not in why, why  # its key is minutes old
        done, resumed = resume("--resend-in-doubt")
    assert done.returncode == 0, done.stderr
    assert (resumed["loaded"], resumed["in_doubt"], resumed["reconcile"]["ok"]) == (4, 0, True), resumed


@pytest.mark.slow
@pytest.mark.parametrize(("target", "in_doubt", "state"), [("visma-core", 1, "in_doubt"), ("halopsa", 0, "pending")])
def test_a_create_that_cannot_be_repeated_answered_with_what_it_cannot_read_stops_the_run_at_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], target: str, in_doubt: int, state: str
) -> None:
    """Every create is answered 200 with a sign-in page. Before: Visma Core's first create was in doubt and the run
    went on to the next (all in doubt, exit 1); HaloPSA's was looked for, not found and sent again until its
    attempts were spent. As docs/guarantees.md says, the run stops at the first such answer (exit 4), its call settled
    as a lost answer's is: in doubt where nothing can look (Visma Core), sent again by resume where a look found it
    not there (HaloPSA)."""
    page = Answer(body=b"<html><body>Sign in</body></html>", content_type="text/html")

    def is_create(method: str, path: str) -> bool:
        return method == "POST" and not path.endswith("/token")

    api = Hostile(target, lambda method, path, n: page if is_create(method, path) else None)
    with served(api.app()) as origin:
        code, out = run(load_args(target, origin, tmp_path, "--concurrency", "1"), target, capfd)
    report = report_of(tmp_path)
    assert code == 4 and report is not None, out
    assert "the answer is not what the API documents" in report["stop_reason"], report["stop_reason"]
    assert (report["loaded"], report["in_doubt"]) == (0, in_doubt), report
    assert sum(is_create(method, path) for method, path in api.calls) == 1, api.calls
    assert chunk_states(tmp_path / "run.sqlite")[0] == state


#: token answers that are no token: HTML, no access_token, wrong types, expires_in not a number
NO_TOKENS = [
    Answer(body=b"<html><body>Sign in to HaloPSA</body></html>", content_type="text/html"),
    Answer(body=b'{"token_type": "Bearer", "expires_in": 3600}'),
    Answer(body=b'{"access_token": 12345, "expires_in": 3600}'),
    Answer(body=b'{"access_token": "t0k3n-value", "expires_in": "soon"}'),
    Answer(body=b'{"access_token": ""}'),
    Answer(body=b'{"access_token": "t0k3n-value", "token_type": "mac", "expires_in": 3600}'),
    Answer(stream=50 * MB),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "answer",
    NO_TOKENS,
    ids=["html", "no-access-token", "token-a-number", "expires-in-text", "token-empty", "token-type-mac", "50MB"],
)
def test_a_token_answer_that_is_no_token_stops_the_run_and_leaves_the_chunk_unsent(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answer: Answer
) -> None:
    """The first token lives 0 s, so the chunk's call asks for a second one, which is no token: the run stops
    (exit 4) without sending the chunk, nothing is in doubt, and resume sends it once."""
    state = {"hostile": True}

    def rule(method: str, path: str, n: int) -> Answer | None:
        if not path.endswith("/token"):
            return None
        if n == 0:  # the sandbox's own token, said to expire at once
            return Answer(rewrite=lambda body: body.replace(b'"expires_in"', b'"expires_in": 0, "was"'))
        return answer if state["hostile"] else None

    api = Hostile("halopsa", rule)
    with served(api.app()) as origin:
        code, out = run(load_args("halopsa", origin, tmp_path), "halopsa", capfd)
        report = report_of(tmp_path)
        assert code == 4, out
        # the token is checked after each call's wait for a rate slot: the look for existing records (whose skipped
        # rows the report counts) may already need the second token, so it may stop before that look ends
        assert report is not None and (report["in_doubt"], report["loaded"]) == (0, 0), report
        assert "no access token: POST" in report["stop_reason"] and "/auth/token" in report["stop_reason"], report
        # the server's word, not a passing fault: said so, so that resuming is not taken for the cure
        assert "the server's token answer is not usable, and a resume meets it again" in report["stop_reason"], report
        assert report["stop_reason"].count("continue with") == 1, report  # the ledger named once, not twice
        assert set(chunk_states(tmp_path / "run.sqlite")) <= {"pending"}  # planned or not yet, never sent
        assert [p for m, p in api.calls if m == "POST" and not p.endswith("/token")] == [], api.calls
        state["hostile"] = False
        code, out = run(
            [
                "resume",
                "--ledger",
                str(tmp_path / "run.sqlite"),
                "--report",
                str(tmp_path / "r2.json"),
                "--no-progress",
            ],
            "halopsa",
            capfd,
        )
    resumed = json.loads((tmp_path / "r2.json").read_text())
    assert code == 0, out
    assert (resumed["loaded"], resumed["in_doubt"]) == (2, 0), resumed
    assert len([p for m, p in api.calls if m == "POST" and not p.endswith("/token")]) == 1, api.calls


def test_a_token_whose_expires_in_is_a_numeric_string_is_a_token(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """RFC 6749 gives `expires_in` as a number; servers send "3600". Before: no token (exit 4), and resume met the
    same answer for ever."""
    rewritten = {"n": 0}

    def quoted(body: bytes) -> bytes:
        text, n = re.subn(rb'"expires_in":\s*(\d+)', rb'"expires_in":"\1"', body)
        rewritten["n"] += n
        return text

    api = Hostile("halopsa", lambda method, path, n: Answer(rewrite=quoted) if path.endswith("/token") else None)
    with served(api.app()) as origin:
        code, out = run(load_args("halopsa", origin, tmp_path), "halopsa", capfd)
    assert code == 0, out
    assert rewritten["n"] == 1 and [p for _, p in api.calls].count("/auth/token") == 1, api.calls


def test_a_token_that_expires_as_it_is_given_stops_the_run_at_once(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Every token answer says `expires_in: 0`: no token (exit 4), after one token call. Taken for a token, each
    was stale before its call could leave: a tester's run drew 591 token calls in 40 s, no other call, no end."""

    def rule(method: str, path: str, n: int) -> Answer | None:
        if path.endswith("/token"):
            return Answer(rewrite=lambda body: body.replace(b'"expires_in"', b'"expires_in": 0, "was"'))
        return None

    api = Hostile("halopsa", rule)
    with served(api.app()) as origin:
        code, out = run(load_args("halopsa", origin, tmp_path), "halopsa", capfd)
    report = report_of(tmp_path)
    assert code == 4, out
    assert report is not None and "expires_in" in report["stop_reason"], report
    assert len(api.calls) == 1, api.calls
    # the refusal quotes the answer, but not the access token in it
    assert '"access_token":"***"' in report["stop_reason"], report["stop_reason"]
    assert '"access_token":"***"' in out and re.search(r'"access_token": ?"[^*]', out) is None, out


def test_no_token_on_the_runs_first_call_names_the_ledger_to_resume_once(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The first call of the run needs the first token, which is no token: exit 4, and the message says once how to
    continue (it said `continue with `bulkload resume`; continue with `bulkload resume --ledger …``)."""
    api = Hostile("halopsa", lambda method, path, n: NO_TOKENS[0] if path.endswith("/token") else None)
    with served(api.app()) as origin:
        code, out = run(load_args("halopsa", origin, tmp_path), "halopsa", capfd)
    report = report_of(tmp_path)
    assert code == 4, out
    assert report is not None and report["stop_reason"].startswith("no access token: POST"), report
    assert report["stop_reason"].count("continue with") == 1, report["stop_reason"]
    assert report["stop_reason"].endswith(f"continue with `bulkload resume --ledger {tmp_path / 'run.sqlite'}`")


@pytest.mark.slow
def test_a_token_endpoint_that_refuses_the_credentials_is_a_configuration_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    refused = Answer(status=400, body=b'{"error": "invalid_client", "error_description": "bad secret"}')
    api = Hostile("halopsa", lambda method, path, n: refused if path.endswith("/token") else None)
    with served(api.app()) as origin:
        code, out = run(load_args("halopsa", origin, tmp_path), "halopsa", capfd)
    assert code == 2, out
    assert "the token endpoint refused the credentials" in out and "bad secret" in out, out
    assert len(api.calls) == 1, api.calls  # not retried, nothing else sent


@pytest.mark.slow
@pytest.mark.parametrize("target", ["economic", "halopsa", "visma-core", "payorcrm"])
def test_nothing_listening_on_the_first_call_stops_at_once_exit_2(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], closed_port: int, target: str
) -> None:
    code, out = run(load_args(target, f"http://127.0.0.1:{closed_port}", tmp_path, "--attempts", "8"), target, capfd)
    assert code == 2, out
    assert f"nothing listens at 127.0.0.1:{closed_port}" in out and "Traceback" not in out, out
    report = report_of(tmp_path)
    if report is not None:  # PayorCRM's first call is a chunk's: the run's report shows it was not retried
        assert (report["requests"], report["retries"], report["in_doubt"]) == (1, 0, 0), report


@pytest.mark.slow
def test_a_name_that_does_not_resolve_stops_at_once_exit_2(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    args = load_args("payorcrm", "https://nonexistent.invalid", tmp_path, "--attempts", "8")
    code, out = run(args, "payorcrm", capfd)
    report = report_of(tmp_path)
    assert code == 2 and "nonexistent.invalid does not resolve" in out, out
    assert report is not None and (report["requests"], report["retries"]) == (1, 0), report


@pytest.mark.slow
def test_a_certificate_that_does_not_verify_stops_at_once_exit_2(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], self_signed: ssl.SSLContext
) -> None:
    api = Hostile("visma-core")
    with served(api.app(), self_signed) as origin:
        code, out = run(load_args("visma-core", origin, tmp_path, "--attempts", "8"), "visma-core", capfd)
    assert code == 2, out
    assert "TLS certificate does not verify" in out and "nothing was sent" in out, out
    assert api.calls == []  # the handshake failed: no request reached the server


def test_decoders_are_built_once_per_type() -> None:
    from bulkload import http

    decoded(b"1", int, "GET /a")
    decoded(b"2", int, "GET /b")
    assert isinstance(http._decoders[int], msgspec.json.Decoder) and list(http._decoders).count(int) == 1


@pytest.mark.slow
def test_an_unreadable_answer_quoting_a_credential_is_shown_masked(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = CREDENTIALS["halopsa"]["HALO_CLIENT_SECRET"]
    echo = Answer(body=f"<html>client_secret={secret} is not valid here</html>".encode(), content_type="text/html")
    api = Hostile("halopsa", lambda method, path, n: echo if path.endswith("/token") else None)
    with served(api.app()) as origin:
        code, out = run(load_args("halopsa", origin, tmp_path), "halopsa", capfd)
    assert code == 4 and "no access token: POST" in out and "client_secret=***" in out, out
    assert secret not in out


# --- PayorCRM uploads answered 2xx with a body that says they failed ---------------------------------------------


def upload_answer(answer: Answer) -> Hostile:
    """PayorCRM's sandbox whose uploads are answered `answer` (the sandbox stores nothing of them)."""
    return Hostile("payorcrm", lambda method, path, n: answer if method == "POST" else None)


def payorcrm_run(
    tmp_path: Path, api: Hostile, capfd: pytest.CaptureFixture[str], resumed: list[tuple[int, str]] | None = None
) -> tuple[int, str, dict[str, Any]]:
    """`load_args`'s load against `api`; with `resumed`, then `bulkload resume` of its ledger (its exit code and
    what it wrote appended there, its report in resumed.json)."""
    with served(api.app()) as origin:
        code, out = run(load_args("payorcrm", origin, tmp_path), "payorcrm", capfd)
        if resumed is not None:
            again = ["resume", "--ledger", str(tmp_path / "run.sqlite"), "--report", str(tmp_path / "resumed.json")]
            resumed.append(run([*again, "--no-progress"], "payorcrm", capfd))
    report = report_of(tmp_path)
    assert report is not None and "Traceback" not in out, out
    assert api.calls == [("POST", "/jsonApi/upload/customers")], api.calls  # one call of both rows, never sent again
    return code, out, report


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"status": "error", "message": "Upload failed: duplicate invoiceNumber", "data": null}', "duplicate"),
        (b'{"success": "false", "message": "not stored"}', "not stored"),
        (b'{"errors": [{"index": 0, "message": "invalid"}], "count": 1}', "invalid"),
    ],
    ids=["status-error", "success-false-as-text", "errors-beside-a-count"],
)
def test_an_upload_answered_2xx_saying_it_failed_is_in_doubt_never_loaded(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], body: bytes, said: str
) -> None:
    # found by a tester with a server of his own (seed 004): each of these was "complete: 2 loaded", exit 0, and
    # "reconciled yes", the server holding nothing. What became of the rows the answer does not say
    resumed: list[tuple[int, str]] = []
    code, out, report = payorcrm_run(tmp_path, upload_answer(Answer(body=body)), capfd, resumed)
    assert code == 4 and report["status"] == "stopped", out
    assert (report["loaded"], report["rejected"], report["in_doubt"]) == (0, 0, 2), report
    assert "says the upload failed" in report["stop_reason"] and said in report["stop_reason"], report
    doubt = read_csv(tmp_path / "c.csv.in_doubt.csv")
    assert [r["line"] for r in doubt] == ["2", "3"] and said in doubt[0]["last_error"], doubt
    # resumed, the call stays in doubt (payorcrm_run: never sent again without the user's word)
    [(code, out)] = resumed
    again = json.loads((tmp_path / "resumed.json").read_text())
    assert code == 1 and (again["loaded"], again["in_doubt"]) == (0, 2), out


@pytest.mark.slow
def test_an_upload_answered_2xx_with_errors_naming_rows_by_index_rejects_them_the_others_in_doubt(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # the form of a 400 bulkload reads, answered 2xx (a tester's server): before, both rows were loaded, exit 0. As
    # for a 400: the row named is rejected with the API's reason; the other may have been stored, in doubt
    secret = CREDENTIALS["payorcrm"]["PAYORCRM_API_SECRET"]
    body = json.dumps({"errors": [{"index": 0, "message": f"invalid, given {secret}"}]}).encode()
    code, out, report = payorcrm_run(tmp_path, upload_answer(Answer(body=body)), capfd)
    assert code == 1, out
    assert (report["loaded"], report["rejected"], report["in_doubt"]) == (0, 1, 1), report
    (reject,) = read_csv(tmp_path / "c.csv.rejects.csv")
    assert reject["line"] == "2" and "answered 2xx: invalid, given ***" in reject["reason"], reject
    (doubt,) = read_csv(tmp_path / "c.csv.in_doubt.csv")
    assert doubt["line"] == "3" and "may have been stored" in doubt["last_error"], doubt
    assert secret not in out and secret not in (tmp_path / "report.json").read_text()


@pytest.mark.slow
def test_an_upload_answered_2xx_with_errors_naming_every_row_rejects_them(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    body = b'{"errors": [{"index": 0, "message": "invalid"}, {"index": 1, "message": "invalid"}]}'
    code, out, report = payorcrm_run(tmp_path, upload_answer(Answer(body=body)), capfd)
    assert code == 1, out
    assert (report["loaded"], report["rejected"], report["in_doubt"]) == (0, 2, 0), report
    assert [r["line"] for r in read_csv(tmp_path / "c.csv.rejects.csv")] == ["2", "3"]


@pytest.mark.slow
def test_ids_an_upload_answers_as_strings_of_digits_are_taken(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # found by a tester: a server answering "id": "900000001" had every id dropped (the success file's column empty)
    def as_text(body: bytes) -> bytes:
        answer = json.loads(body)
        return json.dumps([{**r, "id": str(r["id"])} for r in answer["results"]]).encode()

    code, out, report = payorcrm_run(tmp_path, upload_answer(Answer(rewrite=as_text)), capfd)
    assert code == 0 and report["loaded"] == 2, out
    ids = [r["id"] for r in read_csv(tmp_path / "c.csv.success.csv")]
    assert len(ids) == 2 and all(i.isdigit() for i in ids) and ids[0] != ids[1], ids
    assert report["reconcile"]["ids_returned"] == 2, report["reconcile"]


# --- answers that begin with a BOM (RFC 8259 §8.1: a reader may pass over it) -----------------------------------


async def test_an_answer_beginning_with_a_utf8_bom_is_read_without_it() -> None:
    async def bom(request: web.Request) -> web.Response:
        return web.Response(body=b"\xef\xbb\xbf" + b'{"id": 7}', status=int(request.query.get("status", "200")))

    app = web.Application()
    app.router.add_get("/x", bom)
    async with serving(app) as origin, Client(origin, {}) as client:
        assert (await client.send("GET", "/x")).body == b'{"id": 7}'
        assert decoded((await client.send("GET", "/x")).body, dict[str, int], "GET /x") == {"id": 7}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["economic", "halopsa", "visma-core", "payorcrm"])
def test_a_run_whose_every_answer_begins_with_a_bom_loads_and_reconciles(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], target: str
) -> None:
    # found by a tester: a server writing UTF-8 JSON with a BOM (as .NET's UTF-8 encoder does) stopped the run at its
    # first write's answer, its rows in doubt
    api = Hostile(target, lambda method, path, n: Answer(rewrite=lambda body: b"\xef\xbb\xbf" + body))
    with served(api.app()) as origin:
        code, out = run(load_args(target, origin, tmp_path), target, capfd)
    report = report_of(tmp_path)
    assert code == 0 and report is not None, out
    rows = 4 if target == "economic" else 2
    assert (report["status"], report["loaded"], report["in_doubt"]) == ("complete", rows, 0), report
    assert report["reconcile"]["ok"], report["reconcile"]


# --- ids the ledger cannot keep (an SQLite INTEGER, -1 its own "no id") -----------------------------------------

#: each target's create answer and the field that gives a record its id there
ID_FIELDS = {"economic": "entryNumber", "halopsa": "id", "visma-core": "Id"}


def with_id(field: str, value: int) -> Any:
    """A rewrite of an answer that gives the first record whose `field` is a number the id `value`."""
    return lambda body: re.sub(rf'"{field}":\s*-?[0-9]+'.encode(), f'"{field}": {value}'.encode(), body, count=1)


def is_create(method: str, path: str) -> bool:
    return method == "POST" and not path.endswith("/token")


@pytest.mark.slow
@pytest.mark.parametrize("value", [2**63, -1, -5], ids=["2^63", "minus-1", "minus-5"])
@pytest.mark.parametrize("target", list(ID_FIELDS))
def test_a_create_answered_with_an_id_the_ledger_cannot_keep_is_an_answer_not_what_the_api_documents(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], target: str, value: int
) -> None:
    # before: 2^63 stopped the run with "internal error: OverflowError" at the ledger's INTEGER column; -1 read as
    # the ledger's NO_ID (a row loaded without an id), and -5 was kept and reconciled as missing (exit 3)
    state = {"hostile": True}
    rewrite = Answer(rewrite=with_id(ID_FIELDS[target], value))
    api = Hostile(target, lambda method, path, n: rewrite if state["hostile"] and is_create(method, path) else None)
    with served(api.app()) as origin:
        code, out = run(load_args(target, origin, tmp_path, "--concurrency", "1"), target, capfd)
        report = report_of(tmp_path)
        assert code == 4 and "internal error" not in out and report is not None, out
        said = report["stop_reason"]
        assert "the answer is not what the API documents" in said and f"the id {value}" in said, said
        assert "POST /" in said or "the create call" in said, said
        # as any answer of a write it cannot read: nothing loaded on the answer's word; the rest not yet sent
        assert report["loaded"] + report["in_doubt"] + report["skipped"] == report["rows_read"], report
        rows = report["rows_read"] + report["rows_not_sent"]
        state["hostile"] = False
        # resume settles it as any such call (e-conomic: its key replayed; HaloPSA: found by a look; Visma Core: in
        # doubt, never sent again without the user's word), and reconcile agrees: no row loaded twice
        ledger = ["--ledger", str(tmp_path / "run.sqlite")]
        again, out = run(
            ["resume", *ledger, "--no-progress", "--report", str(tmp_path / "resumed.json")], target, capfd
        )
        resumed = json.loads((tmp_path / "resumed.json").read_text())
        left = 1 if target == "visma-core" else 0
        assert (again, resumed["in_doubt"], resumed["loaded"]) == (left, left, rows - left), out
        assert resumed["reconcile"]["ok"] and "internal error" not in out, out
        checked, out = run(["reconcile", *ledger], target, capfd)
        assert checked == left and "internal error" not in out, out


@pytest.mark.slow
@pytest.mark.parametrize("value", [2**63, -5], ids=["2^63", "minus-5"])
def test_a_walked_entry_whose_number_the_ledger_cannot_keep_stops_the_reconciliation_in_our_words(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], value: int
) -> None:
    # before: 2^63 was "internal error (a bug in bulkload): OverflowError" at the ledger's remote table
    listed = Answer(rewrite=with_id("entryNumber", value))
    api = Hostile(
        "economic", lambda method, path, n: listed if method == "GET" and path.endswith("/draft-entries") else None
    )
    with served(api.app()) as origin:
        code, out = run(load_args("economic", origin, tmp_path), "economic", capfd)
    assert code == 4 and "internal error" not in out, out
    assert "GET /draft-entries: the answer is not what the API documents" in out and f"the id {value}" in out, out


@pytest.mark.slow
@pytest.mark.parametrize("value", [2**63, -5], ids=["2^63", "minus-5"])
def test_a_halopsa_listing_giving_an_id_the_ledger_cannot_keep_stops_before_the_first_write(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], value: int
) -> None:
    # a listed id is matched (--match-on), rolled back and looked for by: one the ledger cannot keep is no record's
    state = {"hostile": False}
    listed = Answer(rewrite=with_id("id", value))

    def rule(method: str, path: str, n: int) -> Answer | None:
        return listed if state["hostile"] and method == "GET" and path == "/api/XeroDetails" else None

    api = Hostile("halopsa", rule)
    with served(api.app()) as origin:
        # a record there first, so that the listing lists one
        first, out = run(load_args("halopsa", origin, tmp_path / "first", tag="first"), "halopsa", capfd)
        assert first == 0, out
        state["hostile"] = True
        code, out = run(load_args("halopsa", origin, tmp_path), "halopsa", capfd)
    assert code == 4 and "internal error" not in out, out
    assert "GET /api/XeroDetails: the answer is not what the API documents" in out and f"the id {value}" in out, out
    assert sum(is_create(method, path) for method, path in api.calls) == 1, api.calls  # the first run's


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_token_endpoint_answering_a_page_asks_whether_halo_auth_url_is_right() -> None:
    # found by a tester (t70e): a token endpoint answering its login page asked "is --base-url the API's root?",
    # where the token endpoint's address is HALO_AUTH_URL
    from bulkload.targets.halopsa import _token_of

    with pytest.raises(BadAnswer) as caught:
        _token_of(b"<html><body>Sign in to HaloPSA</body></html>", "POST https://halo.example/auth/token")
    said = str(caught.value)
    assert said.endswith("a page where the API answers JSON, is HALO_AUTH_URL right?)"), said
    assert "--base-url" not in said, said
