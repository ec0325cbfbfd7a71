"""Visma e-conomic Journals API v11.0.2: draft entries in bulk, keyed, reconciled by count and cursor walk.

Amounts are exact decimals from the file to the API: read as `Decimal`, sent as JSON numbers with exactly the
digits read (the API takes at most 18 digits: seed 002, `JournalEntryAmountExceedsDigitLimit`), and refused when
they have more decimals than the currency's minor unit (they could not be booked as written). A voucher
(journal, voucherNumber) is a group: its lines travel in one call and load whole or not at all.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from decimal import Decimal
from functools import partial
from itertools import compress
from typing import Any

import msgspec

from ..errors import BadAnswer, ConfigError
from ..http import api_path
from ..model import Known, Listed, group_digest, held_before
from ..money import factor
from ..side_by_side import results_side_by_side
from .base import Api, Books, Credentials, Target
from .economic_entries import (
    COUNT_BYTES,
    IN_LIST,
    MAX_DIGITS,
    MAX_UNITS,
    DraftEntries,
    _Count,
    _counted,
    _Created,
    _line_check,
    _pages,
    listed_line_checks,
    listed_units,
    rated_check,
)
from .flags import Flag, Flags
from .protocols import Sender

#: the largest entry number: seed 002's entryNumber is an int32
ENTRY_NUMBERS = 2**31 - 1

log = logging.getLogger(__name__)


class _Paged(msgspec.Struct):
    """`GET /draft-entries/paged` as an object (the sandbox answers the bare list); `items` "Array of objects or
    null" (seed 002): null, or left out, is no entry."""

    listed: list[_Created] | None = msgspec.field(default=None, name="items")

    @property
    def items(self) -> list[_Created]:
        return self.listed or []


_entry_number, _journal, _voucher, _currency, _amount = (
    operator.attrgetter(f) for f in ("entryNumber", "journalNumber", "voucherNumber", "currency", "amount")
)


