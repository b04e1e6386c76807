"""`ballast verify`: the offline plan of a platform stack, converted to a Terraform JSON
configuration and checked by the Terraform AWS provider's own code (validate, plan with
literal values and no reachable API, and optionally an apply against a moto server)."""
