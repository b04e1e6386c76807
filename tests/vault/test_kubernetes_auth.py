"""Kubernetes auth of each cluster stack, applied to a real server (OpenBao) from the
recorded plan: each service's role reads back as recorded, and a login succeeds only for
that service's own service account in its own namespace with a token for the `vault`
audience, and yields only the service's policy (and Vault's `default`).

Vault checks a login token with the Kubernetes TokenReview API; a small HTTP server on
127.0.0.1 plays that API (the recorded `kubernetesHost` is the in-cluster API, replaced
by this server's address and nothing else): it accepts the tokens the test makes and
reports the audiences each was issued for, as the API server does."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hvac
import pytest

from components.cluster.addons import vault_config as vc
from tests.conftest import CLUSTER_STACKS, platform_config, require_tool, stack_run
from tests.vault.conftest import COMMAND_SECONDS

pytestmark = pytest.mark.tool

AUTH = "vault:index/authBackend:AuthBackend"
CONFIG = "vault:kubernetes/authBackendConfig:AuthBackendConfig"
ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
#: The audience the API server puts in a token nobody asked a specific one for.
DEFAULT_AUDIENCE = "https://kubernetes.default.svc.cluster.local"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def service_account_token(namespace: str, account: str, audience: str) -> str:
    """A JWS-shaped projected service account token (Vault reads its claims; the
    TokenReview answer below is what vouches for it)."""
    claims = {
        "iss": DEFAULT_AUDIENCE,
        "sub": f"system:serviceaccount:{namespace}:{account}",
        "aud": [audience],
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {
                "name": account,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, account)),
            },
        },
    }
    header = {"alg": "RS256", "typ": "JWT", "kid": "test"}
    parts = (json.dumps(header).encode(), json.dumps(claims).encode(), b"not-verified-here")
    return ".".join(_b64(p) for p in parts)


class TokenReview(BaseHTTPRequestHandler):
    """`POST /apis/authentication.k8s.io/v1/tokenreviews`: authenticated, as the token's
    subject, for the requested audiences the token was issued for."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        payload = body["spec"]["token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        wanted = body["spec"].get("audiences") or [DEFAULT_AUDIENCE]
        granted = [a for a in wanted if a in claims["aud"]]
        account = claims["kubernetes.io"]["serviceaccount"]
        status = (
            {
                "authenticated": True,
                "user": {"username": claims["sub"], "uid": account["uid"]},
                "audiences": granted,
            }
            if granted
            else {"authenticated": False, "error": "token audiences do not match"}
        )
        answer = json.dumps({**body, "status": status}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def api_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenReview)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def api_ca(tmp_path_factory) -> str:
    """A throwaway CA certificate for the auth config (Vault requires one when it does
    not read its pod's; the stand-in API server speaks plain HTTP, so it is never used)."""
    where = tmp_path_factory.mktemp("api-ca")
    subprocess.run(
        [
            require_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-days", "1", "-subj", "/CN=kubernetes", "-keyout", str(where / "ca.key"),
            "-out", str(where / "ca.crt"),
        ],
        check=True, capture_output=True, timeout=COMMAND_SECONDS,
    )  # fmt: skip
    return (where / "ca.crt").read_text()


def apply(bao, run, api_url: str, ca: str) -> str:
    """The recorded auth mount, its config (pointed at `api_url`) and its roles."""
    (mount,) = [a for a in run.of_type(AUTH) if a.inputs["type"] == "kubernetes"]
    path = mount.inputs["path"]
    if f"{path}/" in bao.client.sys.list_auth_methods()["data"]:
        bao.client.sys.disable_auth_method(path=path)
    bao.client.sys.enable_auth_method(method_type="kubernetes", path=path)
    (config,) = run.of_type(CONFIG)
    assert config.inputs["backend"] == path
    bao.client.write_data(
        f"auth/{path}/config",
        data={
            "kubernetes_host": api_url,
            "token_reviewer_jwt": "reviewer-token",
            "kubernetes_ca_cert": ca,
            "disable_local_ca_jwt": True,
        },
    )
    for record in run.of_type(ROLE):
        inputs = record.inputs
        assert inputs["backend"] == path
        bao.client.write_data(
            f"auth/{path}/role/{inputs['roleName']}",
            data={
                "bound_service_account_names": inputs["boundServiceAccountNames"],
                "bound_service_account_namespaces": inputs["boundServiceAccountNamespaces"],
                "audience": inputs["audience"],
                "token_policies": inputs["tokenPolicies"],
                "token_ttl": inputs["tokenTtl"],
                "token_max_ttl": inputs["tokenMaxTtl"],
            },
        )
    return path


def login(bao, path: str, role: str, token: str) -> dict | None:
    """The login's `auth` block, or None when Vault refuses it."""
    try:
        answer = bao.client.adapter.post(
            f"/v1/auth/{path}/login", json={"role": role, "jwt": token}
        )
    except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest):
        return None
    return answer["auth"]


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_each_role_admits_only_its_service_account(bao, api_server, api_ca, stack):
    run = stack_run(stack)
    path = apply(bao, run, api_server, api_ca)
    services = [s for s in platform_config(stack).services if s.secrets is not None]
    assert services
    for service in services:
        namespace, account = service.namespace or service.name, service.service_account
        stored = bao.client.read(f"auth/{path}/role/{service.name}")["data"]
        assert stored["bound_service_account_names"] == [account]
        assert stored["bound_service_account_namespaces"] == [namespace]
        assert stored["audience"] == vc.AUDIENCE
        assert 0 < stored["token_ttl"] <= stored["token_max_ttl"] <= 3600

        auth = login(bao, path, service.name, service_account_token(namespace, account, "vault"))
        assert auth is not None, service.name
        assert sorted(auth["policies"]) == sorted(["default", vc.policy_name(service.name)])
        assert 0 < auth["lease_duration"] <= stored["token_ttl"]
        refused = {
            "another account": service_account_token(namespace, "default", vc.AUDIENCE),
            "another namespace": service_account_token("intruder", account, vc.AUDIENCE),
            "the API server's audience": service_account_token(
                namespace, account, DEFAULT_AUDIENCE
            ),
        }
        for other in services:
            if other.name != service.name:
                refused[f"service {other.name}"] = service_account_token(
                    other.namespace or other.name, other.service_account, vc.AUDIENCE
                )
        for why, token in refused.items():
            assert login(bao, path, service.name, token) is None, (service.name, why)
