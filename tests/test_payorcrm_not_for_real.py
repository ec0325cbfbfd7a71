"""PayorCRM answers of success that do not say the records were stored: a dry run, a test mode, a validation only,
a job handed back (the work queued, not done), or writes rolled back (not committed). Found by tester t70b: each
was exit 0, every row loaded, while the server stored nothing. A server written from seed 004 that answers so and
stores nothing serves each (the sandbox behind a middleware that never lets the upload through); the rows are in
doubt, told why, never counted loaded, and nothing is sent twice."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import sandbox_read, serving
from test_load_payorcrm import read_csv
from test_payorcrm_answers import Handler, crm_app, customers_file, load_both, two_customers


class AnsweredUnstored:
    """Each upload answered 200 with `body` (its `count` the rows sent, where it has one), nothing stored; `calls`:
    the rows of each upload."""

    def __init__(self, body: dict[str, object]) -> None:
        self.body, self.calls = body, list[int]()

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        rows = json.loads(await request.read())
        self.calls.append(len(rows))
        return web.json_response({**self.body, **({"count": len(rows)} if "count" in self.body else {})})


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"status": "success", "dryRun": True, "count": 0}, "dryRun: true: a dry run, a test or a validation only"),
        ({"success": True, "message": "Test mode: records validated", "count": 0}, "message: Test mode"),
        ({"success": True, "validationOnly": True, "count": 0}, "validationOnly: true: a dry run"),
        ({"status": "success", "mode": "validate", "count": 0}, "mode: validate: a dry run"),
        ({"status": "success", "message": "2 records would be created", "count": 0}, "would be created"),
        ({"success": True, "message": "Records validated successfully", "count": 0}, "validated successfully"),
        ({"success": True, "jobId": "7f3c-22"}, "jobId: 7f3c-22: the upload was handed to a job, queued"),
        ({"status": "success", "job": {"id": 17}, "count": 0}, 'job: {"id": 17}: the upload was handed to a job'),
        # writes taken back: nothing kept
        ({"success": True, "count": 0, "rolledBack": True}, "rolledBack: true: the upload's writes were taken back"),
        ({"success": True, "count": 0, "committed": False}, "committed: false: the upload's writes were taken back"),
        ({"success": True, "count": 0, "transaction": "rolled back"}, "transaction: rolled back: the upload's"),
        ({"success": True, "count": 0, "message": "No changes saved"}, "message: No changes saved: the upload's"),
    ],
)
async def test_an_upload_not_carried_out_for_real_is_in_doubt_not_loaded(
    tmp_path: Path, body: dict[str, object], said: str
) -> None:
    rule = AnsweredUnstored(body)
    with anyio.fail_after(60):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 3))
            held = await sandbox_read(url, "customers")
    assert held == [] and rule.calls == [3], (held, rule.calls)  # sent once, never again
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 3, 4), report
    assert read_csv(tmp_path / "success.csv") == []
    doubt = read_csv(tmp_path / "in_doubt.csv")
    assert [int(r["line"]) for r in doubt] == [2, 3, 4]
    told = "does not say the upload was stored"
    assert all(said in r["last_error"] and told in r["last_error"] for r in doubt), doubt


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": "success", "count": 2}',
        b'{"success": true, "message": "Validated and saved", "count": 2}',
        b'{"success": true, "dryRun": false, "testMode": "no", "count": 2}',
        b'{"success": true, "jobId": null, "count": 2}',
        b'{"status": "success", "mode": "live", "count": 2}',
        b'{"success": true, "rolledBack": false, "committed": true, "transaction": "committed", "count": 2}',
    ],
)
def test_a_real_upload_beside_such_fields_denied_is_stored(body: bytes) -> None:
    kind, chunk = two_customers()
    assert len(kind.created_ids(body, chunk)) == 2
