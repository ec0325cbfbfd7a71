"""What the summary says of keyed calls sent again after a 5xx once a look found nothing of them (Report.resent_unfound,
dispatch._kept_no_failure): a server that commits such a call after its 5xx, and after the look, holds it twice, and a
reconciliation right after the load may come before that commit and pass (tester t74b: e-conomic at the default
--settle-s 0, exit 0)."""

from __future__ import annotations

from msgspec import UnsetType

from .errors import command_on
from .ledger_pg import name_of
from .results import Report


def resent_count(report: Report) -> int:
    """The report's keyed calls sent again after a 5xx a look found nothing of (0 where it has none)."""
    return 0 if isinstance(report.resent_unfound, UnsetType) else report.resent_unfound


def resent_counted(n: int) -> str:
    """How a one-line count says `n` keyed calls sent again after a 5xx a look found nothing of: -q's line and
    `bulkload run`'s totals ("" for 0)."""
    if not n:
        return ""
    return f"{_calls(n)} sent again after a 5xx a look found nothing of"


def _calls(n: int) -> str:
    return "1 keyed call" if n == 1 else f"{n:,} keyed calls"


def resent_said(report: Report) -> str:
    """The summary's line for the report's keyed calls sent again after a 5xx a look found nothing of ("" for none):
    how many, what that risks, and, where the reconciliation right after passed, to reconcile again later and to give
    --settle-s to the next load."""
    n = resent_count(report)
    if not n:
        return ""
    said = (
        f"{_calls(n)} {'was' if n == 1 else 'were'} sent again with its key after a 5xx, a look having found nothing "
        "of it: an API that commits a call after its 5xx (and after the look) holds such a call twice"
    )
    if report.reconcile is not None and report.reconcile.ok and report.ledger:
        again = command_on("reconcile", name_of(report.ledger))
        said += (
            f"; the reconciliation right after the load may have come before such a commit: run `{again}` again in a "
            "while, and give the next load --settle-s SECONDS (as long as the API may take to commit a call) so that "
            "such a call is looked for again that much later before it is sent again"
        )
    return said
