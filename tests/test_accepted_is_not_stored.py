"""An upload a server took for processing is not an upload stored: HTTP 202 Accepted (RFC 9110 §15.3.3: "might or
might not eventually be acted upon"), and an answer whose outcome is a queue's (`"status": "accepted"`, `queued`,
`received`, bare `Accepted`) leave the call's rows in doubt, told why, never counted loaded. Found by tester t24b:
each was exit 0, every row loaded, while the server could still drop them; so was each t25 said otherwise (a
202 in the body, a 207, a success beside a queue). The real sandboxes serve each, behind a
middleware that shapes their answers as such a server does."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import CREDS, serving, write_entries
from test_load_economic import job
from test_load_payorcrm import read_csv
from test_payorcrm_answers import Handler, Rule, crm_app, customers_file, load_both, two_customers

from bulkload import load
from bulkload.model import NO_ID
from bulkload.sandbox import SandboxOptions, build_app
from bulkload.sandbox.economic_web import PREFIX


def answered_as(status: int, body: bytes | None) -> Rule:
    """The sandbox stores the upload and answers `status` with `body` (None: its own body)."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        real = await handler(request)
        assert isinstance(real, web.Response) and isinstance(real.body, bytes)
        if real.status != 200:
            return real
        return web.Response(status=status, body=real.body if body is None else body, content_type="application/json")

    return rule


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (202, None, "202 Accepted"),  # the sandbox's own records, with their ids: still only accepted
        (202, b"", "202 Accepted"),
        (200, b'{"status": "accepted"}', "(status: accepted) does not say the upload was stored"),
        (200, b"Accepted", "(Accepted) does not say the upload was stored"),
        (200, b'{"accepted": 3}', "does not say the upload was stored"),
        (200, b'{"status": "queued", "jobId": "j-1"}', "(status: queued) does not say the upload was stored"),
        (200, b'{"data": {"state": "received"}}', "state: received) does not say the upload was stored"),
        # t25: the same said otherwise. An HTTP status in the body, as many servers wrap theirs
        (200, b'{"status": 202}', "(status: 202) does not say the upload was stored"),
        (200, b'{"code": 202, "message": "Accepted"}', "does not say the upload was stored"),
        (200, b'{"result": {"code": 202}}', "does not say the upload was stored"),
        (200, b"202", "(202) does not say the upload was stored"),
        # 207 Multi-Status: each part's outcome in a body no seed documents
        (207, b"", "207 Multi-Status"),
        (207, b"{}", "207 Multi-Status"),
        # a success beside words of a queue: the success is the queue's
        (200, b'{"success": true, "message": "Queued for processing"}', "(message: Queued for processing) does not"),
        (200, b'{"success": true, "message": "Not yet processed"}', "(message: Not yet processed) does not"),
        (200, b'{"status": "success", "message": "Your upload has been queued"}', "does not say the upload was"),
        (200, b'{"isSuccess": true, "isProcessed": false}', "(isProcessed: false) does not say the upload was"),
        (200, b'{"status": "ok", "pendingCount": 3}', "(pendingCount: 3) does not say the upload was stored"),
        # records whose own outcome is a queue's: not said to have failed
        (
            200,
            b'[{"customerno": "C1", "id": 1, "status": "pending"}, {"customerno": "C2", "id": 2, "status": '
            b'"pending"}, {"customerno": "C3", "id": 3, "status": "pending"}]',
            "its records do not say these were",
        ),
        (200, b'["accepted", "accepted", "accepted"]', "its records do not say these were stored"),
    ],
)
async def test_an_upload_accepted_for_processing_is_in_doubt_not_loaded(
    tmp_path: Path, status: int, body: bytes | None, said: str
) -> None:
    with anyio.fail_after(60):
        async with serving(crm_app(answered_as(status, body))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 3))
    # in doubt, never loaded: a call whose answer cannot say the rows were stored stops the run (exit 4), saying
    # why as each row does; records that say so each leave theirs in doubt (exit 1)
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 3, 1 if b"[" in (body or b"") else 4), report
    assert read_csv(tmp_path / "success.csv") == []
    doubt = read_csv(tmp_path / "in_doubt.csv")
    assert [int(r["line"]) for r in doubt] == [2, 3, 4]
    assert all(said in r["last_error"] and "failed" not in r["last_error"] for r in doubt), doubt


@pytest.mark.parametrize(
    ("body", "failed"),
    [
        (b'{"status": "scheduled"}', False),
        (b'{"state": "submitted", "message": "will be processed"}', False),
        (b'{"status": "pending"}', False),
        (b'{"status": "failed"}', True),
        (b'{"status": "queued", "error": "quota exceeded"}', True),
        (b'{"message": "Upload failed"}', True),
    ],
)
def test_an_outcome_in_words_of_neither_is_not_called_a_failure(body: bytes, failed: bool) -> None:
    # t24b: `"status": "queued"` was in doubt, rightly, but told "the upload failed": a user reading that re-sends
    # rows the server may still store. Only words of failure say failed
    kind, chunk = two_customers()
    with pytest.raises(ValueError) as caught:
        kind.created_ids(body, chunk)
    said = str(caught.value)
    assert ("says the upload failed" in said) is failed and ("does not say the upload was stored" in said) is not failed


async def test_a_write_answered_202_by_any_target_is_in_doubt(tmp_path: Path) -> None:
    # the rule is the engine's, not one target's: e-conomic's bulk create answered 202 with its entries is in doubt
    # (exit 4), its rows neither loaded nor sent again
    data = tmp_path / "entries.csv"
    write_entries(data, 2)
    app = build_app("economic", SandboxOptions())

    @web.middleware
    async def accepted(request: web.Request, handler: Handler) -> web.StreamResponse:
        real = await handler(request)
        if request.method == "POST" and isinstance(real, web.Response) and real.status in (200, 201):
            return web.Response(status=202, body=real.body, content_type="application/json")
        return real

    app.middlewares.insert(0, accepted)
    with anyio.fail_after(60):
        async with serving(app) as url:
            report = await load(job(tmp_path, [data], url + PREFIX), env=CREDS, raise_on_stop=False)
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 4, 4), report
    assert "answered 202 Accepted" in str(report.stop_reason), report.stop_reason


@pytest.mark.parametrize(
    ("message", "stored"),
    [
        ("Queued for processing", False),
        ("Not yet saved", False),  # "not yet" says it whatever follows
        ("Save in progress", False),
        ("Customers received and saved", True),  # received, then stored: no queue's
        ("2 accepted, 2 created", True),
        ("Saved, indexing in progress", True),
        ("Processed without errors", True),
    ],
)
def test_a_message_beside_a_success_says_a_queue_only_where_it_says_no_record_kept(message: str, stored: bool) -> None:
    # the words of a queue beside a success are the queue's, unless the message also says the records were kept:
    # a server that always answers "received and saved" must not stop every run at its first call
    kind, chunk = two_customers()
    body = json.dumps({"success": True, "message": message}).encode()
    if stored:
        assert kind.created_ids(body, chunk) == [NO_ID, NO_ID]
    else:
        with pytest.raises(ValueError, match=f"message: {message}\\) does not say the upload was stored"):
            kind.created_ids(body, chunk)
