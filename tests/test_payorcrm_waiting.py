"""A PayorCRM answer that says the upload waits to be carried out, in whatever words or fields a server written from
seed 004 (which documents no answer) may use, leaves its rows in doubt; one that says they were stored loads them.
Found by tester t26 after the first rules (test_accepted_is_not_stored): each case here was read the other way, the
queued ones loaded (exit 0, the server holding none), the stored ones in doubt (every run stopped at its first
call). Read through the real reader (`two_customers`: 2 rows sent), and end to end against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web
from conftest import sandbox_read, serving
from test_accepted_is_not_stored import answered_as
from test_load_payorcrm import read_csv, write
from test_payorcrm_answers import Handler, Rule, answered, crm_app, customers_file, load_both, two_customers

from bulkload.model import NO_ID, Chunk
from bulkload.sandbox import SandboxOptions
from bulkload.targets.payorcrm import PayorCRM
from bulkload.targets.payorcrm_records import Invoice

WAITING = [
    # a word of storage denied, none or to come beside a queue
    {"success": True, "message": "0 saved, 3 queued"},
    {"success": True, "message": "2 records queued; saved: 0"},
    {"success": True, "message": "Upload received, 0 records saved"},
    {"success": True, "message": "Data has been queued and will be stored"},
    {"success": True, "message": "Accepted. Records will be saved shortly"},
    {"success": True, "message": "Received; not saved until validation completes"},
    {"success": True, "message": "Queued: nothing written yet"},
    # a queue in other words, or other languages'
    *({"success": True, "message": m} for m in ("In Warteschlange", "In Bearbeitung", "Daten werden verarbeitet")),
    *({"success": True, "message": m} for m in ("Mottatt, behandles", "I kø", "Modtaget og sat i kø")),
    *({"success": True, "message": m} for m in ("En attente de traitement", "Import started")),
    *({"success": True, "message": m} for m in ("Your file is being processed", "Upload will be processed shortly")),
    {"success": True, "message": "Records will be created asynchronously"},
    # in another field that says how it went
    *({"success": True, key: "Queued for processing"} for key in ("msg", "info", "statusMessage")),
    {"success": True, "messages": ["Queued for processing"]},
    {"success": True, "jobStatus": "PENDING"},
    {"success": True, "importStatus": "queued"},
    {"success": True, "status": "OK", "processingStatus": "queued"},
    {"success": True, "status": {"name": "queued"}},
    # in a field named for what waits (not `acceptedAt`: a time a server may give every record it stored)
    {"success": True, "queuePosition": 5},
    {"success": True, "in_queue": 2},
    {"success": True, "queuedAt": "2026-01-01T00:00:00Z"},
    {"success": True, "async": True},
    # t27: what was kept is the file or a place in the queue, not the records
    *({"success": True, "message": m} for m in ("File uploaded, import queued", "Added to import queue")),
    *({"success": True, "message": m} for m in ("Saved to queue", "Batch created, awaiting processing")),
    {"success": True, "message": "Request stored; records will be created asynchronously"},
    {"success": True, "message": "Upload saved for asynchronous import"},
    {"success": True, "message": "File uploaded successfully; processing will begin shortly"},
    # t27: a denial further back, or after
    {"success": True, "message": "Upload received; no records have been saved yet"},
    *({"success": True, "message": m} for m in ("Queued. Nothing has been saved yet", "Not processed yet")),
    *(
        {"success": True, "message": m}
        for m in ("Queued; records are saved after validation", "Import not started yet")
    ),
    # t27: more languages' words, and words run together
    *({"success": True, "message": m} for m in ("Import gestartet", "Verarbeitung läuft", "Auftrag angenommen")),
    *({"success": True, "message": m} for m in ("I kö", "Mottaget", "Afventer", "In de wachtrij", "Wordt verwerkt")),
    *({"success": True, "message": m} for m in ("In coda", "Recibido, en proceso", "Reçu", "AcceptedForProcessing")),
    # t27: what waits beside a count of what was uploaded
    *({"uploaded": 2, name: 2} for name in ("queued", "pendingCount", "inQueue")),
    # not `remaining`: a rate limit's or a quota's (`{"rateLimit": {"remaining": 98}}`, tester t27)
]

STORED = [
    # a word of storage beside one of a queue, or a queue denied
    *({"success": True, "message": m} for m in ("Received and processed", "Upload accepted and processed")),
    *({"success": True, "message": m} for m in ("Records received and uploaded", "Received 2 records, uploaded 2")),
    *({"success": True, "message": m} for m in ("Processing completed", "Upload complete. No records pending.")),
    *({"success": True, "message": m} for m in ("0 pending", "Uploaded 2 records, none pending")),
    # a count of the records stored beside one received or accepted
    {"success": True, "received": 2, "created": 2},
    {"success": True, "accepted": 2, "created": 2},
    {"uploaded": 2, "accepted": 2},
    {"created": 2},  # not {"count": 2, "received": 2}: that `count` may count what was received (in doubt)
    {"status": "OK", "recordsCreated": 2},
    {"success": True, "new": 2, "updated": 0},  # what was done counted some: read as before
    *({"success": True, "message": m} for m in ("Saved, no errors", "No errors. 2 records saved", "2 saved, 0 failed")),
    {"success": True, "message": "Saved 2 records, 0 records updated"},
    {"success": True, "created": 2, "updated": 0},
    {"status": "OK", "dateCreated": 1700000000, "count": 2},  # a number under a date's name counts nothing
    # an empty list of what waits: none does (it was read as the records, "stored 0")
    {"success": True, "queued": []},
    {"status": "completed", "pendingRecords": []},
    # t27: a rate limit's or a timing's figures beside a clear success
    {"success": True, "count": 2, "rateLimit": {"limit": 100, "remaining": 98, "reset": 60}},
    {"success": True, "message": "Saved", "quota": {"remaining": 4998}},
    {"success": True, "count": 2, "queueTimeMs": 3},
]

#: counts of fewer records stored than the 2 rows sent, under the names servers give them
FEWER = [
    *({"success": True, name: 1} for name in ("created", "stored", "createdCount", "insertedCount")),
    *({"uploaded": 2, name: 1} for name in ("created", "saved", "succeeded")),
    *({"success": True, name: 0} for name in ("savedCount", "processedCount")),
    {"success": True, "totalCount": 2, "successCount": 1},
    {"count": 2, "summary": {"created": 1}},
    # t69b: a count named by what it counts, beside a success (read as both stored, exit 0, the server holding 1)
    *({"status": "OK", name: 1} for name in ("recordsCreated", "customersCreated", "invoices_uploaded")),
    *({"status": "OK", name: 0} for name in ("totalCreated", "numberOfRecordsUploaded", "nCreated", "createdRecords")),
    {"success": True, "total": 2, "totalSaved": 1},
    # t69b: a message beside a success that says none was stored
    *(
        {"success": True, "message": m}
        for m in ("0 records saved", "Nothing saved", "Validation only: nothing saved", "Nothing to import")
    ),
    *({"success": True, "message": m} for m in ("No customers have been created", "Saved nothing", "Imported 0 rows")),
    # t69b: what was done counted none, beside a success and no count of the records stored
    {"status": "done", "new": 0, "updated": 0},
    {"status": "OK", "updated": 0},
    {"success": True, "data": {"rowsAffected": 0}},
]

#: t33a: a success beside words or fields that say part of the upload was left out (its server stored 2 of 3 and
#: answered so: read as all stored, exit 0)
PART = [
    {"success": True, "message": "Saved 1 of 2"},
    {"success": True, "message": "Partially saved"},
    {"success": True, "message": "Uploaded successfully. 1 duplicate ignored."},
    {"success": True, "ignored": 1},
    {"success": True, "dropped": [2]},
    {"success": True, "omitted": 1},
    {"message": "Saved", "note": "1 duplicate ignored"},
    {"success": True, "info": "row 3 was not imported"},
    {"success": True, "result": {"message": "1 out of 2 imported"}},
]
#: t36a: a success beside words that say some of the upload failed (each loaded every row, exit 0), where the same
#: words under `result`, or in an object within the answer, were in doubt
FAILED_IN_PART = [
    {"status": "success", "message": "Uploaded with errors"},
    {"success": True, "message": "2 saved, 1 failed"},
    {"success": True, "message": "Completed with 2 errors"},
    {"success": True, "message": "Saved. 1 row skipped"},
    {"success": True, "message": "Upload complete, 1 duplicate"},
    {"success": True, "message": "1 invoice rejected"},
    {"success": True, "message": "1 failed 0 skipped"},
    {"success": True, "message": "Saved. Failed: 1"},
    {"success": True, "detail": "row 2: invalid email"},
    {"status": "success", "info": "1 failed"},
    {"success": True, "note": "1 error"},
    {"success": True, "summary": "1 saved, 1 failed"},
    {"success": True, "message": "OK", "messages": ["row 2: invalid email"]},
    {"success": True, "count": 2, "message": "1 error"},
    # a record there before the upload, in words or a count (`"duplicates": 1` was in doubt)
    {"success": True, "message": "1 created, 1 already existed"},
    {"success": True, "message": "Customer C2 already exists"},
    {"success": True, "count": 2, "existing": 1},
    # in the languages whose words of a queue are read (WAITING)
    *({"success": True, "message": m} for m in ("1 gespeichert, 1 Fehler", "1 gemt, 1 fejl", "1 lagret, 1 avvist")),
    *({"success": True, "message": m} for m in ("1 enregistré, 1 erreur", "1 guardado, 1 rechazado", "Ikke gemt")),
    *({"success": True, "message": m} for m in ("Nicht gespeichert", "1 opgeslagen, 1 fout", "1 salvato, 1 errore")),
    {"success": True, "fejl": 1},
    # t37a: a count that follows its label (`Failed: 1`), where a zero stands before it as another label's
    {"success": True, "message": "Created 0 Failed 2"},
    {"success": True, "message": "Total: 2 | Saved: 0 | Failed: 2"},
    {"success": True, "summary": "created=1 failed=1"},
]
#: ... and beside words that say none was left out, or none failed
WHOLE = [
    {"success": True, "message": "Saved 2 of 2"},
    {"success": True, "message": "Saved, 0 duplicates ignored"},
    {"success": True, "ignored": 0, "dropped": []},
    {"success": True, "note": "no rows dropped"},
    {"success": True, "message": "Completed with 0 errors"},
    {"success": True, "message": "Saved successfully. Errors: 0"},
    {"success": True, "message": "Processed without errors"},
    {"success": True, "message": "Saved 2, 0 failed, 0 skipped"},
    {"success": True, "message": "Saved; failed records: none"},
    {"success": True, "message": "Import finished. Rows with errors: 0"},
    {"success": True, "message": "Saved as a duplicate-free batch"},
    {"success": True, "message": "Saved 2 records with 1 warning"},
    {"success": True, "count": 2, "existing": 0},
    {"success": True, "message": "Saved 2 customers, none existed"},
    *(
        {"success": True, "message": m}
        for m in ("Gespeichert, 0 Fehler", "Gespeichert ohne Fehler", "Gemt, ingen fejl")
    ),
    *({"success": True, "message": m} for m in ("Opgeslagen zonder fouten", "Enregistré sans erreur", "Fehler: 0")),
    {"success": True, "fejl": 0, "fehler": []},
    # t37a: a count that follows its label, where the number before it is another label's (every row was in doubt)
    *(
        {"success": True, "message": m}
        for m in ("Created 2 Failed 0", "Total 2 Success 2 Failed 0", "created=2 failed=0")
    ),
    *({"success": True, "message": m} for m in ("Total: 2 | Success: 2 | Failed: 0", "Saved: 2 / Errors: 0")),
    {"success": True, "summary": "created=2 failed=0"},
]


@pytest.mark.parametrize("answer", PART)
def test_an_answer_that_says_part_was_left_out_is_in_doubt(answer: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        read(answer)


@pytest.mark.parametrize("answer", FAILED_IN_PART)
def test_a_success_that_says_some_failed_is_in_doubt(answer: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="says the upload failed"):
        read(answer)


@pytest.mark.parametrize("answer", WHOLE)
def test_an_answer_that_says_none_was_left_out_loads(answer: dict[str, Any]) -> None:
    assert read(answer) == [NO_ID, NO_ID]


def read(answer: dict[str, Any]) -> list[int]:
    kind, chunk = two_customers()
    return kind.created_ids(json.dumps(answer).encode(), chunk)


@pytest.mark.parametrize("answer", WAITING)
def test_an_answer_that_says_the_upload_waits_is_in_doubt(answer: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="does not say the upload was stored"):
        read(answer)


@pytest.mark.parametrize("answer", STORED)
def test_an_answer_that_says_every_record_was_stored_loads_them(answer: dict[str, Any]) -> None:
    assert read(answer) == [NO_ID, NO_ID]


@pytest.mark.parametrize("answer", FEWER)
def test_a_count_of_fewer_stored_than_sent_is_in_doubt(answer: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        read(answer)


@pytest.mark.parametrize("answer", [{"count": 2, "unprocessed": 2}, {"count": 2, "notProcessed": 2}])
def test_records_not_processed_yet_are_not_called_failed(answer: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as caught:
        read(answer)
    assert "failed" not in str(caught.value), caught.value


@pytest.mark.parametrize(
    "waiting",
    [
        {"message": "Queued for processing"},
        {"success": True, "message": "Queued for processing"},
        {"pending": True},
        {"processed": False},
        {"success": True, "isProcessed": False},
        {"success": True, "queued": True},
        {"success": True, "msg": "queued"},
    ],
)
def test_a_record_that_says_it_waits_is_not_loaded(waiting: dict[str, Any]) -> None:
    kind, chunk = two_customers()
    body = json.dumps({"results": [{"customerno": "C1", "id": 1}, {"customerno": "C2", "id": 2, **waiting}]}).encode()
    try:
        ids = kind.created_ids(body, chunk)
    except ValueError:
        return  # the whole call in doubt: fine
    assert 1 in kind.failed_items(body, chunk), (ids, waiting)


def job_answer(status: int, body: bytes | None, headers: dict[str, str]) -> Rule:
    """The sandbox stores the upload and answers `status` with `body` (None: its own) and `headers`."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        real = await handler(request)
        assert isinstance(real, web.Response) and isinstance(real.body, bytes)
        if real.status != 200:
            return real
        body_ = real.body if body is None else body
        return web.Response(status=status, body=body_, content_type="application/json", headers=headers)

    return rule


