"""Property paths as the engine writes them in a detailed diff, and secret masking.

A path is a property name followed by `.name`, `[index]` or `["quoted key"]` segments:
`ingress[1].cidrBlocks[0]`, `tags["kubernetes.io/cluster/dev"]`. `parse` splits one into
its segments, `lookup` follows them through a state, `format_path` writes them back.

Secrets: engine events carry a secret as the signature object
`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ...}` (with
`ciphertext` or, under `--show-secrets`, `plaintext`/`value`), JSON documents as the
string `"[secret]"`. Both become `SECRET`; nothing under a secret is ever read.
"""

from __future__ import annotations

import json
import re
from typing import Any

SECRET = "[secret]"
"""What a secret value is shown as, in every output."""
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""A path that leads nowhere in a state (the property is absent)."""

_SEGMENT = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\[\*\]')
_PLAIN = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


class PathError(ValueError):
    """A property path that is not in the engine's syntax."""


def parse(path: str) -> tuple[str | int, ...]:
    """The segments of `path`: names as str, list indexes as int."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None or match.end() == position:
            raise PathError(f'{path!r} is not a property path (a.b[0].c, a["k"])')
        name, index, quoted = match.groups()
        if name is not None:
            if position and path[position] != ".":
                raise PathError(f'{path!r} is not a property path (a.b[0].c, a["k"])')
            segments.append(name)
        elif index is not None:
            segments.append(int(index))
        elif quoted is not None:
            segments.append(json.loads(f'"{quoted}"'))
        else:
            segments.append("*")
        position = match.end()
    return tuple(segments)


def format_path(segments: tuple[str | int, ...]) -> str:
    """`segments` written back as a path (`a.b[0].c`; keys that need it quoted)."""
    out = ""
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif _PLAIN.match(segment):
            out += f".{segment}" if out else segment
        else:
            out += f"[{json.dumps(segment)}]"
    return out


def is_secret(value: Any) -> bool:
    """Whether `value` is a secret in either encoding."""
    if isinstance(value, str):
        return value == SECRET
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def lookup(state: Any, segments: tuple[str | int, ...]) -> Any:
    """The value at `segments` in `state` (SECRET as soon as the walk meets a secret,
    MISSING when the path leads nowhere)."""
    value = state
    for segment in segments:
        if is_secret(value):
            return SECRET
        if isinstance(value, list) and isinstance(segment, int) and segment < len(value):
            value = value[segment]
            continue
        if isinstance(value, dict) and isinstance(segment, str) and segment in value:
            value = value[segment]
            continue
        return MISSING
    return masked(value)


def masked(value: Any) -> Any:
    """`value` with every secret inside it replaced by SECRET."""
    if is_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def leaves(value: Any, prefix: tuple[str | int, ...] = ()) -> dict[tuple[str | int, ...], Any]:
    """Every leaf of `value` by its path (a secret, an empty map or list is a leaf)."""
    if is_secret(value):
        return {prefix: SECRET}
    if isinstance(value, dict) and value:
        found: dict[tuple[str | int, ...], Any] = {}
        for key, item in value.items():
            found.update(leaves(item, (*prefix, key)))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, item in enumerate(value):
            found.update(leaves(item, (*prefix, index)))
        return found
    return {prefix: value}
