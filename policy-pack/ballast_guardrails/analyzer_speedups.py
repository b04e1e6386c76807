"""Make pulumi-policy's analyzer decode each request once and skip policies that
cannot apply to it.

pulumi-policy 1.21's analyzer servicer decodes a resource's properties (protobuf Struct
-> dict -> Python values) and its provider's inside the loop over policies: a pack of
~70 policies decodes every resource ~70 times, and a stack policy decodes the whole
stack again each. That SDK work, not the policies, dominates the pack's time.

`Analyze` is replaced by the SDK's own method with these changes: it runs only the
resource policies that apply to the request's type (`_PoliciesForType`; the others would
have returned at once), deciding their levels once per type and configuration
(`_resource_plan`); it builds the request's properties, options and provider once
(where the SDK first builds them) and hands the same read-only objects to each of those
policies. The properties are decoded in one walk over the message into read-only
subclasses of the SDK's proxies (`read_only_props.from_struct`: the same values, the
same `UnknownValueError` at the same read); what that walk leaves to the SDK (assets,
archives, non-finite numbers) is decoded by the SDK's own three passes. A provider is
decoded once per distinct provider message for the servicer's lifetime
(`_shared_provider`): every resource repeats its provider's properties. A pack policy
(`spec.ResourcePolicy`) has one synchronous validation, which the shim calls directly
(`_validate`): that call is all the SDK's `validate` would do for it. For the SDK paths
left as they were (`Remediate`, and the helpers the replaced methods call), `install()`
memoises the decoding calls (and the SDK's unknown-checking proxy over their result) for
the duration of one analyzer call.

`AnalyzeStack` is replaced by the SDK's own method with one change: the resource list
(each resource decoded, its `PolicyResource` built and linked to its parent and
dependencies) is built once per request, not once per stack policy, and handed to every
stack policy (each gets its own outer list). Sharing is made safe, not assumed: the
shared objects are read-only (`PolicyResource` attributes, `dependencies`,
`property_dependencies`, options, provider, and the property proxies, also in
`Analyze`), so one policy cannot change what another sees; an attempt raises `TypeError`
naming this module. The tests run the whole policy suite through it (none mutates) and
compare its responses with the SDK's own on a shipped stack, with unknown values,
secrets and assets among its properties.

The memo is keyed by the protobuf message object and lives only during one call. The
state that crosses requests: the provider cache (at most `PROVIDER_CACHE_SIZE` read-only
providers, keyed by their exact bytes) and the per-type plans (kept until the next
`Configure`). On any pulumi-policy version other than the one this was written against,
`install()` does nothing and the SDK's own behaviour stands; so does setting
`BALLAST_ANALYZER_SPEEDUPS=off` in the pack's environment (to rule the shim out).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable, Hashable, Iterator
from inspect import isawaitable
from typing import Any, cast

from pulumi_policy import StackValidationPolicy
from pulumi_policy import policy as sdk
from pulumi_policy import proxy as sdk_proxy

from ballast_guardrails import read_only_props

#: The pulumi-policy release whose servicer internals this relies on.
SUPPORTED_SDK_VERSION = "1.21.0"

_memo = threading.local()

#: Set on the SDK's policy module once `install()` has patched it.
_INSTALLED_MARKER = "_ballast_decode_once"

#: The environment variable that turns the shim off in a pack process (value "off").
SWITCH = "BALLAST_ANALYZER_SPEEDUPS"

#: What `install()` replaces: attributes of the SDK's `pulumi_policy.policy` module, and
#: of its `_PolicyAnalyzerServicer` class (tests restore them after installing).
PATCHED_MODULE_ATTRIBUTES = (
    "json_format",
    "deserialize_properties",
    "unknown_checking_proxy",
    _INSTALLED_MARKER,
)
PATCHED_SERVICER_ATTRIBUTES = (
    "_get_resource_options",
    "_get_provider_resource",
    "Analyze",
    "AnalyzeStack",
    "Remediate",
)

#: key (an object's id, with a label and arguments for `_memoised`) -> (object, value);
#: the object is kept so its id stays unique while the table lives.
_Table = dict[Hashable, tuple[Any, Any]]


def _active() -> _Table | None:
    return getattr(_memo, "table", None)


class _JsonFormat:
    """Stands in for `google.protobuf.json_format` inside the SDK's policy module."""

    def __init__(self, original: Any):
        self._original = original

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:
        table = _active()
        if table is None or args or kwargs:
            return self._original.MessageToDict(message, *args, **kwargs)
        hit = table.get(id(message))
        if hit is not None and hit[0] is message:
            return hit[1]
        value = self._original.MessageToDict(message)
        table[id(message)] = (message, value)  # the message is kept alive: ids stay unique
        return value


