"""What a 2xx answer to a PayorCRM upload says. Seed 004 documents no answer: it is read tolerantly, once per call
(`read`), for which listed record is which row sent, their ids and amounts, and the records (or the whole answer)
that say they failed."""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec

from ..dates import listed_day, same_day
from ..errors import RefusedInAnswer
from ..model import LARGEST_ID, NO_ID, Totals, echoed
from ..money import answered_units, nearest_double, same_amount
from ..numbers import JSON_NUMBER, answered_number
from ..pairing import pair
from ..redact import cut, redact, redact_data


class Said(NamedTuple):
    """What a 2xx answer to an upload says (seed 004 documents no answer): the records' ids and invoice amounts
    (minor units, `_amount`: None for one that is no whole number of them) when it lists records that all have
    them, and how many it stored when it says; None where it does not. `records`: the records it lists, as they are
    (what names each, `pairing`)."""

    ids: list[int] | None = None
    amounts: list[int | None] | None = None
    stored: int | None = None
    records: list[Any] | None = None


#: an answer's numbers with a fraction or an exponent as the exact Decimals they write (`10.0`, `1000.5`)
_decode_any = msgspec.json.Decoder(float_hook=Decimal).decode


def _whole(value: Any) -> int | None:
    return value if type(value) is int else None


#: an id written as text: its digits exactly as a number writes them (no sign, space, point, exponent or leading 0),
#: no more than the largest id has
_DIGITS = re.compile(r"0|[1-9][0-9]{0,18}")


def _id(value: Any) -> int | None:
    """A record's id, 0 to 2^63 - 1: an integer, or text of its digits (seed 004 gives the id no type: "900000001"
    is 900000001); None for anything else ("9.0", "007", "x": which number it is cannot be told exactly)."""
    if type(value) is str:
        value = int(value) if _DIGITS.fullmatch(value) else None
    return value if type(value) is int and 0 <= value <= LARGEST_ID else None


def _id_key(record: dict[str, Any]) -> str:
    """The key a record gives its id under: `id`, or MongoDB's `_id` where it gives that and no `id` (a document's
    key, as a Node server answers it: an ObjectId, text)."""
    return "_id" if "_id" in record and "id" not in record else "id"


def _has_id(record: Any) -> bool:
    """Whether an answered record gives an id (`_id_key`): any value but null and "", a number, its digits or text
    such as an ObjectId, which the ledger does not keep but which names the record stored all the same."""
    return isinstance(record, dict) and record.get(_id_key(record)) not in (None, "")


def _every(records: list[Any], field: str, read: Callable[[Any], int | None] = _whole) -> list[int] | None:
    """Each record's `field` as `read` takes it (an integer), or None when any record lacks it."""
    found = [read(r.get(field)) if isinstance(r, dict) else None for r in records]
    return None if None in found else [v for v in found if v is not None]


def _amount(value: Any) -> int | None:
    """An answered `invoiceAmount` (minor units) by its value, whatever its JSON form (numbers.answered_number):
    `1000`, `1000.0`, `"1000"` and `"1e3"` are 1000, as is the double of 1000 written long (money.answered_units).
    None for one that is no whole number of minor units (`1000.5`), or no number (`"ten"`, `true`): no amount sent
    is."""
    if type(value) is int:
        return value
    number = answered_number(value)
    return None if number is None else answered_units(number, 0)


def _amounts(records: list[Any]) -> list[int | None] | None:
    """Each record's `invoiceAmount` (`_amount`), or None when any record leaves it out (absent or null)."""
    given = [r.get("invoiceAmount") if isinstance(r, dict) else None for r in records]
    return None if None in given else [_amount(value) for value in given]


#: the keys of an answer's object, or of an object within it, that say how many records the upload stored, in any
#: case: `count` (`{"success": true, "count": n}`, `{"meta": {"count": n}}`), `uploaded` (the sandbox's
#: `{"uploaded": n, "results": [...]}`), `inserted`, `imported` (`{"data": {"Imported": n}}`); seed 004 documents
#: none. Not `accepted`: accepted for processing is not stored (RFC 9110 §15.3.3, 202 Accepted: it "may or may not
#: eventually be acted upon"), so `{"accepted": 2}` is in doubt
_COUNTS = ("count", "uploaded", "inserted", "imported")


