"""The ids an answer gives a call's rows, held to the rule every answer that gives one id a record keeps: rows that
are records of their own get ids of their own (RecordKind.record_of: a Visma Core call's lines are one entry, a
PayorCRM invoice's lines one invoice, and may share its id). An answer that gives two of them one id (a record
listed twice, the API's seed documents one id per created record: seed 002's entryNumber, seed 003's Id) cannot say
which record is which row, nor that every row was stored: the call arrived, its outcome is unknown (in doubt), as
for an answer that lists another number of records. A call that writes a record known before it is sent (a cost a
PATCH sets) is answered with that record: one naming another is an echo that differs (`as_written`)."""

from __future__ import annotations

from collections.abc import Hashable

from .http import Response, keepable_ids
from .model import ECHOED, NO_ID, Call, Chunk, Totals, echoed
from .redact import redact
from .targets.base import RecordKind

#: the 2xx statuses that do not say a write was carried out, and what they say instead: 202 Accepted ("the request
#: has been accepted for processing, but the processing has not been completed. The request might or might not
#: eventually be acted upon", RFC 9110 §15.3.3), 206 Partial Content (a part of the answer, which a write never asks
#: for) and 207 Multi-Status (each part's own status is in the body, RFC 4918 §13, in a form no seed documents)
UNDONE = {
    202: "202 Accepted: the API took the rows for processing but does not say they were stored (RFC 9110: they may "
    "or may not be)",
    206: "206 Partial Content: part of the answer only (RFC 9110 §15.3.7), for a request that asked for none",
    207: "207 Multi-Status: each part's outcome is in a body no seed documents (RFC 4918), so which rows were stored "
    "cannot be told",
}


def carried_out(response: Response, call: str) -> None:
    """Hold a write's 2xx `response` to what its status says: ValueError (the call arrived, its outcome unknown: in
    doubt) for a status of `UNDONE` (202 Accepted, 206 Partial Content, 207 Multi-Status), whatever its body (none
    of the seeds documents one), and for any 2xx with a Retry-After (come back later: a job's answer), so its rows
    are never counted loaded on the word of a queue. `call`: "POST /customers"."""
    if (said := UNDONE.get(response.status)) is not None:
        raise ValueError(f"{call} was answered {said}: the call's rows may have been stored or not")
    if (later := response.headers.get("Retry-After")) is not None:  # a job to ask about again (a Location beside)
        raise ValueError(
            f"{call} was answered {response.status} with Retry-After: {redact(later)[:40]}: the API says to come back "
            "later, as for work not yet done (RFC 9110 §10.2.3), not that the rows were stored: the call's rows may "
            "have been stored or not"
        )


def answered_ids(kind: RecordKind, body: bytes, chunk: Chunk, call: str) -> list[int]:
    """`kind.created_ids` of the answer `body` to `chunk`'s call (`call`: "POST /draft-entries/bulk"), one id a row
    in request order. ValueError for an answer that cannot be the chunk's (the call arrived: in doubt), and for one
    that gives one id to rows that are not one record (`RecordKind.record_of`); NO_ID (a row confirmed without an id,
    where the kind's answers may: `RecordKind.ids_optional`) is no id of a record. BadAnswer (acted on: the call
    arrived) for an id the ledger cannot keep (http.keepable_ids)."""
    ids = kind.created_ids(body, chunk)
    keepable_ids(call, body, [i for i in ids if i != NO_ID] if kind.ids_optional else ids, acted_on=True)
    if type(kind).record_of is RecordKind.record_of:  # each row its own record: distinct ids, told in C
        named = [record_id for record_id in ids if record_id != NO_ID]
        if len(set(named)) == len(named):
            return ids
    records = chunk.entries(kind)
    rows: dict[int, dict[Hashable, int]] = {}  # id -> the records given it -> the first row given it as that
    for i, (record_id, record) in enumerate(zip(ids, records)):
        if record_id != NO_ID:
            rows.setdefault(record_id, {}).setdefault(kind.record_of(i, record), i)
    shared = next(((record_id, given) for record_id, given in rows.items() if len(given) > 1), None)
    if shared is not None:
        record_id, given = shared
        lines = ", ".join(str(chunk.lines[i]) for i in list(given.values())[:5])
        raise ValueError(
            f"the API answered the id {record_id} for {len(given)} rows that are records of their own (lines "
            f"{lines}): which record is which row, and whether every row was stored, cannot be told"
        )
    return ids


def as_written(
    call: Call, ids: list[int], returned: dict[str, Totals] | None
) -> tuple[list[int], dict[str, Totals] | None]:
    """The ids of `call`'s rows and its answer's returned totals (RecordKind.returned_totals), where the call writes
    one record known before it is sent (Call.writes: the cost a PATCH sets): the answer is of that record, and
    answered ids (`ids`) naming another are an echo that differs, its `Id` in the ECHOED figures of `returned` (the
    call named in calls_differing, exit 3), never the rows' ids: they are given the record written, never one they
    did not set (before, the success file named the other record). Else `ids` and `returned` as they are; `returned`
    None (the answer said nothing) stays None."""
    if len(call.writes) != 1 or len(ids) != 1:  # a call of several rows (HaloPSA's) is answered record by record
        return ids, returned
    (record,) = call.writes
    if returned is not None:
        returned = {**returned, ECHOED: {**returned.get(ECHOED, {}), **echoed(("Id", record, i) for i in ids)}}
    return [record] * len(ids), returned
