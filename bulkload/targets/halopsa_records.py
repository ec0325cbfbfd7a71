"""The records of the nine HaloPSA resources: one RecordKind a resource, its Struct made from the schema, matched
to what already exists by the --match-on fields (a create of a match becomes an update of it)."""

from __future__ import annotations

import json
from collections.abc import Collection, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec

from ..errors import APIError, FoundOther, NotWhole, RowInDoubt, RowInvalid, RowsRefused
from ..http import api_path, decoded, unreadable
from ..latest import Latest
from ..model import Call, Chunk, Partly, Totals, lookalikes
from ..pairing import pair
from .base import RecordKind
from .halopsa_listing import DETAILS, Listing, in_full, listing_whole, records_under, with_id
from .halopsa_matching import Decision, fold
from .halopsa_schema import RESOURCES, SECRET_FIELDS, Field
from .protocols import Sender
from .reasons import Untold, converted, errors_counted

_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "datetime": str,
    "object": dict[str, Any],
    "array": list[Any],
}


def record_type(resource: str) -> type[msgspec.Struct]:
    """A Struct for what may be sent to a resource: every field but the server's, none of them required."""
    fields: list[tuple[str, Any, Any]] = []
    seen: set[str] = set()
    for f in RESOURCES[resource]:
        if f.read_only or f.name in seen:  # the document lists a few fields twice
            continue
        seen.add(f.name)
        attr = f"x{f.name}" if f.name.startswith("_") else f.name  # msgspec keeps the wire name
        fields.append((attr, _TYPES[f.kind] | None, msgspec.field(default=None, name=f.name)))
    return msgspec.defstruct(resource, fields, kw_only=True, omit_defaults=True)


#: a nested value's numbers (read as exact Decimals) go out as the JSON numbers written
_encode = msgspec.json.Encoder(decimal_format="number").encode
_decode_plain = msgspec.json.Decoder().decode


def as_sent(record: Any) -> dict[str, Any]:
    """A record's fields as sent, by their names on the wire: a nested value's numbers the Decimals written."""
    fields: dict[str, Any] = msgspec.to_builtins(record, builtin_types=(Decimal,))
    return fields


def _as_read(number: Decimal) -> int | float:
    """A nested value's number as plain JSON reads what is sent for it (`2` an int, `1.50` the float 1.5), as the
    API's answers are read: a match key made from either is the same."""
    return int(number) if number.as_tuple().exponent == 0 else float(number)


#: in `existing`: the match key of more than one record (an update of it could mean any of them)
SEVERAL = -1
#: in `existing` of a ledger made before the rows were matched in file order (`matched`): the match key of no
#: record, given by more than one row that would create one (each would)
TWICE = -2


