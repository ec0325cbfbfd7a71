"""What isolating refused entries may cost. A call the API refuses without naming the bad entry is split at group
boundaries until the refused group is alone: about 2·log2(groups) calls for each bad group. When many groups are
refused for one reason (the same missing account) that is the cost of proving the same thing again and again: seen
against an independent server, 666 refusals of one account cost 4,679 calls, which at that ratio would spend 23
days of e-conomic's fair use on a 1M-row migration.

Most of that cost is an API's numbering untold: its error answer names the refused entries by an index that may
count them from 0 or from 1 (reasons.errors_counted), and an answer shows which only now and then (an index 0, one
equal to the entries sent, a value of the entry quoted). What one answer shows, `Numbering` remembers for the rest of
the run: the answers after it are read by it, no call split. But an API may keep to no one numbering (one per call,
one per kind of error), and an entry read by a numbering its own error does not show may be the good one beside the
bad: its group is sent alone first (CONFIRM), rejected only on its own refusal; loaded, it proves the numbering wrong,
and no answer is read by one its errors do not show from then on (each costs one call, where a split costs a dozen).

So isolating stops, with the reason named, (a) once `same_reason` groups were refused for one reason the API did not
tie to an entry, or (b) once the calls spent isolating pass `floor + factor × the calls that carried planned
chunks`. Stopping (exit 4) rather than rejecting the rest: a cause like a missing account is the user's to fix
once, after which `bulkload resume` sends the refused calls again and they load; rejecting every row of the calls
refused from then on would put good rows in the rejects file, to be loaded again by hand.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from .errors import IsolationSpent
from .targets.reasons import Counted, Said, Untold

log = logging.getLogger(__name__)

#: groups refused whole for one reason before isolating that reason stops
SAME_REASON = 10
#: calls isolating may always spend, and calls per planned chunk sent on top of that
FLOOR, FACTOR = 100, 4
#: reasons the report names
LISTED = 10
#: the last letter of a part of a chunk split in halves: refused without an entry named (isolating it), or too
#: large for the API (a 413: its halves carry the planned rows, and spend no budget)
ISOLATING_HALVES, SIZE_HALVES = ("0", "1"), ("a", "b")
#: the last letter of a part holding the groups an answer named some lines of (a refusal, or a 2xx whose records say
#: they failed): in doubt, as their other lines may have been stored, and never sent again with the lines named
#: (`resume --resend-in-doubt` rejects them whole, to be fixed and loaded again)
NAMED = "d"
#: the last letter of a part holding the groups a refusal may name, where which rows it names cannot be told (its
#: indexes may count from 0 or from 1) or it names none, at an API that does not say a refusal stores nothing: in
#: doubt; `resume --resend-in-doubt` sends each of its groups in a call of its own (split in ALONE_HALVES, none of
#: them sent, until each holds one group), whose refusal can only be of that group
UNTOLD, ALONE_HALVES = "u", ("x", "y")
#: the last letter of a part holding the groups a refusal was read to name only by a numbering their own errors do
#: not show (Numbering): each sent alone first (split in ALONE_HALVES, none of them sent, until each holds one group),
#: rejected on its own refusal; loaded, or found stored whole before it is sent by the look for what the refusal stored
#: (Loader.stored_parts), it was good, and the numbering wrong (Numbering.disprove)
CONFIRM = "c"


def confirming(part: str) -> bool:
    """Whether the part is a group of a CONFIRM part, sent alone."""
    return part.rstrip("".join(ALONE_HALVES)).endswith(CONFIRM)


class IsolationBudget:
    """Counts the calls (`sent`) and the refusals (`refused`); `check` raises IsolationSpent before a split the
    budget does not allow. In-process: a resume starts a new budget."""

    def __init__(self, same_reason: int = SAME_REASON, floor: int = FLOOR, factor: int = FACTOR) -> None:
        self.same_reason, self.floor, self.factor = same_reason, floor, factor
        self.chunk_calls = 0  # calls that carried a chunk as planned
        self.isolating_calls = 0  # calls that carried a part of a refused chunk
        self.reasons: Counter[str] = Counter()  # groups refused whole, by the API's reason
        self.stopped: str | None = None

    def sent(self, part: str) -> None:
        """A call carrying a planned chunk (`part` "") or a part of a refused one leaves; a half of a call too large
        (`part` ending in a letter of SIZE_HALVES) is neither: it holds no bad entry, and adds no budget."""
        if not part:
            self.chunk_calls += 1
        elif part[-1] not in SIZE_HALVES:
            self.isolating_calls += 1

    def refused(self, reason: str) -> None:
        """A group was refused whole for `reason`, the API naming none of its entries."""
        self.reasons[reason] += 1

    @property
    def allowed(self) -> int:
        return self.floor + self.factor * self.chunk_calls

    def check(self, reason: str) -> None:
        """Before splitting a call refused for `reason` without an entry named: IsolationSpent when isolating
        must stop, naming the reason and what it cost."""
        cost = (
            f"isolating cost {self.isolating_calls:,} calls besides the {self.chunk_calls:,} that carried the "
            "planned chunks"
        )
        why = None
        if self.reasons[reason] >= self.same_reason:
            why = (
                f"{self.reasons[reason]} groups were refused for one reason, and the API does not say which "
                f"entry: {reason}. Isolating each costs a dozen calls ({cost}): fix the cause (for a missing "
                "account, create it), then `bulkload resume` sends the refused calls again"
            )
        elif self.isolating_calls >= self.allowed:
            common = "; ".join(f"{n} × {r}" for r, n in self.reasons.most_common(3)) or reason
            why = (
                f"{cost}, past the budget of {self.allowed:,} ({self.floor} + {self.factor} a chunk): too many "
                f"calls are refused without the bad entry named (the most common: {common}); fix the cause (for a "
                "missing account, create it), then `bulkload resume` sends the refused calls again, isolating with a "
                "budget of its own (the rows still refused go to the rejects file, to fix there); keep the file as it "
                "is: a resume refuses a changed one"
            )
        if why is not None:
            self.stopped = self.stopped or why
            raise IsolationSpent(why)

    def report(self) -> dict[str, Any]:
        return {
            "chunk_calls": self.chunk_calls,
            "isolating_calls": self.isolating_calls,
            "budget_calls": self.allowed,
            "same_reason_limit": self.same_reason,
            "refused_groups_by_reason": dict(self.reasons.most_common(LISTED)),
            "stopped": self.stopped,
        }


class Numbering:
    """How the API numbers the entries its error answers name, as the run learned it: `base` 0 (from 0), 1 (from 1),
    None until an answer shows it (reasons.Counted), or again once two answers showed either (the API keeps to none:
    each answer is read as it shows itself), and for good once an entry read by it was loaded alone, or found stored
    whole by the look for what the refusal stored (`disproved`).
    In-process: a resume learns it again."""

    def __init__(self) -> None:
        self.base: int | None = None
        self.disproved = False
        self._shown: set[int] = set()

    def read(self, bad: Said | Untold | None, *, learned: bool = True) -> Said | Untold | None:
        """An answer's bad entries (RecordKind.bad_items) as the run reads them: one that shows its numbering
        teaches it; one that does not (reasons.Untold) is read by the numbering learned, where it fits its indexes (a
        reasons.Counted none of whose rows its own error shows) and `learned` (False where no entry read so can be
        sent alone to confirm it: the refused call's rest is in doubt), else left untold."""
        if isinstance(bad, Counted) and not self.disproved:
            self._shown.add(bad.base)
            self.base = bad.base if len(self._shown) == 1 else None
        elif learned and isinstance(bad, Untold) and self.base is not None and self.base in bad.said:
            return Counted(bad.said[self.base], self.base)
        return bad

    def disprove(self, where: str, how: str = "loaded alone") -> None:
        """A group an answer was read to name by a numbering its error did not show was loaded (`where`: the group,
        or its chunk, as a log names it; `how`: "loaded alone", or found stored whole by the look for what the
        refusal stored, which stores no group it refused): the API keeps to no one numbering. Logged once."""
        if not self.disproved:
            log.info(
                "%s, read as refused by a numbering its own error did not show (as another error or answer "
                "counted), %s: the API keeps to no one numbering of the entries its errors name (from 0 or "
                "from 1); from now on an entry is taken as named only where its own error shows which",
                where,
                how,
            )
        self.base, self.disproved = None, True
