"""Seller and buyer costs of the Visma Core sandbox: made deterministically from the case id on first
access, then kept so that PATCHes stick. The data generator imports :func:`case_costs` to aim its
patch rows at costs that exist (and, on purpose, at some that are not editable or do not exist)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Container, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from bulkload.sandbox.common import SANDBOX_KEY, json_response

__all__ = ["COST_TYPES", "OTHER_WRITER_ADDS", "Cost", "CostStore", "case_costs", "cost_type", "message"]

COST_TYPES = ("Buyer", "Seller")
#: per type: (comment, VAT, lowest and highest amount in kroner); the amounts of the fees are set by law
_TEMPLATES: dict[str, tuple[tuple[str, str, int, int], ...]] = {
    "Buyer": (
        ("Tinglysing skjøte", "0", 585, 585),
        ("Tinglysing pantedokument", "0", 585, 585),
        ("Boligkjøperforsikring", "0", 4_900, 12_900),
    ),
    "Seller": (
        ("Meglerprovisjon", "0.25", 30_000, 95_000),
        ("Markedsføringspakke", "0.25", 9_000, 25_000),
        ("Oppgjørshonorar", "0.25", 4_000, 7_500),
    ),
}


class Cost(msgspec.Struct, kw_only=True):
    """One cost as ``GET .../Costs/{type}`` returns it (field order as in the API's sample)."""

    DisplayWarning: bool = False
    Editable: bool
    IsAccounted: bool
    Optional: bool
    Selected: bool = False
    EntryDraftId: int | None
    Id: int
    Amount: Decimal
    Comment: str
    Deleted: bool = False
    EntryDefinitionId: int
    IsEditable: bool
    IsHidden: bool = False
    IsStandard: bool = True
    IsOptional: bool
    StandardCostStatusType: str = "Draft"
    StatusType: str = "Draft"
    AccountingType: str = "OnCreate"
    StandardCostPostStatusType: str = "OnCreate"
    SettlementStatementGroup: str = "DrawnInSettlement"
    VAT: Decimal


def case_costs(case_id: int, definition_ids: Sequence[int]) -> dict[str, list[Cost]]:
    """The costs a case starts with: three per type, ids ``case_id * 100 + n`` (buyer n = 1–3, seller
    n = 4–6), the one at position ``case_id % 3`` of each type already accounted and so not editable,
    the third of each type optional. Entry definitions are taken in turn from ``definition_ids``."""
    rng = random.Random(case_id)
    locked = case_id % 3
    costs: dict[str, list[Cost]] = {}
    n = 0
    for kind in COST_TYPES:
        costs[kind] = []
        for pos, (comment, vat, low, high) in enumerate(_TEMPLATES[kind]):
            n += 1
            kroner = low if low == high else rng.randrange(low, high + 1, 100)
            costs[kind].append(
                Cost(
                    Editable=pos != locked,
                    IsEditable=pos != locked,
                    IsAccounted=pos == locked,
                    EntryDraftId=rng.randint(100, 99_999) if pos == locked else None,
                    Optional=pos == 2,
                    IsOptional=pos == 2,
                    Id=case_id * 100 + n,
                    Amount=Decimal(kroner),
                    Comment=comment,
                    EntryDefinitionId=definition_ids[(case_id + n) % len(definition_ids)],
                    VAT=Decimal(vat),
                )
            )
    return costs


def cost_type(text: str) -> str | None:
    """``Buyer`` or ``Seller`` (the API binds the enum without regard to case), None for anything else."""
    for kind in COST_TYPES:
        if text.lower() == kind.lower():
            return kind
    return None


class CostPatch(msgspec.Struct):
    """A PATCH body: any of these; other fields are ignored."""

    IsOptional: bool | msgspec.UnsetType = msgspec.UNSET
    Amount: Any = msgspec.UNSET  # number → int or Decimal (exact), checked by hand for a clear message
    Comment: str | None | msgspec.UnsetType = msgspec.UNSET


_patch_decoder = msgspec.json.Decoder(CostPatch, float_hook=Decimal)


#: what another writer adds to a cost's Amount right after each PATCH of it (SandboxOptions.other_writer)
OTHER_WRITER_ADDS = Decimal("100.00")


def message(status: int, text: str) -> web.Response:
    """Visma Core's error body: ``{"Message": ...}``."""
    return json_response({"Message": text}, status)


class CostStore:
    """Costs of the cases touched so far, created lazily; GET and PATCH handlers."""

    def __init__(
        self,
        cases: Container[int],
        definition_ids: Sequence[int],
        encoder: msgspec.json.Encoder,
        *,
        other_writer: bool = False,
    ):
        self.cases = cases
        self.definition_ids = definition_ids
        self.encoder = encoder
        self.costs: dict[int, dict[str, list[Cost]]] = {}
        self.patches = 0
        #: another writer (a broker in Core) adds OTHER_WRITER_ADDS to a cost's Amount right after each PATCH of it
        self.other_writer = other_writer

    def of_case(self, case_id: int) -> dict[str, list[Cost]] | None:
        if case_id not in self.cases:
            return None
        costs = self.costs.get(case_id)
        if costs is None:
            costs = self.costs[case_id] = case_costs(case_id, self.definition_ids)
        return costs

    def _lookup(self, request: web.Request) -> tuple[str, list[Cost]] | web.Response:
        kind = cost_type(request.match_info["type"])
        if kind is None:
            return message(400, f"The type must be Buyer or Seller, not {request.match_info['type']!r}")
        case_id = int(request.match_info["id"])
        costs = self.of_case(case_id)
        if costs is None:
            return message(404, f"Case {case_id} does not exist")
        return kind, costs[kind]

    async def get(self, request: web.Request) -> web.Response:
        found = self._lookup(request)
        if isinstance(found, web.Response):
            return found
        return web.Response(body=self.encoder.encode(found[1]), content_type="application/json")

    async def patch(self, request: web.Request) -> web.Response:
        found = self._lookup(request)
        if isinstance(found, web.Response):
            return found
        cost_id = int(request.match_info["costId"])
        cost = next((c for c in found[1] if c.Id == cost_id), None)
        if cost is None:
            return message(404, f"Cost {cost_id} does not exist on case {request.match_info['id']} ({found[0]})")
        try:
            body = _patch_decoder.decode(await request.read())
        except msgspec.ValidationError as exc:
            return message(400, f"The request is invalid: {exc}")
        except msgspec.DecodeError as exc:
            return message(400, f"The request body is not valid JSON: {exc}")
        amount = body.Amount
        if amount is not msgspec.UNSET and (isinstance(amount, bool) or not isinstance(amount, int | Decimal)):
            return message(400, "Amount must be a number")
        if not cost.Editable:
            return message(400, f"Cost {cost_id} is not editable")
        delay_s = request.app[SANDBOX_KEY].commit_delay_s()
        if delay_s <= 0:
            return self._carry_out(cost, body)
        # the timer, not the handler, carries it out: a client that gives up (its handler cancelled) stops nothing
        done: asyncio.Future[web.Response] = asyncio.get_running_loop().create_future()

        def carry_out() -> None:
            answer = self._carry_out(cost, body)
            if not done.done():
                done.set_result(answer)

        asyncio.get_running_loop().call_later(delay_s, carry_out)
        return await done

    def _carry_out(self, cost: Cost, body: CostPatch) -> web.Response:
        """Set what the PATCH gives; its answer is the cost so changed (another writer's change after it is not)."""
        if body.IsOptional is not msgspec.UNSET:
            cost.IsOptional = body.IsOptional
        if body.Amount is not msgspec.UNSET:
            cost.Amount = Decimal(body.Amount)
        if body.Comment is not msgspec.UNSET:
            cost.Comment = body.Comment or ""
        self.patches += 1
        answer = web.Response(body=self.encoder.encode(cost), content_type="application/json")
        if self.other_writer:
            cost.Amount += OTHER_WRITER_ADDS
        return answer
