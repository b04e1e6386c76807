"""Stack outputs: each component names what it exports (`STACK_OUTPUTS`, export name ->
attribute), and the composition root collects them, so `__main__.py` exports one mapping
and an optional component that is absent still exports its keys (as null) for whatever
reads the stack (a StackReference, `pulumi stack output`, the toolkit)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol


class Exporting(Protocol):
    """A component that declares its stack outputs."""

    STACK_OUTPUTS: ClassVar[Mapping[str, str]]


def stack_outputs(component: Exporting | None, kind: type[Exporting]) -> dict[str, Any]:
    """`component`'s outputs by export name, or every name of `kind` as None when the
    component is absent (its config section is not set)."""
    if component is None:
        return dict.fromkeys(kind.STACK_OUTPUTS)
    return {key: getattr(component, attribute) for key, attribute in kind.STACK_OUTPUTS.items()}
