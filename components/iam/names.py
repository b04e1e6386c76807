"""Physical names of IAM roles: the stack's prefix (`components.names.PhysicalNames`,
`<namePrefix>-<stack>-`) and IAM's length limit, so PassRole, the boundary and the apply
role can be scoped to `<namePrefix>-<stack>-*`."""

from __future__ import annotations

import hashlib

ROLE_NAME_MAX = 64


def physical_role_name(role_prefix: str, resource_name: str) -> str:
    """The IAM name of the role registered as `resource_name`.

    `role_prefix` (`PhysicalNames.role_prefix`, e.g. `ballast-dev-`) is added unless the
    resource name has it already; names past IAM's 64 characters keep their start and
    end in a stable hash, so two long names never collide and the same program always
    yields the same name.
    """
    name = resource_name if resource_name.startswith(role_prefix) else role_prefix + resource_name
    if len(name) <= ROLE_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: ROLE_NAME_MAX - len(digest) - 1]}-{digest}"