def by_match_key(resource: Resource, records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Match key -> id of each listed record that has one; SEVERAL for a key more than one record has."""
    found: dict[str, int] = {}
    for r in records:
        if (key := resource.key(r)) is not None:
            found[key] = SEVERAL if key in found else int(r["id"])
    return found


def _names_a_record(field: Field) -> bool:
    """Whether the schema describes the text field `field` as the id or the account number of a record."""
    return field.description.endswith(" ID") or "account number" in field.description


def _a_code(field: Field) -> bool:
    """Whether the schema describes the text field `field` as the code of a record (an item, an account, a tax
    code), not its name nor an OAuth authorization code."""
    words = field.description.lower().split()
    return "code" in words and "name" not in words and not any(w.startswith("auth") for w in words)


class Resource(RecordKind):
    """One of the nine resources: its schema, the Struct sent to it, what is secret or nested, and the records
    that already exist by their --match-on fields (`existing`: per resource, match key -> id)."""

    group_name = "record"
    row_options = {"match_on": "--match-on"}  # a row matched is an update of that record, else a create

    def __init__(
        self,
        name: str,
        match_on: Sequence[str] = (),
        existing: Mapping[str, Mapping[str, int]] | None = None,
        listed_ids: Mapping[str, Sequence[int]] | None = None,
        listed_late: bool = False,
        listed_in_part: Mapping[str, Sequence[int]] | None = None,
        matched: Mapping[str, Mapping[str, Decision]] | None = None,
    ) -> None:
        self.name = name
        self.path = f"/api/{name}"
        self.schema: dict[str, Field] = {f.name: f for f in RESOURCES[name]}
        self.fields = frozenset(f.name for f in self.schema.values() if not f.read_only)
        self.type = record_type(name)
        # a nested value's numbers as sent, exactly: a part of a refused chunk is encoded again from these
        self._decode = msgspec.json.Decoder(list[self.type], float_hook=Decimal).decode  # type: ignore[name-defined]
        # and the document's secret names the resource has no field of: a key so named inside a nested value is one
        self.secret_fields = frozenset(f.name for f in self.schema.values() if f.secret) | SECRET_FIELDS
        self.whole_fields = frozenset(f.name for f in self.schema.values() if f.kind == "int" and not f.read_only)
        #: date-times are read in the file's date order (ISO ones as written), as every other date
        self.date_fields = frozenset(f.name for f in self.schema.values() if f.kind == "datetime" and not f.read_only)
        #: the Struct attributes of the API's triggers (`_exchangecode`, `_disconnect`, …): each arrival acts
        self.triggers = [f"x{f.name}" for f in self.schema.values() if f.name.startswith("_") and not f.read_only]
        self.nested_fields = frozenset(f.name for f in self.schema.values() if f.kind in ("object", "array"))
        self.types: dict[str, Any] = {f.name: _TYPES[f.kind] for f in self.schema.values()}
        self.match_on = list(match_on)
        self.compared_fields = frozenset(self.match_on)  # halopsa_matching: as written, and lookalikes refused
        # they name the record a row updates, and the text fields that hold the id of a record in the accounting
        # system (QuickBooks' company_id, an 18-digit realm id that a spreadsheet shows as 6.90091E+17: sent so, it
        # named no company, exit 0; tester t42a) or an account number (Avalara's username)
        self.reference_fields = self.compared_fields | {
            f.name for f in self.schema.values() if f.kind == "str" and not f.secret and _names_a_record(f)
        }
        # and the codes of records in the accounting system it holds as text (an item, an account, a tax code: a
        # spreadsheet shows a 12-digit one as 1,23457E+11; tester t57b), refused so too, their white space their own
        self.numeral_fields = frozenset(
            f.name for f in self.schema.values() if f.kind == "str" and not f.secret and _a_code(f)
        )
        self.existing = existing if existing is not None else {}
        #: per resource, what rows match where the earlier rows of the files change it (halopsa_matching.decide),
        #: by "file_idx:line"; absent, a row matches by `existing`
        self.matched = matched if matched is not None else {}
        self._waits: dict[str, set[int]] | None = None  # match key -> records moved that its rows wait for
        #: per resource, the ids of every record there before the run (absent where its listing was not whole)
        self.listed_ids = listed_ids if listed_ids is not None else {}
        #: per resource, the ids read before the run where its listing was not whole (absent where it was)
        self.listed_in_part = listed_in_part if listed_in_part is not None else {}
        #: listed only after the run may have created records (HaloPSA.setup): which were there before is unknown
        self.listed_late = listed_late
        self._before: frozenset[int] | None = None  # this resource's, as a set, made at its first update
        self._seen_before: frozenset[int] | None = None  # as `seen_before` gives it, made at its first call
        #: the latest listing a look (`resolve`) took, for the looks it answers too
        self._listed: Latest[Listing] = Latest()

    def destination(self) -> dict[str, str]:
        return {"resource": self.name}

    def row_label(self, row: Mapping[str, Any]) -> str:
        return f"{self.name} record"

    def required(self) -> list[tuple[str, ...]]:
        """No field of the schema is required, but with --match-on a row without its fields and without an id
        matches nothing (validate)."""
        return [(name, "id") for name in self.match_on]

    def key(self, record: Mapping[str, Any], fields: Sequence[str] | None = None) -> str | None:
        """The match fields' values (or those of `fields`) as text, each as its field's type, so that a CSV's "5"
        meets the API's 5 (and an API's "5" or 5.0 the CSV's 5). None — matching nothing — when one is missing or
        cannot be of its type."""
        values = []
        for name in fields if fields is not None else self.match_on or ["name"]:
            value = record.get(name)
            if value is None:
                return None
            try:
                values.append(typed(self, name, value))
            except ValueError:
                return None
        # objects compare as objects: in whatever order the API gives their keys
        return json.dumps(values, sort_keys=True, default=_as_read)

    def validate(self, row: dict[str, Any]) -> Any:
        return self._validated(row, None)

    def validate_at(self, file_idx: int, line: int, row: dict[str, Any]) -> Any:
        """`validate`, a row without id matched as the earlier rows of the files leave the records (`matched`)."""
        return self._validated(row, self.matched.get(self.name, {}).get(f"{file_idx}:{line}"))

    def _validated(self, row: dict[str, Any], decided: Decision | None) -> Any:
        for name, value in row.items():
            if type(value) is Decimal:  # a JSON number with a fraction, read exactly; no HaloPSA field is money
                row[name] = float(value)
        self.read_nested(row)
        record = converted(row, self.type, self.read_fields)
        record_id = getattr(record, "id", None)
        if record_id is not None:
            self._check_exists(record_id)
            if self.match_on and isinstance(decided, str):  # its update would give its record another's match key
                raise RowInvalid(self.match_on[0], decided)
        elif self.match_on and decided is not None:
            if isinstance(decided, str):
                raise RowInvalid(self.match_on[0], decided)
            if decided[0]:
                record.id = decided[0]  # type: ignore[attr-defined]  # an update of the record that matches now
        elif self.match_on:
            # the converted record, not the row: its values are what is sent, and what the API will hold
            sent = as_sent(record)
            if (key := self.key(sent)) is None:
                empty = next((name for name in self.match_on if sent.get(name) is None), self.match_on[0])
                raise RowInvalid(
                    empty,
                    f"empty: with --match-on {','.join(self.match_on)} a row without it matches no record, and each "
                    "load of the file would create it again",
                )
            found = self.existing.get(self.name, {}).get(key)
            if found == SEVERAL:
                raise RowInvalid(
                    self.match_on[0],
                    f"{' and '.join(self.match_on)} match more than one {self.name} record: which one to update "
                    "cannot be told",
                )
            if found == TWICE:
                raise RowInvalid(
                    self.match_on[0],
                    f"{' and '.join(self.match_on)} given by more than one row and matching no {self.name} record: "
                    "each row would create one, and which is meant cannot be told",
                )
            if found is not None:
                record.id = found  # type: ignore[attr-defined]  # an update of the record that matches
        return record

    def _check_exists(self, record_id: int) -> None:
        """RowInvalid for an update of a record that was not there before the run: the file cannot mean a record
        this run creates (its id is the API's to give), and sent, the update would wait out a refusal and land on
        whichever record a later row created with that id (a tester's first load of a generated file: exit 3).
        RowInDoubt when the list of records there before was taken late (`listed_late`): the run may have sent it."""
        if self.listed_late:
            raise RowInDoubt(
                "id",
                f"whether {self.name} {record_id} was there before this load cannot be told: this adopted copy of the "
                "ledger lost the list taken before the run's first call, and the run may have sent this update (or "
                "refused it); check that the record is not one this load created before you send it again",
            )
        before = self.there_before()
        if before is None:
            return  # not listed whole: absence is not proven
        if record_id not in before:
            raise RowInvalid(
                "id",
                f"no {self.name} with id {record_id} was there before this load (an update names a record that "
                "exists; leave id out to create one)",
            )

    def there_before(self) -> frozenset[int] | None:
        """The ids of the resource's records listed whole before the run's first call (with `listed_late`, after it:
        the run's own may be among them); None where its listing was not whole."""
        if self._before is None and self.name in self.listed_ids:
            self._before = frozenset(self.listed_ids[self.name])
        return self._before

    def seen_before(self) -> frozenset[int]:
        """The ids of every record the run listed before its first call, whether the listing was whole or not: none
        is a record the run created. Empty where it was listed late (`listed_late`: the run's own may be among them)."""
        if self._seen_before is None:
            listed = () if self.listed_late else self.listed_ids.get(self.name, self.listed_in_part.get(self.name, ()))
            self._seen_before = frozenset(listed)
        return self._seen_before

    def found_proves(self) -> bool:
        """Whether a record a look finds by its match fields, among those not `seen_before`, can be shown to be one
        the run created: only where every record there before the run's first call was listed then (whole, not
        late). Otherwise it may be one the listing left out, or one of the records a late listing cannot tell from
        the run's."""
        return not self.listed_late and self.name in self.listed_ids

    def order_keys(self, records: Sequence[Any]) -> set[Hashable]:
        """The records written, and those an earlier row moves into or out of a row's match key (`matched`): the
        row is sent after it."""
        if self._waits is None:
            self._waits = {}
            for decided in self.matched.get(self.name, {}).values():
                if not isinstance(decided, str):
                    self._waits.setdefault(decided[1], set()).update(i for i, *_ in decided[2])
        keys: set[Hashable] = {(self.name, r.id) for r in records if getattr(r, "id", None) is not None}
        if self._waits:
            for r in records:
                keys.update((self.name, i) for i in self._waits.get(self.key(as_sent(r)) or "", ()))
        return keys

    def writes(self, records: Sequence[Any]) -> tuple[int, ...]:
        """The records the rows update (those with an `id`), known before a call is built."""
        return tuple(sorted({int(rid) for r in records if (rid := getattr(r, "id", None)) is not None}))

    # --- per call ----------------------------------------------------------------------------------------
    def encode(self, records: Sequence[Any]) -> bytes:
        return _encode(records)

    def decode(self, body: bytes) -> list[Any]:
        return self._decode(body)

    async def call_for(self, client: Sender, chunk: Chunk) -> Call:
        """The POST; RowsRefused for a row matched as an earlier row left a record (`matched`) where the API shows
        that row did not land so (refused, or rejected before it was sent): sent, it would update the wrong record
        or create a second one of its key. An earlier row of the same call lands with it where the call is answered
        2xx (a refused call's other rows are in doubt, never sent again unsettled: Api.refusal_stores_nothing)."""
        decided = self.matched.get(self.name)
        if decided:
            bad = {}
            refs = {f"{chunk.file_idx}:{line}" for line in chunk.lines}
            for i, line in enumerate(chunk.lines):
                if not isinstance(d := decided.get(f"{chunk.file_idx}:{line}"), list):
                    continue
                moved = [m for m in d[2] if m[2] not in refs]
                if (why := await self._not_as_matched(client, d[1], moved)) is not None:
                    bad[i] = (self.match_on[0], why)
            if bad:
                raise RowsRefused(bad)
        records = chunk.entries(self)
        # the records it updates, known before it is sent: sent again (a resume, a resend on the user's word) after a
        # later row's update of one of them landed, it would set that record back (Ledger.later_write)
        writes = self.writes(records)
        return Call("POST", self.path, chunk.body, repeatable=self._harmless_again(records), writes=writes)

    async def _not_as_matched(self, client: Sender, key: str, moved: Sequence[Sequence[Any]]) -> str | None:
        """Why a row matched by `key` cannot be sent: a record of `moved` ([id, holds, ref, row]) an earlier row was
        to move into the key (`holds`) or out of it does not hold it so now; None where each does."""
        for record_id, holds, _, where in moved:
            try:
                found = await client.get(api_path(self.path, record_id), DETAILS)
            except APIError as exc:
                if exc.status != 404:
                    raise
                found = None
            now = isinstance(found, dict) and self.key(found) == key
            if now != holds:
                fields, way = " and ".join(self.match_on), "into" if holds else "out of"
                return (
                    f"matched as {where} leaves the records: it moves {self.name} {record_id} {way} this row's "
                    f"{fields}, but {self.name} {record_id} does not hold it so now ({where} did not land: see its own "
                    f"outcome). Sent, this row would {'match another record' if holds else 'make a second one'}; load"
                    " it again once that row has loaded"
                )
        return None

    def _harmless_again(self, records: Sequence[Any]) -> bool:
        """A call of updates only sets fixed values on records that exist: sending it again changes nothing, so
        a lost answer is settled by sending it again, never by looking (its secrets are never returned, and the
        fields that are may have held their values before). Unless it pulls a trigger: each arrival acts."""
        return all(getattr(r, "id", None) is not None for r in records) and not any(
            getattr(r, name) not in (None, False) for r in records for name in self.triggers
        )

    def created_ids(self, body: bytes, chunk: Chunk) -> list[int]:
        """The id of each record of the chunk, in request order, from the answer's records paired with them by what
        they hold (`pairing`): HaloPSA promises no order. The answer is an array of the saved records; seed 001
        documents none, and a call of one record may be answered with the record alone, a JSON object, which is read
        as the array of it (for a call of one only: one record cannot answer for more); an object listing records
        under the resource's own key, as a listing does (`records_under`), answers with those. ValueError (the call
        arrived: in doubt) for an answer of another number of records, naming what came back, or one whose records
        cannot all be paired with the rows; BadAnswer for one that is neither an array nor an object."""
        n = len(chunk)
        call = f"POST {self.path}"
        saved = decoded(body, Any, call, acted_on=True)
        if isinstance(saved, dict) and (listed := records_under(saved, self.name)) is not None:
            saved = listed
        if isinstance(saved, dict):
            if n != 1:
                raise ValueError(f"the API answered one record (a JSON object, not an array) for the {n} sent")
            saved = [saved]
        if not isinstance(saved, list):
            raise unreadable(call, body, "not an array of records", acted_on=True)
        found = [with_id(r, i, call, body, acted_on=True) for i, r in enumerate(saved)]
        if len(found) != n:
            raise ValueError(f"the API answered {len(found)} records for {n}")
        return [found[j]["id"] for j in self.pairing(chunk.entries(self), found)]

    def record_of(self, index: int, record: Any) -> Hashable:
        # rows that update one record by its id (given, or matched by --match-on) get its id, each in file order
        record_id = getattr(record, "id", None)
        return index if record_id is None else ("id", record_id)

    def _compared(self, name: str) -> bool:
        """Whether the API holds field `name` as sent, to be compared: not a secret (never returned), not the
        server's own, and no id (the server's to give)."""
        field = self.schema.get(name)
        return field is not None and not field.secret and not field.read_only and name != "id"

    def pairing(self, records: Sequence[Any], found: Sequence[Mapping[str, Any]]) -> list[int]:
        """For each sent record, the index of the answered record (`found`, each with its id) that holds it: what it
        sent (its id where it updates, and the fields the API keeps as sent, `_compared`, among those the answer's
        records name) as the API holds it (`key`). In request order where each record is its row's; records that
        hold the same are interchangeable. Where that pairs none (a field the API writes its own way), by what
        still agrees (`_paired_in_part`). Rows the answer's records name no field of (ids alone answered) are paired
        in request order where their ids rise in it (records numbered as they were stored, in the order sent), or
        where they sent the same values; otherwise which is which cannot be told. ValueError where they cannot all
        be paired (a record holding what no row sent), or only by a guess."""
        sent = [as_sent(r) for r in records]
        named = {name for r in found for name in r}
        fields = [["id"] * ("id" in r) + [name for name in r if name in named and self._compared(name)] for r in sent]
        alone = [i for i, f in enumerate(fields) if not f]
        if len({self.key(sent[i], [n for n in sent[i] if self._compared(n)]) for i in alone}) > 1 and not _rising(
            [found[i].get("id") for i in alone]
        ):
            raise ValueError(
                f"the API answered {len(found)} records naming only their ids, none of the fields sent, and not in "
                f"the order they were numbered: which of the {len(sent)} rows each id is cannot be told "
                "(--batch-size 1 pairs each)"
            )
        if not any(fields):
            return list(range(len(sent)))
        keys = [self.key(r, f) for r, f in zip(sent, fields)]
        if all(self.key(r, f) == k for r, f, k in zip(found, fields, keys)):
            return list(range(len(sent)))  # the usual answer: in request order
        order = self._paired(found, fields, keys)
        if order is None:
            order = self._paired_in_part(sent, found, fields, keys)
        if order is None:
            raise ValueError(
                f"the API answered {len(found)} records that cannot be paired with the {len(sent)} sent by what they "
                "hold: which row each record is, and whether every row was stored, cannot be told"
            )
        return order

    def _paired_in_part(
        self,
        sent: Sequence[Mapping[str, Any]],
        found: Sequence[Mapping[str, Any]],
        fields: Sequence[list[str]],
        keys: Sequence[str | None],
    ) -> list[int] | None:
        """`pairing` where no pairing holds every field sent (`fields`, each row's; `keys`, by them): by the fields
        that still agree, leaving out those no answered record holds as any row sent them (the API writes them its own
        way throughout); failing that, by what identifies a record (the `--match-on` fields, else the name), and the
        id of an update. A part that does not tell apart two rows that sent different values (two rows of one name
        told apart only by a field left out) pairs nothing: which record is which would be a guess. None where no
        part pairs every record."""
        agreeing = {
            name
            for name in {name for f in fields for name in f}
            if {self.key(r, [name]) for r in sent if name in r} & {self.key(r, [name]) for r in found} - {None}
        }
        for kept in (agreeing | {"id"}, set(self.match_on or ["name"]) | {"id"}):
            part = [[name for name in f if name in kept] for f in fields]
            if part == list(fields) or not all(part):
                continue
            by_part = [self.key(r, f) for r, f in zip(sent, part)]
            told_apart = len(set(zip(by_part, keys))) == len(set(by_part))
            if told_apart and (order := self._paired(found, part, by_part)) is not None:
                return order
        return None

    def _paired(
        self, found: Sequence[Mapping[str, Any]], fields: Sequence[list[str]], keys: Sequence[str | None]
    ) -> list[int] | None:
        """`pair` of the rows' `keys` (each of its row's `fields`) with the answered records `found`, a record
        compared by each set of fields the rows sent."""
        shapes = {tuple(f) for f in fields}
        return pair(keys, [{self.key(r, list(shape)) for shape in shapes} - {None} for r in found])

    def bad_items(self, error: APIError, rows: Sequence[Any]) -> dict[int, tuple[str, str]] | Untold | None:
        """The records a refusal's `errors` name by `index`, which seeds 001 and 000 do not say it counts from 0 or
        from 1 (reasons.errors_counted: "no XeroDetails with id 2" quoting the id of the record one numbering names
        tells it); Untold where which cannot be told (the records either numbering names are in doubt, as the
        others: seeds 001 and 000 never say a refused array stored nothing; a call of updates only is split until the
        refused record is alone)."""
        return errors_counted(error, rows, field_key="field", unsaid="seeds 001 and 000 document no error answer")

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        updates = sum(1 for r in records if getattr(r, "id", None) is not None)
        return {self.name: {"create": [len(records) - updates, 0, 0], "update": [updates, 0, 0]}}

    async def resolve(
        self,
        client: Sender,
        chunk: Chunk,
        taken: Collection[int],
        held: bytes | None = None,
        since: float | None = None,
    ) -> list[int] | Partly | None:
        """A POST whose answer was lost, or its records a refusal did not name (in doubt: it may have stored some,
        Api.refusal_stores_nothing). Its creates decide: all found by the match fields, each its own record → done;
        none, in a listing that holds every record (its `record_count` not below what it lists, every record of `taken`
        listed: `listing_whole`) → not there now (the engine looks again after the settle delay before it sends again;
        the updates beside them set fixed values); some, in such a listing, and the call all creates → Partly: those
        found the call's, created, the others not there now (the engine loads the first and looks for the others again
        as for none); some beside updates (whose outcome a look cannot tell apart), a create without match values, two
        creates found as one record, or a partial listing → no telling. A call without creates pulls a trigger (the
        others are sent again, not looked up): no telling. A record that proves no create of this call, however well it
        matches, is left out of the look: one listed before the run's first call, whether that listing was whole or not
        (`seen_before`), and one the ledger holds for another row of the run (`taken`: its own create, or the record it
        updated). Where the listing before the run was not whole, or was taken late, a record found cannot be shown to
        be the run's (`found_proves`): no telling. A record listed without the match fields is read with its details
        (halopsa_listing.in_full); where they cannot be known so, none is proven absent: no telling."""
        records = [as_sent(r) for r in chunk.entries(self)]
        keys = [self.key(r) for r in records if r.get("id") is None]
        if not keys or any(k is None for k in keys):
            return None
        # the records the run was answered for are there: a listing without them is short (a page, a lagging count);
        # one another look took since `since` answers this one too (`taken` then its, which this one's only adds to:
        # records recorded since, left out of the match below)
        live = await self._listed.get(since, partial(listing_whole, client, self, taken, probed=True))
        older = self.seen_before()
        # one listed without its match fields may be this call's: read with its details, or no telling
        maybe = [r for r in live.records if r["id"] not in older and r["id"] not in taken]
        maybe, unknown = await in_full(client, self, maybe, self.match_on or ["name"])
        if unknown:
            return None
        by_key = by_match_key(self, maybe)
        found = [by_key.get(k) for k in keys if k is not None]
        creates = [r for r in records if r.get("id") is None]
        for create, at in zip(creates, found, strict=True):
            if at is None and (cut := self._cut_short(create, maybe)) is not None:
                raise cut
        if all(i is None for i in found):
            if not live.whole:
                raise NotWhole(self.name, live.why)
            return []
        if not self.found_proves():
            return None
        there = [i for i in found if i is not None]
        if SEVERAL in there or len(set(there)) < len(there):
            creates = [r for r in records if r.get("id") is None]
            told = self._told_apart(creates, [k for k in keys if k is not None], maybe, found)
            if told is None:
                return None
            found, there = told, [i for i in told if i is not None]
        if len(there) < len(found):
            if len(found) < len(records):
                return None  # beside updates, whose outcome no listing tells
            if not live.whole:
                raise NotWhole(self.name, live.why)
            return Partly(tuple(found))
        new_ids = iter(found)
        return [int(r["id"]) if r.get("id") is not None else int(next(new_ids) or 0) for r in records]

    def _cut_short(self, create: Mapping[str, Any], maybe: Sequence[Mapping[str, Any]]) -> FoundOther | None:
        """Why a create a look did not find by its match key may be there all the same (`resolve`): a record of
        `maybe` (listed since the run's listing before its first call, no row's) whose text in the match fields is
        the start of the create's (as SQL Server compares text: `fold`), one of them shorter, and whose other fields
        hold what the create sent: the API may store text cut at a length of its own, and a create sent again would
        be a second record (tester t70b: `Northwind Traders International` stored as `Northwind Trader`, sent again).
        None where no record is such."""
        fields = self.match_on or ["name"]
        for record in maybe:
            shorter = []
            for name in fields:
                sent, held = create.get(name), record.get(name)
                if isinstance(sent, str) and isinstance(held, str) and fold(held) != fold(sent):
                    if not fold(held) or not fold(sent).startswith(fold(held)):
                        break
                    shorter.append(f"{name} {held!r}, the start of {sent!r}")
                elif self.key(create, [name]) != self.key(record, [name]):
                    break
            else:
                if shorter and not [d for d in self.differences(create, record) if d[0] not in fields]:
                    return FoundOther(
                        f"{self.name} {record['id']}, created since the run's listing, holds {'; '.join(shorter)} "
                        "sent by this create, and the create's other values",
                        "the API may have stored the create with its text cut short (a length limit of its own): "
                        "it may have been carried out, and is not sent again, which would create it twice; check "
                        f"{self.name} {record['id']} in HaloPSA",
                        changed=False,
                    )
        return None

    def _told_apart(
        self,
        creates: Sequence[Mapping[str, Any]],
        keys: Sequence[str],
        maybe: Sequence[Mapping[str, Any]],
        found: Sequence[int | None],
    ) -> list[int | None] | None:
        """`found` where creates of the call share a match key, or records do (`resolve`): each record of such a key
        is the one create of it whose values it holds (`differences`: the fields it gives), and a create of the key
        no record holds is not there. None (no telling) where a record of such a key holds the values of no create of
        the call, or of several (the creates sent the same values, or the listing leaves out the fields that tell
        them apart), or two records hold one create's: one record is never evidence for two creates. Before, two
        creates of one name in a call whose answer was lost left the whole call in doubt for good (`A` and `A` of
        another tenant beside `B`, `D`: none settled, `--resend-in-doubt` doubling `A` and `B`)."""
        out = list(found)
        for key in {k for k, i in zip(keys, found) if i == SEVERAL or keys.count(k) > 1}:
            mine = [n for n, k in enumerate(keys) if k == key]
            held_by: dict[int, int] = {}
            for record in (r for r in maybe if self.key(r) == key):
                holds = [n for n in mine if not self.differences(creates[n], record)]
                if len(holds) != 1 or holds[0] in held_by:
                    return None
                held_by[holds[0]] = int(record["id"])
            for n in mine:
                out[n] = held_by.get(n)
        return out

    async def find_sent(
        self, client: Sender, chunk: Chunk, baselines: Mapping[str, Mapping[str, int]], taken: Collection[int]
    ) -> list[int] | Partly | None:
        """For rollback: a call of updates only created nothing, whatever it did: its ids are the records it named,
        which were there before the load (validate), and which rollback spares (Books.created_by_run). A call with
        creates is looked up as `resolve` does."""
        if not self.creates(chunk):
            return [int(as_sent(r)["id"]) for r in chunk.entries(self)]
        try:
            return await self.resolve(client, chunk, taken)
        except NotWhole:  # no telling, as ever: a rollback looks again when it is run again
            return None

    def creates(self, chunk: Chunk) -> bool:
        """Whether a record of the call names none (by `id`): it is created (or matched with --match-on: an update,
        which the listing then tells)."""
        records = chunk.entries(self)
        return not records or any(getattr(r, "id", None) is None for r in records)

    def lookalikes(self, chunk: Chunk) -> bytes:
        """The match keys of the chunk's creates (records without an id) that have one, with the resource's name: a
        record another call created with one of them is found by a look for this chunk's (`resolve`)."""
        keys = (self.key(as_sent(r)) for r in chunk.entries(self) if getattr(r, "id", None) is None)
        return lookalikes(f"{self.name} {k}" for k in keys if k is not None)

    def differences(self, sent: Mapping[str, Any], found: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        """(field, sent, found) for what the API should hold after `sent` (`as_sent`) but does not, compared as the
        fields' types as a match is, of the fields `given_in` `found`. A nested value's numbers are compared as plain
        JSON reads them, as the API's answer `found` is read."""
        out = []
        for name in self.given_in(sent, found):
            value = sent[name]
            if self.schema[name].kind in ("object", "array"):
                value = _decode_plain(_encode(value))
            try:
                same = typed(self, name, found[name]) == typed(self, name, value)
            except ValueError:  # the API holds nothing, or nothing of the field's type
                same = False
            if not same:
                out.append((name, value, found[name]))
        return out

    def given_in(self, sent: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
        """The fields of `sent` compared with the record `found`: those `_compared` that `found` gives, null included
        (the API holds none). A field `found` leaves out says nothing of it, as a field no PayorCRM record gives: seed
        001's listing "Returns multiple … records" and its GET /{id} takes `includedetails`, so a listing may leave
        fields out, and a server may leave out its false or null values."""
        return [name for name in sent if name in found and self._compared(name)]


def typed(kind: Resource, name: str, value: Any) -> Any:
    """`value` as field `name` of `kind` holds it, converted as `validate` converts a row ("5", 5.0 → 5;
    "true", 1 → True; text stays as it is; a date-time is the moment it names, `moment`); ValueError if it cannot
    be of that type."""
    try:
        held = msgspec.convert(value, kind.types[name], strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return moment(held) if kind.schema[name].kind == "datetime" else held


def moment(text: str) -> str:
    """A date-time field's text as the moment it names, as ISO text without an offset, so that the ways of writing
    one meet: a date is its midnight, a fraction of zeros is none, an offset is taken off the time (UTC, as HaloPSA
    holds its date-times: one without an offset is UTC). `2026-12-20`, `2026-12-20T00:00:00.000Z` and
    `2026-12-20T01:00:00+01:00` are all `2026-12-20T00:00:00`; `2026-12-21T00:00:00` is another day. Text that is
    no ISO date or date-time is returned as it is (compared as written)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat()


def _rising(ids: Sequence[Any]) -> bool:
    """Whether `ids` are whole numbers, each above the one before it."""
    return all(type(i) is int for i in ids) and all(a < b for a, b in zip(ids, ids[1:]))
