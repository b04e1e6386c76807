"""In-cluster add-ons: one module per add-on, each holding everything that add-on is made
of — its namespace and service account names, its IAM role (IRSA, through the platform's
role factory) and that role's policy document, its Helm values (a pure function, so tests
check them against the pinned chart's `values.yaml`), and the Helm release itself, whose
chart, version and repository come from components/versions.py.

An add-on module exposes `install(aws_scope, k8s_scope, ...)`: it creates the role as a
child of the cluster (`ClusterScope`) and the release through the cluster's Kubernetes
provider (`InClusterScope`), in its platform namespace (components/cluster/baseline.py),
after the cluster is `ready`. Adding an add-on is one module here, one call in
`components/cluster/component.py`, and its tests.
"""
