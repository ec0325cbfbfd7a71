"""Amounts written as text, read with one decimal mark decided for the whole file.

A file says `1.500` and nothing else can tell whether that is one and a half or fifteen hundred, so the mark is
decided once, from every amount of the file, before the first row is sent: `NumberEvidence` collects what the
values prove, `NumberEvidence.decide` picks the mark or refuses to guess, and `NumberFormat.parse` then reads
each cell with that mark only. Reading cell by cell could send one row as 1.5 and the next as 1500. The file's
other decimal numbers (an exchange rate, written by another system) are read with the amounts' mark: they do not
decide it while an amount has a mark, and one that proves the other mark refuses the file. A cell that reads both
ways is judged as it is read (`guessed`): an amount by the decimals it takes, another number never as thousands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from bulkload.errors import ConfigError
from bulkload.money import CURRENCIES

#: grouping characters either format allows besides the other mark: space, NBSP, narrow NBSP, thin space, apostrophe,
#: and the right single quotation mark U+2019, which Excel on Windows writes for it in a Swiss locale (1’234.50): no
#: decimal mark anywhere, and read only between groups of three digits, as the apostrophe is
_SPACES = " \u00a0\u202f\u2009'\u2019"
#: the typographic minus sign, which means nothing but minus: read as "-" wherever "-" is
_MINUS = "\u2212"
#: what messages call each decimal mark
MARKS = {".": "decimal point", ",": "decimal comma"}
_AMBIGUOUS = "?"

# The plain shapes most cells have go straight to Decimal; only the odd ones take the slow path.
_PLAIN_POINT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?").fullmatch
_PLAIN_COMMA = re.compile(r"[+-]?[0-9]+(?:,[0-9]+)?").fullmatch
# A single mark between digits, the shape most evidence has: classified without reading it both ways.
_ONE_MARK = re.compile(r"[+-]?([0-9]*)([.,])([0-9]+)").fullmatch
_SCIENTIFIC = re.compile(r"[(+\u2212-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)[eE][+\u2212-]?[0-9]+[\u2212)-]?").fullmatch
#: a currency written before or after an amount (after its sign, if before): a word ("DKK", "kr."), or one symbol
_CURRENCY_BEFORE = re.compile(r"([+\u2212-]?)([^\W\d_]+\.?|[^\w\s])\s*(.+)").fullmatch
_CURRENCY_AFTER = re.compile(r"(.+?)\s*([^\W\d_]+\.?|[^\w\s])").fullmatch
#: what is written for a currency that is no ISO 4217 code (the Nordic krone, złoty, koruna, forint), case folded
_LOCAL_CURRENCIES = frozenset({"kr", "kr.", "zł", "kč", "ft"})
#: a debit/credit indicator beside an amount (`50,00 CR`, `Dr 12.00`, `1.234,50 H`), as bank statements and ledger
#: exports write the side: the number alone does not say which sign the books give it
#: the side as SAP and DATEV write it after the amount too: S (Soll) or H (Haben), D or C, in capitals
_SIDE_AFTER = re.compile(r"(.*?[0-9.,)])\s*(CR|DR|Cr|Dr|cr|dr|SOLL|HABEN|Soll|Haben|S|H|D|C)\.?").fullmatch
_SIDE_BEFORE = re.compile(r"(CR|DR|Cr|Dr|cr|dr|SOLL|HABEN|Soll|Haben)\.?\s*([(+\u2212-]?[0-9.,].*)").fullmatch


def _body_pattern(mark: str) -> re.Pattern[str]:
    # A grouped integer part starts with 1-9: "0.500" grouped would be 500, which nobody writes.
    groups = re.escape(("," if mark == "." else ".") + _SPACES)
    return re.compile(
        rf"(?:(?P<whole>[0-9]+)|(?P<grouped>[1-9][0-9]{{0,2}}(?P<g>[{groups}])[0-9]{{3}}(?:(?P=g)[0-9]{{3}})*))?"
        rf"(?:{re.escape(mark)}(?P<frac>[0-9]+))?"
    )


_BODY = {mark: _body_pattern(mark).fullmatch for mark in ".,"}


def _read(text: str, mark: str) -> Decimal | None:
    """`text` (stripped) as a Decimal with decimal mark `mark`, or None when it is not one."""
    if _MINUS in text:
        text = text.replace(_MINUS, "-")
    negative, forms = False, 0
    if len(text) > 2 and text[0] == "(" and text[-1] == ")":
        negative, forms, text = True, 1, text[1:-1]
    if text and text[0] in "+-":
        negative, forms, text = text[0] == "-", forms + 1, text[1:]
    if text.endswith("-"):  # SAP and bank exports: 1.234,56-
        negative, forms, text = True, forms + 1, text[:-1]
    m = _BODY[mark](text)
    if forms > 1 or m is None:
        return None
    whole, grouped, group, frac = m.groups()
    if grouped is not None:
        whole = grouped.replace(group, "")
    elif whole is None:
        if frac is None:
            return None
        whole = "0"
    sign = "-" if negative else ""
    return Decimal(f"{sign}{whole}.{frac}" if frac is not None else f"{sign}{whole}")


def _currency(text: str) -> tuple[str, str] | None:
    """The currency written beside the amount `text` (stripped) and the amount without it, when what is left reads
    as a number with either mark; else None. Inside an accounting negative's parentheses too ("($100.00)",
    "(100.00 EUR)": the amount without it keeps them, "(100.00)"), and before a trailing minus ("1.234,50 €-")."""
    if len(text) > 2 and text[0] == "(" and text[-1] == ")" and (inside := _currency(text[1:-1].strip())):
        return inside[0], f"({inside[1]})"
    if len(text) > 1 and text[-1] == "-" and (before_minus := _currency(text[:-1].strip())):  # "1.234,50 €-" (SAP)
        return before_minus[0], f"{before_minus[1]}-"
    beside = []
    if (before := _CURRENCY_BEFORE(text)) is not None:
        beside.append((before[2], before[1] + before[3]))
    if (after := _CURRENCY_AFTER(text)) is not None:
        beside.append((after[2], after[1]))
    for currency, amount in beside:
        known = (
            unicodedata.category(currency) == "Sc"
            if len(currency) == 1
            else currency.upper() in CURRENCIES or currency.casefold() in _LOCAL_CURRENCIES
        )
        if known and (_read(amount, ".") is not None or _read(amount, ",") is not None):
            return currency, amount
    return None


def _side(text: str) -> tuple[str, str] | None:
    """The debit/credit indicator written beside the amount `text` (stripped) and the amount without it, when what
    is left reads as a number with either mark; else None."""
    for m, side, amount in ((_SIDE_AFTER(text), 2, 1), (_SIDE_BEFORE(text), 1, 2)):
        if m is not None and (_read(m[amount], ".") is not None or _read(m[amount], ",") is not None):
            return str(m[side]), str(m[amount])
    return None


def _number_text(text: str) -> str:
    """The amount `text` (stripped) without a currency written beside it (`_currency`)."""
    beside = _currency(text)
    return text if beside is None else beside[1]


def _why(text: str, mark: str) -> str:
    if _SCIENTIFIC(text):
        return (
            f"scientific notation: {text!r} looks like a number a spreadsheet reformatted; write the amount out in full"
        )
    if (marked := _side(text)) is not None:
        side = marked[0]
        return (
            f"{text!r} is marked {side!r} (a debit/credit indicator): an amount is signed, one column, and which sign "
            f"{side!r} stands for is not read from a letter: write debits as positive and credits as negative numbers "
            f"(-50{mark}00), without the indicator"
        )
    if (beside := _currency(text)) is not None:
        if text[0] == "(" and (value := _read(beside[1], mark)) is not None:  # ($100.00): US Excel's Accounting
            return (
                f"{text!r} holds the currency {beside[0]!r} inside the parentheses of an accounting negative: write "
                f"the number alone, with a minus ({plain_written(value, mark)!r}; where the target takes a currency, "
                "it belongs in its own column)"
            )
        return (
            f"{text!r} holds the currency {beside[0]!r}: write the number alone (where the target takes a currency, it "
            "belongs in its own column)"
        )
    if text_marked(text) and any(_read(text.lstrip(" '"), either) is not None for either in ".,"):
        return text_marked_reason(text)  # a number as text in a spreadsheet, '1.234,50: with either mark
    if (spaced := _SPACED_SIGN(text)) is not None:
        sign, digits = (spaced[1], spaced[2]) if spaced[1] is not None else (spaced[4], spaced[3])
        value = _read(digits, mark)
        if value is not None and not value.is_signed():  # "- 5.00-" has two signs, and is told the forms
            return (
                f"{text!r} has a space between its sign {sign!r} and its digits, which a number is read without: "
                f"write {plain_written(-value if sign != '+' else value, mark)!r}"
            )
    if (no_decimals := _NO_DECIMALS(text)) and text[len(no_decimals[1])] == mark:
        value = _read(no_decimals[1], mark)
        if value is not None and int(value.as_tuple().exponent) == 0:
            return (
                f"{text!r} writes its decimals as {no_decimals[2]!r}, as a whole price is written: write "
                f"{plain_written(value, mark) + mark + '00'!r}"
            )
    dash = next((c for c in text if c in _DASHES), "")
    if dash and (value := _read(text.replace(dash, "-"), mark)) is not None:
        return (
            f"{text!r} has the dash {dash!r} (U+{ord(dash):04X}) where a minus belongs, as a word processor writes "
            f"one: which it means is not read from a dash; write {plain_written(value, mark)!r}"
        )
    if _LAKHS(text) is not None and (value := _read(text.replace(",", ""), ".")) is not None:
        return (
            f"{text!r} is grouped in lakhs and crores (Indian digit grouping: two digits a group above the "
            f"thousands), which is read only in groups of three: write {plain_written(value, mark)!r}"
        )
    if text in _ZERO_DASHES:
        return (
            f"not a number: {text!r} is how a spreadsheet's accounting format shows zero, and a dash is also written "
            "for no amount: which it means is not read from a dash; write 0 where zero is meant"
        )
    if _read(text, "," if mark == "." else ".") is not None:
        return f"{text!r} is not a number with decimal mark {mark!r} (the file's numbers use {mark!r} for decimals)"
    if any(c.isdigit() for c in text) and not any(c.isalpha() for c in text):  # a number written another way
        return f"not a number: {text!r} ({_READ_AS[mark]})"
    return f"not a number: {text!r}"


#: a sign set apart from the number by a space, before it or (minus only) after it: "- 100.00", "+ 5", "100.00 -"
_SPACED_SIGN = re.compile(r"([+\u2212-])\s+([0-9].*)|([0-9].*[0-9])\s+([\u2212-])").fullmatch
#: a whole amount with a dash for its decimals, as prices are written in Danish, German and Swiss text: "1.000,-",
#: "1'000.–", "50,--": the number, and the dashes
_NO_DECIMALS = re.compile(r"(.*[0-9])[.,]([-\u2013\u2014]{1,2})").fullmatch
#: dashes that are no minus sign, which a word processor or typesetting may put in its place: hyphen, non-breaking
#: hyphen, figure dash, en dash, em dash, horizontal bar, small and full-width hyphen-minus
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\ufe63\uff0d"
#: a cell of a dash alone: Excel's Accounting format shows 0 so (" -   "), and reports write one for no amount
_ZERO_DASHES = frozenset({"-", "--", "\u2013", "\u2014", "\u2212"})
#: digits grouped in lakhs and crores, as Indian exports write them: "1,23,456.00", "-12,34,56,789"
_LAKHS = re.compile(r"[+-]?[1-9][0-9]?(?:,[0-9]{2})+,[0-9]{3}(?:\.[0-9]+)?").fullmatch


def plain_written(value: Decimal, mark: str) -> str:
    """`value` as a file of decimal `mark` writes it plainly: no grouping, a leading minus ("-1234,50")."""
    return f"{value:f}".replace(".", mark)


#: how a file's numbers are read, per decimal mark: what a cell of digits that reads as none is told (`_why`; tester
#: t67c: `5,`, `- 5,00`, `--5,00`, `(-5,00)` and `5%` were told only "not a number")
_READ_AS = {
    mark: f"a number is read as digits with {mark!r} before its decimals, signed by - or + before it, - after it or "
    f"parentheses around it, its thousands grouped by {other!r}, a space or an apostrophe"
    for mark, other in ((".", ","), (",", "."))
}


class Example(NamedTuple):
    """The first cell of a file that showed something: where it is and what it says."""

    line: int
    field: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line} {self.field} {self.text!r}"


#: why a file is read with a decimal point where none of its numbers shows a mark (NumberFormat.reason)
NO_MARK = "no number in the file has a decimal mark"


class NumberFormat(NamedTuple):
    """How a file writes numbers: `decimal` is "." or ","; `reason` says what decided it, for the report."""

    decimal: str = "."
    reason: str = ""

    @property
    def shown(self) -> bool:
        """Whether the file's numbers (or --decimal) gave `decimal`, not the default of a file whose numbers show no
        mark: a reason may then say "the file's numbers have a decimal point"."""
        return self.reason != NO_MARK

    def parse(self, text: str) -> Decimal:
        """The amount `text` as a Decimal with exactly the digits written ("1.250,00" -> Decimal("1250.00")).

        Takes a leading + or -, a trailing - or parentheses (one of them; the minus sign U+2212 as -), and thousands
        grouped by the other mark, a space, NBSP, narrow NBSP, thin space, apostrophe or ’ (U+2019, Swiss
        Excel's) (one kind per value).
        ValueError, in the user's words, for anything else, naming scientific notation and a currency beside the
        number.
        """
        mark = self.decimal
        if mark == ".":
            if _PLAIN_POINT(text):
                return Decimal(text)
        elif _PLAIN_COMMA(text):
            return Decimal(text.replace(",", "."))
        text = text.strip()
        value = _read(text, mark)
        if value is None:
            raise ValueError(_why(text, mark))
        return value


def _classify(text: str) -> str | None:
    """Which mark `text` proves: "." or ",", `_AMBIGUOUS` when it reads both ways, None when neither; a number
    beside its currency ("kr 1.234,56") or its debit/credit indicator ("100,00 CR") proves what the number does: its
    row is refused, but it shows how the file writes numbers."""
    m = _ONE_MARK(text)
    if m is not None:
        whole, mark, frac = m.groups()
        # only 1-3 digits, not starting with 0, then exactly 3 also read as a thousands group
        if len(frac) == 3 and 0 < len(whole) <= 3 and whole[0] != "0":
            return _AMBIGUOUS
        return mark
    text = text.strip()
    point = _read(text, ".") is not None
    comma = _read(text, ",") is not None
    if not (point or comma) and (beside := _currency(text) or _side(text)) is not None:
        return _classify(beside[1])
    if point and comma:
        return _AMBIGUOUS
    return "." if point else "," if comma else None


def other_reading(text: str, mark: str) -> Decimal | None:
    """The amount `text` read with the other decimal mark than `mark` where it reads both ways ("1.500": 1500 with a
    decimal comma), else None."""
    text = text.strip()
    if _classify(text) != _AMBIGUOUS:
        return None
    return _read(text, "," if mark == "." else ".")


def guessed(field: str, text: str, read: Decimal, mark: str, places: tuple[int, str] | None) -> str | None:
    """Why the number `text` of `field`, read as `read` with the file's decided decimal `mark`, is refused where it
    reads both ways ("1.500": 1.5 with a decimal point, 1500 with a point between thousands); None where its reading
    stands. The rule for every amount and rate a target reads (chunking.Reading):

    - an amount (`places`: the decimals it takes and the currency that has them, (2, "EUR"), "" where the API's own
      are meant: money.Places) is written by the system that wrote the file's amounts, whose mark they show: read
      as thousands it stands; read as decimals it stands unless it has more than `places` and the more are zeros
      ("1.500" EUR, 3 decimals where EUR has 2; "1.505" EUR the kind refuses for its decimals);
    - a number of no amount (`places` None: an exchange rate) may be written by another system than the amounts, and
      does not decide the mark while an amount has one: read as decimals it stands, as the amounts' mark reads it;
      read as thousands ("745.500" in a file of decimal commas, 745500) it is a guess, and is refused.
    """
    other = other_reading(text, mark)
    if other is None:  # "0.500", "1234.500", "1.234.500": no other reading
        return None
    text = text.strip()
    other_mark = _other(mark)
    if int(read.as_tuple().exponent) == 0:  # read as thousands
        if places is not None:
            return None
        word = MARKS[other_mark].split()[1]
        return (
            f"{text!r} read with the file's {MARKS[mark]} is {read}, with a {word} between thousands: {field} is no "
            f"amount, and may be written by another system than the amounts (an exchange rate often is): with a "
            f"{MARKS[other_mark]} it is {_plain(other)}, and which is meant cannot be told. Write {read} if that is "
            f"meant, or {_plain(other).replace('.', mark)} if that is"
        )
    if places is None or places[0] >= 3:  # 3 decimals it takes ("1.500" KWD)
        return None
    digits, code = places
    meant = read.quantize(Decimal(1).scaleb(-digits))
    if meant != read:  # no more decimals than it takes, or more that are no zeros ("1.505": the kind names them)
        return None
    shown = f"{str(read).replace('.', mark)} {code}".rstrip()
    return (
        f"{text!r} read with the file's {MARKS[mark]} is {shown}, 3 decimals where {code or field} has {digits}: "
        f"written so, it is also how a file of {MARKS[other_mark]}s writes {other:f}, and which is meant cannot be "
        f"told. Write {str(meant).replace('.', mark)} if that is meant; if the file's amounts have a "
        f"{MARKS[other_mark]}, give --decimal {other_mark}"
    )


def json_number_text(text: str, mark: str) -> str:
    """A JSON number's text (`-1.500`) as a file of decimal `mark` writes it, so that read with that mark it is the
    same number: `mark` for its point (`-1,500`), and where that reads two ways (1,500: 1500 in a file of the other
    mark, which a reload without the file's other amounts could not tell) without its last zero (`-1,50`); one
    without a fraction, or with an exponent (refused where a number is read), as it is."""
    if "." not in text or "e" in text or "E" in text:
        return text
    written = text.replace(".", mark)
    return written[:-1] if written[-1] == "0" and other_reading(written, mark) is not None else written


def _other(mark: str) -> str:
    return "," if mark == "." else "."


def _swap(text: str) -> str:
    """`text` written with the other decimal mark: "1.234,50" -> "1,234.50" (the other mark groups thousands)."""
    return text.translate(_SWAP)


_SWAP = str.maketrans(".,", ",.")


def _two_ways(path: str, given: str, odd: Example, ambiguous: Example) -> ConfigError:
    """The refusal of a `given` mark that an other number `odd` (an exchange rate) contradicts, where the file's
    amounts, `ambiguous` the first, read both ways: the amounts may be written either way, and each way has its
    own way on (found by a tester: told only "give --decimal ." here, then "give --decimal ," for that)."""
    mark = _other(given)
    text = _number_text(ambiguous.text.strip())
    as_given, as_mark = (_read(text, m) or Decimal(0) for m in (given, mark))
    written = _plain(as_given).replace(".", mark)  # without thousands: 1500 with either mark
    return ConfigError(
        f"{path}: --decimal {given} reads the file's numbers with a {MARKS[given]}, but {odd} has a {MARKS[mark]}. "
        f"If the amounts are written with a {MARKS[mark]} too ({ambiguous} is {_plain(as_mark)}), give --decimal "
        f"{mark}; if they are written with a {MARKS[given]} ({_plain(as_given)}), the file writes its numbers two "
        f"ways, and one mark reads them all: write {odd.field} with a {MARKS[given]} ({_swap(odd.text)!r}), or the "
        f"amounts with a {MARKS[mark]} ({ambiguous} as {written!r}) and give --decimal {mark}; nothing was "
        "sent"
    )


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class Evidence:
    """The first example of each kind a file's cells showed (NumberEvidence, DateEvidence): memory stays constant
    whatever the file size."""

    __slots__ = ("_first",)

    def __init__(self) -> None:
        #: kind -> the first value of that kind
        self._first: dict[str, Example] = {}

    def examples(self) -> dict[str, tuple[int, str, str]]:
        """Each kind's first example as (line, field, text)."""
        return {kind: tuple(example) for kind, example in self._first.items()}  # type: ignore[misc]

    def then(self, examples: Mapping[str, Sequence[Any]], lines: int) -> None:
        """Take in what the rest of the file showed (`examples` as `examples()` gives them, their lines counted
        from `lines` lines on): a kind seen here keeps its example, as one pass over the whole file would."""
        for kind, (line, field, text) in examples.items():
            self._first.setdefault(kind, Example(line + lines, field, text))


class Reading(NamedTuple):
    """How an earlier run read the input whose rows a rejects file holds (its ledger's profile of that input):
    its `decimal` mark, its `date_format` (profile.FileProfile's), and `said`, which run read which input, for the
    reason the report gives."""

    decimal: str
    date_format: str
    said: str


class NumberEvidence(Evidence):
    """What a file's numbers prove about its decimal mark ("." / "," / "?"), collected over the whole file before
    any row is sent."""

    __slots__ = ()

    def add(self, text: str, line: int, field: str) -> None:
        """Look at one cell's text. Values that are not numbers prove nothing: they are rejected later, per row."""
        if "." not in text and "," not in text:
            return
        first = self._first
        # once a mark is proven, a value that can at most prove it again (or read both ways) changes nothing
        if "." in first and "," not in text and text.count(".") == 1:
            return
        if "," in first and "." not in text and text.count(",") == 1:
            return
        kind = _classify(text)
        if kind is not None and kind not in self._first:
            self._first[kind] = Example(line, field, text)

    def decide(
        self, given: str | None, path: str, others: NumberEvidence | None = None, before: Reading | None = None
    ) -> NumberFormat:
        """The file's NumberFormat: `given` (--decimal) when set, else what the values prove. `self` holds the
        evidence of the file's amounts (RecordKind.money_fields), `others` that of its other decimal numbers (an
        exchange rate): those are read with the mark the amounts decide, and decide it only where no amount has a
        mark (the mark matters to them alone then).

        ConfigError when `given` is not "." or ",", when the file proves both marks (given or not), when `given` is
        the mark the file's values prove it does not use, when an other number proves the mark the amounts prove
        they do not use, or when some amount reads two ways and no other amount shows which (an other number
        does not: an exchange rate written by another system says nothing of how the amounts are written), unless
        `before` says how the input whose rows the file holds was read (a rejects file: loads.read_before), and no
        other number proves the other mark: then as that input was read. A file with no decimal mark at all reads
        with ".".
        """
        if given is not None and given not in MARKS:
            raise ConfigError("--decimal must be . or ,")
        money = self._proofs()
        other = others._proofs() if others is not None else (None, None, None)
        if not any(money):  # no amount has a mark: the other numbers alone are read with it
            money, other = other, (None, None, None)
        point, comma, ambiguous = money
        if point and comma:
            # read one way, its numbers that read both ways (such as 1.500) would be read the wrong way where it means
            # the other: no --decimal helps
            (first, first_mark), (second, second_mark) = sorted(((point, "."), (comma, ",")))
            raise ConfigError(
                f"{path}: the file uses both decimal marks: {first} has a {MARKS[first_mark]}, "
                f"{second} a {MARKS[second_mark]}, so its numbers that read both ways (such as 1.500) cannot be known: "
                "fix the file"
            )
        proven = "." if point else "," if comma else None
        if given is not None:
            mark = "," if given == "." else "."
            against = comma if given == "." else point
            if against is None and proven is None and (odd := other[1] if given == "." else other[0]):
                assert ambiguous is not None  # an amount has a mark, and it proves neither
                raise _two_ways(path, given, odd, ambiguous)
            if against:
                raise ConfigError(
                    f"{path}: --decimal {given} reads numbers with a {MARKS[given]}, but {against} has a "
                    f"{MARKS[mark]}, which only --decimal {mark} reads: read with a {MARKS[given]}, the file's "
                    f"numbers that read both ways (such as 1.500) would be booked wrong; give --decimal {mark}"
                )
        decided = given or proven
        if decided is not None:
            odd = other[1] if decided == "." else other[0]
            if odd:
                # an amount proves `decided`: given, and none did, the odd one was named above
                line, field, text = odd
                mark = "," if decided == "." else "."
                proof = point or comma
                assert proof is not None
                give = f" and give --decimal {mark}" if given is not None else ""
                raise ConfigError(
                    f"{path}: line {line}: {field} {text!r} has a {MARKS[mark]}, but the file's amounts have a "
                    f"{MARKS[decided]} ({proof}): a file is read with one decimal mark, and read with a "
                    f"{MARKS[decided]} {text!r} is no number. Write {field} with a {MARKS[decided]} "
                    f"({_swap(text)!r}), as the amounts are, or the amounts with a {MARKS[mark]} ({proof} as "
                    f"{_swap(proof.text)!r}){give}; nothing was sent"
                )
            if given is not None:
                return NumberFormat(given, f"given: --decimal {given}")
            if ambiguous and before is not None and before.decimal != decided:
                # a rejects file whose fixed cell has the other mark than its input's: read so, a number of the input
                # that reads both ways (1.500 KWD, meant 1500) would be booked as another (tester t42a)
                raise ConfigError(
                    f"{path}: {point or comma} has a {MARKS[decided]}, but its rows were read with a "
                    f"{MARKS[before.decimal]} {before.said}: read with a {MARKS[decided]}, {ambiguous} and its other "
                    "numbers that read both ways would be booked as other numbers than that run read them. Write the "
                    f"numbers changed in it with a {MARKS[before.decimal]}, as the rest are; nothing was sent"
                )
            return NumberFormat(decided, f"{MARKS[decided]} ({point or comma})")
        if ambiguous and before is not None and not (other[1] if before.decimal == "." else other[0]):
            return NumberFormat(before.decimal, f"{MARKS[before.decimal]}, {before.said}")
        if ambiguous:
            line, field, text = ambiguous
            stripped = _number_text(text.strip())
            as_point, as_comma = (_plain(_read(stripped, mark) or Decimal(0)) for mark in ".,")
            told, told_mark = (other[0], ".") if other[0] else (other[1], ",")
            aside = (
                f"no other amount in the file shows which decimal mark it uses ({told} has a {MARKS[told_mark]}, "
                "but it is no amount: it does not show how the amounts are written)"
                if told
                else "no other number in the file shows which decimal mark it uses"
            )
            # with the other mark than the number told's, that number must be written so too: a file has one mark
            also = (
                f" (for --decimal {_other(told_mark)} {told.field} must be written with a "
                f"{MARKS[_other(told_mark)]} too, {_swap(told.text)!r}: a file is read with one mark)"
                if told
                else ""
            )
            raise ConfigError(
                f"{path}: line {line}: {field} {text!r} could be {as_point} or {as_comma}, and {aside}: give "
                f"--decimal . or --decimal ,{also}"
            )
        return NumberFormat(".", NO_MARK)

    def _proofs(self) -> tuple[Example | None, Example | None, Example | None]:
        """The first value that proves a decimal point, a comma, and that reads both ways (None: none)."""
        first = self._first
        return first.get("."), first.get(","), first.get(_AMBIGUOUS)


#: the key of a JSON number written with decimals: one whatever the file's decimal mark
_JSON = "json"
#: the key (before the decimal mark) of a cell written in groups of thousands, and what groups them by the mark
_GROUPED_BY = "grouped"
_GROUP_MARKS = {mark: frozenset(("," if mark == "." else ".") + _SPACES) for mark in ".,"}


class DecimalsEvidence(Evidence):
    """The first cell of a file's minor-unit fields (RecordKind.minor_unit_fields) written with decimals ("1500.00"),
    by the decimal mark it has them with: a file's amounts are in one unit, decided once for the whole file, and
    one written with decimals says the file writes major units."""

    __slots__ = ()

    def add(self, value: Any, line: int, field: str) -> None:
        """Look at one cell: text read with either mark ("1.500" has no decimals with a decimal comma), or a JSON
        number (an exact Decimal)."""
        first = self._first
        if type(value) is Decimal:
            if _JSON not in first and value.is_finite() and int(value.as_tuple().exponent) < 0:
                first[_JSON] = Example(line, field, str(value))
            return
        if type(value) is not str or (text := value.strip()).isdigit():  # whole minor units, as nearly all are
            return
        for mark in ".,":
            decimals = mark not in first and mark in text
            # a figure set out in groups of thousands ("1.234.567", "1 234 567") is one for people to read: a
            # spreadsheet's #,##0 shows whole kroner so, and minor units so written are not what an export gives
            grouped = (key := _GROUPED_BY + mark) not in first and not _GROUP_MARKS[mark].isdisjoint(text)
            if not (decimals or grouped) or (number := _read(text, mark)) is None:
                continue
            if decimals and int(number.as_tuple().exponent) < 0:
                first[mark] = Example(line, field, value)
            if grouped:
                first[key] = Example(line, field, value)

    def refuse(self, mark: str, path: str, advice: str) -> None:
        """ConfigError where a cell has decimals read with the file's decided decimal `mark` (or is a JSON number
        with decimals), or else is written in groups of thousands read so ("1.234.567" with a decimal comma,
        "1 234 567"), with `advice`: what to give instead."""
        example = self._first.get(mark) or self._first.get(_JSON)
        if example is not None:
            line, field, text = example
            raise ConfigError(
                f"{path}: line {line}: {field} {text!r} is written with decimals, but {field} is read as whole minor "
                f"units (cents, öre): the file writes its amounts in major units, which would be booked as other "
                f"amounts (1500.00 as 1500 minor units, 15.00). {advice}; nothing was sent"
            )
        if (example := self._first.get(_GROUPED_BY + mark)) is not None:
            line, field, text = example
            raise ConfigError(
                f"{path}: line {line}: {field} {text!r} is written in groups of thousands, as a figure set out for "
                f"people to read (a spreadsheet's #,##0 shows whole kroner so), but {field} is read as whole minor "
                f"units (cents, öre): whether the file writes major or minor units cannot be told, and read as the "
                f"other its amounts would be booked at a hundredth or a hundred times. {advice}; nothing was sent"
            )


def whole_number(value: Any, mark: str | None = ".") -> int | None:
    """A whole number as exports write one, read exactly: an int; ASCII digits with a sign ("0050", "+50"); digits
    and a fraction of zeros after the file's decimal mark `mark` ("50.0" in a file of decimal points, as a float
    column exports one, "50,0" in one of decimal commas; None: after either, as a group key is read alike in every
    process, before or without the file's decision); a JSON number whose fraction is zero. None for anything else:
    text, a fraction, a zero fraction after the other mark ("50.0" in a file of decimal commas, where a point is
    no decimal mark), an exponent ("1.5e3": a spreadsheet's display of a number it may have rounded), other
    scripts' digits, "4_2", a bool, and either mark before three zeros ("4.000", "4,000"), which is 4 or 4000 by
    the mark (`whole_reason`). The minus sign U+2212 reads as -."""
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is Decimal:
        return int(value) if value.is_finite() and value == value.to_integral_value() else None
    if kind is float:
        return int(value) if value.is_integer() else None
    if kind is not str:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    if _MINUS in text:
        text = text.replace(_MINUS, "-")
    if not text.isascii() or "_" in text or "e" in text or "E" in text or _THOUSANDS(text):
        return None
    if mark != ",":
        if mark == "." and "," in text:
            return None
    elif "." in text:
        return None
    try:
        # either mark (None) reads as a point: a text with both has two, and is no number
        exact = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return int(exact) if exact.is_finite() and exact == exact.to_integral_value() else None


#: text that names a record written as a spreadsheet writes a long number ("2.102679E+11", "1,5E+03"): a
#: mantissa, E and a signed exponent; "2024E001", which no spreadsheet writes so, may be an invoice's number
_SPREADSHEET_EXPONENT = re.compile(r"\s*[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-][0-9]+\s*").fullmatch


def spreadsheet_exponent(text: str) -> bool:
    """Whether `text`, a cell that names a record (a key, a reference), is a long number as a spreadsheet shows it,
    with an exponent ("2.1E+11": its digits may be dropped), not the record's name."""
    return ("e" in text or "E" in text) and _SPREADSHEET_EXPONENT(text) is not None


#: a number after a spreadsheet's text prefix, the apostrophe ("'00123", "' 4512345678", "'-5"): Excel and
#: LibreOffice keep a number's leading zeros so, and some exports write the prefix into the file
_TEXT_MARKED = re.compile(r"\s*'\s*[+\u2212-]?[0-9]").match


def text_marked(text: str) -> bool:
    """Whether `text`, a cell that names a record or holds a number as text, is a number written after a
    spreadsheet's text prefix, the apostrophe ("'00123"): the prefix is no part of the value a spreadsheet shows,
    and may be no part of the value the file means either, which cannot be told."""
    return "'" in text and _TEXT_MARKED(text) is not None


def text_marked_reason(text: str) -> str:
    """Why `text` (`text_marked`) is refused where it names a record or holds a number as text."""
    shown = text.strip()
    return (
        f"{shown!r} starts with an apostrophe, which a spreadsheet writes before a number to keep it as text "
        f"({shown[1:].strip()!r} is shown): whether the apostrophe is part of the value cannot be told; write the "
        "value without it"
    )


#: "4.000", "-12,000": a mark before exactly three zeros, which one file writes for 4 and another for 4000
_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2}[.,]000").fullmatch


#: "1.001", "-12,345,678": digits grouped by threes after the first one to three, by points or by commas
_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}([.,])[0-9]{3}(?:\1[0-9]{3})*").fullmatch