def _memoised(original: Callable[..., Any], label: str = "") -> Callable[..., Any]:
    """`original(value, *args)` computed once per (value object, args) within a call."""
    label = label or original.__name__

    @functools.wraps(original)
    def once(value: Any, *args: Any) -> Any:
        table = _active()
        if table is None:
            return original(value, *args)
        key = (label, id(value), args)
        hit = table.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        result = original(value, *args)
        table[key] = (value, result)
        return result

    return once


def _memoised_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """`self.method(request)` computed once per request object within a call."""
    once = _memoised(lambda request, servicer: method(servicer, request), method.__name__)

    @functools.wraps(method)
    def call(self: Any, request: Any) -> Any:
        return once(request, self) if _active() is not None else method(self, request)

    return call


class _PoliciesForType(list[Any]):
    """The servicer's policy list; inside `Analyze` it yields only the resource policies
    that apply to the request's resource type (each policy's `applies_to_type`, set by
    `spec.resource_policy`), plus every resource policy that does not say. Skipped
    policies (stack policies among them, which `Analyze` never runs) would have returned
    at once for that type; the SDK's per-policy work for them is saved.
    Everywhere else (Configure, AnalyzeStack, GetAnalyzerInfo, ...) it is the full list."""

    def __init__(self, policies: list[Any]):
        super().__init__(policies)
        self._by_type: dict[str, tuple[Any, ...]] = {}

    def __iter__(self) -> Iterator[Any]:
        resource_type = getattr(_memo, "resource_type", None)
        if resource_type is None:
            return super().__iter__()
        chosen = self._by_type.get(resource_type)
        if chosen is None:
            chosen = tuple(
                policy
                for policy in super().__iter__()
                if not isinstance(policy, StackValidationPolicy)
                and (
                    getattr(policy, "applies_to_type", None) is None
                    or policy.applies_to_type(resource_type)
                )
            )
            self._by_type[resource_type] = chosen
        return iter(chosen)


def _routed_by_type(method: Callable[..., Any]) -> Callable[..., Any]:
    """`Analyze` sees only the policies for the request's resource type."""

    @functools.wraps(method)
    def call(self: Any, request: Any, context: Any) -> Any:
        attribute = "_PolicyAnalyzerServicer__policies"
        policies = getattr(self, attribute)
        if not isinstance(policies, _PoliciesForType):
            setattr(self, attribute, _PoliciesForType(policies))
        _memo.resource_type = request.type
        try:
            return method(self, request, context)
        finally:
            _memo.resource_type = None

    return call


def _scoped(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, request: Any, context: Any) -> Any:
        if _active() is not None:  # re-entrant call: share the outer memo
            return method(self, request, context)
        _memo.table = {}
        try:
            return method(self, request, context)
        finally:
            _memo.table = None

    return call


def _wrap(owner: Any, name: str, wrapper: Callable[[Any], Any]) -> None:
    """Replace the SDK's `owner.name` by `wrapper(owner.name)`: patching its module and
    class attributes is the point, so they are reached by name, not by their types."""
    setattr(owner, name, wrapper(getattr(owner, name)))


# --- read-only views of what every policy of a request shares ----------------------

_refuse = read_only_props.refuse


class _ReadOnlyList(list[Any]):
    """A list whose contents cannot change (still a `list`, as the SDK's type says)."""

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse


class _ReadOnlyDict(dict[Any, Any]):
    """A dict whose contents cannot change (still a `dict`, as the SDK's type says)."""

    pop = popitem = clear = update = setdefault = _refuse
    __setitem__ = __delitem__ = __ior__ = _refuse


#: (SDK class, what the subclass adds) -> the subclass, made once per pair.
_subclasses: dict[tuple[type, str], type] = {}


def _subclass(cls: type, kind: str, members: Callable[[], dict[str, Any]]) -> type:
    """A subclass of `cls` under the same name and module with `members()`, made once
    per (`cls`, `kind`), so `isinstance` and every other attribute stay as they were."""
    made = _subclasses.get((cls, kind))
    if made is None:
        made = type(cls.__name__, (cls,), {**members(), "__module__": cls.__module__})
        _subclasses[(cls, kind)] = made
    return made


def _freeze(obj: Any) -> Any:
    """`obj`, its class swapped for a subclass whose attributes cannot be set or deleted
    (`isinstance` and every attribute read stay as they were)."""
    if obj is None:
        return None
    obj.__class__ = _subclass(
        type(obj), "frozen", lambda: {"__setattr__": _refuse, "__delattr__": _refuse}
    )
    return obj


