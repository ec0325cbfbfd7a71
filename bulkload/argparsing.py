"""argparse made helpful: "did you mean" for a mistyped command, target, choice or option (Python 3.11's argparse
has none), an unknown option refused by the subparser it was given to, and the output options every command takes
(-v/-q, --log-file, --log-format)."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import logs

#: argparse's refusal of a value not among an argument's choices
_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


#: an option a user may try to give a credential with (`--token`, `--api-key`, `--client-secret`): bulkload takes
#: none on its command line, whose words reach shell histories, process lists and CI logs
_CREDENTIAL = r"(token|secret|passw(or)?d|pass|pwd|api[-_]?key|key|auth|bearer|client[-_]?id|grant|credential)"
_CREDENTIAL_FLAG = re.compile(rf"^--?[\w-]*{_CREDENTIAL}", re.IGNORECASE)
#: a credential's variable written on the command line as a word (`ECONOMIC_APP_SECRET_TOKEN=…`), not set
_CREDENTIAL_VARIABLE = re.compile(rf"^\w*{_CREDENTIAL}\w*=", re.IGNORECASE)


def secret_words(words: Sequence[str]) -> set[str]:
    """The values of `words` (a command line) that may be credentials, never to be echoed: the word after a
    credential-like option (`--token abc`, `--pass abc`), the value of one written `--auth=abc`, and of a
    credential's variable written as a word (`ECONOMIC_APP_SECRET_TOKEN=abc`)."""
    found, after = set(), False
    for word in words:
        flag, eq, value = word.partition("=")
        if after and not word.startswith("-"):
            found.add(word)
        elif value and (_CREDENTIAL_FLAG.match(flag) or _CREDENTIAL_VARIABLE.match(word)):
            found.add(value)
        after = bool(_CREDENTIAL_FLAG.match(flag)) and not eq
    return found


def without_secret_words(text: str, words: Sequence[str]) -> str:
    """`text` with each of `words`' secret_words, where it stands as a word of its own, shown as ***."""
    for value in sorted(secret_words(words), key=len, reverse=True):
        text = re.sub(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])", "***", text)
    return text


#: what a refusal of a credential-like option adds: where credentials go
_CREDENTIALS_HINT = (
    "; credentials are never given on the command line: set them in the environment (`bulkload load TARGET --help` "
    "names each API's variables; a load may give them in the [credentials] table of its --config instead)"
)


def _suggestion(given: str, known: Sequence[str]) -> str:
    """ "; did you mean 'x'?" for the nearest of `known` to `given`, else ""."""
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def flag_hints(parser: argparse.ArgumentParser, args: Sequence[str]) -> str:
    """ "; did you mean --batch-size?" for each option in `args` that `parser` does not take (nor takes as an
    abbreviation) but has one close to, else ""."""
    options = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
    hints = []
    for arg in args:
        flag = arg.split("=", 1)[0]
        if not flag.startswith("--") or any(o.startswith(flag) for o in options):
            continue
        close = difflib.get_close_matches(flag, options, n=1, cutoff=0.6)
        if close:
            hints.append(f"; did you mean {close[0]} (not {flag})?")
    return "".join(hints)


def elsewhere_hints(root: argparse.ArgumentParser, parser: argparse.ArgumentParser, args: Sequence[str]) -> str:
    """ "; --resend-in-doubt is an option of `bulkload resume`" for each option in `args` that `parser` does not take
    but another command below `root` does: as written, or (where `parser` has none close to it) nearly so; else ""
    (tester t51a: `bulkload load economic … --resend-indoubt` was refused with no hint, `--match-on` with "did you
    mean --batch-size")."""
    own = _long_options(parser)
    commands = [p for p in _below(root) if p is not parser]
    hints = []
    for flag in _unknown(parser, args):
        near = [] if difflib.get_close_matches(flag, own, n=1, cutoff=0.6) else [flag, *_close(flag, commands)]
        for candidate in dict.fromkeys([flag, *near]):
            takers = [p.prog for p in commands if candidate in p._option_string_actions]
            if takers and (candidate == flag or near):
                more = f" and {len(takers) - 3} more" if len(takers) > 3 else ""
                shown = ", ".join(f"`{t}`" for t in takers[:3]) + more
                hints.append(f"; {candidate} is an option of {shown}, not of `{parser.prog}`")
                break
    return "".join(hints)


def taken_elsewhere(root: argparse.ArgumentParser, parser: argparse.ArgumentParser, args: Sequence[str]) -> list[str]:
    """The options in `args` that `parser` does not take and another command below `root` takes as written."""
    commands = [p for p in _below(root) if p is not parser]
    return [f for f in _unknown(parser, args) if any(f in p._option_string_actions for p in commands)]


def _unknown(parser: argparse.ArgumentParser, args: Sequence[str]) -> list[str]:
    """The options (`--name`, without a value) in `args` that `parser` neither takes nor takes as an abbreviation."""
    own = _long_options(parser)
    flags = (arg.split("=", 1)[0] for arg in args)
    return [f for f in flags if f.startswith("--") and not any(o.startswith(f) for o in own)]


def _long_options(parser: argparse.ArgumentParser) -> list[str]:
    """The `--name` options `parser` takes."""
    return [o for action in parser._actions for o in action.option_strings if o.startswith("--")]


def _close(flag: str, parsers: Sequence[argparse.ArgumentParser]) -> list[str]:
    options = dict.fromkeys(o for p in parsers for o in p._option_string_actions if o.startswith("--"))
    return difflib.get_close_matches(flag, list(options), n=1, cutoff=0.8)


