"""The PayorCRM (accounts-receivable platform) upload API sandbox: ``POST /jsonApi/upload/customers`` and
``POST /jsonApi/upload/invoices``, each an ARRAY body, headers ``api_key`` / ``api_secret``, behind the
shared fault and limit machinery of :mod:`bulkload.sandbox.common`.

An upload is atomic: one bad item and nothing is stored; the 400 names every bad item by index (none
with ``opaque_errors``). An invoice must name an existing customer (``customerNumber`` = a stored
``customerno``). Invoices are NOT idempotent: the same invoice sent twice is stored twice. Customers are
keyed by ``customerno``: uploading one that is already there updates it in place (same id), so resending
customers is harmless — a choice made here because the API documents no key and an accounts-receivable
platform would not hold two customers with one number. No array limit is published; more than
:data:`MAX_ITEMS` items get 413 to keep the sandbox sane.

The API documents no answer to an upload. By default a stored upload is answered ``{"uploaded": n, "results":
[{"id", ...}]}``; ``SandboxOptions.answer`` (``--answer``) picks another shape a real server might give: the bare
array of the stored records, with or without their ids, a bare array of their ids alone, ``{"success": true,
"count": n}``, or an empty 200. ``half_stored`` (``--half-stored``) stores the first half of an upload only and
answers for those, as a server that stops part way. ``invoice_lines_replaced`` (``--invoice-lines-replaced``) keys
invoices by invoiceNumber: a line replaces the one stored before it and is answered with that record's id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from bulkload.sandbox.common import (
    BodyError,
    FieldProblem,
    SandboxOptions,
    auth_middleware,
    decode_items,
    field_problem,
    json_response,
    message_response,
    new_app,
)

__all__ = ["MAX_ITEMS", "PAYORCRM_KEY", "Customer", "Invoice", "PayorCRM", "create_app"]

MAX_ITEMS = 1000
T = TypeVar("T")


class Customer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One item of a customers upload (every field a string; emailaddress1 and customerno required)."""

    customerno: str
    emailaddress1: str
    companyname: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    phoneno: str | None = None
    cocode: str | None = None