class Journals(Books):
    """Draft entries per journal: the vouchers of the input a journal already holds, counted and walked by entry
    number, deleted one by one."""

    async def groups_already_there(
        self,
        client: Sender,
        keys: Callable[[], Iterator[str]],
        baselines: Mapping[str, Mapping[str, int]],
        asked: Callable[[int], object] = lambda n: None,
    ) -> AsyncIterator[Known]:
        """Per journal, one count of the entries whose voucher number lies in the input's range; only when there
        are any, the input's vouchers are asked for by `voucherNumber$in:` lists of at most 200. A journal whose
        baseline counted and listed no entry (a draft journal emptied by its last booking) is not asked: a round
        trip less before the first upload."""
        ranges: dict[str, list[int]] = {}
        sizes: dict[str, int] = {}  # each journal's keys that may be asked about
        every = 0
        for key in keys():  # every group of the input, before the first call: one int() and compare a key
            every += 1
            journal, _, voucher = key.partition(":")
            if journal.isdigit() and voucher.isdigit():
                sizes[journal] = sizes.get(journal, 0) + 1
                number = int(voucher)
                span = ranges.get(journal)
                if span is None:
                    ranges[journal] = [number, number]
                elif number < span[0]:
                    span[0] = number
                elif number > span[1]:
                    span[1] = number
        for journal in [j for j in ranges if j in baselines and not held_before(baselines[j])]:
            del ranges[journal]
        # the counts at once: one round trip before the load, not one a journal
        there = await results_side_by_side(
            {
                journal: partial(
                    client.get,
                    "/draft-entries/count",
                    {"filter": f"journalNumber$eq:{journal}$and:voucherNumber$gte:{lo}$and:voucherNumber$lte:{hi}"},
                    into=_Count,
                    max_bytes=COUNT_BYTES,
                )
                for journal, (lo, hi) in ranges.items()
            }
        )
        asked(every - sum(sizes[journal] for journal in ranges if there[journal]))  # those not asked about: not there
        for journal in ranges:
            if not there[journal]:
                continue
            batch: list[str] = []
            for key in keys():
                j, _, voucher = key.partition(":")
                if j == journal and voucher.isdigit():
                    batch.append(voucher)
                    if len(batch) == IN_LIST:
                        async for found in self._present(client, journal, batch):
                            yield found
                        asked(len(batch))
                        batch = []
            if batch:
                async for found in self._present(client, journal, batch):
                    yield found
                asked(len(batch))

    def scopes(self, keys: Callable[[], Iterator[str]]) -> Iterator[str]:
        """The journals of the input's "journal:voucher" keys."""
        return iter({key.partition(":")[0] for key in keys()} - {""})

    async def _present(self, client: Sender, journal: str, vouchers: list[str]) -> AsyncIterator[Known]:
        flt = f"journalNumber$eq:{journal}$and:voucherNumber$in:[{','.join(vouchers)}]"
        # voucher -> (entry numbers, amounts in minor units, line checks, those of the lines listed with a rate)
        found: dict[int, tuple[list[int], list[int], list[int], list[int]]] = {}
        async for items in _pages(client, flt, f"the look for vouchers already in journal {journal}"):
            for item in items:
                numbers, units, checks, rated = found.setdefault(item.voucherNumber, ([], [], [], []))
                numbers.append(item.entryNumber)
                unit = listed_units(item)
                # as DraftEntries.group_checks makes them; an amount no line sent has (listed_units) by what the API
                # wrote, which no line's check has: the voucher differs from the file's, and counts 0 in the totals
                checks.append(_line_check(item.amount if unit is None else unit, item, None))
                units.append(unit or 0)
                # and as a line sent with the rate listed: a line of the file that gives a rate must be one of them
                if unit is not None and (with_rate := rated_check(unit, item)) is not None:
                    rated.append(with_rate)
        for voucher, (numbers, units, checks, rated) in sorted(found.items()):
            there = (
                f"voucher {voucher} (journal {journal}) is already in the journal (draft entries "
                f"{', '.join(map(str, numbers[:5]))}{', …' if len(numbers) > 5 else ''})"
            )
            total = sum(units)
            yield Known(
                f"{journal}:{voucher}",
                "skipped",
                f"{there}: not created again",
                len(units),
                total,
                (sum(map(abs, units)) + total) // 2,
                f"{there} with other lines than this file has (amounts, accounts, currencies, VAT codes, dates, "
                "texts or exchange rates): not created again; correct those drafts in e-conomic to this file's lines "
                "(then it is loaded: a later load finds it so), or delete them and load this run's rejects file (its "
                "lines; with --reload-gone where a run of bulkload loaded them)",
                group_digest(checks),
                tuple(rated),
            )

    def delete_path(self, scope: str, record_id: int) -> str:
        return api_path("/draft-entries", record_id)

    async def count(self, client: Sender, scope: str, upto: int | None = None) -> int:
        return await _counted(
            client, f"journalNumber$eq:{int(scope)}" + ("" if upto is None else f"$and:entryNumber$lte:{int(upto)}")
        )

    async def baseline(self, client: Sender, scope: str) -> dict[str, int]:
        # entry numbers only grow: everything above today's newest one is created from now on

        async def listed_first() -> int:
            page: list[_Created] | _Paged = await client.get(
                "/draft-entries/paged",
                {"filter": f"journalNumber$eq:{int(scope)}", "sort": "-entryNumber", "pageSize": "1"},
                into=list[_Created] | _Paged,
                max_bytes=COUNT_BYTES,
            )
            items = page.items if isinstance(page, _Paged) else page
            newest: int = max(map(_entry_number, items), default=0)  # the first, where the page is one entry
            return newest

        # both before the scope's first write: at once
        reads: dict[str, Callable[[], Awaitable[int]]] = {
            "count": partial(self.count, client, scope),
            "max_id": listed_first,
        }
        base: dict[str, int] = await results_side_by_side(reads)
        # a journal that holds entries: one count more, of those above the newest listed (`_newest`)
        if held_before(base):
            base["max_id"] = await self._newest(client, scope, base["max_id"])
        return base

    async def _newest(self, client: Sender, scope: str, listed: int) -> int:
        """The journal's newest entry number: `listed`, the first entry the listing sorted by entry number
        descending gave (seed 002: `sort=-entryNumber`), where none is counted above it. A server that lists in
        another order than asked (one that ignores `sort` gives the oldest) would make the entries there before
        the run above it look added by others, and gone from below it: then the number none lies above, found by
        halving (at most 32 counts). BadAnswer where the API counts entries above the largest int32 (seed 002's
        entryNumber): its counts do not filter by entry number, and no newest can be told."""
        above = await self._above(client, scope, listed)
        if not above:
            return listed
        log.warning(
            "journal %s: GET /draft-entries/paged with sort=-entryNumber listed entry %d first, where the API counts "
            "%d entries numbered above it (a listing not in the order asked, or entries created since): the journal's "
            "newest entry is found by counts instead",
            scope,
            listed,
            above,
        )
        lowest, highest = listed, ENTRY_NUMBERS  # an entry lies above `lowest`; none must above `highest`
        if above := await self._above(client, scope, highest):
            raise BadAnswer(
                f"GET /draft-entries/count: the answer is not what the API documents (it counts {above:,} entries of "
                f"journal {int(scope)} numbered above {highest}, the largest entryNumber: an int32, seed 002)"
            )
        while highest - lowest > 1:
            middle = (lowest + highest) // 2
            if await self._above(client, scope, middle):
                lowest = middle
            else:
                highest = middle
        return highest

    async def _above(self, client: Sender, scope: str, after: int) -> int:
        """How many entries of the journal are numbered above `after`."""
        return await _counted(client, f"journalNumber$eq:{int(scope)}$and:entryNumber$gt:{int(after)}")

    async def walk(self, client: Sender, scope: str, after: int, upto: int | None) -> AsyncIterator[Listed]:
        flt = f"journalNumber$eq:{int(scope)}$and:entryNumber$gt:{int(after)}"
        if upto is not None:
            flt += f"$and:entryNumber$lte:{int(upto)}"
        prefix = f"{int(scope)}:"
        async for items in _pages(client, flt, f"the walk of journal {int(scope)} after entry {int(after)}"):
            ids = list(map(_entry_number, items))
            _asked_for(items, ids, int(scope), after, upto)
            currencies = list(map(_currency, items))
            try:
                exact = list(map(operator.mul, map(_amount, items), map(factor, currencies)))
            except ArithmeticError:  # decimal.Overflow: an exponent past the context's, `1e999999999`
                at = next(i for i, e in enumerate(items) if abs(_amount(e).adjusted()) > MAX_DIGITS)
                raise _past_limit(ids[at], _amount(items[at])) from None
            # compared as Decimals (in C) before any becomes an int: `1e999999` would take a million digits
            if exact and (max(exact) > MAX_UNITS or min(exact) < -MAX_UNITS):
                at = next(i for i, u in enumerate(exact) if abs(u) > MAX_UNITS)
                raise _past_limit(ids[at], _amount(items[at]))
            units = list(map(int, exact))
            fractions = 0
            # an amount listed long (1234.5699999999999) is the amount whose double it is (listed_units); one that is
            # the double of none keeps its whole minor units and is counted as having more decimals
            for at in compress(range(len(units)), map(operator.ne, exact, units)):
                held = listed_units(items[at])
                if held is None:
                    fractions += 1
                else:
                    units[at] = held
            yield Listed(
                ids,
                currencies,
                units,
                list(map(prefix.__add__, map(str, map(_voucher, items)))),
                fractions,
                *listed_line_checks(units, items),
            )


