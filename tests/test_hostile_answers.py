"""The property of issue 12: whatever a server answers a load's calls with, bulkload ends with an exit code the
README gives it — never a traceback, and never 1 unless the report says rows were rejected or are in doubt.

Every target's load runs in this process against its sandbox, behind a server that answers the first calls with
generated answers (HTML, garbage, cut JSON, the sandbox's own answer with fields dropped or retyped, redirects,
4xx, 5xx, 429s, empty bodies, a Content-Length far past the body, a body past the call's cap) and lets the sandbox
answer the rest. Bounded: at most 8 hostile answers a run, 2 attempts a call, 5 s an answer, a settle delay of 0.
HOSTILE_SERVER_EXAMPLES sets the examples per target (default 15; 150 with BULKLOAD_HYPOTHESIS=thorough).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import HYPOTHESIS_PROFILE
from hostile import CREDENTIALS, Answer, Hostile, environment, load_args, report_of, served
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkload.cli import main

MB = 1024 * 1024
EXAMPLES = settings(
    max_examples=int(os.environ.get("HOSTILE_SERVER_EXAMPLES", "150" if HYPOTHESIS_PROFILE == "thorough" else "15")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: exit codes that need no rows rejected or in doubt to be true
CLEAN = {0, 2, 3, 4}

GARBAGE = [
    b"",
    b"<!DOCTYPE html><html><body>Sign in</body></html>",
    b"\x00\xff\xfe\x80 not text",
    b"null",
    b"[]",
    b"{}",
    b'"text"',
    b"-1",
    b"1.5",
    b"NaN",
    b'[{"id": "x"}]',
    b'[{"entryNumber": null}]',
    b'{"items": [{}], "cursor": 5}',
    b'{"items": [{"entryNumber": 1}], "cursor": "1"}',
    b'{"access_token": 1}',
    b"[1, 2]",
    b'{"success": false}',
    b'{"record_count": 5}',
    b'{"Id": "x"}',
    b"[" * 5000,
    b'{"a": ' + b"9" * 5000 + b"}",
]
ERROR_BODIES = [
    b"",
    b"<html>Bad gateway</html>",
    b'{"message": "no"}',
    b'{"errors": [{"index": 99}]}',
    b'{"errors": "all"}',
    b'{"errorCode": 5, "errors": [{"index": 0, "message": 7}]}',
    b"[" * 5000,
]


def _retyped(how: str) -> Callable[[bytes], bytes]:
    """The sandbox's own answer with its values changed: ids dropped, numbers as text, text as numbers, nulls."""

    def change(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: change(v) for k, v in value.items() if not (how == "drop" and k in DROPPED)}
        if isinstance(value, list):
            return [change(v) for v in value]
        if how == "text" and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if how == "number" and isinstance(value, str):
            return 7
        if how == "null":
            return None
        return value

    def rewrite(body: bytes) -> bytes:
        try:
            return json.dumps(change(json.loads(body))).encode()
        except ValueError:
            return body

    return rewrite


DROPPED = {"id", "Id", "entryNumber", "access_token", "items", "cursor", "expires_in"}

answers = st.one_of(
    st.builds(
        Answer,
        status=st.sampled_from([200, 201]),
        body=st.sampled_from(GARBAGE),
        content_type=st.sampled_from(["application/json", "text/html"]),
    ),
    st.floats(0, 0.95).map(lambda frac: Answer(rewrite=lambda b: b[: int(len(b) * frac)])),
    st.sampled_from(["drop", "text", "number", "null"]).map(lambda how: Answer(rewrite=_retyped(how))),
    st.sampled_from([301, 302, 303, 307, 308]).map(
        lambda s: Answer(status=s, headers=(("Location", "http://elsewhere.invalid/api"),))
    ),
    st.builds(
        Answer,
        status=st.sampled_from([400, 401, 403, 404, 405, 409, 415, 422, 500, 502, 503]),
        body=st.sampled_from(ERROR_BODIES),
    ),
    st.sampled_from(["0", "1", "100000", "soon", ""]).map(
        lambda v: Answer(status=429, headers=(("Retry-After", v),) if v else ())
    ),
    st.just(Answer(status=204)),
    st.sampled_from([10**12, 10 * MB]).map(lambda n: Answer(claimed_length=n, body=b"[]")),
    st.just(Answer(stream=8 * MB)),
)
#: which of a run's first calls are answered by the hostile server (None: by the sandbox)
scripts = st.lists(st.one_of(st.none(), answers), min_size=1, max_size=8)
_runs = itertools.count()


@pytest.mark.slow
@pytest.mark.parametrize("target", ["economic", "halopsa", "visma-core", "payorcrm"])
def test_no_answer_ends_a_load_in_a_traceback_or_a_false_exit_1(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], target: str
) -> None:
    @EXAMPLES
    @given(script=scripts)
    def load_against(script: list[Answer | None]) -> None:
        n = next(_runs)
        folder = tmp_path / str(n)
        api = Hostile(target, lambda method, path, i: script[i] if i < len(script) else None)
        capfd.readouterr()
        with served(api.app()) as origin, environment(CREDENTIALS[target]):
            code = main(load_args(target, origin, folder, tag=str(n)))  # an exception here fails the property
        out = capfd.readouterr()
        said = out.out + out.err
        assert "Traceback" not in said, said
        report = report_of(folder)
        if code not in CLEAN:
            assert code == 1, said
            assert report is not None and (report["rejected"] or report["in_doubt"]), (report, said)
        assert len(api.calls) < 60, api.calls  # bounded: a handful of retries, never a loop

    load_against()