def _below(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The commands under `parser` that take options of their own: the parsers with no subcommands below them."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [p for sub in subs for child in dict.fromkeys(sub.choices.values()) for p in _below(child)]


def bare_word_hint(parser: argparse.ArgumentParser, args: Sequence[str], required: str) -> str:
    """ "; did you mean --ledger run.sqlite?" where the option `required`, missing, was meant by a word `args` give
    after the command with no option before it (`bulkload resume run.sqlite`), else ""."""
    options = parser._option_string_actions
    if required not in options:
        return ""
    command = parser.prog.split()[-1]
    after = list(args)[list(args).index(command) + 1 :] if command in args else []
    takes_value = False
    for arg in after:
        if takes_value:
            takes_value = False
        elif arg.startswith("-"):
            action = options.get(arg.split("=", 1)[0])
            takes_value = action is not None and action.nargs != 0 and "=" not in arg
        else:
            return f"; did you mean {required} {shlex.quote(arg)}?"
    return ""


class Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command, target, choice or option (Python 3.11's argparse has
    none). `given`: the command line being parsed (set by `parse`), for the options a refusal (a required option
    missing) may be due to."""

    given: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        found = _INVALID_CHOICE.search(message)
        if found:
            choices = [c.strip().strip("'") for c in found["choices"].split(",")]
            message += _suggestion(found["given"], choices)
        elif message.startswith("the following arguments are required"):
            message += flag_hints(self, self.given) or bare_word_hint(self, self.given, "--ledger")
        # a credential given on the command line is not echoed where the refusal names it (`bulkload --token abc
        # load …`: "invalid choice: 'abc'", tester t71h), to the terminal and a CI log
        super().error(without_secret_words(message, self.given))


def chosen(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost subparser `ns` was parsed by (`bulkload load economic` → the economic parser)."""
    while True:
        # argparse keeps no other list of what a parser takes
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or getattr(ns, subs[0].dest, None) is None:
            return parser
        parser = subs[0].choices[getattr(ns, subs[0].dest)]


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """`argv` parsed; an unknown option is refused (exit 2) by the parser it was given to, with the nearest of
    that parser's own options ("did you mean --batch-size?"), and so are -v and -q given either side of the
    command (argparse checks each side alone), as argparse refuses them on one side."""
    Parser.given = list(sys.argv[1:] if argv is None else argv)
    ns, extras = parser.parse_known_args(argv)
    inner = chosen(parser, ns)
    if extras:
        if any(_CREDENTIAL_FLAG.match(word.partition("=")[0]) for word in extras):
            # no guess by spelling (`--token`: "did you mean --rate?"); Parser.error shows its value as ***
            inner.error(f"unrecognized arguments: {' '.join(extras)}{_CREDENTIALS_HINT}")
        elsewhere = taken_elsewhere(parser, inner, extras)
        hints = flag_hints(inner, [a for a in extras if a.split("=", 1)[0] not in elsewhere])
        hints += elsewhere_hints(parser, inner, extras)
        inner.error(f"unrecognized arguments: {' '.join(extras)}{hints}")
    for given in getattr(ns, "files", None) or ():
        if _CREDENTIAL_VARIABLE.match(given) and not os.path.exists(given):  # `VAR=abc bulkload …` without a space?
            name = given.partition("=")[0]
            inner.error(
                f"{name}=*** is given as an input file: a credential is set in the environment, not given on the "
                f"command line (`export {name}=…` before the command, or `{name}=… bulkload …` with the "
                "assignment before the command's name)"
            )
    if ns.verbose and ns.quiet:
        # only the command's parser sets `loudness` after the top one: the one given after the command
        after, before = (_QUIET, _VERBOSE) if ns.loudness == "quiet" else (_VERBOSE, _QUIET)
        inner.error(f"argument {after}: not allowed with argument {before}")
    return ns


_VERBOSE, _QUIET = "-v/--verbose", "-q/--quiet"


class _Verbose(argparse._CountAction):
    """-v, counted; notes on the namespace that it was given last of -v and -q (`loudness`)."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, *args: Any) -> None:
        super().__call__(parser, ns, *args)
        ns.loudness = "verbose"


class _Quiet(argparse._StoreTrueAction):
    """-q; notes on the namespace that it was given last of -v and -q (`loudness`)."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, *args: Any) -> None:
        super().__call__(parser, ns, *args)
        ns.loudness = "quiet"


def output_options() -> Parser:
    """-v/-q, --log-file, --log-format: taken before the command and after it (`bulkload -v load …` or
    `bulkload load … -v`); their defaults are set once, on the top parser."""
    options = Parser(add_help=False, argument_default=argparse.SUPPRESS)
    loudness = options.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action=_Verbose, help="log what is done on stderr: -v INFO, -vv DEBUG (each call)"
    )
    loudness.add_argument(
        "-q", "--quiet", action=_Quiet, help="no progress and a one-line summary; errors are still shown"
    )
    options.add_argument(
        "--log-file", metavar="PATH", help="append every log line (DEBUG up, timestamped) to PATH (default: none)"
    )
    options.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        help="text, or json: one JSON object a line with time, level, message and the fields that apply "
        f"({', '.join(logs.FIELDS)}) (default text)",
    )
    return options


OUTPUT_DEFAULTS = {"verbose": 0, "quiet": False, "log_file": None, "log_format": "text"}
