"""Read-only property proxies for the pack's SDK shim, built straight from the wire.

pulumi-policy 1.21 turns a resource's properties (a protobuf `Struct`) into what a
policy reads in three passes: `json_format.MessageToDict` (pure Python), then
`deserialize_properties` (secrets unwrapped, assets and archives made objects), then
`unknown_checking_proxy` (every dict and list wrapped in a `_DictProxy` / `_ListProxy`
that raises `UnknownValueError` when a policy reads an unknown value). A policy then
reads each value through three or four Python calls (`Mapping.__contains__` ->
`__getitem__` -> `_raise_if_unknown` -> `_is_unknown`).

`from_struct` does the three passes in one walk over the `Struct`, and `from_values`
does the third over values already decoded (the SDK's own decode, kept for providers
and for everything `from_struct` leaves to the SDK). Both build `ReadOnlyDict` and
`ReadOnlyList`: subclasses of the SDK's proxies (so `isinstance` and every `Mapping` /
`Sequence` behaviour stay), holding the same values, that answer a read with one call
and raise the SDK's `UnknownValueError` with the same property path at the same read.
They refuse item assignment (the shim shares them between the policies of a request).

What `from_struct` leaves to the SDK (it returns None, and the shim decodes the
resource as the SDK does): assets, archives and unrecognised signatures, a secret
without its value, and numbers that are not finite (the SDK refuses them with a
`ValueError`). Secrets are unwrapped as the SDK's `deserialize_properties` unwraps them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pulumi_policy import deserialize as sdk_deserialize
from pulumi_policy import proxy as sdk_proxy

#: The SDK's sentinels for values unknown during a preview.
UNKNOWN_VALUES = frozenset(
    {
        sdk_proxy.UNKNOWN_BOOLEAN_VALUE,
        sdk_proxy.UNKNOWN_NUMBER_VALUE,
        sdk_proxy.UNKNOWN_STRING_VALUE,
        sdk_proxy.UNKNOWN_ARRAY_VALUE,
        sdk_proxy.UNKNOWN_ASSET_VALUE,
        sdk_proxy.UNKNOWN_ARCHIVE_VALUE,
        sdk_proxy.UNKNOWN_OBJECT_VALUE,
    }
)

_READ_ONLY = (
    "is shared by every policy of the request (pack shim ballast_guardrails."
    "analyzer_speedups); policies must not modify their inputs"
)

_Path = tuple[str, ...]


def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
    """A mutator of an object the shim shares: raises `TypeError` saying so."""
    raise TypeError(f"this {type(self).__name__} {_READ_ONLY}")


def _unknown(value: Any, path: _Path, key: Any) -> sdk_proxy.UnknownValueError:
    """The SDK's error for reading `value` (a sentinel) at `path` + `key`."""
    return sdk_proxy.UnknownValueError(value, [*path, str(key)])


class ReadOnlyDict(sdk_proxy._DictProxy):
    """The SDK's `_DictProxy`, read-only, answering each read in one call. `target`
    holds the values (proxies for nested dicts and lists), `path` is where it sits."""

    def __init__(self, target: dict[str, Any], path: _Path) -> None:
        self._target = target
        self._path = path

    # The SDK's own (name-mangled) attributes, for any SDK code that reads them.
    @property
    def _DictProxy__target(self) -> dict[str, Any]:
        return self._target

    @property
    def _DictProxy__props_acc(self) -> list[str]:
        return list(self._path)

    def __getitem__(self, key: Any) -> Any:
        if key == "__target":
            return self._target
        value = self._target[key]
        if value.__class__ is str and value in UNKNOWN_VALUES:
            raise _unknown(value, self._path, key)
        return value

    # `Mapping.__contains__` and `Mapping.get`, as they behave over `__getitem__` (an
    # unknown value raises), without the extra calls.
    def __contains__(self, key: Any) -> bool:
        if key == "__target":
            return True
        try:
            value = self._target[key]
        except KeyError:
            return False
        if value.__class__ is str and value in UNKNOWN_VALUES:
            raise _unknown(value, self._path, key)
        return True

    def get(self, key: Any, default: Any = None) -> Any:
        if key == "__target":
            return self._target
        try:
            value = self._target[key]
        except KeyError:
            return default
        if value.__class__ is str and value in UNKNOWN_VALUES:
            raise _unknown(value, self._path, key)
        return value

    def __len__(self) -> int:
        return len(self._target)

    def __iter__(self) -> Iterator[str]:
        return iter(self._target)

    __setitem__ = __delitem__ = refuse