def _asked_for(items: list[Any], ids: list[int], journal: int, after: int, upto: int | None) -> None:
    """BadAnswer for a page of the walk of `journal`'s entries numbered after `after`, up to `upto` (None: any) that
    lists an entry of another journal, or numbered outside them (`items` listed, `ids` their numbers): an API that
    did not filter as asked. Its listing cannot be compared: taken as it is, another journal's entries would be
    counted this one's, added by others, and its count said to lag behind them."""
    if set(map(_journal, items)) - {journal, None}:  # in C: a page of 1,000 entries, each journal looked at once
        other = next(item for item in items if item.journalNumber not in (journal, None))
        why = f"entry {other.entryNumber} of journal {other.journalNumber}, where only journal {journal}'s were"
    elif ids and (min(ids) <= after or (upto is not None and max(ids) > upto)):
        wanted = f"after {after}" + ("" if upto is None else f", up to {upto}")
        outside = next(i for i in ids if i <= after or (upto is not None and i > upto))
        why = f"entry {outside}, where only those numbered {wanted} were"
    else:
        return
    raise BadAnswer(
        f"GET /draft-entries: the walk of journal {journal} lists {why} asked for: the API did not filter the listing "
        "as asked, so what it lists cannot be compared with the run"
    )


def _past_limit(entry: int, amount: Decimal) -> BadAnswer:
    """The walk's answer lists `entry` with `amount`, of more minor units than a 64-bit integer holds."""
    return BadAnswer(
        f"GET /draft-entries: the answer is not what the API documents (entry {entry} has the amount {amount}: more "
        "minor units than a 64-bit integer holds, where it takes at most 18 digits: seed 002)"
    )


