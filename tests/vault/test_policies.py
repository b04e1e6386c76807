"""Every Vault policy the cluster stacks declare, written to a real server (OpenBao):
a token with a service's policy may read its own credentials and nothing of another
service's, and cannot touch `sys/`. The policies come from the recorded plans; the
property test renders policies for random service names with the same function the
stacks use."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.cluster.addons import vault_config as vc
from tests.conftest import CLUSTER_STACKS, platform_config, stack_run

pytestmark = pytest.mark.tool

POLICY = "vault:index/policy:Policy"
#: Paths no service token may use: the server's own configuration and other tokens.
SYSTEM_PATHS = (
    "sys/policies/acl/service-x",
    "sys/mounts/aws",
    "sys/auth/kubernetes",
    "sys/leases/revoke-prefix/database",
    "sys/seal",
    "auth/token/create",
    "auth/kubernetes/role/checkout",
)


def own_paths(name: str, *, aws: bool, database: bool, kv: bool) -> list[str]:
    """Concrete paths a service reads its credentials at (not globs)."""
    paths = []
    if aws:
        paths += [f"aws/creds/{name}", f"aws/sts/{name}"]
    if database:
        paths.append(f"database/creds/{name}")
    if kv:
        paths += [f"kv/data/{name}/api-key", f"kv/metadata/{name}/api-key"]
    return paths


def every_path(name: str) -> list[str]:
    return own_paths(name, aws=True, database=True, kv=True)


def token_with(bao, policy: str) -> str:
    """A token like the one a service's Kubernetes login gets: its policy and Vault's
    `default` policy (lookup, renew and revoke of itself and its leases)."""
    created = bao.client.auth.token.create(policies=[policy], ttl="5m", renewable=False)
    return created["auth"]["client_token"]


def capabilities(bao, token: str, paths: list[str]) -> dict[str, list[str]]:
    """`sys/capabilities` (asked with the root token): what `token` may do on each path."""
    answer = bao.client.adapter.post("/v1/sys/capabilities", json={"token": token, "paths": paths})
    data = answer.get("data", answer)
    return {path: sorted(data[path]) for path in paths}


def recorded_policies(stack: str) -> dict[str, str]:
    return {p.inputs["name"]: p.inputs["policy"] for p in stack_run(stack).of_type(POLICY)}


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_each_declared_policy_reads_its_own_paths_and_no_other_services(bao, stack):
    policies = recorded_policies(stack)
    config = platform_config(stack)
    services = [s for s in config.services if s.secrets is not None]
    assert services
    for name, text in policies.items():
        bao.client.sys.create_or_update_policy(name=name, policy=text)
    for service in services:
        secrets = service.secrets
        assert secrets is not None
        token = token_with(bao, vc.policy_name(service.name))
        own = own_paths(
            service.name, aws=secrets.aws is not None, database=secrets.database, kv=secrets.kv
        )
        undeclared = sorted(set(every_path(service.name)) - set(own))
        others = [p for s in config.services if s.name != service.name for p in every_path(s.name)]
        found = capabilities(bao, token, own + undeclared + others + list(SYSTEM_PATHS))
        for path in own:
            assert "read" in found[path], (service.name, path, found[path])
        for path in undeclared + others + list(SYSTEM_PATHS):
            assert found[path] == ["deny"], (service.name, path, found[path])


def test_only_the_admin_policy_reaches_sys(bao):
    for stack in CLUSTER_STACKS:
        policies = recorded_policies(stack)
        if vc.ADMIN_POLICY not in policies:
            continue
        bao.client.sys.create_or_update_policy(
            name=vc.ADMIN_POLICY, policy=policies[vc.ADMIN_POLICY]
        )
        token = token_with(bao, vc.ADMIN_POLICY)
        found = capabilities(bao, token, ["sys/policies/acl/service-x", "sys/mounts/aws"])
        assert all("sudo" in caps for caps in found.values()), found
        return
    pytest.skip("no shipped stack configures the operators' JWT login")


names = st.from_regex(r"[a-z]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
#: Two service names; often the second extends the first (`api`, `api-v2`, `apix`),
#: where a glob without a path boundary would leak.
pairs = names.flatmap(
    lambda first: st.tuples(
        st.just(first),
        st.one_of(names, names.map(lambda rest: f"{first}-{rest}"), names.map(first.__add__)),
    )
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pair=pairs)
def test_a_services_policy_never_reaches_another_services_paths(bao, pair):
    """For any two distinct service names (one a prefix of the other included), the
    rendered policy of one grants its own paths and denies every path of the other."""
    mine, theirs = pair
    if mine == theirs:
        return
    policy = f"{vc.policy_name(mine)}-{uuid.uuid4().hex[:8]}"
    bao.client.sys.create_or_update_policy(
        name=policy, policy=vc.service_policy_hcl(mine, aws=True, database=True, kv=True)
    )
    try:
        token = token_with(bao, policy)
        found = capabilities(bao, token, every_path(mine) + every_path(theirs))
        for path in every_path(mine):
            assert "read" in found[path], (mine, path)
        for path in every_path(theirs):
            assert found[path] == ["deny"], (mine, theirs, path, found[path])
    finally:
        bao.client.sys.delete_policy(name=policy)
