"""PayorCRM upload API: customers and invoices as array uploads, customers first.

No idempotency key: an upload whose answer was lost is in doubt and is not sent again without the user's
word. An invoice whose customer did not load (rejected, in doubt) is rejected with that reason. The API documents
no answer to an upload: any 2xx is success unless its body says it failed (in doubt, or its rows named by index
refused), and ids and amounts are taken where the answer has them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..money import iso_code
from ..sources import BadRow
from .base import Api, Credentials, Phases, Target, key_text
from .flags import Flag, Flags
from .payorcrm_records import Customers, Invoices, Upload

if TYPE_CHECKING:
    from ..sources import Source

_KINDS = ("customers", "invoices")


def _currency_code(code: str) -> str:
    """An ISO 4217 code as given, in upper case; ConfigError for anything else."""
    if (iso := iso_code(code)) is None:
        raise ConfigError(
            f"--local-currency {code!r} is no ISO 4217 currency with a minor unit: give its code, e.g. DKK"
        )
    return iso


def _arrange(files: list[str], options: dict[str, Any]) -> list[str]:
    """`--customers C --invoices I` → [C, I] with their kinds; else the FILEs, all of --kind."""
    customers, invoices = options.pop("customers", None), options.pop("invoices", None)
    if not (customers or invoices) and options.get("file_kinds"):
        return files  # arranged already (a resumed run's stored options)
    if customers or invoices:
        if files:
            raise ConfigError("give the files either as --customers/--invoices or as FILE... with --kind")
        arranged = [(p, k) for p, k in ((customers, "customers"), (invoices, "invoices")) if p]
        options["file_kinds"] = [k for _, k in arranged]
        return [p for p, _ in arranged]
    if not options.get("kind"):
        raise ConfigError("payorcrm needs --kind customers|invoices for FILE..., or --customers/--invoices")
    options.setdefault("file_kinds", [options["kind"]] * len(files))
    return files


def _given(files: Mapping[int, str], options: Mapping[str, Any]) -> list[str]:
    """`_arrange`'s way back: `--customers C --invoices I` (those of `files`, by the kind of the input each stands
    for), or FILE... --kind K where they are several of one kind, and the options (PayorCRM.options) that read their
    rows as the run's were. Not `--require-customers`: the customers of the invoices in `files` that loaded are in
    none of them (it would reject those invoices); the run's customers file, named in their place, would meet its
    run's ledger (the default ledger is named after it)."""
    kinds = options["file_kinds"]
    held = sorted(files.items())
    if len({kinds[i] for i, _ in held}) < len(held):  # FILE... of one --kind (a rejects file for each)
        args = [*(path for _, path in held), "--kind", kinds[held[0][0]]]
    else:
        args = [arg for i, path in held for arg in (f"--{kinds[i]}", path)]
    if options.get("amount_unit") not in (None, "minor"):
        args += ["--amount-unit", options["amount_unit"]]
    if options.get("local_currency"):
        args += ["--local-currency", options["local_currency"]]
    return args


class CustomersFirst(Phases):
    """Customers before invoices; planning the invoices learns which customers did not load (their invoices are
    rejected with that reason) and which did."""

    def __init__(self, file_kinds: Sequence[str], invoices: Invoices) -> None:
        self.file_kinds = file_kinds
        self.invoices = invoices

    def of(self, n_files: int) -> list[list[int]]:
        customers = [i for i in range(n_files) if self.file_kinds[i] == "customers"]
        invoices = [i for i in range(n_files) if self.file_kinds[i] == "invoices"]
        return [p for p in (customers, invoices) if p]

    def before(
        self, files: Sequence[int], unsettled: Mapping[int, Mapping[int, str]], sources: Sequence[Source]
    ) -> dict[str, Any]:
        if not unsettled:
            return {}
        failed: dict[str, str] = {}
        known: list[str] = []
        for file_idx, lines in unsettled.items():
            for item in sources[file_idx]:
                # a customerno as its text (key_text: a JSONL line's 123 or false names customer "123", "false"),
                # of a row that could not be read too, where it shows one: rejected, its invoices are not sent
                line, row = (item.line_no, item.partial) if isinstance(item, BadRow) else item
                number = None if row is None else row.get("customerno")
                if number is None:
                    continue
                if line in lines:
                    failed[key_text(number)] = lines[line]
                elif not isinstance(item, BadRow):
                    known.append(key_text(number))
        return {"failed": failed, "known": known}

    def use(self, context: Mapping[str, Any]) -> None:
        self.invoices.given(context.get("failed", {}), context.get("known"))

    def given_again(self, file_idx: int) -> bool:
        """A customers file given with invoices (customerno names each customer; every row has one)."""
        return self.file_kinds[file_idx] == "customers" and "invoices" in self.file_kinds


