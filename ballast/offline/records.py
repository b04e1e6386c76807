"""What the offline engine records: one entry per registration and per invoke."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: How a secret value appears in every record, report and JSON document.
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class ResourceRecord:
    """One `RegisterResource` call as the engine received it, with the mock's answer."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    """URN of the explicit provider (None: the engine would pick a default provider)."""
    id: str | None
    """The ID other resources see (None for component resources)."""
    inputs: dict[str, Any]
    """Resolved inputs, camelCase engine names; secrets replaced by "[secret]"."""
    outputs: dict[str, Any]
    """What the mock returned as state (inputs plus computed ids/ARNs)."""
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    aliases: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per input (camelCase engine name), the URNs of the resources its value came from,
    as the engine receives them (`propertyDependencies`); inputs with none are absent.
    `ballast verify` turns these links into Terraform references."""
    read: bool = False
    """A `ReadResource` (the program reads existing state, e.g. a `StackReference`)
    rather than a registration: nothing to create."""

    @property
    def input_dependencies(self) -> tuple[str, ...]:
        """Resources the inputs came from (`propertyDependencies`, all inputs together):
        the engine creates them first too. Not part of `to_json` (the plan snapshot
        records what is written)."""
        return tuple(sorted({urn for urns in self.property_dependencies.values() for urn in urns}))

    def waits_for(self, urn: str) -> bool:
        """Whether the engine creates `urn` before this resource: an explicit
        `depends_on`, or an input taken from its outputs."""
        return urn in self.depends_on or urn in self.input_dependencies

    @property
    def package(self) -> str:
        """`aws` for `aws:ec2/vpc:Vpc`, `aws` for `pulumi:providers:aws`."""
        if self.type.startswith("pulumi:providers:"):
            return self.type.rsplit(":", 1)[-1]
        return self.type.split(":", 1)[0]

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "parent": self.parent,
            "provider": self.provider,
            "inputs": self.inputs,
            "options": {
                "protect": self.protect,
                "ignoreChanges": list(self.ignore_changes),
                "dependsOn": list(self.depends_on),
            },
        }


@dataclass(frozen=True)
class InvokeRecord:
    """One data-source call (`aws.get_availability_zones`, ...)."""

    token: str
    provider: str | None
    args: dict[str, Any]


@dataclass
class ProgramRun:
    """Everything one offline run produced."""

    project: str
    stack: str
    resources: list[ResourceRecord] = field(default_factory=list)
    invokes: list[InvokeRecord] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack outputs; a secret output's value (or the secret part of it) is "[secret]"."""
    secret_outputs: tuple[str, ...] = ()
    """Names of the stack outputs that hold a secret (anywhere in their value): what a
    `StackReference` to this stack answers as `secretOutputNames`."""
    references: dict[str, ProgramRun] = field(default_factory=dict)
    """Stacks this run read through `pulumi.StackReference`, by stack name, each the run
    that answered the read (run offline first, in the same call)."""

    def of_type(self, type_: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {r.urn: r for r in self.resources}

    def one(self, type_: str, name: str) -> ResourceRecord:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_} named {name}, found {len(matches)}")
        return matches[0]

    def children(self, urn: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.parent == urn]

    def type_counts(self) -> Counter[str]:
        return Counter(r.type for r in self.resources)

    def summary(self) -> dict[str, Any]:
        custom = [r for r in self.resources if r.custom and not r.is_provider and not r.read]
        return {
            "resources": len(custom),
            "reads": sum(1 for r in self.resources if r.read),
            "components": sum(
                1 for r in self.resources if not r.custom and r.type != "pulumi:pulumi:Stack"
            ),
            "providers": sum(1 for r in self.resources if r.is_provider),
            "protected": sum(1 for r in self.resources if r.protect),
            "byType": dict(sorted(Counter(r.type for r in custom).items())),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "secretOutputs": list(self.secret_outputs),
            "references": sorted(self.references),
            "summary": self.summary(),
        }
