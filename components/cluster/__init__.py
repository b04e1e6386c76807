"""The EKS cluster, one module per section: the control plane (`control_plane`), API
access (`access`), the nodes (`nodes`), EKS managed add-ons (`managed_addons`), the
in-cluster baseline (`baseline`), and in-cluster add-ons, one module each (`addons/`).
`Cluster` (`component`) composes them; `scope` is what they share."""

from components.cluster.component import Cluster, ClusterArgs

__all__ = ["Cluster", "ClusterArgs"]