class ReadOnlyList(sdk_proxy._ListProxy):
    """The SDK's `_ListProxy` (already read-only), answering each read in one call."""

    def __init__(self, target: list[Any], path: _Path) -> None:
        self._target = target
        self._path = path

    @property
    def _ListProxy__target(self) -> list[Any]:
        return self._target

    @property
    def _ListProxy__props_acc(self) -> list[str]:
        return list(self._path)

    def __getitem__(self, key: Any) -> Any:
        if key == "__target":
            return self._target
        value = self._target[key]
        if value.__class__ is str and value in UNKNOWN_VALUES:
            raise _unknown(value, self._path, key)
        return value

    def __len__(self) -> int:
        return len(self._target)

    # `Sequence.__iter__` reads `self[0]`, `self[1]`, ... until IndexError.
    def __iter__(self) -> Iterator[Any]:
        for index, value in enumerate(self._target):
            if value.__class__ is str and value in UNKNOWN_VALUES:
                raise _unknown(value, self._path, index)
            yield value


def from_values(value: Any, path: _Path = ()) -> Any:
    """What the SDK's `unknown_checking_proxy(value)` builds, read-only."""
    if isinstance(value, list):
        return ReadOnlyList(
            [from_values(item, (*path, str(i))) for i, item in enumerate(value)], path
        )
    if isinstance(value, dict):
        return ReadOnlyDict({k: from_values(value[k], (*path, str(k))) for k in value}, path)
    return value


class _LeftToTheSdk(Exception):
    """Something only the SDK's own decode handles (see the module docstring)."""


_SIGNATURE = sdk_deserialize.SPECIAL_SIG_KEY
_SECRET = sdk_deserialize.SPECIAL_SECRET_SIG


def _value(value: Any, path: _Path) -> Any:
    """One `google.protobuf.Value`, as `MessageToDict` + `_deserialize_property` +
    `_proxy_helper` make it."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            raise _LeftToTheSdk
        return number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        fields = value.struct_value.fields
        if _SIGNATURE in fields:
            signature = fields[_SIGNATURE]
            if (
                signature.WhichOneof("kind") != "string_value"
                or signature.string_value != _SECRET
                or "value" not in fields
            ):
                raise _LeftToTheSdk
            # The SDK replaces a secret by its value, which then sits at its path.
            return _value(fields["value"], path)
        return _struct(fields, path)
    if kind == "list_value":
        return ReadOnlyList(
            [_value(item, (*path, str(i))) for i, item in enumerate(value.list_value.values)],
            path,
        )
    return None  # null_value, or no value at all: MessageToDict gives None


def _struct(fields: Any, path: _Path) -> ReadOnlyDict:
    # Keys in the order MessageToDict visits them (iterating the map).
    return ReadOnlyDict({key: _value(fields[key], (*path, key)) for key in fields}, path)


def from_struct(struct: Any) -> ReadOnlyDict | None:
    """A resource's properties (a protobuf `Struct`) as the SDK hands them to a policy
    (`unknown_checking_proxy(deserialize_properties(MessageToDict(struct)))`), read-only;
    None when they hold something left to the SDK's own decode."""
    try:
        # The top level is a plain map to the SDK (`deserialize_properties` looks for a
        # signature only below it).
        return _struct(struct.fields, ())
    except _LeftToTheSdk:
        return None