def _read_only_proxies(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`unknown_checking_proxy` whose mappings refuse item assignment.

    The SDK's (`proxy._proxy_helper`) builds a tree of `_DictProxy` and `_ListProxy`
    whose `_DictProxy.__setitem__` writes into the proxy: harmless when each policy gets
    its own proxy, not when the proxy is shared. Within the shim's calls the same tree
    is built read-only (`read_only_props.from_values`); elsewhere `original` builds it."""

    @functools.wraps(original)
    def unknown_checking_proxy(props: Any) -> Any:
        if getattr(_memo, "shared", False):
            return read_only_props.from_values(props)
        return original(props)  # Remediate, outside calls

    return unknown_checking_proxy


def _decoded_props(struct: Any) -> Any:
    """A request's or a stack resource's properties as the SDK hands them to a policy
    (`unknown_checking_proxy(deserialize_properties(MessageToDict(struct)))`), read-only:
    in one walk over the message (`read_only_props.from_struct`), or, for what that
    leaves to the SDK (assets, archives, non-finite numbers), by the SDK's own decode."""
    props = read_only_props.from_struct(struct)
    if props is not None:
        return props
    outer = getattr(_memo, "shared", False)
    _memo.shared = True  # read-only proxies (see `_read_only_proxies`)
    try:
        return sdk.unknown_checking_proxy(
            sdk.deserialize_properties(sdk.json_format.MessageToDict(struct))
        )
    finally:
        _memo.shared = outer


def _shared_inputs(method: Callable[..., Any]) -> Callable[..., Any]:
    """Within `method`, property proxies are read-only (see `_read_only_proxies`)."""

    @functools.wraps(method)
    def call(self: Any, request: Any, context: Any) -> Any:
        outer = getattr(_memo, "shared", False)
        _memo.shared = True
        try:
            return method(self, request, context)
        finally:
            _memo.shared = outer

    return call


# --- AnalyzeStack: the resource list built once per request ---------------------------


def _read_props(self: Any) -> Any:
    state = self.__dict__
    if "_props" not in state:
        state["_props"] = state.pop("_props_source")()
    return state["_props"]


def _write_props(self: Any, source: Callable[[], Any]) -> None:
    self.__dict__["_props_source"] = source


def _lazy_props_class(cls: type) -> type:
    """`cls` (the SDK's `PolicyResource`) whose `props` are decoded on first read: most
    stack policies look at a few resource types, and decoding every resource's
    properties was half of `AnalyzeStack`. The decode is `Analyze`'s (`_decoded_props`);
    reading a value that is unknown still raises where the policy reads it."""
    return _subclass(cls, "lazy props", lambda: {"props": property(_read_props, _write_props)})


def _props_of(resource: Any) -> Callable[[], Any]:
    """The decode of one resource's properties (`_decoded_props`), as a thunk."""
    return lambda: _decoded_props(resource.properties)


def _resource_options(servicer: Any, request: Any) -> Any:
    """The SDK's `_get_resource_options(request)`, read-only, without `install()`'s memo
    around it (kept for the SDK's own callers): the replaced methods build each
    request's or resource's options once anyway."""
    method = type(servicer)._get_resource_options
    return _freeze(getattr(method, "__wrapped__", method)(servicer, request))


def _stack_resources(servicer: Any, request: Any) -> list[Any]:
    """The SDK's per-policy build of the `PolicyResource` list (pulumi-policy 1.21
    `_PolicyAnalyzerServicer.AnalyzeStack`, the loop over `request.resources` and the
    linking of parents and dependencies), step for step, with the results read-only."""
    built = []
    lazy = _lazy_props_class(sdk.PolicyResource)
    # A stack has a handful of providers, each repeated on every resource it manages:
    # one (read-only) provider object per distinct provider message.
    providers: dict[bytes, Any] = {}
    for r in request.resources:
        opts = _resource_options(servicer, r)
        key = r.provider.SerializeToString(deterministic=True) if r.HasField("provider") else b""
        if key not in providers:
            providers[key] = _freeze(servicer._get_provider_resource(r))
        provider = providers[key]
        resource = lazy(r.type, _props_of(r), r.urn, r.name, opts, provider, None, [], {})
        property_dependencies = {k: list(v.urns) for k, v in r.propertyDependencies.items()}
        built.append((resource, r.parent, list(r.dependencies), property_dependencies))

    # Later duplicates of a URN win, as in the SDK's map.
    by_urn = {resource.urn: resource for resource, *_ in built}
    for resource, parent, dependencies, property_dependencies in built:
        if parent is not None and parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies = _ReadOnlyList(by_urn[d] for d in dependencies if d in by_urn)
        resource.property_dependencies = _ReadOnlyDict(
            (k, _ReadOnlyList(by_urn[d] for d in urns if d in by_urn))
            for k, urns in property_dependencies.items()
        )
    return [_freeze(resource) for resource, *_ in built]


#: The SDK's `ResourceValidationPolicy.validate` (a policy class may override it).
_SDK_RESOURCE_VALIDATE = sdk.ResourceValidationPolicy.validate


def _validate(servicer: Any, policy: Any, args: Any, report_violation: Any, response: Any) -> None:
    """One policy's `validate` run as pulumi-policy 1.21's `Analyze` and `AnalyzeStack`
    both run it: an awaitable result on its own event loop, an unknown value reported as
    an advisory diagnostic, a not-applicable policy recorded as such."""
    try:
        run = getattr(policy, "synchronous_validate", None)
        if run is not None and type(policy).validate is _SDK_RESOURCE_VALIDATE:
            # A pack policy (`spec.ResourcePolicy`): its one validation returns None, and
            # the SDK's `validate` would only have called it (and returned None).
            run(args, report_violation)
            return
        result = policy.validate(args, report_violation)
        if result is not None and isawaitable(result):
            loop = asyncio.new_event_loop()
            task = asyncio.Task(cast(Any, result), loop=loop)
            loop.run_until_complete(task)
            loop.close()
    except sdk.UnknownValueError as e:
        pack = servicer._PolicyAnalyzerServicer__policy_pack_name
        version = servicer._PolicyAnalyzerServicer__policy_pack_version
        response.diagnostics.append(
            sdk.proto.AnalyzeDiagnostic(
                policyName=policy.name,
                policyPackName=pack,
                policyPackVersion=version,
                message=(
                    f"can't run policy '{policy.name}' from policy pack "
                    f"'{pack}@v{version}' during preview: {e.message}"
                ),
                urn="",
                description=policy.description,
                enforcementLevel=servicer._map_enforcement_level(sdk.EnforcementLevel.ADVISORY),
            )
        )
    except sdk._NotApplicableError as e:
        response.not_applicable.append(
            sdk.proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or "")
        )


