"""Reading Alloy configuration text back, for tests: a parser of the syntax the log agent's
configuration uses (blocks with optional labels, attributes whose values are strings,
numbers, booleans, lists, objects, and expressions: references, function calls and `+`),
and Prometheus-style relabelling applied to one target, so a test can ask which labels a
discovered pod's log stream ends up with.

It parses what `components/cluster/addons/alloy.py` renders without using that module's
renderer, so a rendering mistake (an unbalanced brace, an unquoted string) fails here.
Expressions other than literals are kept as `Expr` with their text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[{}\[\](),=+])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Expr:
    """A non-literal expression, as written."""

    text: str


@dataclass
class Block:
    name: str
    label: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, name: str) -> list[Block]:
        return [b for b in self.blocks if b.name == name]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SyntaxError(
                f"unexpected character at {position}: {text[position : position + 20]!r}"
            )
        kind = match.lastgroup or ""
        if kind != "space":
            out.append((kind, match.group()))
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise SyntaxError(f"unexpected end, expected {value or kind}")
        if (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            raise SyntaxError(f"expected {value or kind}, got {token[1]!r}")
        self.at += 1
        return token[1]

    def body(self, closing: str | None) -> tuple[dict[str, Any], list[Block]]:
        attributes: dict[str, Any] = {}
        blocks: list[Block] = []
        while True:
            token = self.peek()
            if token is None:
                if closing is not None:
                    raise SyntaxError(f"missing {closing!r}")
                return attributes, blocks
            if token[1] == closing:
                self.take(closing)
                return attributes, blocks
            name = self.take(kind="ident")
            following = self.peek()
            if following is not None and following[1] == "=":
                self.take("=")
                if name in attributes:
                    raise SyntaxError(f"attribute {name} set twice")
                attributes[name] = self.expression()
                continue
            label = None
            if following is not None and following[0] == "string":
                label = json.loads(self.take(kind="string"))
            self.take("{")
            inner_attributes, inner_blocks = self.body("}")
            blocks.append(Block(name, label, inner_attributes, inner_blocks))

    def expression(self) -> Any:
        start = self.at
        value = self.term()
        if self.peek() is not None and self.peek()[1] == "+":  # type: ignore[index]
            while self.peek() is not None and self.peek()[1] == "+":  # type: ignore[index]
                self.take("+")
                self.term()
            return Expr(" ".join(t[1] for t in self.tokens[start : self.at]))
        return value

    def term(self) -> Any:
        kind, text = self.peek() or ("", "")
        if kind == "string":
            self.at += 1
            return json.loads(text)
        if kind == "number":
            self.at += 1
            return float(text) if "." in text else int(text)
        if text == "[":
            self.take("[")
            items = []
            while self.peek() is not None and self.peek()[1] != "]":  # type: ignore[index]
                items.append(self.expression())
                if self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                    self.take(",")
            self.take("]")
            return items
        if text == "{":
            self.take("{")
            obj: dict[str, Any] = {}
            while self.peek() is not None and self.peek()[1] != "}":  # type: ignore[index]
                key = self.take(kind="ident")
                self.take("=")
                obj[key] = self.expression()
                if self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                    self.take(",")
            self.take("}")
            return obj
        if kind == "ident":
            self.at += 1
            if text in ("true", "false"):
                return text == "true"
            if self.peek() is not None and self.peek()[1] == "(":  # type: ignore[index]
                start = self.at - 1
                depth = 0
                while True:
                    token = self.take()
                    depth += token == "("
                    depth -= token == ")"
                    if depth == 0:
                        break
                return Expr(" ".join(t[1] for t in self.tokens[start : self.at]))
            return Expr(text)
        raise SyntaxError(f"unexpected {text!r}")


def parse(text: str) -> list[Block]:
    """The top-level blocks of an Alloy configuration (raises SyntaxError)."""
    attributes, blocks = _Parser(text).body(None)
    if attributes:
        raise SyntaxError(f"attributes outside any block: {sorted(attributes)}")
    return blocks


def component(blocks: list[Block], name: str, label: str) -> Block:
    """The one block `name "label"`."""
    (found,) = [b for b in blocks if b.name == name and b.label == label]
    return found


def relabel(rules: list[Block], labels: Mapping[str, str]) -> dict[str, str]:
    """Apply `rule` blocks (Prometheus relabelling: replace, keep, drop, labelkeep,
    labeldrop) to one target's labels; an empty map when a keep or drop removes the
    target."""
    out = dict(labels)
    for rule in rules:
        a = rule.attributes
        action = a.get("action", "replace")
        regex = re.compile(f"^(?:{a.get('regex', '(.*)')})$")
        if action in ("labelkeep", "labeldrop"):
            keep = action == "labelkeep"
            out = {k: v for k, v in out.items() if bool(regex.match(k)) == keep}
            continue
        value = a.get("separator", ";").join(out.get(s, "") for s in a.get("source_labels", []))
        match = regex.match(value)
        if action == "replace":
            if match is None:
                continue
            result = match.expand(a.get("replacement", "$1").replace("$", "\\"))
            if result:
                out[a["target_label"]] = result
            else:
                out.pop(a["target_label"], None)
        elif action in ("keep", "drop"):
            if (match is not None) != (action == "keep"):
                return {}
        else:
            raise NotImplementedError(f"relabel action {action}")
    return out
