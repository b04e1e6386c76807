"""The metric names a PromQL expression reads: a small tokenizer, enough to check that a
dashboard or rule queries only series that exist (tests/components/test_dashboards.py).

`metric_names(expr)` returns every bare metric name (recording-rule names included, with
their colons) that the expression selects. It removes, before looking at identifiers:
`#` comments, string literals (`"..."`, `'...'`, backquoted), the contents of label
matchers `{...}` and of range/subquery brackets `[...]`, Grafana variables (`$name`,
`${name}`, `[[name]]`) and numbers or durations (`0.25`, `1e3`, `0x1f`, `5m`). An
identifier is then *not* a metric name when it is followed by `(` (a function or an
aggregation), is a keyword (`by`, `without`, `on`, `ignoring`, `group_left`,
`group_right`, `bool`, `and`, `or`, `unless`, `offset`, `atan2`) or `Inf`/`NaN`, is the
duration after `offset`, or sits in the label list after a grouping keyword
(`by (le)`, `on (service) group_left (slo)`), or is followed by `by`/`without` (an
aggregation written `sum by (le) (...)`).

Not handled (none of these appear in what Ballast generates): names selected only
through `{__name__=~"..."}`, a metric named like a keyword (`by`, `on`, ...), a metric
name given by a Grafana variable (`$metric`), and PromQL syntax errors (an unbalanced
bracket is not reported; validate syntax with `promtool`).
"""

from __future__ import annotations

import re

KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "atan2",
    }
)
#: Keywords followed by a parenthesised list of label names.
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]")
_TOKEN = re.compile(
    r"(?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:ms|[smhdwy])*)"
    r"|(?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r"|(?P<punct>[(),])"
    r"|(?P<other>\S)"
)


def _blank(text: str, open_: str, close: str) -> str:
    """`text` with everything between `open_` and its matching `close` removed (the
    brackets stay), nesting counted."""
    out, depth = [], 0
    for char in text:
        if char == open_:
            depth += 1
            if depth == 1:
                out.append(char)
            continue
        if char == close and depth:
            depth -= 1
            if depth == 0:
                out.append(char)
            continue
        if depth == 0:
            out.append(char)
    return "".join(out)


def metric_names(expr: str) -> set[str]:
    """The metric and recording-rule names `expr` selects (see the module docstring for
    what is and is not recognised)."""
    text = _STRING.sub('""', expr)
    text = _COMMENT.sub("", text)
    text = _VARIABLE.sub(" ", text)
    text = _blank(_blank(text, "{", "}"), "[", "]")
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
    names: set[str] = set()
    skip_list = False
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if skip_list:
            # Inside `by (...)` and its kin: label names until the closing parenthesis.
            if value == ")":
                skip_list = False
        elif kind == "ident":
            lowered = value.lower()
            if value in GROUPING and following == "(":
                skip_list = True
                i += 1
            elif value == "offset":
                i += 1  # the duration after it
            elif (
                lowered in KEYWORDS
                or lowered in ("inf", "nan")
                or following == "("
                or following in ("by", "without")  # `sum by (le) (...)`
            ):
                pass
            else:
                names.add(value)
        i += 1
    return names