def _analyze_stack(self: Any, request: Any, _context: Any) -> Any:
    """pulumi-policy 1.21's `AnalyzeStack`, with the resource list built once (on the
    first enabled stack policy, as the SDK would have built it) instead of per policy.
    Everything else (order, levels, config, diagnostics, error handling) is the SDK's."""

    def private(name: str) -> Any:
        return getattr(self, f"_PolicyAnalyzerServicer__{name}")

    self._configure_runtime_settings()

    response = sdk.proto.AnalyzeResponse()
    shared: list[Any] | None = None

    for policy in private("policies"):
        enforcement_level = self._get_enforcement_level(policy)
        if enforcement_level == sdk.EnforcementLevel.DISABLED or not isinstance(
            policy, sdk.StackValidationPolicy
        ):
            continue
        if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
            # Stack policies cannot be remediated, so treat the level as mandatory.
            enforcement_level = sdk.EnforcementLevel.MANDATORY

        report_violation = self._create_report_violation(
            response, policy.name, policy.description, enforcement_level, policy.severity
        )
        if shared is None:
            shared = _stack_resources(self, request)
        config = self._get_policy_config(policy.name)
        # Each policy gets its own list (it may sort or filter it); the resources in it
        # are the shared, read-only ones.
        args = sdk.StackValidationArgs(list(shared), config, private("stack_tags"))

        _validate(self, policy, args, report_violation, response)

    return response


# --- Analyze: the request decoded once, providers shared across requests -------------

#: How many distinct provider messages one servicer keeps decoded (a stack has a handful).
PROVIDER_CACHE_SIZE = 64


def _shared_provider(servicer: Any, request: Any) -> Any:
    """The request's provider as the SDK builds it (`_get_provider_resource`), read-only
    and made once per distinct provider message for the servicer's lifetime: every
    resource of a stack repeats its provider's properties, and decoding them was a
    third of `Analyze`. Keyed by the message's deterministic serialisation, so two
    requests share an object only when their providers are byte-for-byte equal."""
    if not request.HasField("provider"):
        return None
    cache: dict[bytes, Any] = servicer.__dict__.setdefault("_ballast_providers", {})
    key = request.provider.SerializeToString(deterministic=True)
    provider = cache.get(key)
    if provider is None:
        provider = _freeze(servicer._get_provider_resource(request))
        if len(cache) >= PROVIDER_CACHE_SIZE:
            cache.pop(next(iter(cache)))  # the oldest: insertion order
        cache[key] = provider
    return provider


