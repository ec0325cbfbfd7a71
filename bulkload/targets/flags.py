"""A target's own options of `bulkload load TARGET`, as data: the engine adds them to the command line, types
the job file's [target] table by them, and lets the target arrange the input files by them."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Flag:
    """One option, as argparse takes it: `--name VALUE` of `type` (or one of `choices`), or a `switch`."""

    flag: str
    help: str
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    #: takes no value; unset (None) unless given, so that a job file or a resumed run's options decide
    switch: bool = False

    @property
    def dest(self) -> str:
        """The option's name in the target's options ("--match-on" → "match_on")."""
        return self.flag.removeprefix("--").replace("-", "_")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        if self.switch:
            parser.add_argument(self.flag, action="store_true", default=None, help=self.help)
            return
        given: dict[str, Any] = {"type": self.type, "choices": self.choices, "metavar": self.metavar}
        parser.add_argument(self.flag, help=self.help, **{k: v for k, v in given.items() if v is not None})


def _as_given(files: list[str], options: dict[str, Any]) -> list[str]:
    return files


@dataclass(frozen=True)
class Flags:
    """A target's options, and `arrange`: the input files from FILE... and the options (which it may rewrite)."""

    flags: tuple[Flag, ...] = ()
    arrange: Callable[[list[str], dict[str, Any]], list[str]] = _as_given
    #: FILE... and options of a typical load, for the example in `bulkload load TARGET --help`
    example: tuple[str, ...] = ("FILE.csv",)
    #: arrange's way back, where a target's files have roles (PayorCRM's --customers, --invoices): given files
    #: (input index -> the path of a file of that input's kind, e.g. its rejects file) and the target's options
    #: (Target.options), the arguments of `bulkload load TARGET` that load them as the run's inputs were; None
    #: (here, or answered): the target cannot say (a report names no command)
    given: Callable[[Mapping[int, str], Mapping[str, Any]], list[str] | None] | None = None
    #: the options whose values are input files, given instead of FILE... (PayorCRM's customers, invoices): a
    #: manifest's are relative to it, as its `files` are
    file_options: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The `dest` names of the options."""
        return tuple(f.dest for f in self.flags)

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add the options to `bulkload load TARGET`."""
        for flag in self.flags:
            flag.add_to(parser)