class PayorCRM(Target):
    name = "payorcrm"
    api = Api(
        idempotent=False,
        max_items=1000,
        default_batch=200,
        scope_name="kind",
        reconcile_by="responses",
        # seed 004 documents no error answer: a 400 naming bad rows does not say the others were not stored, and
        # nothing can be looked up (no GET). Sent again, a stored one would be doubled: they are in doubt
        refusal_stores_nothing=False,
        iso_units_only=True,  # an invoice without a currency, or with another code, in minor units sent as given
    )
    # the api_key names the account the uploads go to; its api_secret may be rotated for it. Seed 004 gives one host
    # for every account, told apart by the api_key header alone
    credentials = Credentials(
        ("PAYORCRM_API_KEY", "PAYORCRM_API_SECRET"), account=("PAYORCRM_API_KEY",), shared_address=True
    )
    flags = Flags(
        (
            Flag("--kind", choices=_KINDS, help="what the FILEs hold"),
            Flag("--customers", metavar="FILE", help="customers file, loaded first"),
            Flag("--invoices", metavar="FILE", help="invoices file, loaded after the customers"),
            Flag(
                "--amount-unit",
                choices=("minor", "major"),
                help="invoiceAmount/localAmount in the input: minor units (default) or major units, converted exactly "
                "by the currency's decimals",
            ),
            Flag(
                "--local-currency",
                metavar="CODE",
                help="the company's own currency, which localAmount is in: with --amount-unit major, its decimals "
                "convert localAmount (an invoice's localAmount is refused without it)",
            ),
            Flag(
                "--require-customers", switch=True, help="reject an invoice whose customer is not in the customers file"
            ),
        ),
        _arrange,
        example=("--customers", "customers.csv", "--invoices", "invoices.csv"),
        given=_given,
        file_options=_KINDS,
    )

    def __init__(
        self,
        file_kinds: Sequence[str],
        amount_unit: str = "minor",
        require_customers: bool = False,
        local_currency: str | None = None,
    ) -> None:
        if not file_kinds or any(k not in _KINDS for k in file_kinds):
            raise ConfigError("payorcrm needs --kind customers|invoices with files, or --customers/--invoices")
        if amount_unit not in ("minor", "major"):
            raise ConfigError("--amount-unit must be minor or major")
        self.file_kinds = list(file_kinds)
        self.customers = Customers()
        self.invoices = Invoices(
            amount_unit, require_customers, None if local_currency is None else _currency_code(local_currency)
        )
        self.phases = CustomersFirst(self.file_kinds, self.invoices)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PayorCRM:
        kinds = options.get("file_kinds") or ([options["kind"]] if options.get("kind") else [])
        return cls(
            kinds,
            options.get("amount_unit") or "minor",
            bool(options.get("require_customers")),
            options.get("local_currency"),
        )

    def options(self) -> dict[str, Any]:
        return {
            "file_kinds": self.file_kinds,
            "amount_unit": self.invoices.amount_unit,
            "require_customers": self.invoices.require_customers,
            "local_currency": self.invoices.local_currency,
        }

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {"api_key": credentials["PAYORCRM_API_KEY"], "api_secret": credentials["PAYORCRM_API_SECRET"]}

    def kind_of(self, file_idx: int) -> Upload:
        return self.customers if self.file_kinds[file_idx] == "customers" else self.invoices
