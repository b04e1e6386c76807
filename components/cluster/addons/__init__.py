"""In-cluster add-ons: one module per add-on, each holding everything that add-on is made
of — its namespace and service account names, its IAM role (IRSA, through the platform's
role factory) and that role's policy document, its Helm values (a pure function, so tests
check them against the pinned chart's `values.yaml`), and the Helm release itself, whose
chart, version and repository come from components/versions.py.

An add-on has two halves, one per layer (docs/layers.md): `role(scope, oidc, cluster)`,
called by `Cluster` in the platform stack (AWS APIs only), and `release(scope, cluster=,
...)`, called by `ClusterLayer` in the cluster stack, which reads the role's ARN from the
platform stack's outputs. Adding an add-on is one module here, one call on each side
(`components/cluster/component.py`, `components/platform.py`), the role's ARN in
`Cluster.STACK_OUTPUTS` and `ClusterLayer.READS`, and its tests.
"""
