"""The Visma Core (real-estate broker system) Flow API sandbox: entry definitions by accounting cost type,
entry drafts and booked entries on a case (one per call, NOT idempotent: the same body twice makes two),
and seller/buyer costs (GET, PATCH), behind the shared fault and limit machinery of
:mod:`bulkload.sandbox.common`.

Amounts are kept exactly (JSON numbers decoded as ``Decimal``) and echoed back as JSON numbers. A
fixture (``--fixture PATH`` or ``create_app(fixture=...)``) replaces the entry definitions and/or
restricts the cases::

    {"definitions": {"FEE": {"Id": 18, "Name": "…", "IsDraft": false, "MergeOrderLinesToOneEntry": false}},
     "cases": [1894, 1895]}

Drafts and entries share one sequence of ids unless ``SandboxOptions.separate_ids`` (``--separate-ids``) numbers
each in its own, so that draft 1 and entry 1 both exist: seed 003 gives every create an ``Id`` and does not say
that one sequence serves both. A cost PATCH is carried out ``commit_delay_ms`` after it arrives, answered then;
with ``other_writer`` (``--other-writer``) another writer adds 100.00 to the cost's Amount right after it.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from bulkload.sandbox.common import SandboxOptions, auth_middleware, new_app, problem, read_fixture
from bulkload.sandbox.visma_core_costs import CostStore, message

__all__ = ["DEFAULT_DEFINITIONS", "VISMA_CORE_KEY", "Definition", "Fixture", "VismaCore", "create_app"]

BOOKKEEPING = "/flow/api/Integrations/Bookkeeping"
#: every case id in [FIRST_CASE, LAST_CASE] exists unless a fixture lists the cases
FIRST_CASE, LAST_CASE = 1000, 99_999
VAT = Decimal("0.25")
CREATED_BY = 215  # the integration user
SOURCE = "IntegrationsBookkeepingApi"


class Definition(msgspec.Struct, kw_only=True):
    """An entry definition as ``GET .../AccountingCostTypes/{type}`` returns it."""

    Id: int
    Name: str
    IsDraft: bool
    MergeOrderLinesToOneEntry: bool


#: accounting cost type → entry definition: one of each IsDraft × MergeOrderLinesToOneEntry, and one more
DEFAULT_DEFINITIONS: Mapping[str, Definition] = {
    "SALARY": Definition(Id=17, Name="Vederlag meglerfullmektig", IsDraft=True, MergeOrderLinesToOneEntry=False),
    "FEE": Definition(Id=18, Name="Tilretteleggingsgebyr", IsDraft=False, MergeOrderLinesToOneEntry=False),
    "OUTLAY": Definition(Id=19, Name="Utlegg (tinglysing, attester)", IsDraft=False, MergeOrderLinesToOneEntry=True),
    "COMMISSION": Definition(Id=20, Name="Meglerprovisjon", IsDraft=True, MergeOrderLinesToOneEntry=True),
    "MARKETING": Definition(Id=21, Name="Markedsføringspakke", IsDraft=False, MergeOrderLinesToOneEntry=True),
}


class Fixture(msgspec.Struct, kw_only=True):
    """The sandbox's own starting data: definitions replace the defaults; cases, when given, are all."""

    definitions: dict[str, Definition] | None = None
    cases: list[int] | None = None


class EntryBody(msgspec.Struct, kw_only=True):
    """The body of both creates; unknown fields are ignored, EntryDate is required for entries only."""

    EntryDefinitionId: int | None = None
    Amount: Any = None  # a JSON number decodes to int or Decimal (exact); anything else is refused
    Description: str | None = None
    Note: str | None = None
    EntryDate: str | None = None


class Created(msgspec.Struct, kw_only=True):
    """A draft or entry as ``GET /_sandbox/entries`` lists it."""

    Kind: str  # "draft" | "entry"
    Id: int
    CaseId: int
    EntryDefinitionId: int
    Amount: Decimal
    Description: str
    Note: str
    EntryDate: str | None


