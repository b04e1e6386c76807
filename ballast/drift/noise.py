"""Drift that is expected: built-in provider noise and the project's `.driftignore`.

Nothing is dropped silently: every change set aside is counted and listed with the
reason that set it aside.

`.driftignore` (default: `.driftignore` in the project directory), one entry per line,
a line starting with `#` is a comment:

    SELECTOR [PATH[,PATH...]] | REASON [| expires YYYY-MM-DD]

* SELECTOR: a URN glob when it starts with `urn:`, else a type glob
  (`aws:eks/nodeGroup:NodeGroup`, `aws:s3/*`); `*` and `?` as in shell globs.
* PATH: property-path globs (`scalingConfig.desiredSize`, `tags.*`); a path also covers
  everything below it. Without paths the entry covers the whole resource, its deletion
  included.
* REASON: required; shown beside every change the entry sets aside.
* `expires YYYY-MM-DD`: from that day on the entry no longer applies and the report
  lists it as expired.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

DRIFTIGNORE = ".driftignore"
_EXPIRES = re.compile(r"^expires\s+(\d{4}-\d{2}-\d{2})$")


class IgnoreFileError(ValueError):
    """A `.driftignore` line that cannot be read; the message names the line."""


@dataclass(frozen=True)
class IgnoreRule:
    selector: str
    """URN glob (starts with `urn:`) or type glob."""
    paths: tuple[str, ...]
    """Property-path globs; empty: the whole resource."""
    reason: str
    expires: dt.date | None = None
    source: str = "built-in"
    """Where the rule comes from: `built-in` or `FILE:LINE`."""

    def selects(self, urn: str, type_: str) -> bool:
        return fnmatchcase(urn if self.selector.startswith("urn:") else type_, self.selector)

    def covers(self, path: str | None) -> bool:
        """Whether the rule covers property `path` (None: the resource as a whole)."""
        if not self.paths:
            return True
        if path is None:
            return False
        return any(
            fnmatchcase(path, pattern)
            or fnmatchcase(path, pattern + ".*")
            or fnmatchcase(path, pattern + "[*")
            for pattern in self.paths
        )

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today >= self.expires


#: Provider noise ignored by default (docs/drift.md lists it).
BUILT_IN: tuple[IgnoreRule, ...] = (
    IgnoreRule(
        "aws:*",
        ("tagsAll",),
        "tagsAll is computed by the AWS provider from tags plus the provider's default "
        "tags; a tag change is reported once, on tags",
    ),
    IgnoreRule(
        "*",
        ("__defaults",),
        "__defaults lists which inputs the provider defaulted; bookkeeping, not cloud state",
    ),
    IgnoreRule(
        "*",
        ("__meta",),
        "__meta holds the bridged provider's schema version; bookkeeping, not cloud state",
    ),
    IgnoreRule(
        "aws:eks/nodeGroup:NodeGroup",
        ("scalingConfig.desiredSize",),
        "the cluster autoscaler owns the node count; the node group ignores desiredSize "
        "after creation",
    ),
)


def parse_ignore_file(text: str, source: str) -> list[IgnoreRule]:
    """The rules of a `.driftignore`; a bad line raises IgnoreFileError naming it."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        where = f"{source}:{number}"
        fields = [field.strip() for field in line.split("|")]
        if len(fields) not in (2, 3) or not fields[1]:
            raise IgnoreFileError(
                f"{where}: expected 'SELECTOR [PATH,...] | REASON [| expires YYYY-MM-DD]' "
                "(a reason is required)"
            )
        head = fields[0].split()
        if not head or len(head) > 2:
            raise IgnoreFileError(
                f"{where}: expected a URN or type glob, then optional comma-separated "
                "property paths, before the '|'"
            )
        selector = head[0]
        if not selector.startswith("urn:") and ":" not in selector and "*" not in selector:
            raise IgnoreFileError(
                f"{where}: {selector!r} is neither a URN glob (urn:...) nor a type glob "
                "(package:module:Type, e.g. aws:s3/bucketV2:BucketV2)"
            )
        paths = tuple(p for p in head[1].split(",") if p) if len(head) == 2 else ()
        expires = None
        if len(fields) == 3:
            match = _EXPIRES.match(fields[2])
            try:
                expires = dt.date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                expires = None
            if expires is None:
                raise IgnoreFileError(
                    f"{where}: {fields[2]!r} is not 'expires YYYY-MM-DD' with a real date"
                )
        rules.append(IgnoreRule(selector, paths, fields[1], expires, where))
    return rules


def load_ignore_file(path: Path) -> list[IgnoreRule]:
    """The rules in `path`, or none when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise IgnoreFileError(f"cannot read {path}: {exc}") from None
    return parse_ignore_file(text, str(path))


def matching_rule(
    rules: Sequence[IgnoreRule], urn: str, type_: str, path: str | None, today: dt.date
) -> IgnoreRule | None:
    """The first rule still in force that covers `path` of this resource."""
    for rule in rules:
        if not rule.expired(today) and rule.selects(urn, type_) and rule.covers(path):
            return rule
    return None
