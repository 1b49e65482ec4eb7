"""`cutout verify` and `cutout preflight`: read-only checks of a deployment's real resources and
live behaviour against each promise (docs/verify.md); one module per group of checks."""