_body_decoder = msgspec.json.Decoder(EntryBody, float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


def _entry_date(text: str) -> str | None:
    """An ISO date or date-time as the API writes it back (a date becomes midnight), None if it is not one."""
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return None


class VismaCore:
    """One broker company's state and handlers: definitions, cases, created drafts and entries, costs."""

    def __init__(
        self,
        definitions: Mapping[str, Definition],
        cases: Container[int],
        *,
        separate_ids: bool = False,
        other_writer: bool = False,
    ) -> None:
        self.definitions = dict(definitions)
        self.by_id = {d.Id: d for d in self.definitions.values()}
        self.cases = cases
        self.created: list[Created] = []
        self.drafts = self.entries = 0
        #: drafts and entries numbered apart (draft 1 and entry 1 both exist), as a real server may
        self.separate_ids = separate_ids
        self.costs = CostStore(cases, sorted(self.by_id), _encoder, other_writer=other_writer)

    def reply(self, payload: Any) -> web.Response:
        return web.Response(body=_encoder.encode(payload), content_type="application/json")

    async def definition(self, request: web.Request) -> web.Response:
        kind = request.match_info["accountingCostType"]
        found = self.definitions.get(kind)
        if found is None:
            return message(404, f"No entry definition for accounting cost type {kind} for this user")
        return self.reply(found)

    async def create_draft(self, request: web.Request) -> web.Response:
        return await self._create(request, draft=True)

    async def create_entry(self, request: web.Request) -> web.Response:
        return await self._create(request, draft=False)

    async def _create(self, request: web.Request, *, draft: bool) -> web.Response:
        case_id = int(request.match_info["caseId"])
        if case_id not in self.cases:
            return message(404, f"Case {case_id} does not exist")
        try:
            body = _body_decoder.decode(await request.read())
        except msgspec.ValidationError as exc:
            return message(400, f"The request is invalid: {exc}")
        except msgspec.DecodeError as exc:
            return message(400, f"The request body is not valid JSON: {exc}")
        checked = self._check(body, draft=draft)
        if isinstance(checked, str):
            return message(400, checked)
        definition, entry_date = checked
        amount = Decimal(body.Amount)
        # a sequence for each kind, or one for both
        number = (self.drafts if draft else self.entries) + 1 if self.separate_ids else len(self.created) + 1
        row = Created(
            Kind="draft" if draft else "entry",
            Id=number,
            CaseId=case_id,
            EntryDefinitionId=definition.Id,
            Amount=amount,
            Description=body.Description or "",
            Note=body.Note or "",
            EntryDate=entry_date,
        )
        self.created.append(row)
        registered = datetime.now().astimezone().isoformat()
        # the fields in the order of the API's samples
        if draft:
            self.drafts += 1
            return self.reply(
                {
                    "Id": row.Id,
                    "CaseId": case_id,
                    "EntryDefinitionId": definition.Id,
                    "VAT": VAT,
                    "CreatedById": CREATED_BY,
                    "RegisteredDate": registered,
                    "CreditAccountId": 7,
                    "DebitAccountId": 1,
                    "Amount": amount,
                    "Description": row.Description,
                    "Source": SOURCE,
                    "EncounterId": 0,
                }
            )
        self.entries += 1
        return self.reply(
            {
                "Id": row.Id,
                "CaseId": case_id,
                "EntryNumber": self.entries,
                "VAT": VAT,
                "CreditAccountId": 7,
                "CreditAccountNumber": 3000 + definition.Id,
                "DebitAccountId": 1,
                "DebitAccountNumber": 1510,
                "DebitLedgerNumber": f"1221{case_id:05d}",
                "EntryDate": entry_date,
                "RegisteredDate": registered,
                "Description": row.Description,
                "CreatedById": CREATED_BY,
                "Amount": amount,
                "EntrySource": SOURCE,
            }
        )

    def _check(self, body: EntryBody, *, draft: bool) -> tuple[Definition, str | None] | str:
        """The definition and entry date of a valid create, or why it is refused."""
        if body.EntryDefinitionId is None:
            return "EntryDefinitionId is required"
        definition = self.by_id.get(body.EntryDefinitionId)
        if definition is None:
            return f"No entry definition with id {body.EntryDefinitionId} for this user"
        if definition.IsDraft != draft:
            made, use = ("entry drafts", "Entries") if draft else ("entries", "EntryDrafts")
            return (
                f"Entry definition {definition.Id} has IsDraft {str(definition.IsDraft).lower()}: "
                f"{made} cannot be created for it (use {use})"
            )
        amount = body.Amount
        if amount is None or isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            return "Amount is required and must be a number"
        if not body.EntryDate:  # "not required for entry drafts" (seed 003)
            return (definition, None) if draft else "EntryDate is required for entries"
        entry_date = _entry_date(body.EntryDate)
        if entry_date is None:
            return f"EntryDate {body.EntryDate!r} is not an ISO date or date-time"
        return definition, entry_date

    async def read_back(self, request: web.Request) -> web.Response:
        # Test-only: the real API has no such list. The loader must never use it; tests and benchmarks
        # read it to prove what arrived (and how often).
        return self.reply(self.created)


def _refuse(request: web.Request) -> web.Response:
    return problem(
        401,
        "Unauthorized",
        "Authorization has been denied for this request: send Authorization: Bearer <token>.",
        instance=request.path,
    )


def create_app(
    options: SandboxOptions | None = None,
    *,
    token: str | None = None,
    fixture: Mapping[str, Any] | None = None,
) -> web.Application:
    """The sandbox app (paths start with ``/flow/api``).

    With ``token`` only ``Authorization: Bearer <token>`` is accepted, by default any non-empty bearer
    token. ``fixture`` (else the file named by ``options.fixture``) replaces the starting data.
    """
    options = options or SandboxOptions()
    raw = fixture if fixture is not None else read_fixture(options)
    try:
        data = msgspec.convert(raw or {}, Fixture)
    except msgspec.ValidationError as exc:
        raise ValueError(f"bad Visma Core fixture: {exc}") from None
    definitions = DEFAULT_DEFINITIONS if data.definitions is None else data.definitions
    cases: Container[int] = range(FIRST_CASE, LAST_CASE + 1) if data.cases is None else frozenset(data.cases)
    core = VismaCore(definitions, cases, separate_ids=options.separate_ids, other_writer=options.other_writer)

    def accept(request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and bool(given.strip()) and token in (None, given.strip())

    def extra_stats() -> dict[str, Any]:
        return {"drafts": core.drafts, "entries": core.entries, "patches": core.costs.patches}

    app = new_app(options, auth_middleware(accept, _refuse), extra_stats=extra_stats)
    app[VISMA_CORE_KEY] = core
    app.router.add_get(BOOKKEEPING + "/AccountingCostTypes/{accountingCostType}", core.definition)
    app.router.add_post(BOOKKEEPING + r"/Cases/{caseId:\d+}/EntryDrafts", core.create_draft)
    app.router.add_post(BOOKKEEPING + r"/Cases/{caseId:\d+}/Entries", core.create_entry)
    app.router.add_get(r"/flow/api/Conditions/Cases/{id:\d+}/Costs/{type}", core.costs.get)
    app.router.add_patch(r"/flow/api/Conditions/Properties/{id:\d+}/Costs/{costId:\d+}/{type}", core.costs.patch)
    app.router.add_get("/_sandbox/entries", core.read_back)
    return app


VISMA_CORE_KEY = web.AppKey("visma_core", VismaCore)