class Invoice(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One item of an invoices upload: amounts are integers (minor units), dates ISO, addresses objects."""

    customerNumber: str
    invoiceNumber: str
    invoiceAmount: int
    companyCode: str | None = None
    profitCenter: str | None = None
    customerName: str | None = None
    accountingDocNumber: str | None = None
    postDate: date | None = None
    dueDate: date | None = None
    paymentTerms: str | None = None
    documentType: str | None = None
    postingKey: str | None = None
    debitCreditIndicator: str | None = None
    balanceAmount: str | None = None
    billAddr: dict[str, Any] | None = None
    shipAddr: dict[str, Any] | None = None
    currency: str | None = None
    reasonCode: str | None = None
    reasonCodeDescription: str | None = None
    fiscalYear: str | None = None
    invoiceDate: date | None = None
    reference1: str | None = None
    reference2: str | None = None
    localAmount: int | None = None
    itemText: str | None = None
    fiscalPeriod: str | None = None
    issueDate: date | None = None
    soldTo: str | None = None
    lineItem: str | None = None
    referenceDocNo: str | None = None
    status: str | None = None


# float_hook: a number inside an address decodes to an exact Decimal (ints stay ints), kept and read back with the
# digits the client sent, so that a test sees what was sent
_customers_decoder = msgspec.json.Decoder(list[Customer], float_hook=Decimal)
_invoices_decoder = msgspec.json.Decoder(list[Invoice], float_hook=Decimal)
_untyped_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


def _builtins(item: msgspec.Struct) -> dict[str, Any]:
    """A stored item as JSON shows it, its exact numbers kept as numbers."""
    shown: dict[str, Any] = msgspec.to_builtins(item, builtin_types=(Decimal,))
    return shown


def _customer_problems(customer: Customer) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not customer.customerno.strip():
        problems.append(("customerno", "must not be empty"))
    if "@" not in customer.emailaddress1:
        problems.append(("emailaddress1", "must be an email address"))
    return problems


class PayorCRM:
    """One tenant's customers and invoices, and the two upload handlers."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.customers: dict[str, tuple[int, Customer]] = {}  # customerno → (id, customer)
        self.invoices: list[tuple[int, Invoice]] = []

    def _refused(
        self, items: list[T | None], problems: list[FieldProblem | None], extra: Callable[[T], list[FieldProblem]]
    ) -> web.Response | None:
        """The atomic 400 when any item is bad (``extra(item)`` adds the checks beyond types), else None."""
        if not items:
            return message_response(400, "Upload rejected: the array is empty", [])
        errors: list[dict[str, Any]] = []
        for i, (item, problem) in enumerate(zip(items, problems)):
            found = extra(item) if item is not None else [problem] if problem is not None else []
            errors.extend({"index": i, "field": field, "message": text} for field, text in found)
        if not errors:
            return None
        return message_response(400, "Upload rejected", [] if self.options.opaque_errors else errors)

    async def _decode(
        self, request: web.Request, decoder: msgspec.json.Decoder[list[T]], item: type[T]
    ) -> tuple[list[T | None], list[FieldProblem | None]] | web.Response:
        try:
            items, problems = decode_items(await request.read(), decoder, item, field_problem, _untyped_decoder)
        except BodyError as exc:
            return message_response(400, f"Upload rejected: {exc}", [])
        if len(items) > MAX_ITEMS:
            return message_response(413, f"Upload rejected: {len(items)} items, at most {MAX_ITEMS} per upload")
        return items, problems

    async def upload_customers(self, request: web.Request) -> web.Response:
        decoded = await self._decode(request, _customers_decoder, Customer)
        if isinstance(decoded, web.Response):
            return decoded
        refused = self._refused(*decoded, _customer_problems)
        if refused is not None:
            return refused
        results, stored = [], []
        for customer in self._stored(decoded[0]):
            assert customer is not None  # none is missing once nothing was refused
            known = self.customers.get(customer.customerno)
            number = known[0] if known is not None else len(self.customers) + 1
            self.customers[customer.customerno] = (number, customer)
            results.append({"id": number, "customerno": customer.customerno})
            stored.append((number, customer))
        return self._answer(results, stored)

    def _invoice_problems(self, invoice: Invoice) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        if invoice.customerNumber not in self.customers:
            problems.append(("customerNumber", f"customer {invoice.customerNumber} does not exist"))
        if not invoice.invoiceNumber.strip():
            problems.append(("invoiceNumber", "must not be empty"))
        return problems

    async def upload_invoices(self, request: web.Request) -> web.Response:
        decoded = await self._decode(request, _invoices_decoder, Invoice)
        if isinstance(decoded, web.Response):
            return decoded
        refused = self._refused(*decoded, self._invoice_problems)
        if refused is not None:
            return refused
        results, stored = [], []
        for invoice in self._stored(decoded[0]):
            assert invoice is not None  # none is missing once nothing was refused
            number = self._invoice_stored(invoice)
            results.append(
                {
                    "id": number,
                    "invoiceNumber": invoice.invoiceNumber,
                    "customerNumber": invoice.customerNumber,
                    "invoiceAmount": invoice.invoiceAmount,
                    # an invoice's lines are told apart by their line item: a record names its own
                    **({} if invoice.lineItem is None else {"lineItem": invoice.lineItem}),
                }
            )
            stored.append((number, invoice))
        return self._answer(results, stored)

    def _invoice_stored(self, invoice: Invoice) -> int:
        """Store `invoice` (a line of one), and the id it is stored under: a new record's, or with
        ``options.invoice_lines_replaced`` that of the record of its invoiceNumber, whose line it replaces."""
        if self.options.invoice_lines_replaced:
            for at, (number, held) in enumerate(self.invoices):
                if held.invoiceNumber == invoice.invoiceNumber:
                    self.invoices[at] = (number, invoice)
                    return number
        number = len(self.invoices) + 1
        self.invoices.append((number, invoice))
        return number

    def _stored(self, items: list[T | None]) -> list[T | None]:
        """The items of an upload that are stored: all of them, or with ``options.half_stored`` the first half."""
        return items[: (len(items) + 1) // 2] if self.options.half_stored else items

    def _answer(self, results: list[dict[str, Any]], stored: list[tuple[int, Any]]) -> web.Response:
        """The 200 of a stored upload, in the shape ``options.answer`` names (the API documents none)."""
        shape = self.options.answer
        if shape == "records":
            return json_response([{"id": n, **_builtins(item)} for n, item in stored])
        if shape == "records-no-id":
            return json_response([_builtins(item) for _, item in stored])
        if shape == "ids":
            return json_response([{"id": n} for n, _ in stored])
        if shape == "count":
            return json_response({"success": True, "count": len(stored)})
        if shape == "empty":
            return web.Response(status=200)
        return json_response({"uploaded": len(results), "results": results})

    # Test-only read-backs: the real API has no such lists. The loader must never use them; tests and
    # benchmarks read them to prove what arrived (and how often).
    async def read_customers(self, request: web.Request) -> web.Response:
        rows = [{"id": n, **_builtins(c)} for n, c in self.customers.values()]
        return web.Response(body=_encoder.encode(rows), content_type="application/json")

    async def read_invoices(self, request: web.Request) -> web.Response:
        rows = [{"id": n, **_builtins(i)} for n, i in self.invoices]
        return web.Response(body=_encoder.encode(rows), content_type="application/json")


def create_app(
    options: SandboxOptions | None = None, *, api_key: str | None = None, api_secret: str | None = None
) -> web.Application:
    """The sandbox app (paths start with ``/jsonApi``).

    With ``api_key`` / ``api_secret`` only those are accepted, by default any non-empty pair.
    """
    options = options or SandboxOptions()
    crm = PayorCRM(options)

    def accept(request: web.Request) -> bool:
        key, secret = request.headers.get("api_key", ""), request.headers.get("api_secret", "")
        return bool(key and secret) and api_key in (None, key) and api_secret in (None, secret)

    def refuse(request: web.Request) -> web.Response:
        return message_response(401, "Unauthorized: send the api_key and api_secret headers")

    def extra_stats() -> dict[str, Any]:
        return {"customers": len(crm.customers), "invoices": len(crm.invoices)}

    # 1,000 invoices with every field and both addresses run past aiohttp's 1 MiB default
    app = new_app(options, auth_middleware(accept, refuse), extra_stats=extra_stats, client_max_size=16 * 1024**2)
    app[PAYORCRM_KEY] = crm
    app.router.add_post("/jsonApi/upload/customers", crm.upload_customers)
    app.router.add_post("/jsonApi/upload/invoices", crm.upload_invoices)
    app.router.add_get("/_sandbox/customers", crm.read_customers)
    app.router.add_get("/_sandbox/invoices", crm.read_invoices)
    return app


PAYORCRM_KEY = web.AppKey("payorcrm", PayorCRM)
