"""Make pulumi-policy's analyzer decode each request once and skip policies that
cannot apply to it.

pulumi-policy 1.21's analyzer servicer decodes a resource's properties (protobuf Struct
-> dict -> Python values) and its provider's inside the loop over policies: a pack of
~70 policies decodes every resource ~70 times, and a stack policy decodes the whole
stack again each. That SDK work, not the policies, dominates the pack's time.

`install()` memoises the decoding calls (and the SDK's unknown-checking proxy over their
result) for the duration of one `Analyze`, `AnalyzeStack` or `Remediate` call: the first
policy decodes, the others reuse the result. Policies receive the very same values they
would have (inside the SDK's unknown-checking proxy); policies must not mutate their
inputs, which none of Ballast's do (they are validators). It also routes each `Analyze`
request to the resource policies that apply to its type (`_PoliciesForType`): the others
would have returned at once.

The memo is keyed by the protobuf message object and lives only during one call, so no
state crosses requests. On any pulumi-policy version other than the one this was written
against, `install()` does nothing and the SDK's own behaviour stands.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any

#: The pulumi-policy release whose servicer internals this relies on.
SUPPORTED_SDK_VERSION = "1.21.0"

_memo = threading.local()

#: Set on the SDK's policy module once `install()` has patched it.
_INSTALLED_MARKER = "_ballast_decode_once"

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
    `spec.resource_policy`), plus every policy that does not say. Skipped policies would
    have returned at once for that type; the SDK's per-policy work for them is saved.
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
                if getattr(policy, "applies_to_type", None) is None
                or policy.applies_to_type(resource_type)
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


def install() -> bool:
    """Patch the SDK's analyzer servicer; True when installed, False when skipped."""
    from pulumi_policy import policy as sdk
    from pulumi_policy.version import VERSION

    if VERSION != SUPPORTED_SDK_VERSION or getattr(sdk, _INSTALLED_MARKER, False):
        return False
    _wrap(sdk, "json_format", _JsonFormat)
    _wrap(sdk, "deserialize_properties", _memoised)
    # The SDK then wraps the decoded values in a read-only proxy that raises on unknowns,
    # again per policy; the proxy is as reusable as the values it wraps.
    _wrap(sdk, "unknown_checking_proxy", _memoised)
    servicer = sdk._PolicyAnalyzerServicer
    # The resource's options and provider, likewise rebuilt per policy by the SDK.
    for name in ("_get_resource_options", "_get_provider_resource"):
        _wrap(servicer, name, _memoised_method)
    _wrap(servicer, "Analyze", _routed_by_type)
    for name in ("Analyze", "AnalyzeStack", "Remediate"):
        if hasattr(servicer, name):
            _wrap(servicer, name, _scoped)
    setattr(sdk, _INSTALLED_MARKER, True)
    return True