def _resource_plan(servicer: Any, resource_type: str) -> tuple[tuple[Any, Any], ...]:
    """What the SDK's `Analyze` decides per policy before running it, for one resource
    type under the current configuration: each enabled resource policy (of the routed
    ones, in order) with the level it reports at, or with None when it only remediates
    (reported as not applicable). Nothing in it depends on the request, only on the
    levels `Configure` last set (a new dict each time: the plans are kept per dict)."""
    levels = servicer._PolicyAnalyzerServicer__policy_pack_config_enforcement_level
    kept = servicer.__dict__.get("_ballast_plans")
    if kept is None or kept[0] is not levels:
        kept = (levels, {})
        servicer.__dict__["_ballast_plans"] = kept
    plan = kept[1].get(resource_type)
    if plan is None:
        steps: list[tuple[Any, Any]] = []
        for policy in servicer._PolicyAnalyzerServicer__policies:  # routed by type
            level = servicer._get_enforcement_level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(
                policy, sdk.ResourceValidationPolicy
            ):
                continue
            if not policy.has_validation():
                steps.append((policy, None))
                continue
            if level == sdk.EnforcementLevel.REMEDIATE:
                # Still violating after a remediation: reported as mandatory, as the SDK does.
                level = sdk.EnforcementLevel.MANDATORY
            steps.append((policy, level))
        plan = kept[1][resource_type] = tuple(steps)
    return plan


def _analyze(self: Any, request: Any, _context: Any) -> Any:
    """pulumi-policy 1.21's `Analyze`, step for step, with the request's properties,
    options and provider built once (on the first enabled resource policy, where the SDK
    first builds them) and shared read-only by the request's policies, instead of being
    looked up per policy. The policies iterated are the routed ones (`_PoliciesForType`),
    with their levels decided once per type and configuration (`_resource_plan`).
    Everything else (order, levels, config, diagnostics, error handling) is the SDK's."""
    self._configure_runtime_settings()

    response = sdk.proto.AnalyzeResponse()
    shared: tuple[Any, Any, Any, Any] | None = None

    for policy, enforcement_level in _resource_plan(self, request.type):
        if enforcement_level is None:
            # A remediation-only policy: reported as not applicable, as the SDK does.
            response.not_applicable.append(
                sdk.proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"
                )
            )
            continue

        report_violation = self._create_report_violation(
            response, policy.name, policy.description, enforcement_level, policy.severity
        )
        if shared is None:
            shared = (
                _decoded_props(request.properties),
                _resource_options(self, request),
                _shared_provider(self, request),
                self._PolicyAnalyzerServicer__stack_tags,
            )
        props, opts, provider, stack_tags = shared
        config = self._get_policy_config(policy.name)
        args = sdk.ResourceValidationArgs(
            request.type, props, request.urn, request.name, opts, provider, config, stack_tags
        )

        _validate(self, policy, args, report_violation, response)

    return response


def install() -> bool:
    """Patch the SDK's analyzer servicer; True when installed, False when skipped."""
    from pulumi_policy.version import VERSION

    if (
        VERSION != SUPPORTED_SDK_VERSION
        or os.environ.get(SWITCH, "").lower() == "off"
        or getattr(sdk, _INSTALLED_MARKER, False)
    ):
        return False
    _wrap(sdk, "json_format", _JsonFormat)
    _wrap(sdk, "deserialize_properties", _memoised)
    # The SDK then wraps the decoded values in a read-only proxy that raises on unknowns,
    # again per policy; the proxy is as reusable as the values it wraps, once read-only.
    sdk.unknown_checking_proxy = _memoised(_read_only_proxies(sdk_proxy.unknown_checking_proxy))
    servicer = sdk._PolicyAnalyzerServicer
    # The resource's options and provider, likewise rebuilt per policy by the SDK.
    for name in ("_get_resource_options", "_get_provider_resource"):
        _wrap(servicer, name, _memoised_method)
    setattr(servicer, "AnalyzeStack", _analyze_stack)  # noqa: B010 (a class attribute)
    setattr(servicer, "Analyze", _analyze)  # noqa: B010 (a class attribute)
    _wrap(servicer, "Analyze", _routed_by_type)
    for name in ("Analyze", "AnalyzeStack"):
        _wrap(servicer, name, _shared_inputs)
    for name in ("Analyze", "AnalyzeStack", "Remediate"):
        if hasattr(servicer, name):
            _wrap(servicer, name, _scoped)
    setattr(sdk, _INSTALLED_MARKER, True)
    return True