def _objects(answer: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """An answer's object and each object within it, never inside a list (a list holds records), by its path (`""`
    for the answer's, `data`, `data.meta`)."""
    found, objects = [], [("", answer)]
    while objects:
        path, obj = objects.pop()
        found.append((path, obj))
        objects += [(_at(path, name), value) for name, value in obj.items() if isinstance(value, dict)]
    return found


def _at(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)


#: the words (in lower case, without `_` or `-`) that count the records stored before `count` (`createdCount`,
#: `successCount`, `inserted_count`), and, those of `_DONE` among them, alone where they hold a JSON number rather
#: than true or false (`"created": 1` beside `"uploaded": 3`: tester t26, read as a true success, loaded 3)
_STORED_COUNTS = frozenset(
    {"created", "inserted", "saved", "stored", "processed", "success", "succeeded", "successful", "imported"}
    | {"uploaded", "added", "written", "persisted"}
)


def _bare(name: str) -> str:
    """A key as the rules read it: in lower case, without `_` or `-` (`is_success`, `pending-count`: issuccess,
    pendingcount)."""
    return name.lower().replace("_", "").replace("-", "")


#: a count of the records stored named by what was counted and a word of `_STORED_COUNTS` (`recordsCreated`,
#: `customersCreated`, `invoicesUploaded`, `totalCreated`, `numberOfRecordsUploaded`, `nCreated`, `createdRecords`,
#: `uploadedRows`), as `_bare` writes it: read as one where it holds a JSON number (`_counts`)
_NAMED_COUNT = re.compile(
    r"(?:(?:total|num|number|n)(?:of)?(?:records|rows|items|customers|invoices|entries|lines|objects)?"
    r"|(?:records|rows|items|customers|invoices|entries|lines|objects))"
    rf"(?:{'|'.join(sorted(_STORED_COUNTS))})|(?:{'|'.join(sorted(_STORED_COUNTS))})"
    r"(?:records|rows|items|customers|invoices|entries|lines|objects)(?:count|total)?"
)


def _counts(name: str, value: Any) -> bool:
    """Whether a field counts the records the upload stored (`_stated`): one of `_COUNTS` in any case, a word of
    `_STORED_COUNTS` before `count` (`createdCount`, `successCount`), or a word of `_DONE` alone holding a JSON
    number (`"created": 2`; `"created": true` is a flag), or such a word with what it counts (`_NAMED_COUNT`:
    `"recordsCreated": 1`, `"invoicesUploaded": 0`) holding one (tester t69b: `{"status": "OK", "recordsCreated":
    1}` for 2 customers, the server holding 1, was read as both stored, exit 0)."""
    key = _bare(name)
    if key in _COUNTS or key.endswith("count") and key[: -len("count")] in _STORED_COUNTS:
        return True
    if type(value) not in (int, Decimal):
        return False
    return key in _STORED_COUNTS and key not in ("success", "successful") or _NAMED_COUNT.fullmatch(key) is not None


def _lists_stored(name: str, value: Any) -> bool:
    """Whether a field lists what the upload stored, one item a record, whatever the items are (`"saved": ["C1",
    "C3"]`, `"created": [7, 9]`, `"imported": [{...}]`): a list under a word of `_STORED_COUNTS` or `_COUNTS` alone
    (not `count`), counted as its items (tester t38a: `{"message": "Saved", "saved": ["C1", "C3"]}` for 3 rows was
    read as all 3 stored, exit 0, the one left out and its invoices reported loaded)."""
    key = _bare(name)
    return isinstance(value, list) and key != "count" and (key in _STORED_COUNTS or key in _COUNTS)


#: keys (`_bare`) of numbers that count what an upload did beside storing new records (`updated`, `new`): not read as
#: counts of the records stored (`{"created": 2, "updated": 0}` stored 2), but where every such number of an answer
#: that gives no count is 0 (`{"status": "done", "new": 0, "updated": 0}`), it says that nothing was done (`_none_done`)
_DID = frozenset(
    {"new", "updated", "modified", "upserted", "affected", "rowsaffected", "changed", "merged", "replaced"}
    | {f"{word}count" for word in ("new", "updated", "modified", "upserted", "affected", "changed")}
)


def _none_done(answer: dict[str, Any]) -> str | None:
    """The fields that count what the upload did (`_DID`), each a JSON 0, where the answer gives some and no other
    (`{"status": "done", "new": 0, "updated": 0}`: tester t69b, read as every row stored, exit 0); else None."""
    did = [(_at(path, name), v) for path, obj in _objects(answer) for name, v in obj.items() if _bare(name) in _DID]
    numbers = [(name, v) for name, v in did if type(v) in (int, Decimal)]
    if not numbers or any(v != 0 for _, v in numbers):
        return None
    return ", ".join(f"{name} 0" for name, _ in numbers)


def _stated(answer: dict[str, Any]) -> list[tuple[str, int]]:
    """The counts an answer gives (`_counts`: `count`, `uploaded`, `createdCount`, `"created": 2`, in any case, in
    its object or an object within it: `_objects`), each a whole number of records in any JSON form (`2`, `2.0`,
    `"2"`, `"2.0"`: numbers.answered_number), by where it is (`Count`, `data.imported`); a list of what was stored
    (`_lists_stored`: `"saved": ["C1", "C3"]`) gives the number of its items; one of null, or of another list or an
    object (records, read as such), gives none. ValueError (in doubt) for any other (`"1.5"`, `-1`, `"two"`,
    `true`, `1e999`): how many records the upload stored cannot be told."""
    stated = []
    for path, obj in _objects(answer):
        for name, value in obj.items():
            if _lists_stored(name, value):
                stated.append((_at(path, name), len(value)))
                continue
            if not _counts(name, value) or value is None or isinstance(value, dict | list):
                continue
            number = answered_number(value)
            if number is None or not 0 <= number <= LARGEST_ID or number != number.to_integral_value():
                raise ValueError(
                    f"the API's answer says {_at(path, name)} {_shown(value)}, no number of records: how many "
                    f"records it stored cannot be told. {_CHECK}"
                )
            stated.append((_at(path, name), int(number)))
    return stated


#: what an answer that names the rows it refuses by index (`errors`) may hold beside them and say nothing of a row
#: stored, but its outcome (`_DONE`, `_OUTCOME`: of failure): any other key with a value may (a count, records, data)
_REFUSING = frozenset({"errors", "error", "message", "detail", "title", "errorCode", "code"})


def _refusal(answer: dict[str, Any], rows: int | None) -> RefusedInAnswer | None:
    """An answer that refuses rows as a 400 does (seed 004 documents no answer): `errors` naming each by `index`
    (0 to the number of `rows` sent, where given: counted from 0 or from 1, `bad_items` tells), no other sign of
    success (a `success`, `ok`, `saved` or `stored`, `_DONE`, only where false; a `status`, `statusCode`,
    `httpStatus`, … in any case, `_OUTCOME`, only of failure: `400`, `"409.0"`, `{"code": 400}`; a `code` also of
    words that say neither, the refusal's own: `VALIDATION`), and nothing else said (no count, no records: some rows
    may have been stored). None for any other answer."""
    errors = answer.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    for item in errors:
        index = item.get("index") if isinstance(item, dict) else None
        if type(index) is not int or index < 0 or rows is not None and index > rows:  # from 0 or 1: bad_items
            return None
    for name, value in answer.items():
        key = name.lower()
        if _done_key(key) and _unsuccessful(value) is not True:
            return None
        # a `code` (_REFUSING) may be the refusal's own ("VALIDATION"), but not one of success
        if key in _OUTCOME and (outcome := _failed_status(value)) is not True and (outcome is False or name != "code"):
            return None
        if value and not _done_key(key) and key not in _OUTCOME and name not in _REFUSING:
            return None
    texts = [answer.get(name) for name in ("message", "detail", "title", "error")]
    message = next((t for t in texts if isinstance(t, str) and t), "its errors name the rows it refuses by index")
    return RefusedInAnswer(redact(message), errors=redact_data(errors))


#: what to do for a call whose rows are in doubt: PayorCRM offers no lookup and no rollback
_CHECK = (
    "Check PayorCRM for the call's rows (the in-doubt file lists them) and load those it lacks from a file of their "
    "own: PayorCRM offers no rollback, and `bulkload resume --resend-in-doubt` sends every row of the call again, "
    "doubling those it stored"
)


def _unconfirmed(said: str) -> ValueError:
    return ValueError(
        f"the API answered 2xx, but its answer ({redact(said)}) does not say the upload was stored (seed 004 "
        f"documents no answer: only a count, records, or a success, outcome or message of success is read as "
        f"stored): the call's rows may have been stored or not. {_CHECK}"
    )


def _says_stored(answer: dict[str, Any]) -> bool:
    """Whether an answer's object, or an object within it (`_objects`), says the upload was stored: a `_DONE`
    field true or an `_OUTCOME` of success (`_succeeded`: `{"success": true}`, `{"status": "OK"}`, `{"result":
    {"code": 201}}`), or a `message` (`_told`) whose words all say so (`_worded` False: `Saved`, `Uploaded
    successfully`, `Processed without errors`)."""
    return any(
        _succeeded(obj) or (told := _told(obj)) is not None and _worded(obj[told]) is False
        for _, obj in _objects(answer)
    )


def _upload_failed(said: str) -> ValueError:
    return ValueError(
        f"the API answered 2xx, but its answer says the upload failed ({redact(said)}): it does not say what became "
        f"of the call's rows, so they may have been stored. {_CHECK}"
    )


def _failed_or_unsaid(answer: dict[str, Any], said: str) -> ValueError:
    """The error (in doubt) for an answer's object, or an object within it, that `_failure` reads as not stored
    (`said`: what it says): the upload failed (`_upload_failed`) where a field of it says so (`_says_failed` True:
    `"status": "failed"`, `"success": false`, an `error`) or its message in words of failure beside no sign of
    success; else it does not say the upload was stored (`_unconfirmed`: an outcome in words that say neither,
    `"status": "queued"`, `"state": "submitted"`, `"status": "accepted"`)."""
    failed = any(
        _says_failed(name.lower(), value)
        for name, value in answer.items()
        if not _within(name.lower(), value) and not _UNPROCESSED.fullmatch(_bare(name))
    ) or ((told := _told(answer)) is not None and bool(_worded(answer[told])) and not _succeeded(answer))
    return (_upload_failed if failed else _unconfirmed)(said)


#: the words (in lower case) that say an upload, or a record, waits to be carried out, whatever else was done (`File
#: uploaded, import queued`, `Saved to queue`, `Batch created, awaiting processing`, `will begin shortly`, `Import
#: started`, `In Warteschlange`, `I kø`, `In de wachtrij`, `In coda`, `En attente`)
_WAITING = frozenset(
    {"queue", "queued", "enqueued", "queueing", "queuing", "pending", "scheduled", "awaiting", "waiting", "deferred"}
    | {"started", "being", "shortly", "later", "asynchronously", "asynchronous", "async", "running", "nightly"}
    | {"warteschlange", "bearbeitung", "ausstehend", "werden", "wird", "gestartet", "läuft", "behandles", "kø"}
    | {"køen", "kö", "kön", "venter", "afventer", "väntar", "attente", "pendiente", "procesando", "proceso", "cola"}
    | {"wachtrij", "wordt", "coda", "corso", "elaborazione"}
)
#: the words (in lower case) that say an upload arrived, or is being worked on, which a word of `_KEPT` beside them
#: may say was done (`Received and saved`, `Processing completed`, `Saved, indexing in progress`)
_ARRIVED = frozenset(
    {"accepted", "received", "submitted", "processing", "inprogress", "will", "mottatt", "modtaget", "mottaget"}
    | {"empfangen", "angenommen", "reçu", "recibido", "ricevuto", "ontvangen", "behandling", "traitement"}
)
#: the words (in lower case) that say the records were kept (`Received and saved`, `2 accepted, 2 created`,
#: `Processing completed`), unless a word of `_DENYING` comes up to four words before (`0 saved`, `will be stored`,
#: `not saved`, `being processed`, `no records have been saved`)
_KEPT = frozenset(
    {"saved", "stored", "created", "imported", "inserted", "persisted", "written", "added", "processed"}
    | {"uploaded", "loaded", "completed", "complete", "done", "finished"}
)
#: the words that, up to four words before a word of `_KEPT`, deny it (`0 records saved`, `will be stored`, `no
#: records have been saved`)
_DENYING = frozenset({"no", "0", "none", "zero", "nothing", "not", "never", "will", "be", "being", "until", "yet"})
#: the words that deny, beside "yet" anywhere in the text, that the upload was carried out (`Not processed yet`)
_NOT = frozenset({"no", "not", "nothing", "none", "never"})
#: the words that, one or two words before a word of `_WAITING` or `_ARRIVED`, count it none (`No records pending`,
#: `0 pending`, `none pending`)
_NONE = _NOT | {"0", "zero"}
#: a field named for what waits (`queued`, `pendingCount`, `isPending`, `queuePosition`, `in_queue`, `queuedAt`), and
#: one named for what arrived (`accepted`, `receivedCount`), which a count of the records stored beside it answers
_WAITING_KEY = re.compile(
    r"(?:is|was|has|in)?(?:queue|queued|enqueued|pending|scheduled|awaiting|deferred|async)"
    r"(?:count|rows|records|items|jobs|position|length|size|at)?"
)
_ARRIVED_KEY = re.compile(
    r"(?:is|was|has)?(?:accepted|received|submitted|processing|inprogress)(?:count|rows|records|items|jobs)?"
)
#: a field that counts or lists what was not carried out yet (`unprocessed`, `notProcessed`): what waits, no failure
_UNPROCESSED = re.compile(r"(?:un|not|notyet)(?:processed|handled)(?:count|rows|records|items)?")
#: a field whose false says the upload was not carried out yet (`"processed": false`, `"isProcessed": false`)
_PROCESSED = re.compile(r"(?:is|was|has)?(?:processed|completed|complete|done|finished)")
#: the fields that may say in words how the upload went (`message`, `msg`, `info`, `statusMessage`, `jobStatus`,
#: `importStatus`; a status object's `name`)
_SAYING = re.compile(r".*(?:message|msg|info|detail|description|status|state|result|outcome).*")
#: the fields that may remark in words on part of the upload (`_in_part`): those of `_SAYING`, and a `note`,
#: `remark`, `comment`, `summary` or `reason` (`{"message": "Saved", "note": "1 duplicate ignored"}`; a `warning` is
#: read as a failure where its words say one, `_warned`)
_REMARKING = re.compile(
    r".*(?:message|msg|info|detail|description|status|state|result|outcome|note|remark|comment|summary|reason).*"
)
#: the words that say part of an upload was left out (`Partially saved`, `1 duplicate ignored`, `row 3 dropped`)
_PART = frozenset({"partial", "partially", "partly", "ignored", "dropped", "omitted", "discarded", "excluded"})
#: a count of the records kept out of those sent (`Saved 2 of 3`, `2 out of 3 imported`)
_OF = re.compile(r"\b([0-9]+) (?:out )?of ([0-9]+)\b")


def _part_said(text: str) -> bool:
    """Whether a text says part of the upload was left out: a word of `_PART` not counted none by one of the two
    words before it (`0 ignored`, `no rows dropped`), "not" before what a stored record is (`_NOT_DONE`: `row 3 was
    not imported`), or a count of the rows kept below those sent (`Saved 2 of 3`)."""
    words = _words(text)
    if any(w in _PART and _NONE.isdisjoint(words[max(0, i - 2) : i]) for i, w in enumerate(words)):
        return True
    joined = " ".join(words)
    return _NOT_DONE.search(joined) is not None or any(int(a) < int(b) for a, b in _OF.findall(joined))


#: what ends a clause of a text, within which a word of failure is read with its count (`2 saved, 1 failed`: two)
_CLAUSE_END = re.compile(r"[.;,!?()\[\]\n]")
#: the words that count a word of failure beside them none, as a zero does (`no errors`, `without errors`, `not a
#: duplicate`, `failed: none`)
_NONE_BESIDE = _NONE | {"without"}
#: the words that count a word of failure after them some, as a number other than zero does (`with errors`, `a
#: duplicate was skipped`, `some records failed`)
_SOME = frozenset({"with", "a", "an", "one", "some", "several", "many", "all"})


def _failed_said(text: str) -> bool:
    """Whether a text says some of the upload failed (tester t36a: `{"success": true, "message": "2 saved, 1
    failed"}` loaded every row, exit 0): in a clause of it (`_CLAUSE_END`), a word starting with one of `_FAILING`
    (`errors`, `failed`, `rejected`, `skipped`, `duplicate`, `invalid`) counted some. Counted none where a word of
    `_NONE_BESIDE` or a zero is one or two words before it (`Completed with 0 errors`, `Processed without errors`,
    `not a duplicate`); else its count is the nearest number or word of none one or two words before it, then after
    it: a number other than zero says some failed (`1 failed 0 skipped`, `row 2: invalid email`, `Failed: 1`), a
    zero or a word of none does not (`Errors: 0`, `Rows with errors: 0`, `failed records: none`); where none is
    given, a word of `_SOME` before it says some did (`Uploaded with errors`, `a duplicate was skipped`), and no
    word a word of failure no count stands beside (`duplicate check passed`), nor one free of it (`a duplicate-free
    batch`). A word that is a label (`_labels`: `Failed: 0`, `failed=0`, `Created 3 Failed 0`) is counted by the
    number or word of none after it, where one is: the number before it is another label's (tester t37a: `Total: 3 |
    Success: 3 | Failed: 0` and `created=3 failed=0` were read as 3 failed, every row in doubt)."""
    for clause in _CLAUSE_END.split(text):
        words = " ".join(_spoken(clause))
        if _ALREADY.search(words) or _NOT_DONE_ABROAD.search(words):  # `1 already existed`
            return True
    return any(some for _, some in _failure_counts(text))


def _failure_counts(text: str) -> Iterator[tuple[str, bool | None]]:
    """Each word of failure of a text (in lower case, `_spoken`), in its clauses (`_CLAUSE_END`), with what its count
    says as `_failed_said` reads it: True some failed (`1 failed`, `Failed: 1`, `with errors`), False none did (`0
    errors`, `Errors: 0`, `Fehler: keine`, `error-free` is no word of failure), None no count stands beside it
    (`Upload failed`, `duplicate check passed`)."""
    none = _NONE_BESIDE | _NONE_ABROAD
    for clause in _CLAUSE_END.split(text):
        words = _spoken(clause)
        labels = _labels(clause)
        for i, word in enumerate(words):
            before = words[max(0, i - 2) : i]
            failing = (word.startswith(_FAILING) or _failing_abroad(word)) and words[i + 1 : i + 2] != ["free"]
            if not failing:
                continue
            after = next((w for w in words[i + 1 : i + 3] if w.isdigit() or w in none), None) if i in labels else None
            if after is not None:  # `Failed: 1` some, `Failed: 0` none, whatever stands before it
                yield word, after.isdigit() and not _zero(after)
            elif any(w in none or _zero(w) for w in before):  # `error-free`, `0 errors`: none
                yield word, False
            else:
                beside = [*reversed(before), *words[i + 1 : i + 3]]
                count = next((w for w in beside if w.isdigit() or w in none), None)  # a number before, else after
                if count is not None:
                    yield word, count.isdigit() and not _zero(count)
                else:
                    yield word, True if not _SOME.isdisjoint(before) else None


def _none_failed(text: str) -> bool:
    """Whether every word of failure in a text is counted none (`_failure_counts`: `Errors: 0`, `Fehler: keine`,
    `Saved, 0 failed, 0 skipped`), and it holds at least one."""
    said = [some for _, some in _failure_counts(text)]
    return bool(said) and all(some is False for some in said)


def _labels(clause: str) -> set[int]:
    """The indexes (in `_spoken(clause)`) of the words of a clause that label the count after them: each followed by
    `:` or `=` (`Failed: 0`, `failed=0`), and every word of a clause that is labels and counts only, each label
    followed by its number (`Created 3 Failed 0`, `Total 3 Success 3 Failed 0`; not `Saved 3 records 1 failed`, nor
    `1 failed 0 skipped`, which count before their words)."""
    lowered = clause.lower()
    tokens = list(re.finditer(r"[^\W\d_]+|[0-9]+", lowered))
    out = {i for i, t in enumerate(tokens) if re.match(r"\s*[:=]", lowered[t.end() :])}
    kinds = [t.group().isdigit() for t in tokens]
    if tokens and len(tokens) % 2 == 0 and kinds == [False, True] * (len(tokens) // 2):
        out |= set(range(0, len(tokens), 2))
    return out


def _zero(word: str) -> bool:
    """Whether a word is a number of zeros (`0`, `000`)."""
    return word.isdigit() and not word.strip("0")


def _in_part(answer: dict[str, Any], says: Callable[[str], bool] = _part_said) -> str | None:
    """What an answer's object, or an object within it (`_objects`), says of part of the upload left out, in a field
    that may remark on it in words (`_REMARKING`; a text or a list of texts) whose text says so (`says`:
    `_part_said`; `_failed_said`, of part of it failed), whatever else says success: which rows were kept cannot be
    told. None where none says so."""
    for path, obj in _objects(answer):
        for name, value in obj.items():
            texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            if _REMARKING.fullmatch(_bare(name)) and any(isinstance(t, str) and says(t) for t in texts):
                return f"{_at(path, name)}: {_shown(value)}"
    return None


def _waiting(text: str) -> bool:
    """Whether a text says the upload waits to be carried out: "yet" beside a denial (`Not processed yet`, `no records
    have been saved yet`); a word of `_WAITING`; or one of `_ARRIVED` (or "in progress") with no word of `_KEPT`
    (`Save in progress`; not `Received and saved`): a word of what waits or arrived only where no word of `_NONE`
    comes one or two words before it (`No records pending`), one of what was kept only where no word of `_DENYING`
    comes up to four words before it (`0 saved`, `will be stored`, `no records have been saved`). Words are split at
    case changes too (`AcceptedForProcessing`)."""
    words = re.findall(r"[^\W_]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).lower())
    if "yet" in words and not _NOT.isdisjoint(words):
        return True

    def said(i: int) -> bool:  # a word of what was kept at i, not denied by one of the four before it
        return _DENYING.isdisjoint(words[max(0, i - 4) : i])

    def waits(i: int) -> bool:  # a word of what waits at i, not counted none by one of the two before it
        return _NONE.isdisjoint(words[max(0, i - 2) : i])

    if any(w in _WAITING and waits(i) for i, w in enumerate(words)):
        return True
    joined = " ".join(words)
    arrived = "in progress" in joined or any(w in _ARRIVED and waits(i) for i, w in enumerate(words))
    # a word of what was kept, nor counted none after it (`saved: 0`)
    kept = any(w in _KEPT and said(i) and words[i + 1 : i + 2] not in (["0"], ["none"]) for i, w in enumerate(words))
    return arrived and not kept


#: a field whose value, where it is anything but nothing (`_nothing`), says the call was not carried out for real
#: (`dryRun`, `isTest`, `testMode`, `validateOnly`, `validationOnly`, `simulated`, `preview`, `sandbox`), as `_bare`
#: writes it: nothing was stored, or into no books the run loads (tester t70b: `{"dryRun": true, "count": 2}` was
#: read as 2 stored, exit 0)
_UNREAL_KEY = re.compile(
    r"(?:is|was)?(?:dry|dryrun|test|testmode|testonly|testrun|validate|validateonly|validation|validationonly"
    r"|validated|validatedonly|verifyonly|checkonly|simulate|simulated|simulation|preview|sandbox|sandboxmode|noop"
    r"|whatif)(?:mode|only|run)?"
)
#: a field that names a mode (`mode`, `runMode`, `uploadMode`), and the words of it that are no real upload
_MODE_KEY = re.compile(r"(?:run|upload|import|execution|processing)?mode")
_UNREAL_MODES = frozenset(
    {"dry", "dryrun", "test", "testing", "testmode", "validate", "validation", "validateonly", "validationonly"}
    | {"simulate", "simulation", "simulated", "preview", "sandbox", "noop", "check", "checkonly", "verify", "whatif"}
)
#: words of a text that say the call was not carried out for real (`Dry run: 2 records valid`, `Test mode`,
#: `Validation only`, `Validated, not saved`, `Simulated`, `2 records would be created`)
_UNREAL_TEXT = re.compile(
    r"\bdry[ -]?run\b|\btest[ -]?(?:mode|run|only)\b|\bvalidat(?:e|ed|ion)[ -]only\b|\bonly validated\b"
    r"|\bsimulat(?:e|ed|ion)\b|\bpreview\b|\bwould (?:be|have)\b|\bno[ -]?op\b|\bwhat[ -]?if\b",
    re.IGNORECASE,
)
#: a field that hands back a job or task the upload was given to (`jobId`, `job_id`, `taskId`, `job`, `importJob`,
#: `statusUrl`): the work was queued, not done, whatever else says success (tester t70b: `{"success": true, "jobId":
#: "7f3c"}` was read as stored, exit 0)
_JOB_KEY = re.compile(
    r"(?:background|async|import|upload|batch)?(?:job|task)(?:id|ids|key|token|ref|reference|number|no|url|uri|href"
    r"|link|status)?|(?:status|poll|progress|result)(?:url|uri|href|link)"
)


#: a field whose value, anything but nothing, says the upload's writes were taken back (`rolledBack`, `rollback`,
#: `reverted`, `aborted`); one whose false says they were never made lasting (`committed`, `persisted`); and words
#: of a text (under a key of `_SAYING`, or `transaction`) that say either (`rolled back`, `not committed`, `Nothing
#: changed`, `No changes`): nothing was kept (tester t70b: `{"success": true, "count": 2, "rolledBack": true}` was 2
#: stored, exit 0)
_UNDONE_KEY = re.compile(r"(?:is|was|has)?(?:rolledback|rollback|reverted|aborted|undone|cancelled|canceled)")
_LASTING_KEY = re.compile(r"(?:is|was|has)?(?:committed|commited|persisted)")
_TRANSACTION_KEY = re.compile(r"(?:transaction|txn|commit)(?:status|state|result)?")
_UNDONE_TEXT = re.compile(
    r"\brolled[ -]?back\b|\brollback\b|\breverted\b|\baborted\b|\b(?:not|un)[ -]?committed\b"
    r"|\bnothing (?:was |has been )?changed\b|\bno changes\b",
    re.IGNORECASE,
)


def _checked_only(text: str) -> bool:
    """Whether a text says the records were checked and not that they were kept: a word of validating or verifying
    and none of `_KEPT` (`Records validated successfully`; not `Validated and saved`)."""
    words = _words(text)
    return any(w.startswith(("validat", "verified")) for w in words) and _KEPT.isdisjoint(words)


def _not_for_real(obj: dict[str, Any]) -> str | None:
    """What a field of an answer's object says of an upload not carried out for real (`_UNREAL_KEY` anything but
    nothing, a `mode` of `_UNREAL_MODES`, a text of `_SAYING` in words of `_UNREAL_TEXT`: a dry run, a test, a
    validation only), handed to a job to be done later (`_JOB_KEY` anything but nothing), or taken back
    (`_UNDONE_KEY`, `_LASTING_KEY` not true, `_UNDONE_TEXT`: rolled back, not committed): as `_pending` says it,
    with why it is not a record stored; None where none says so."""
    for name, value in obj.items():
        key = _bare(name)
        said = f"{name}: {_shown(value)}"
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if (
            _UNREAL_KEY.fullmatch(key)
            and not isinstance(value, dict | list)
            and not _nothing(value)
            and not _unsuccessful(value)
            or _MODE_KEY.fullmatch(key)
            and isinstance(value, str)
            and _bare(value).replace(" ", "") in _UNREAL_MODES
            or _SAYING.fullmatch(key)
            and any(isinstance(t, str) and (_UNREAL_TEXT.search(t) or _checked_only(t)) for t in texts)
        ):
            return f"{said}: a dry run, a test or a validation only, which stores nothing"
        if _JOB_KEY.fullmatch(key) and not _nothing(value):
            return f"{said}: the upload was handed to a job, queued and not yet done"
        if (
            _UNDONE_KEY.fullmatch(key)
            and not isinstance(value, dict | list)
            and not _nothing(value)
            and not _unsuccessful(value)
            or _LASTING_KEY.fullmatch(key)
            and _unsuccessful(value) is not False
            or (_SAYING.fullmatch(key) or _TRANSACTION_KEY.fullmatch(key))
            and any(isinstance(t, str) and _UNDONE_TEXT.search(t) for t in texts)
        ):
            return f"{said}: the upload's writes were taken back or never committed, which keeps nothing"
    return None


def _pending(answer: dict[str, Any]) -> str | None:
    """What an answer's object, or an object within it (`_objects`), says of an upload waiting to be carried out
    (in doubt, whatever else says success: the rows may still be stored or dropped): a field that may say so in words
    (`_SAYING`: `message`, `msg`, `statusMessage`, `jobStatus`; a list of such texts, `messages`; in an object
    under such a key, its `name`) whose text waits (`_waiting`); a field named for what waits (`_WAITING_KEY`:
    `queued`, `pendingCount`, `queuePosition`, `async`) or for what arrived (`_ARRIVED_KEY`: `received`, `accepted`,
    unless the object counts the records stored, `_counts`: `{"created": 2, "received": 2}`) holding anything but
    nothing (`_nothing`); a `processed`, `isProcessed`, `completed`, … that is false (`_unsuccessful`). None where it
    says none."""
    for path, obj in _objects(answer):
        # a count of the records stored says what became of them, whatever was received or accepted beside it (not
        # what waits: `{"uploaded": 2, "queued": 2}`)
        counted = any(_counts(name, value) and name.lower() != "count" for name, value in obj.items())
        under = path.rpartition(".")[2].lower()
        if (unreal := _not_for_real(obj)) is not None:
            return f"{path + ': ' if path else ''}{unreal}"
        for name, value in obj.items():
            key = _bare(name)
            texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            if (_SAYING.fullmatch(key) or key == "name" and _SAYING.fullmatch(under)) and any(
                isinstance(t, str) and _waiting(t) for t in texts
            ):
                return f"{_at(path, name)}: {_shown(value)}"
            waits = (
                _WAITING_KEY.fullmatch(key)
                or _UNPROCESSED.fullmatch(key)
                or not counted
                and _ARRIVED_KEY.fullmatch(key)
            )
            if (waits and not isinstance(value, dict) and not _nothing(value)) or (
                _PROCESSED.fullmatch(key) and _unsuccessful(value)
            ):
                return f"{_at(path, name)}: {_shown(value)}"
    return None


def _record_waits(record: Any, row: Any) -> str | None:
    """What a listed record says of its own wait (`_pending`: `"pending": true`, `"processed": false`, a message
    `Queued for processing`), where it is an object, in a field other than one of `row`'s (the row sent): those are
    the record's data, whatever their words (an invoice's `status` "Pending", its `reasonCodeDescription` "Queue
    fee"); None where it says none."""
    if not isinstance(record, dict):
        return None
    own = () if row is None else type(row).__struct_fields__
    return _pending({name: value for name, value in record.items() if name not in own})


def _listing(name: str, value: Any) -> bool:
    """Whether a field of an answer's object lists records: a list under `results` (in any case), a list of objects
    only under any key (`data`, `items`), and an empty list under any key but one that says what failed, warns or
    tells (`"errors": []`, `"warnings": []`, `"messages": []`: nothing of the kind), which lists none stored."""
    if not isinstance(value, list):
        return False
    key = name.lower()
    if value:
        return key == "results" or all(isinstance(r, dict) for r in value)
    bare = _bare(key)  # `"queued": []`: none waits, no record listed
    waiting = _WAITING_KEY.fullmatch(bare) is not None or _ARRIVED_KEY.fullmatch(bare) is not None
    return not (_failing_key(key) or "warn" in key or waiting or any(told in key for told in _TOLD))


def _values_listed(answer: dict[str, Any], rows: int) -> str | None:
    """Where an answer's object, or an object within it (`_objects`), lists values alone (no records: ids, keys)
    under a key that is read as no other thing (`"ids": [7, 9]`, `"customers": ["C1", "C3"]`; not a list of what
    was stored, `_lists_stored`, nor one that says what failed, warns or tells) as many as `rows` sent, or a count
    of something else: why their number is not the rows sent (another number: which rows were stored cannot be
    told), else None. Tester t38a: `{"message": "Saved", "ids": [500, 501]}` for 3 customers loaded 3, exit 0, the
    server holding 2, as an empty list under any such key (`_listing`) was in doubt."""
    for path, obj in _objects(answer):
        for name, value in obj.items():
            if not isinstance(value, list) or not value or _listing(name, value) or _lists_stored(name, value):
                continue
            key = name.lower()
            if _failing_key(key) or "warn" in key or any(told in key for told in _TOLD) or len(value) == rows:
                continue
            return (
                f"the API's answer lists {len(value)} values under {_at(path, name)} for the {rows} rows sent: "
                f"which rows were stored cannot be told. {_CHECK}"
            )
    return None


def _outcome_of_failure(obj: dict[str, Any]) -> str | None:
    """What an object within an answer says of a failure as an outcome alone under a key of any name (`_failed_status`
    True: `"error"`, `"rejected"`, `"Duplicate"`): the outcome of the record it names, as a map of them by key does
    (`{"results": {"C1": "ok", "C2": "error"}}`); None where none does. Tester t38a: such a map beside `"success":
    true` loaded C2, exit 0, the server holding C1 and C3 only."""
    said = [
        f"{name}: {_shown(value)}" for name, value in obj.items() if isinstance(value, str) and _failed_status(value)
    ]
    return ", ".join(said) or None


def _records(answer: dict[str, Any]) -> list[Any] | None:
    """The records an answer's object lists (seed 004 documents no answer): the one list, under any key of it or of
    an object within it (`_objects`), that lists records (`_listing`: `{"results": [...]}`, `{"data": [...]}`,
    `{"data": {"items": []}}`); None where it lists none. ValueError where the answer may say that some of the
    upload failed: an object within it says so of itself (`_failure`: among others, a key whose name says failure
    holding anything but nothing), or it lists records twice (which list is the call's records, and whether the
    other says some failed, cannot be told)."""
    found: list[tuple[str, list[Any]]] = []
    for path, obj in _objects(answer):
        if path and (failed := _failure(obj, None, None) or _outcome_of_failure(obj)) is not None:
            raise _failed_or_unsaid(obj, f"{path}: {failed}")
        found += [(_at(path, name), value) for name, value in obj.items() if _listing(name, value)]
    if len(found) > 1:
        raise ValueError(
            f"the API's answer lists records under {' and '.join(sorted(w for w, _ in found))}: which are the "
            f"call's, and whether the others say some failed, cannot be told, so its rows may have been stored or "
            f"not. {_CHECK}"
        )
    return found[0][1] if found else None


def read_answer(body: bytes, rows: int | None = None) -> Said:
    """Read any 2xx answer to an upload of `rows` tolerantly (seed 004 documents no answer), taking it for stored
    only where it says so: its records listed under any key (``{"results": [...]}``, ``{"data": [...]}``,
    ``{"data": []}``, `_records`) or as a bare array (with or without ``id``), a count (``{"success": true,
    "count": n}``, ``{"uploaded": n}``, ``{"meta": {"Count": n}}``: `_stated`, in any case, anywhere in its object;
    `"2"` or `2.0` as 2), a success, outcome or message of success in it (`_says_stored`: ``{"success": true}``,
    ``{"status": "OK"}``), text of success alone (`_failed_status` False: ``OK``, ``200 OK``, ``Created``,
    ``true``); an empty body, ``null`` or an object of nulls only says nothing, and the 2xx stands. An answer whose
    object says the upload failed, as a record may say it of itself (`_failure`: ``"success": false`` or ``"ok":
    "false"``, an ``error``, ``errors`` or ``errorMessage``, a ``status``, ``state``, ``outcome`` or ``code`` of
    failure, ``{"code": 409}`` within it, a ``message`` or ``Message`` in words of failure beside no sign of
    success), or whose text (JSON or plain) is an outcome of failure (`_failed_status`: ``Upload failed``, ``409
    Conflict``, ``false``), is not: one that names the rows it refuses by index and says nothing of a row stored
    (`_refusal`) raises RefusedInAnswer (read as a 400 naming them); any other, ValueError (the call arrived, what
    became of its rows is unknown: in doubt), as does one that may say some of it failed otherwise (`_records`; a
    remark beside its success that counts records failed, `_failed_said`: `"message": "2 saved, 1 failed"`),
    and one that does not say it was stored (``Bad Gateway``, an HTML page, ``Thank you``, ``{"Message":
    "Authorization has been denied for this request."}``). So does an answer whose counts (its `count`,
    `uploaded`, … wherever given, the records it lists) say two numbers, or a count that is no whole number
    (`_stated`)."""
    try:
        value = _decode_any(body) if body.strip() else None
    except (msgspec.DecodeError, RecursionError):  # RecursionError: JSON nested past msgspec's depth
        value = body.decode("utf-8", "replace")  # not JSON ("OK"): read as JSON text is
    # text is success only where it says so (`OK`, `Created`, `true`), never `Bad Gateway` or an HTML page
    if not isinstance(value, dict | list) and value is not None and (outcome := _failed_status(value)) is not False:
        raise (_upload_failed if outcome else _unconfirmed)(_shown(value))
    if isinstance(value, dict):
        if (failed := _failure(value, None, None)) is not None:
            if (refusal := _refusal(value, rows)) is not None:
                raise refusal
            raise _failed_or_unsaid(value, failed)
        if (pending := _pending(value)) is not None:
            raise _unconfirmed(pending)
        if (part := _in_part(value)) is not None:
            raise _unconfirmed(part)
        records = _records(value)
        listed = None if records is None else len(records)
        stated = _stated(value)
        if len({*(n for _, n in stated), *([] if listed is None else [listed])}) > 1:
            said = ", ".join(f"{name} {n}" for name, n in stated)
            raise ValueError(
                f"the API's answer says {said}{'' if listed is None else f' and lists {listed} records'}: how many "
                "records it stored cannot be told"
            )
        if rows is not None and (apart := _values_listed(value, rows)) is not None:
            raise ValueError(apart)
        if records is None and not stated and any(v is not None for v in value.values()) and not _says_stored(value):
            raise _unconfirmed(_shown(value))
        if records is None and not stated and rows and (none := _none_done(value)) is not None:
            raise ValueError(
                f"the API answered 2xx, but its answer says {none} of the {rows} rows sent: nothing was stored, or "
                f"what was cannot be told. {_CHECK}"
            )
        if (failed_part := _in_part(value, _failed_said)) is not None:  # beside what says stored (t36a)
            raise _upload_failed(failed_part)
        if records is None:
            # `{}` or `{"count": null}` says nothing, as an empty body does: the 2xx stands
            return Said(stored=stated[0][1] if stated else None)
    elif isinstance(value, list):
        records = value
    else:
        return Said()
    return Said(_every(records, "id", _id), _amounts(records), len(records), records)


def named(value: Any) -> str | None:
    """A key or a value as an answered record gives it (text, or a number a server made of it), as a row's text has
    it; None for anything else (an object, a list, null)."""
    return value if isinstance(value, str) else str(value) if type(value) is int else None


def _spelled(text: str) -> str:
    """A text as its words are, whatever their case, spacing or `_` (`NOT_DUE`, ` not  due `: "not due")."""
    return " ".join(text.replace("_", " ").lower().split())


def _counted(value: Any) -> int | None:
    """A whole number as a record gives it, as text of its digits or a JSON integer (`"01"`, `" 1 "`, `1`: 1); None
    for anything else (`"1a"`, `1.5`, `true`, null)."""
    if type(value) is str and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return value if type(value) is int else None


class Fields(NamedTuple):
    """The fields of the records a call sent, as their answer is read: the one that names a record (`key`: a
    customer's customerno, an invoice's invoiceNumber), those that hold numbers and dates, which an answer may write
    otherwise than they were sent, those of text that hold a whole number (`counted`: an invoice's fiscalPeriod),
    those of text that name a record or refer to one (`names`: the key, an invoice's customerNumber, reference1),
    whose spaces are their own, and of these the ones that name the record itself or the record it is of (`keys`:
    the key, an invoice's customerNumber), compared exactly (`same`)."""

    key: str
    numbers: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    counted: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()

    def same(self, name: str, sent: Any, said: Any) -> bool:
        """Whether `said`, what a record answers of the field `name` sent as `sent`, is that value by its meaning
        (seed 004 documents no answer, nor how it writes what it echoes): the value itself; of a number field, or a
        number sent in a nested value, the same number in any form (`1234.5` or `"1234.500"` for a balanceAmount
        `"1234.50"`, `1000.0` for 1000, as money.same_amount reads an API's doubles); of a date field, a date or
        date-time naming the date sent (dates.same_day); of a `counted` field, the same whole number, its leading
        zeros none of its meaning (`1` or `"1"` for a fiscalPeriod `"01"`); of a nested value (an object: billAddr),
        one whose members sent are each the same (`same`, named `billAddr.city`), and whose members not sent are null
        or absent (`{"line1": null, "city": "Oslo"}` for `{"city": "Oslo"}`), its members named in any case as a
        record's fields are (`_named_as`: `City` is city; one naming a member twice, in two cases, is another
        value), of a list one whose items each are;
        of a key or reference (`keys`), the text sent exactly, but for spaces around it (`ab_1` or `AB 1` for
        `AB_1` names another record); of other text naming a record (`names`), the same words in any case, spacing
        or `_`; of other text, the same
        in any case or `_` and whatever its spaces (an invoice's own `status`: `Not due` sent, `NOT DUE` or
        `not_due` answered; a phoneno `+1 715 724 1681` sent, `+17157241681` answered); of text, a whole number
        written as the text sent (`123` for "123"). Anything else is another value (`"123"` or `123` for a
        customerNumber "00123", `2026-12-30` for 2026-12-31, `150` for a billAddr's zip "0150")."""
        if type(said) is type(sent) and said == sent:
            return True
        if isinstance(sent, dict):
            said = _named_as(said, sent) if isinstance(said, dict) else None
            return said is not None and all(
                self.same(f"{name}.{member}", sent.get(member), said.get(member)) for member in sent.keys() | said
            )
        if isinstance(sent, list):
            return (
                isinstance(said, list)
                and len(said) == len(sent)
                and all(self.same(f"{name}[{i}]", item, was) for i, (item, was) in enumerate(zip(sent, said)))
            )
        if name in self.numbers or type(sent) in (int, Decimal):
            number, was = answered_number(said), answered_number(sent)
            return number is not None and was is not None and same_amount(number, was)
        if not isinstance(sent, str):
            return False
        if name in self.dates:
            return isinstance(said, str) and same_day(sent, said)
        return (meant := self.meaning(name, said)) is not None and meant == self.meaning(name, sent)

    def meaning(self, name: str, value: Any) -> Hashable | None:
        """What `same` compares of a value of the field `name`, as one key for all its writings (`_misplaced`
        counts the values records carry by it): of a number field, or a number, the double it is (money.same_amount);
        of a date field, the date it names (dates.listed_day, as `same_day` reads it without the date sent); of a
        `counted` field, its whole number, where it writes one; of text (or a whole number, as its digits), of a key
        the text but for spaces around it, of other text naming a record its words in any case, spacing or `_`, of
        other text those words whatever its spaces. None for anything else (null, a list, an object)."""
        if name in self.numbers or type(value) is Decimal:
            number = answered_number(value)
            return None if number is None else nearest_double(number)
        text = named(value)
        if text is None:
            return None
        if name in self.dates:
            return listed_day(text)
        if name in self.counted and (whole := _counted(value)) is not None:
            return whole
        if name in self.keys:
            return text.strip()
        return _spelled(text) if name in self.names else _spelled(text).replace(" ", "")


def _spelling(name: str) -> str:
    """A field's name whatever its case and the `_` or `-` within it (`CustomerNo`, `customer_no`, `Customer-No`:
    customerno); a leading one is its own (`_id` is not id)."""
    return name[:1].lower() + name[1:].lower().replace("_", "").replace("-", "")


def _named_as(said: dict[str, Any], names: Collection[str]) -> dict[str, Any] | None:
    """`said` (a record, or an object in it) with each of `names` (the fields or members sent) that it names in
    another case or spelling (`_spelling`) named as it was sent, where exactly one of `names` is that name so
    (`CustomerNo`, `Id`, `City`, as a .NET server writes them, `customer_no` as a Python server does, are
    customerno, id and city; of a city and a City sent, a CITY is neither). None where it names one twice
    (`customerno` and `CustomerNo` or `customer_no`): which is the field cannot be told."""
    folds = Counter(_spelling(name) for name in names)
    sent = {_spelling(name): name for name in names if folds[_spelling(name)] == 1}
    renamed = {name if name in names else sent.get(_spelling(name), name): value for name, value in said.items()}
    return renamed if len(renamed) == len(said) else None


def _folded(records: list[Any], names: Collection[str]) -> tuple[list[Any], bool]:
    """The records with each of the fields sent (`names`) and their `id` named as sent in whatever case they name
    them, or spelling (`_named_as`), and whether any names one of them twice, in two cases or spellings: that
    record is left as it is."""
    folded: list[Any] = []
    clashed = False
    for record in records:
        if isinstance(record, dict):
            renamed = _named_as(record, {*names, "id"})
            clashed = clashed or renamed is None
            record = record if renamed is None else renamed
        folded.append(record)
    return folded, clashed


class Paired(NamedTuple):
    """Which answered record is which sent row (`pairing`): per row, the index of its record, whether the record's
    id is known to be the row's (`told`), and whether its amount is known to be in the row's currency (`placed`)."""

    order: list[int]
    told: list[bool]
    placed: list[bool]


#: the amounts of a line: its other fields tell it apart first, so that an amount the API changed is a difference
_AMOUNTS = frozenset({"invoiceAmount", "localAmount", "balanceAmount"})


def _by_content(
    records: list[dict[str, Any]], lines: Sequence[Any], fields: Collection[str]
) -> tuple[list[int], list[bool]] | None:
    """The lines of one invoice paired with its records (which name no lineItem) by the values of `fields` every
    record gives (currency, amounts, …), first all of them, then all but the amounts: per line, the index of its
    record, and whether that is told (its id the line's). Lines alike in those values
    are interchangeable: their ids are not told, and their amounts are placed where the lines share a currency or
    the records one amount (either way each currency counts the same). None when no pairing fits, or an amount
    cannot be placed: which line each record is cannot be told."""
    carried = [f for f in sorted(fields) if all(named(r.get(f)) is not None for r in records)]
    for compared in (carried, [f for f in carried if f not in _AMOUNTS]):
        given = [tuple(named(r[f]) for f in compared) for r in records]
        sent = [tuple(named(getattr(line, f, None)) for f in compared) for line in lines]
        if Counter(given) != Counter(sent):
            continue
        alike: dict[tuple[Any, ...], list[int]] = {}
        for j, values in enumerate(given):
            alike.setdefault(values, []).append(j)
        placed = all(
            len({getattr(line, "currency", None) for line, v in zip(lines, sent) if v == values}) == 1
            or len({records[j].get("invoiceAmount") for j in found}) == 1
            for values, found in alike.items()
        )
        if not placed:
            return None
        waiting = {values: list(found) for values, found in alike.items()}
        order = [waiting[values].pop(0) for values in sent]
        return order, [len(alike[values]) == 1 for values in sent]
    return None


def pairing(records: list[Any], sent: Sequence[Any], key_field: str) -> Paired | None:
    """Which answered record is which sent one, where the answer's records name their key (`key_field`: a
    customer's customerno, an invoice's invoiceNumber, and among one invoice's lines their lineItem, or else what
    they carry: `_by_content`). None when no record names its key (they are taken in request order). ValueError when
    the keys named are not exactly those sent (which row each record is, and whether every row was stored, cannot be
    told): the call arrived, its outcome is unknown."""
    if not any(isinstance(r, dict) and key_field in r for r in records):
        return None
    keys = [named(r.get(key_field)) if isinstance(r, dict) else None for r in records]
    wanted = [getattr(record, key_field) for record in sent]
    order = pair(wanted, [(key,) for key in keys])
    if order is None:
        shown = ", ".join(sorted(map(str, keys))[:10])
        raise ValueError(
            f"the API's answer lists the {key_field}s {shown} for the {len(sent)} sent: which row each record is, "
            "and whether every row was stored, cannot be told"
        )
    paired = Paired([0] * len(sent), [True] * len(sent), [True] * len(sent))
    rows: dict[str, list[int]] = {}
    for i, key in enumerate(wanted):
        rows.setdefault(key, []).append(i)
    fields = type(sent[0]).__struct_fields__ if sent else ()
    for key, same in rows.items():
        found, content = [order[i] for i in same], None
        told = len(same) == 1
        lines = [named(records[j].get("lineItem")) for j in found]
        if not told and Counter(lines) == Counter(getattr(sent[i], "lineItem", None) for i in same):
            by_line = {line: j for line, j in zip(lines, found)}  # an invoice's lines have distinct line items
            found, told = [by_line[getattr(sent[i], "lineItem", None)] for i in same], True
        elif not told and any(line is not None for line in lines):
            raise ValueError(f"the API's answer lists the line items {lines} for {key_field} {key}: not those sent")
        elif not told:
            others = [f for f in fields if f not in (key_field, "lineItem")]
            content = _by_content([records[j] for j in found], [sent[i] for i in same], others)
            if content is not None:
                found = [found[k] for k in content[0]]
        for n, (i, j) in enumerate(zip(same, found)):
            paired.order[i] = j
            if not told:
                paired.told[i] = content is not None and content[1][n]
                paired.placed[i] = content is not None
    return paired


#: words that say something failed or was not stored: in a key of an answer's object or record, of what it holds
#: (`failed`, `rejected`, `duplicates`, `errorCount`, `errorMessage`, `skipped`, …: anything but nothing under it,
#: `_nothing`, says so); in a `status`, `state` or `result`, of itself (`Failed`, `duplicate`, `skipped`, `error`)
_FAILING = ("error", "fail", "reject", "invalid", "duplicate", "skip", "refuse", "conflict", "ignor", "drop", "omit")
#: the keys whose true says the upload or record was done and false that it was not (`"success": false`, `"ok":
#: "false"`, `"saved": 0`, `"succeeded": false`, `"isSuccess": false`, `"created": false`): in lower case, without
#: `_` or `-`, after an `is` or `was` (`_done_key`)
_DONE = frozenset({"success", "successful", "succeeded", "ok", "created", "saved", "stored"})
#: the keys whose word or HTTP status says how the upload or record went (`"status": "failed"`, `"state":
#: "NOT_SAVED"`, `"status": 409`, `"statusCode": "422"`, `"httpStatus": 400`, `"status_code": 422`, `"code": 409`,
#: `"outcome": "rejected"`), in lower case
_OUTCOME = frozenset(
    {"status", "state", "result", "outcome", "code", "statuscode", "httpstatus", "status_code", "http_status"}
)
#: the keys of an answer's object or record whose text may say, in its words, that it failed (`_failure`: where
#: nothing else says how it went)
_TOLD = ("message", "detail", "description")
#: how deep an outcome given as objects within objects is read (`_failed_status`): deeper, it is not clear
_DEEPEST = 8
#: an HTTP status written as text, alone or before its reason phrase, after `HTTP` or not (`"409"`, `" 500 "`,
#: `"409.0"`, `"HTTP 409"`, `"422 Unprocessable Entity"`): the number as JSON writes it, and the phrase
_HTTP_STATUS = re.compile(rf"\s*(?:(?i:http)(?:/[0-9.]+)?\s*)?({JSON_NUMBER.pattern})(?:\s(.*))?", re.DOTALL)
#: the HTTP statuses of success that say nothing was stored yet, or not which: 202 Accepted ("accepted for
#: processing, but the processing has not been completed", RFC 9110 §15.3.3) and 207 Multi-Status (each part's
#: own status is elsewhere, RFC 4918 §11.1): an outcome written so (`{"status": 202}`) is neither
_UNDONE_STATUSES = frozenset({202, 207})
#: a `success` (`_DONE`) that says it failed, as text (any case): JSON false and 0 say so too
_UNSUCCESSFUL = frozenset({"false", "0", "no"})
#: a `success` (`_DONE`) that says it was done, as text (any case): JSON true and 1 say so too
_SUCCESSFUL = frozenset({"true", "1", "yes"})
#: the words a text outcome says it was stored in (`Created`, `OK`, `saved`, `Created successfully`): one of other
#: words (`BadRequest`, `Already exists`, `KO`, `Pending`, `Queued`) says neither (`_worded`). Not `accepted`: taken
#: for processing, not stored (RFC 9110 §15.3.3: 202 Accepted "may or may not eventually be acted upon")
_SUCCEEDING = frozenset(
    {"ok", "okay", "success", "successful", "successfully", "succeeded", "created", "saved", "stored", "imported"}
    | {"processed", "uploaded", "loaded", "inserted", "added", "written", "persisted", "updated"}
    | {"done", "complete", "completed", "true", "yes"}
)
#: the words of a text that say "nothing" (beside zeros: `0`, `000`), under a key whose name says failure (`_nothing`)
_NIL = frozenset({"false", "no", "none", "null", "nil", "nothing", "zero"})
#: a whole text that denies a failure (`no errors`, `0 errors`, `without errors`, `not a duplicate`), words apart by
#: spaces or `_` only, after a word of the outcome (`Processed without errors`, `Completed with 0 errors`): no
#: failure. Only the whole text: "Saved: no (duplicate)", "No: invalid email", "none; duplicate" are failures
_DENIED = re.compile(
    r"(?:(?:processed|completed|finished|done|uploaded|imported)[ _]+)?(?:with[ _]+)?"
    rf"(?:no|not[ _]+an?|without|zero|0+)[ _]+[a-z]*(?:{'|'.join(_FAILING)})[a-z]*(?:[ _]+found)?"
)
#: in an outcome, "not" before what a stored record is (`NOT_SAVED`, `not stored`, `not processed`): its failure; and
#: none stored, a word of none before storing with only records and auxiliaries between (`0 records saved`,
#: `Nothing was imported`, `No customers have been created`, `Nothing to import`), or after it (`Saved nothing`,
#: `Imported 0 records`): tester t69b, `{"success": true, "message": "0 records saved"}` was read as all stored
_RECORDS = r"records?|rows?|items?|customers?|invoices?|entries|entry|lines?|objects?|data"
_STORING = r"sav|stor|creat|import|upload|insert|add|writ|persist"
_NOT_DONE = re.compile(
    r"\bnot (?:(?:a|an|be|been) )*(?:sav|stor|creat|import|process|accept|upload|load|insert|add|writ|persist|"
    r"updat|done|complet|ok|success|valid)"
    rf"|\b(?:no|nothing|none|zero|0+) (?:(?:{_RECORDS}|was|were|has|have|had|been|is|are|to|be) )*(?:{_STORING})"
    rf"|\b(?:{_STORING})[a-z]* (?:nothing|none\b|0+ (?:{_RECORDS})\b)"
)


#: in a text (its words in lower case, `_words`), a record that was there before the upload (`already exists`,
#: `Customer C2 already existed`): the row was not stored as sent, as a `duplicate` was not (tester t36a: `"message":
#: "already exists"` beside an id was read as stored, `"message": "duplicate"` as failed)
_ALREADY = re.compile(r"\balready (?:[a-z]+ )?exist")
#: a key (`_bare`) naming a record, or a count of records, there before the upload (`existing`, `alreadyExists`,
#: `exists`, `existedCount`): anything but nothing under it (`_nothing`) says a row was not stored as sent
_EXISTED_KEY = re.compile(r"(?:is|was|already)*(?:exists?|existed|existing)(?:count|rows|records|items)?")
#: the starts of words of failure in the languages whose words of a queue `_WAITING` reads, as `_FAILING` is
#: English's (tester t36a: `"message": "Fejl: ugyldig e-mail"` beside an id, `"1 gemt, 1 fejl"` beside a success,
#: were read as stored): German, Danish, Norwegian, Swedish (and its `fel`, a whole word), Dutch, French, Italian,
#: Spanish; error, failed, rejected, invalid, skipped, duplicate
_FAILING_ABROAD = (
    *("fehler", "fehlgeschlagen", "abgelehnt", "ungültig", "übersprungen", "doppelt", "duplikat"),
    *("fejl", "afvist", "ugyldig", "sprunget", "dublet", "feil", "avvist", "hoppet"),
    *("misslyckad", "avvisad", "ogiltig", "överhoppad", "dubblett", "felaktig"),
    *("fout", "mislukt", "afgewezen", "ongeldig", "overgeslagen"),
    *("erreur", "échec", "échoué", "rejeté", "ignoré", "doublon"),
    *("errore", "errori", "fallit", "rifiutat", "duplicat"),
    *("fallid", "rechazad", "inválid", "omitid", "duplicad"),
)
#: the words that count a word of failure after them none in those languages (`0 Fehler`, `keine Fehler`, `ingen
#: fejl`, `geen fouten`, `aucune erreur`, `senza errori`, `sin errores`), as `_NONE_BESIDE` do English's
_NONE_ABROAD = frozenset(
    {"keine", "kein", "keinen", "ohne", "ingen", "inga", "uden", "utan", "uten", "geen", "zonder", "aucun"}
    | {"aucune", "sans", "nessun", "nessuno", "senza", "sin", "ningún", "ninguno", "ninguna"}
)
#: in those languages, "not" before what a stored record is (`nicht gespeichert`, `ikke gemt`, `inte sparad`, `niet
#: opgeslagen`, `pas enregistré`, `non salvato`, `no guardado`), as `_NOT_DONE` is English's
_NOT_DONE_ABROAD = re.compile(
    r"\b(?:nicht|ikke|inte|niet|non|pas|no) (?:[^\W\d_]+ )?(?:gespeichert|importiert|gemt|importeret|lagret|importert"
    r"|sparad|sparat|importerad|opgeslagen|geïmporteerd|salvat|importat|guardad|importad|enregistr)"
)


def _spoken(text: str) -> list[str]:
    """A text's words (letters of any script, in lower case) and numbers, whatever separates them (`Ungültig:1`:
    two)."""
    return re.findall(r"[^\W\d_]+|[0-9]+", text.lower())


def _failing_abroad(word: str) -> bool:
    """Whether a word (`_spoken`) is one of failure in another language than English (`_FAILING_ABROAD`), not one
    free of it (`fehlerfrei`, `fehlerlos`, `fejlfri`, `fejlfrit`, `felfritt`, `foutloos`, `foutvrij`)."""
    free = word.endswith(("frei", "fri", "frit", "fritt", "los", "loos", "vrij"))
    return (word.startswith(_FAILING_ABROAD) or word == "fel") and not free


def _failed_abroad(text: str) -> bool:
    """Whether a text says in another language than English that a record failed or was not stored: a word of
    failure (`_failing_abroad`: `Fehler`, `fejl`, `ugyldig`) not counted none by a zero or a word of none one or two
    words before it (`0 Fehler`, `keine Fehler`, `ingen fejl`), or "not" before what a stored record is
    (`_NOT_DONE_ABROAD`: `nicht gespeichert`, `ikke gemt`)."""
    words = _spoken(text)
    none = _NONE_BESIDE | _NONE_ABROAD
    if any(
        _failing_abroad(w) and not any(v in none or _zero(v) for v in words[max(0, i - 2) : i])
        for i, w in enumerate(words)
    ):
        return True
    return _NOT_DONE_ABROAD.search(" ".join(words)) is not None


def _words(text: str) -> list[str]:
    """A text's words and numbers, in lower case, whatever separates them (`NOT_SAVED`, `Not  due`: two each)."""
    return re.findall(r"[a-z]+|[0-9]+", text.lower())


def _denied(text: str) -> bool:
    """Whether the whole `text` denies a failure (`_DENIED`, in any case): `No errors`, `Processed without errors`."""
    return _DENIED.fullmatch(text.strip().lower()) is not None


def _done_key(key: str) -> bool:
    """Whether a key (in lower case) is one whose true or false says the upload or record was done (`_DONE`:
    `success`, `is_success`, `isSuccess`, `wasCreated`, `ok`)."""
    name = _bare(key)
    return any(name.startswith(prefix) and name[len(prefix) :] in _DONE for prefix in ("", "is", "was"))


def _unsuccessful(value: Any) -> bool | None:
    """Whether a `_DONE` field says it was not done: True for false (`false`, `0`, `"false"`, `"0"`, `"no"`, in any
    case), False for true (`true`, `1`, `"true"`, `"1"`, `"yes"`); None, not clear, for anything else (`"N"`, `"KO"`,
    2, null, a list or an object: of an answer's object, what those hold is read as records or counts, `_within`)."""
    if isinstance(value, str):
        text = value.strip().lower()
        return True if text in _UNSUCCESSFUL else False if text in _SUCCESSFUL else None
    if type(value) is bool:
        return not value
    if type(value) is int and value in (0, 1):
        return value == 0
    return None


def _within(key: str, value: Any) -> bool:
    """Whether a field of an answer's object (its `key` in lower case) holds what is read as the answer's records
    or objects within it (`_records`), not as its outcome: a list or object under a `_DONE` key (`"saved": [...]`),
    an object or a list of objects under an `_OUTCOME` key (`"result": {"items": [...]}`)."""
    if _done_key(key):
        return isinstance(value, dict | list)
    return key in _OUTCOME and (
        isinstance(value, dict) or isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def _undone_key(key: str) -> bool:
    """Whether a key (in lower case) names what was not done (`notSaved`, `not_stored`, `unprocessed`): "not" or
    "un" before a word of success (`_DONE`, `_SUCCEEDING`)."""
    name = _bare(key)
    return any(name.startswith(prefix) and name[len(prefix) :] in _DONE | _SUCCEEDING for prefix in ("not", "un"))


def _warned(value: Any, depth: int = 0) -> bool:
    """Whether a warning (under a key naming one: `warnings`) says in its words that something failed (`_worded`:
    `C2 not saved: duplicate`), as text or in a list or object of texts; `phone number normalised` does not."""
    if isinstance(value, str):
        return _worded(value) is True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, list) and depth < _DEEPEST and any(_warned(v, depth + 1) for v in value)


def _nothing(value: Any) -> bool:
    """Whether a value under a key whose name says failure says nothing: JSON's empty, zero, false and null, and
    text that says as much (`"0"`, `"000"`, `"false"`, `"no"`, `"none"`, `"null"`, `""`, `"0 errors"`, `"no
    errors"`: its words all of `_NIL` or zeros, or the whole text a denial, `_denied`); "Invalid: null", "none;
    duplicate", "ERROR_0" say something."""
    if not isinstance(value, str):
        return not value
    return all(w in _NIL or not w.strip("0") for w in _words(value)) or _denied(value)


def _http_status(value: Any) -> tuple[int, str] | None:
    """An outcome written as an HTTP status, 100 to 599, and the reason phrase written after it ("" where none): a
    JSON integer or a whole JSON double (`409`, `409.0`), or text starting with such a number (after `HTTP` or
    `HTTP/1.1`, where given), alone or followed by a space, read as that number is (`"409"`, `" 409 "`, `"409.0"`,
    `"409.00"`, `"HTTP 409"`, `"422 Unprocessable Entity"`); None for anything else (`"4090"`, `"409x"`, `"0409"`,
    `409.5`, `"409.5"`: no whole number)."""
    phrase = ""
    if type(value) is str and (match := _HTTP_STATUS.fullmatch(value)):
        value, phrase = Decimal(match[1]), match[2] or ""
    if type(value) is Decimal and value.is_finite() and 100 <= value <= 599 and value == value.to_integral_value():
        value = int(value)  # compared first: 1e999999999 is never made an int
    return (value, phrase) if type(value) is int and 100 <= value <= 599 else None


def _failed_status(value: Any, depth: int = 0) -> bool | None:
    """Whether an outcome (`_OUTCOME`, or a record listed as a value alone) says it failed: True for an HTTP status of
    failure (`_http_status`: 400 to 599, `409`, `409.0`, `"422"`, `"HTTP 409"`, `"422 Unprocessable Entity"`), words
    of failure in it (`_worded`; after an HTTP status, in its reason phrase: `"200 OK, not saved"`), false, an
    object that says it failed (`_failure`: `{"success": false}`, `{"code": 409}`) and a list holding such an
    outcome (`["failed"]`); False, stored, only for what reads as success: an HTTP status of success (200 to 299,
    but 202 and 207: `_UNDONE_STATUSES`) with no phrase or one of success (`"201 Created"`), text of success alone
    (`_worded`: `created`, `OK`, `saved`, `Processed without errors`), true, an object that says nothing failed and
    says it succeeded (`_succeeded`: `{"code": 201, "message": "Created"}`) and a list of such outcomes only
    (`["created"]`); None, not clear, for anything else: an HTTP status but of success or failure (`302`), text
    `_worded` cannot tell (`BadRequest`, `Already exists`, `KO`, `409;`), a number that is no HTTP status, null, an
    object saying neither (`{}`, `{"name": "x"}`), an empty list, and objects within objects past `_DEEPEST`."""
    if (http := _http_status(value)) is not None:
        status, phrase = http
        worded = _worded(phrase) if phrase.strip() else False
        if status >= 400 or worded:
            return True
        return worded if 200 <= status < 300 and status not in _UNDONE_STATUSES else None
    if type(value) is bool:
        return not value
    if isinstance(value, dict | list) and depth >= _DEEPEST:
        return None
    if isinstance(value, dict):
        if _failure(value, None, None, depth=depth + 1) is not None:
            return True
        return False if _succeeded(value, depth + 1) else None
    if isinstance(value, list):
        said = [_failed_status(item, depth + 1) for item in value]
        return True if True in said else False if said and all(s is False for s in said) else None
    return _worded(value) if isinstance(value, str) else None


def _succeeded(record: dict[str, Any], depth: int = 0) -> bool:
    """Whether a record or an answer's object says it succeeded: a `_DONE` field true, or an `_OUTCOME` of success
    (`_failed_status` False)."""
    for name, value in record.items():
        key = name.lower()
        if (
            _unsuccessful(value) is False
            if _done_key(key)
            else key in _OUTCOME and _failed_status(value, depth) is False
        ):
            return True
    return False


def _worded(value: str) -> bool | None:
    """Whether a text outcome says it failed by its words: True for a word of failure in it (`_FAILING`: `FAILED`,
    `duplicate`, `skipped`, `Completed with 2 errors`) other than one it denies (`_DENIED`: `Processed without
    errors`, `No errors`, `Completed with 0 errors`, `not a duplicate` say none), or a "not" before what a stored
    record is (`_NOT_DONE`: `NOT_SAVED`, `not stored`); False where its words are all of success (`_SUCCEEDING`:
    `Created`, `OK`, `Saved successfully`); None, not clear, for the others (`Not due`, `Not paid`: an invoice's own
    AR status, or a record's failure; `BadRequest`, `Already exists`, `KO`: words bulkload does not know)."""
    if _denied(value):
        return False
    text = " ".join(_words(value))
    if _NOT_DONE.search(text) or _ALREADY.search(text) or _NOT_DONE_ABROAD.search(" ".join(_spoken(value))):
        return True
    if _none_failed(value):  # `Errors: 0`, `Fehler: keine` say none failed (tester t37a: read as the record's failure)
        rest = [w for w in _spoken(value) if not w.isdigit() and w not in _NONE_BESIDE | _NONE_ABROAD]
        rest = [w for w in rest if not (w.startswith(_FAILING) or _failing_abroad(w))]
        return False if rest and all(word in _SUCCEEDING for word in rest) else None
    if any(word in text for word in _FAILING) or _failed_abroad(value):
        return True
    words = text.split()
    return False if words and all(word in _SUCCEEDING for word in words) else None


def _echoed(row: Any, fields: Fields | None, name: str, value: Any) -> bool:
    """Whether a field is one `row` (of `fields`) was sent with, as sent (`Fields.same`: the same value, or one of
    its meaning, as text of the same words in any case, spacing or `_`: an invoice's own `status`, `Not due` sent,
    `NOT DUE` or `not_due` answered)."""
    if row is None or fields is None or name not in type(row).__struct_fields__:
        return False
    return fields.same(name, getattr(row, name), value)


def _failure(record: Any, row: Any, fields: Fields | None, has_id: bool = False, depth: int = 0) -> str | None:
    """What a listed record (or an answer's object, `row` and `fields` None) says of its own failure, in a field
    other than one it echoes as `row` was sent (`_echoed`: an invoice's own `status`, which the file gives); with its
    `message`.
    None when it says none. A field says the record failed (`_says_failed`) when it is a false `success`, `ok`,
    `saved`, `stored`, `succeeded`, `created`, `isSuccess`, … (`_unsuccessful`), a `status`, `state`, `result`,
    `outcome` or `code` that says it failed (`_failed_status`: `409`, `"rejected"`, an object `{"success": false}`
    or `{"code": 409}`, a list `["failed"]`), anything but nothing (`_nothing`) under a key whose name says failure
    (`_FAILING`: `error`, `errors`, `errorMessage`, `skipped`, …) or what was not done (`_undone_key`: `notSaved`),
    or a warning in words of failure (`_warned`); so does no id of its own (null, "" or none) where the other
    records have theirs (`has_id`: under `id`, or `_id`, `_id_key`; a number or text), and, where nothing else
    says how it went (no field of success, `_succeeded`), a
    text that may say how it went, `message`, `msg`, `info`, `statusMessage`, `note`, `reason`, … in any case
    (`_remark_of_failure`), in words of failure (`Duplicate customerno, not saved`, `Upload failed`: `_worded`). A value
    that says "nothing failed" (`"errorCount": "0"`, `"status": "Processed without errors"`) says nothing. One that
    reads neither as success nor as failure (`"statusCode": "BadRequest"`, `"success": "N"`, `"status": {"name":
    "x"}`: `_failed_status`, `_unsuccessful` None) says the record failed: a row taken for stored that was not is
    lost silently, where one in doubt is checked; but in a field of the row's own (an invoice's `status`, `Not
    paid`: its AR status, which a server may give though the file does not) only where the record gives no id: a
    record stored has one. Of an answer's object, a list or object that is read as its records or objects within
    it (`_within`) is not read here. A record listed as a value alone (`true`, `409`, `"Created"`: no object) says
    it failed unless it reads as success (`_failed_status` False)."""
    if not isinstance(record, dict):
        return None if _failed_status(record, depth) is False else f"listed as {_shown(record)}"
    stored = _id(record.get("id")) is not None
    own = () if row is None else type(row).__struct_fields__
    said = [
        f"{name}: {_shown(value)}"
        for name, value in record.items()
        if (row is not None or not _within(name.lower(), value))
        and ((failed := _says_failed(name.lower(), value, depth)) or failed is None and not (stored and name in own))
        and not _echoed(row, fields, name, value)
    ]
    if has_id and not _has_id(record):
        key = _id_key(record)
        said.append(f"{key}: {json.dumps(record[key])}" if key in record else "no id")
    told = _told(record)
    worded = _remark_of_failure(record, own)
    if not said and worded is not None and not _succeeded(record, depth):
        return f"{worded}: {_shown(record[worded])}"
    if not said:
        return None
    if told is not None:
        said.append(f"{told}: {_shown(record[told])}")
    return ", ".join(said)


def _remark_of_failure(record: dict[str, Any], own: Collection[str] = ()) -> str | None:
    """The key of a record's (or an answer's object's) text in words of failure (`_worded`: `Duplicate, not saved`)
    under a key that may say in words how it went (`_REMARKING`: `message`, `msg`, `info`, `statusMessage`,
    `importStatus`, `note`, `comment`, …, not one of `_OUTCOME`, read as such) and no field of the row's own (`own`:
    an invoice's `reasonCodeDescription`); None where none is. Tester t36a: a record's `"msg": "Duplicate, not
    saved"` was read as stored, where its `"msg": "queued"` left it in doubt (`_record_waits`) and its `"message":
    "duplicate"` was its failure."""
    for name, value in record.items():
        if not isinstance(value, str) or not value or name in own or name.lower() in _OUTCOME:
            continue
        if _REMARKING.fullmatch(_bare(name)) and _worded(value):
            return name
    return None


def _told(record: dict[str, Any]) -> str | None:
    """The key of a record's (or answer's object's) text that may say in its words how it went (`_TOLD`, in any
    case: `Message`, as ASP.NET writes its errors), the first of them that holds text; None where none does."""
    keys = {name.lower(): name for name, value in record.items() if isinstance(value, str) and value}
    return next((keys[k] for k in _TOLD if k in keys), None)


def _says_failed(key: str, value: Any, depth: int = 0) -> bool | None:
    """Whether a field (its `key` in lower case) says the upload or record failed (`_failure`): None where that is
    not clear (`_failed_status`); False for a count of records stored (`_counts`: `"created": 2`), which `_stated`
    holds to the rows sent."""
    if _done_key(key):
        return False if _counts(key, value) and value != 0 else _unsuccessful(value)
    if key in _OUTCOME:
        return _failed_status(value, depth)
    if "warn" in key:
        return _warned(value)
    return _failing_key(key) and not _nothing(value)


@functools.lru_cache(maxsize=1024)
def _failing_key(key: str) -> bool:
    """Whether a key (in lower case) names what failed (`_FAILING`: `errors`, `failedCount`; `_FAILING_ABROAD`:
    `fehler`, `fejl`), was not done
    (`_undone_key`: `notSaved`) or was there before (`_EXISTED_KEY`: `existing`, `alreadyExists`). Kept for the keys
    last asked of: every record of an answer names the same few, and the words of failure in nine languages cost
    ~9 µs a record read each time (PayorCRM, 20,000 rows: 1.04-1.07× the CPU of start-1205b)."""
    bare = _bare(key)
    failing = any(word in key for word in _FAILING) or any(word in bare for word in _FAILING_ABROAD)
    return failing or _undone_key(key) or _EXISTED_KEY.fullmatch(bare) is not None


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else str(value) if type(value) is Decimal else json.dumps(value, default=str)
    return cut(text, 199, "…")  # redacted before it is cut: a cut through a credential would show its start


class Reading(NamedTuple):
    """One answer read against the call it answers: what it `said`, which record is which row (`paired`; None:
    records in request order, or none listed), and the rows whose records say they failed (`failed`: index ->
    ("", what the record says)). Where the records name no key and are as many as the rows, `by_place`: they are
    taken by their place (more than one row: which record each row became is not proven), and `misplaced`: their
    places are not the rows', as what they carry says (see `_misplaced`), or cannot be told to be (a record names a
    field sent twice, in two cases: `_folded`). The records of `said` name the fields sent as they were sent
    (`_folded`)."""

    said: Said
    paired: Paired | None
    failed: dict[int, tuple[str, str]]
    by_place: bool = False
    misplaced: bool = False


def _misplaced(records: list[Any], sent: Sequence[Any], fields: Fields) -> bool:
    """Whether records that name no key carry, at some place, another value than the row sent at that place
    (`Fields.same`), of a field whose values they all carry and carry as sent, by their meaning (`Fields.meaning`:
    `alice@x.com` for `Alice@X.com`, a date as a date-time), only in another order (a field the API changes says
    nothing of the order)."""
    if not all(isinstance(r, dict) for r in records) or not sent:
        return False
    for field in type(sent[0]).__struct_fields__:
        given, wanted = [r.get(field) for r in records], [getattr(row, field, None) for row in sent]
        if None in given or all(fields.same(field, w, g) for w, g in zip(wanted, given)):
            continue
        meant = Counter(fields.meaning(field, v) for v in given)
        if None not in meant and meant == Counter(fields.meaning(field, v) for v in wanted):
            return True
    return False


#: a record's field that numbers the row it is of (`{"row": 2, "status": "error"}`), counted from 0 or from 1
_PLACES = frozenset({"row", "index", "line", "position", "rownumber", "rowindex", "recordindex", "linenumber"})


def _named_elsewhere(records: list[Any], sent: Sequence[Any], key_field: str) -> bool:
    """Whether records that name no key say, of some place, that they are another row's: a value of any field that
    is the key of the row sent at another place (`{"ref": "C2"}` at C1's), or a number of the row (`_PLACES`) that is
    not its place counted from 0 or from 1. Tester t38a: records listing their failures first, `[{"row": 2, "status":
    "error"}, {"row": 1, "status": "ok"}, …]`, were taken by place, C2 (refused) loaded and C1 (stored) in doubt."""
    keys = [str(getattr(row, key_field, "")) for row in sent]
    for place, record in enumerate(records):
        if not isinstance(record, dict) or place >= len(keys):
            continue
        for name, value in record.items():
            if isinstance(value, str) and value != keys[place] and value in keys:
                return True
            if _bare(name) in _PLACES and type(value) is int and value not in (place, place + 1):
                return True
    return False


def _stored_otherwise(stored: int, sent: Sequence[Any], key_field: str) -> str:
    """Why an answer saying it stored `stored` records for the rows `sent` (another number) is in doubt, and what to
    do. Where `stored` is the number of invoices the lines sent are of (rows of one `key_field`), it reads two ways,
    a count of the invoices (every line stored) or of lines (some not), and neither is taken."""
    n, records = len(sent), len({getattr(row, key_field) for row in sent})
    said = f"the API's answer says it stored {stored} records for the {n} rows sent"
    if records == stored:  # only invoices have rows of one key: a customer given twice is refused before sending
        said += (
            f", lines of {records} invoices: the {records} invoices, every line stored, or {stored} of the {n} lines, "
            "the others not, which cannot be told"
        )
    else:
        said += ": which rows were stored cannot be told"
    return f"{said}. {_CHECK}"


def read(body: bytes, sent: Sequence[Any], fields: Fields) -> Reading:
    """`body`, a 2xx answer to the upload of `sent` (of `fields`), read once, its records' fields named as they were
    sent in whatever case they name them, and their id (`_folded`: `CustomerNo` is customerno, `Id` id; one naming
    a field twice, in two
    cases, pairs no record by key nor gives an id by place). RefusedInAnswer as `read_answer` (an answer whose
    `errors` refuse rows of `sent` by index), ValueError as `read_answer` and `pairing`, and for an
    answer that says it stored another number of records than the rows sent (its `count` or `uploaded`, or the
    records it lists, naming no key): which rows were stored cannot be told, the call arrived, its outcome is
    unknown (in doubt). The rows whose records say they failed (`_failure`) are `failed`; the others keep the ids
    their records give where only those records lack theirs (NO_ID for the failed). A record naming no key is the
    row at its place only where the records are as many as the rows and nothing says they are in another order
    (`misplaced`): ValueError (in doubt) where one that says it failed is not, as which row failed cannot be told."""
    said = read_answer(body, len(sent))
    records, clashed = _folded(said.records or [], type(sent[0]).__struct_fields__ if sent else ())
    if said.records is not None:
        said = said._replace(ids=_every(records, "id", _id), amounts=_amounts(records), records=records)
    paired = pairing(records, sent, fields.key) if said.records is not None and not clashed else None
    if said.stored is not None and said.stored != len(sent):
        raise ValueError(_stored_otherwise(said.stored, sent, fields.key))
    order = list(range(len(records))) if paired is None else paired.order
    has_id = any(_has_id(r) for r in records)
    failed = {
        i: ("", why)
        for i, (j, row) in enumerate(zip(order, sent))
        if (why := _failure(records[j], row, fields, has_id) or _record_waits(records[j], row))
    }
    misplaced = (
        paired is None
        and said.records is not None
        and (clashed or _misplaced(records, sent, fields) or _named_elsewhere(records, sent, fields.key))
    )
    if failed and misplaced:
        raise ValueError(
            f"the API's answer lists a record that says it failed ({redact(next(iter(failed.values()))[1])}) among "
            "records that name no key, in another order than the rows sent as what they carry says (or naming a "
            f"field twice, in two cases): which row failed, and which were stored, cannot be told. {_CHECK}"
        )
    if failed and said.ids is None:  # the others' ids, where only the records that say they failed lack theirs
        unstored = {order[i] for i in failed}
        taken = [
            NO_ID if j in unstored else _id(r.get("id")) if isinstance(r, dict) else None for j, r in enumerate(records)
        ]
        if None not in taken:
            said = said._replace(ids=[i for i in taken if i is not None])
    if paired is not None or said.records is None:
        return Reading(said, paired, failed)
    return Reading(said, None, failed, by_place=len(sent) > 1, misplaced=misplaced)


def echoes(reading: Reading, sent: Sequence[Any], fields: Fields) -> Totals:
    """The model.ECHOED figures of an answer `read` against the rows `sent`: of each field sent (but the key, which
    names the row a record is, and `invoiceAmount`, which the control totals compare) that a row's record gives,
    whether it is the value sent by its meaning (`Fields.same`: `"123"` for `"00123"` names another customer,
    `2026-12-30` is another due date). Where which record is a row's is not known (records in another order than
    the rows', `Reading.misplaced`; lines of an invoice its records do not tell apart, `Paired.placed`), the fields
    its record gives are not checked. A field no record gives is not compared: seed 004 documents no answer, and
    none that echoes what was sent."""
    records = reading.said.records
    if not records or not sent:
        return {}
    if reading.paired is None:
        order, known = list(range(len(sent))), [not reading.misplaced] * len(sent)
    else:
        order, known = reading.paired.order, reading.paired.placed
    compared: list[tuple[str, Any, Any]] = []
    for row, j, told in zip(sent, order, known):
        record = records[j]
        if not isinstance(record, dict):
            continue
        for name in type(row).__struct_fields__:
            value = getattr(row, name)
            if name in (fields.key, "invoiceAmount") or value is None or name not in record:
                continue
            said = record[name]
            compared.append(
                (name, value, msgspec.UNSET if not told else value if fields.same(name, value, said) else said)
            )
    return echoed(compared)