def third_pending(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results[2]["pending"] = True
    return results


@pytest.mark.parametrize(
    ("rule", "loaded"),
    [
        (answered_as(200, b'{"success": true, "message": "0 saved, 3 queued"}'), 0),
        (answered_as(200, b'{"success": true, "message": "In Warteschlange"}'), 0),
        (answered_as(200, b'{"success": true, "msg": "Queued for processing"}'), 0),
        (answered_as(200, b'{"uploaded": 3, "created": 1}'), 0),
        (answered(third_pending), 2),  # C3's record waits: C1 and C2 load
        # a job to come back to: Retry-After on a 2xx (a Location beside), or 206 Partial Content
        (job_answer(200, b'{"success": true, "jobId": "j-17"}', {"Location": "/jobs/17", "Retry-After": "30"}), 0),
        (job_answer(201, b'{"success": true, "jobId": "j-17"}', {"Location": "/jobs/17", "Retry-After": "30"}), 0),
        (job_answer(200, b'{"success": true}', {"Retry-After": "30"}), 0),
        (job_answer(206, None, {}), 0),
        (answered_as(200, b'{"success": true, "message": "Received and processed"}'), 3),
        (answered_as(200, b'{"success": true, "message": "File uploaded, import queued"}'), 0),
        (answered_as(200, b'{"uploaded": 3, "queued": 3}'), 0),
    ],
)
async def test_end_to_end_what_the_answer_says_is_what_loads(tmp_path: Path, rule: Rule, loaded: int) -> None:
    with anyio.fail_after(60):
        async with serving(crm_app(rule)) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 3))
    assert (report.loaded, report.in_doubt, report.exit_code) == (
        loaded,
        3 - loaded,
        1 if loaded == 2 else 4 if loaded == 0 else 0,
    ), report
    success = tmp_path / "success.csv"
    lines = {int(r["line"]) for r in read_csv(success)} if success.exists() else set()
    assert len(lines) == loaded and (loaded != 2 or 4 not in lines), lines  # C3 is on line 4