def _given(files: Mapping[int, str], options: Mapping[str, Any]) -> list[str]:
    """The arguments that load `files` (an input index -> a file of its rows, e.g. its rejects file) as the run's
    inputs were: their paths in the inputs' order (each file's encoding, decimal mark and date order decided for
    it), and --journal (Economic.options) where given: the journal of the rows that name none."""
    args = [path for _, path in sorted(files.items())]
    if options.get("journal") is not None:
        args += ["--journal", str(options["journal"])]
    return args


class Economic(Target):
    name = "economic"
    api = Api(
        idempotent=True,
        key_ttl_s=3600.0,  # e-conomic caches a key's answer for one hour
        max_items=500,
        # a bulk answer: 500 entries at up to 4 KB each (a walk's page has its own cap, PAGE_BYTES)
        answer_bytes=2 * 1024 * 1024,
        default_base_url="https://apis.e-conomic.com/journalsapi/v11.0.2",
        scope_name="journal",
        id_name="entryNumber",
        # rollback: draft entries are deleted one by one, by the numbers the API gave; booking a journal takes its
        # drafts out of the draft list: a draft of ours that is gone may be in the books
        can_delete=True,
        gone_means="possibly booked (booking takes drafts out of the journal): reverse it in the books",
        # a retry that overtakes its own first attempt: the key is still being processed
        retry_codes=frozenset({"IdempotencyKeyInUse"}),
        # seed 002 never says a refused bulk call stores nothing (a server that writes as it checks keeps the entries
        # before the first bad one): the rest of a refused call is looked for before it is sent again (find_stored)
        refusal_stores_nothing=False,
        checks_by="line",  # DraftEntries.line_check
    )
    credentials = Credentials(
        ("ECONOMIC_APP_SECRET_TOKEN", "ECONOMIC_AGREEMENT_GRANT_TOKEN"),
        agreement=("ECONOMIC_AGREEMENT_GRANT_TOKEN",),  # fair use is the agreement's, whichever app calls
        account_noun="agreement",  # every agreement at one address: the grant token says which (account.py)
    )
    books = Journals()
    flags = Flags(
        (
            Flag(
                "--journal",
                type=int,
                help="journal number for rows that do not name one; a row naming another journal is rejected",
            ),
        ),
        example=("entries.csv", "--journal", "1"),
        given=_given,
    )

    def __init__(self, journal: int | None = None) -> None:
        self.journal = journal
        self.entries = DraftEntries(journal)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Economic:
        journal = options.get("journal")
        if journal is not None and journal < 1:
            raise ConfigError("--journal must be a positive journal number")
        return cls(journal=journal)

    def options(self) -> dict[str, Any]:
        return {"journal": self.journal}

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {
            "X-AppSecretToken": credentials["ECONOMIC_APP_SECRET_TOKEN"],
            "X-AgreementGrantToken": credentials["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
            "Accept": "application/json",
        }

    def kind_of(self, file_idx: int) -> DraftEntries:
        return self.entries
