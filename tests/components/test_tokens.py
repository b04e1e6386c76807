"""Every type token in tests/tokens.py is the one its SDK class registers, so a lookup by
token can never silently find nothing because of a typo."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests import tokens

TOKENS = {name: value for name, value in vars(tokens).items() if name.isupper()}


def sdk_class(token: str) -> type:
    """The pulumi-aws or pulumi-kubernetes class of an engine type token."""
    package, module, name = token.split(":")
    if package == "pulumi":  # pulumi:providers:aws
        return importlib.import_module(f"pulumi_{name}").Provider
    if package == "kubernetes":  # kubernetes:helm.sh/v3:Release -> helm.v3
        group, version = module.split("/")
        path = f"pulumi_kubernetes.{group.split('.')[0]}.{version}"
    else:  # aws:iam/role:Role -> iam
        path = f"pulumi_{package}.{module.split('/')[0]}"
    return getattr(importlib.import_module(path), name)


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_the_token_is_the_sdk_class_own(name):
    token = TOKENS[name]
    cls = sdk_class(token)
    expected = "pulumi:providers:aws" if token.startswith("pulumi:") else token
    assert f"'{expected}'" in inspect.getsource(cls) or f'"{expected}"' in inspect.getsource(cls)