def grouped_by_thousands(text: str) -> bool:
    """Whether `text` is digits grouped by threes with points or commas ("1.234", "12.345.678", "1,234"): a whole
    number as a spreadsheet's number format shows one, or (one group) a fraction, which `whole_reason` tells."""
    return _GROUPED(text.strip()) is not None


def whole_reason(value: Any, mark: str | None = None) -> str:
    """Why `value` is no whole number in a file whose decimal mark is `mark` (None: not known, as a group key is
    read before the file's decision, targets.base.key_number, or in a file whose numbers show no mark), whole_number
    having given None. One reason for every target and whole-number field: text grouped by threes ("1.234") is told
    as the thousands it may be, after the file's own mark too (where it may be a fraction)."""
    text = value.strip() if type(value) is str else ""
    if _THOUSANDS(text):
        sep = text[-4]
        other = MARKS["," if sep == "." else "."]
        return (
            f"{text!r} is {text.split(sep)[0]} with a {MARKS[sep]}, {text.replace(sep, '')} with a "
            f"{MARKS[sep].split()[1]} between thousands (as a file with a {other} writes it): write the whole number "
            "without separators"
        )
    if grouped := _GROUPED(text):  # grouped by thousands, or (one group after the file's mark) a fraction
        sep = grouped.group(1)
        digits, name, once = text.replace(sep, ""), MARKS[sep].split()[1], text.count(sep) == 1
        if once and sep == mark:  # "1.234" with the file's decimal point: 1.234, or 1234 as another file writes it
            how = f"{text.replace(',', '.')} with the file's {MARKS[sep]} (no whole number), or {digits} with a "
            how += f"{name} between thousands"
        elif once and mark is None:  # a fraction or thousands: the file's mark is not known here
            how = f"{text.replace(',', '.')} with a {MARKS[sep]} (no whole number), {digits} with a {name} between "
            how += "thousands"
        else:
            how = f"{digits} with {f'a {name}' if once else f'{name}s'} between thousands"
            if mark == sep:
                how += f" (read with the file's {MARKS[sep]} it is no number)"
            elif mark:
                how += f" (the file's numbers have a {MARKS[mark]})"
        return f"{text!r} is {how}: write the whole number without separators"
    number = whole_number(text, None) if text else None
    if number is not None and mark is None:  # a zero fraction, the file's mark not known: none of its numbers shows one
        its = "," if "," in text else "."
        return f"{text!r} has a {MARKS[its]}, which no number of the file shows to be its decimal mark: write {number}"
    if number is not None and mark is not None:  # a zero fraction after the other mark
        return (
            f"{text!r} has a {MARKS['.' if mark == ',' else ',']}, but the file's numbers have a {MARKS[mark]}: "
            f"read the file's way it is no number (write {number})"
        )
    return f"not a whole number: {value!r}" if type(value) is str else f"not a whole number: {value}"


#: a number as JSON writes it (RFC 8259 §6): no sign but minus, no space, `_`, `.5`, NaN or Infinity
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def answered_number(value: Any) -> Decimal | None:
    """A finite number as an API's answer (or a row sent) gives it, whatever its JSON form, exactly: a JSON number
    (an int, or a Decimal as an answer decoded with `float_hook=Decimal` holds one; a float by its shortest
    repr), or text writing one as JSON does, spaces around it aside (`"1000"`, `" 1234.50 "`, `"1e3"`). None for
    anything else: a bool, null, `"ten"`, `"+5"`, `"1_000"`, `".5"`, `"NaN"`."""
    kind = type(value)
    if kind is str:
        text = value.strip()
        value = Decimal(text) if JSON_NUMBER.fullmatch(text) else None
    elif kind is int:
        return Decimal(value)
    elif kind is float:
        value = Decimal(repr(value))
    return value if type(value) is Decimal and value.is_finite() else None
