"""Consoles for the CLI that print data as it is.

Rich interprets `[...]` as markup and `:name:` as an emoji code in every string it is
given; names, ARNs and messages contain both (`arn:aws:secretsmanager:...:secret:db`,
a resource named `[bold]`). The consoles here have emoji replacement and markup off,
and the CLI builds styled output from `rich.text.Text` pieces, so nothing in the data is
ever read as markup. `text()` is the one way to turn data into something printable with
a style.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def console(*, stderr: bool = False, width: int | None = None) -> Console:
    """A console for data: no markup, no emoji codes, no highlighting (Rich's default
    width detection: `COLUMNS`, else the terminal, else 80)."""
    return Console(stderr=stderr, width=width, markup=False, emoji=False, highlight=False)


def text(*parts: str | tuple[str, str]) -> Text:
    """Plain strings and (string, style) pairs joined, every string taken literally."""
    return Text.assemble(*parts)
