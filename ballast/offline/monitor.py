"""A `MockMonitor` that records every registration and invoke as the engine sees it."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from ballast.offline.records import SECRET_PLACEHOLDER, InvokeRecord, ResourceRecord

STACK_TYPE = "pulumi:pulumi:Stack"


class DefaultProviderDisabled(RuntimeError):
    """A resource or invoke would use a default provider the stack disabled."""


def _package(token: str) -> str:
    return token.split(":", 1)[0]


def plain(value: Any) -> Any:
    """Deserialised engine values as JSON-ready data, secrets replaced by "[secret]"."""
    if rpc.is_rpc_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        # The engine's numbers are floats; show whole numbers as ints.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    urn = getattr(value, "urn", None)
    return f"<resource {urn}>" if urn is not None else str(value)


def holds_secret(value: Any) -> bool:
    """Whether a deserialised engine value is, or contains, a secret."""
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(holds_secret(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_secret(v) for v in value)
    return False


def _provider_urn(reference: str) -> str | None:
    """`urn:...::name::id` -> `urn:...::name` (URNs themselves contain '::')."""
    return reference.rpartition("::")[0] or None if reference else None


def _alias_text(alias) -> str:
    """An alias as the engine receives it: a URN, or the parts of a spec that differ from
    the resource (`name=...`, `type=...`, `parent=<urn>` or `noParent`, `stack=...`,
    `project=...`), e.g. `noParent` for an alias to the root of the stack."""
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    parts = [
        f"{field}={value}"
        for field, value in (
            ("name", spec.name),
            ("type", spec.type),
            ("stack", spec.stack),
            ("project", spec.project),
            ("parent", spec.parentUrn),
        )
        if value
    ]
    if spec.noParent:
        parts.append("noParent")
    return " ".join(parts) or "current"


def _property_dependencies(request) -> dict[str, tuple[str, ...]]:
    """Per input, the URNs its value came from (sorted, for run-to-run identical records);
    inputs that depend on nothing are left out."""
    return {
        name: tuple(sorted(set(deps.urns)))
        for name, deps in sorted(request.propertyDependencies.items())
        if deps.urns
    }


def _explicit_dependencies(request) -> tuple[str, ...]:
    """`depends_on` as written: the engine receives it merged with the dependencies
    implied by inputs, which `propertyDependencies` lists per input."""
    implied = {urn for deps in request.propertyDependencies.values() for urn in deps.urns}
    # Sorted: the SDK gathers dependencies in a set, whose order follows the order in
    # which outputs resolved, and records must be identical run to run.
    return tuple(sorted(urn for urn in request.dependencies if urn not in implied))


class RecordingMonitor(MockMonitor):
    """Records what `pulumi up` would send the engine; enforces disabled default providers.

    `disabled_packages` mirrors the stack's `pulumi:disable-default-providers` (a set of
    package names, or `*`): a custom resource or invoke of such a package without an
    explicit provider fails here as it would fail under the real engine.
    """

    def __init__(self, mocks, disabled_packages: frozenset[str] = frozenset()):
        super().__init__(mocks)
        self.disabled_packages = disabled_packages
        self.records: list[ResourceRecord] = []
        self.invokes: list[InvokeRecord] = []
        self.stack_outputs: dict[str, Any] = {}
        self.secret_outputs: tuple[str, ...] = ()
        self._provider_inputs: dict[str, dict[str, Any]] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the real engine forms them: the parent's full type chain, minus the
        root stack, qualifies the type (the SDK's mock keeps only the last link)."""
        from pulumi.runtime.settings import get_project, get_stack

        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{get_stack()}::{get_project()}::{type_}::{name}"

    def clear(self) -> None:
        self.records.clear()
        self.invokes.clear()
        self.stack_outputs = {}
        self.secret_outputs = ()

    def provider_inputs(self, reference: str) -> dict[str, Any] | None:
        urn = _provider_urn(reference)
        return self._provider_inputs.get(urn) if urn else None

    def _check_default_provider(self, what: str, token: str, provider: str) -> None:
        package = _package(token)
        if provider or package == "pulumi":
            return
        if "*" in self.disabled_packages or package in self.disabled_packages:
            raise DefaultProviderDisabled(
                f"{what} uses the default {package} provider, which this stack disables "
                "(pulumi:disable-default-providers); pass an explicit provider"
            )

    def RegisterResource(self, request):
        is_provider = request.type.startswith("pulumi:providers:")
        if request.custom and not is_provider:
            self._check_default_provider(
                f"resource {request.name} ({request.type})", request.type, request.provider
            )
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE and any(r.urn == response.urn for r in self.records):
            return response  # set_mocks' own root stack, registered late
        inputs = plain(rpc.deserialize_properties(request.object))
        if is_provider:
            self._provider_inputs[response.urn] = inputs
        registered = self.resources.get(response.urn)
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=_provider_urn(request.provider),
                id=(response.id or None) if request.custom else None,
                inputs=inputs,
                # As the engine does: outputs the resource declares secret are secret.
                outputs={
                    k: SECRET_PLACEHOLDER if k in request.additionalSecretOutputs else v
                    for k, v in (plain(registered.state) if registered else {}).items()
                },
                protect=bool(request.protect),
                ignore_changes=tuple(request.ignoreChanges),
                depends_on=_explicit_dependencies(request),
                property_dependencies=_property_dependencies(request),
                delete_before_replace=bool(request.deleteBeforeReplace),
                retain_on_delete=bool(request.retainOnDelete),
                aliases=tuple(_alias_text(a) for a in request.aliases),
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
            )
        )
        return response

    def ReadResource(self, request):
        """A read (`pulumi.StackReference`, a `get()` of an existing resource): the
        mocks answer it; it is recorded like a registration, with its ID."""
        response = super().ReadResource(request)
        registered = self.resources.get(response.urn)
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                parent=request.parent or None,
                provider=_provider_urn(request.provider),
                id=(registered.id if registered else None) or request.id or None,
                inputs=plain(rpc.deserialize_properties(request.properties)),
                outputs=plain(registered.state) if registered else {},
                read=True,
            )
        )
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] == STACK_TYPE:
            outputs = rpc.deserialize_properties(request.outputs)
            self.stack_outputs = plain(outputs)
            self.secret_outputs = tuple(sorted(k for k, v in outputs.items() if holds_secret(v)))
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request):
        self._check_default_provider(f"invoke {request.tok}", request.tok, request.provider)
        self.invokes.append(
            InvokeRecord(
                token=request.tok,
                provider=_provider_urn(request.provider),
                args=plain(rpc.deserialize_properties(request.args)),
            )
        )
        return super().Invoke(request)
