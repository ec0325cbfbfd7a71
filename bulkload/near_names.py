"""The file a path that is not there may have meant: a name of its folder a typo away (a letter, the case, the
extension; `nov.ledger.sqlite` for `nov.csv.ledger.sqlite`), for the messages that say a file is missing. Never a
name of other numbers (`dec-2025.csv` for `dec-2026.csv`, `dec6` for `dec9`): another period's file is no typo.
And the ledger a file that is no ledger sits beside, as its lock, input or output (`ledger_beside`). And the field
a name given for one may have meant (`nearest`: a column, `--match-on`), with the folding that tells two spellings
of one name (`fold`: a header named again)."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable

#: the most names of the folder looked at
NAMES_LOOKED_AT = 10_000

#: what follows the input's name in the files a run writes beside its ledger FILE.ledger.sqlite (its lock, rejects,
#: success and in-doubt files), and the input itself: the most particular first
BESIDE_LEDGER = (".ledger.sqlite.lock", ".rejects.csv", ".success.csv", ".in_doubt.csv", "")


def meant(path: str | os.PathLike[str]) -> str | None:
    """The path of the file of `path`'s folder its name is a typo of, else None (none alike, or the folder cannot
    be read)."""
    folder, name = os.path.split(os.fspath(path))
    try:
        with os.scandir(folder or ".") as entries:
            names = [e.name for _, e in zip(range(NAMES_LOOKED_AT), entries) if e.is_file()]
    except OSError:
        return None
    numbers = re.findall(r"\d+", name)
    close = difflib.get_close_matches(name.lower(), [n.lower() for n in names], n=5, cutoff=0.75)
    alike = [n for c in close for n in names if n.lower() == c and re.findall(r"\d+", n) == numbers]
    return os.path.join(folder, alike[0]) if alike else None


def did_you_mean(path: str | os.PathLike[str]) -> str:
    """ "; did you mean PATH?" for the file `path` may have meant (`meant`), else ""."""
    near = meant(path)
    return f"; did you mean {near}?" if near is not None else ""


def ledger_beside(path: str | os.PathLike[str]) -> str:
    """ "; did you mean L?" where `path`, a file that is no ledger, is the lock, input, rejects, success or in-doubt
    file of the run whose ledger L (its default name, FILE.ledger.sqlite) is beside it (a name a shell completes to
    first: `nov.csv.ledger.sqlite.lock`), else ""."""
    name = os.fspath(path)
    for tail in BESIDE_LEDGER:
        ledger = f"{name.removesuffix(tail)}.ledger.sqlite"
        if name.endswith(tail) and ledger != name and os.path.isfile(ledger):
            return f"; did you mean {ledger}?"
    return ""


def fold(name: str) -> str:
    """A name without case, white space, `_` and `-`: "Voucher_number", "voucher number" and "voucherNumber" are one
    (a header named again, and a field a missing column's refusal suggests, nearest)."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


#: the tail of a name of a number or an id, which an export's header may drop or write short: `account`, `accountNo`
#: or `Konto nr` beside accountNumber, `case` beside caseId
_TAIL = re.compile(r"(?:number|num|nr|no|id)$")


def _stem(folded: str) -> str:
    """A name `fold`ed, without the tail of a number or an id (`_TAIL`)."""
    return _TAIL.sub("", folded)


def nearest(name: str, fields: Iterable[str]) -> str | None:
    """The one of `fields` that `name` writes another way: in another case or spacing ("Voucher number" for
    voucherNumber), else the one field of its name but for the tail of a number or an id (`account` or `accountNo`
    for accountNumber; before, difflib offered `amount`), else with a typo (difflib, 0.75); None for none."""
    fields = list(fields)
    folded = fold(name)
    by_case = [f for f in fields if fold(f) == folded]
    stem = _stem(folded)
    by_stem = [f for f in fields if len(stem) >= 3 and _stem(fold(f)) == stem]
    close = by_case or by_stem[:1] * (len(by_stem) == 1) or difflib.get_close_matches(name, fields, n=1, cutoff=0.75)
    return close[0] if close else None