def test_a_records_own_fields_are_its_data_whatever_their_words() -> None:
    # an invoice whose own AR status is "Pending" and whose reason code reads "Queue fee", echoed by the answer, is
    # stored: those fields are what the file sent, not what the API says of the upload
    kind = PayorCRM(["invoices"]).kind_of(0)
    sent = Invoice(customerNumber="C1", invoiceNumber="I1", invoiceAmount=100, status="Pending")
    row = msgspec.structs.replace(sent, reasonCodeDescription="Queue fee")
    chunk = Chunk(1, 0, [2], b"", records=[row])
    record = {"id": 5, **msgspec.structs.asdict(row)}
    body = json.dumps([{k: v for k, v in record.items() if v is not None}]).encode()
    assert (kind.created_ids(body, chunk), kind.failed_items(body, chunk)) == ([5], {})


async def test_invoices_whose_own_data_speaks_of_a_wait_load_when_echoed(tmp_path: Path) -> None:
    # t27 (on cc66e5b, before 6185efa): the sandbox's `--answer records` echoes each invoice as sent; one whose
    # reasonCodeDescription reads "Credit note pending", one whose status reads "Payment pending", were in doubt and
    # told to fix their lines, though the API stored all three and nothing in them is wrong
    header = ["customerNumber", "invoiceNumber", "invoiceAmount", "currency", "reasonCode", "reasonCodeDescription"]
    invoices = write(
        tmp_path / "i.csv",
        [*header, "status"],
        [
            ["C1", "I1", "100.00", "EUR", "R1", "Credit note pending", "Open"],
            ["C1", "I2", "200.00", "EUR", "", "", "Open"],
            ["C1", "I3", "50.00", "EUR", "", "", "Payment pending"],
        ],
    )

    async def stored(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)

    with anyio.fail_after(60):
        async with serving(crm_app(stored, SandboxOptions(window_limit=0, answer="records"))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 1), invoices, batch_size=1)
            held = await sandbox_read(url, "invoices")
    assert len(held) == 3, "the sandbox stored and echoed each invoice: the test proves nothing otherwise"
    assert (report.loaded, report.in_doubt, report.exit_code) == (4, 0, 0), report


@pytest.mark.parametrize("said", ["Errors: 0", "Fehler: 0", "fejl: keine", "Saved, errors: none", "Failed: 0"])
def test_a_record_whose_remark_counts_no_failure_is_stored(said: str) -> None:
    # tester t37a: a record's `message` (or `note`, `info`) of `Errors: 0` beside its id was read as its failure,
    # its row put in doubt: a count of none says nothing failed, as `No errors` and `0 errors` did
    kind, chunk = two_customers()
    records = [{"customerno": "C1", "id": 11, "message": said}, {"customerno": "C2", "id": 12, "note": said}]
    body = json.dumps(records).encode()
    assert kind.failed_items(body, chunk) == {}
    assert kind.created_ids(body, chunk) == [11, 12]


@pytest.mark.parametrize("said", ["Errors: 1", "Fehler: 2", "1 failed", "Failed: 1, Saved: 0"])
def test_a_record_whose_remark_counts_a_failure_is_its_rows_failure(said: str) -> None:
    kind, chunk = two_customers()
    body = json.dumps([{"customerno": "C1", "id": 11, "message": said}, {"customerno": "C2", "id": 12}]).encode()
    assert kind.failed_items(body, chunk) == {0: ("", f"message: {said}")}
