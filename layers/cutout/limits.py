"""Bounds AWS sets on every request, named once for the functions, the stack and the local stack.

Each is AWS's, not a choice of ours: the stack, `cutout serve` and the functions read them
here so that no two copies can disagree.
"""

from __future__ import annotations

# API Gateway's REST integration timeout (its default and, without a quota raise, its most):
# a function that runs longer cannot answer, the client already has a 504.
API_GATEWAY_TIMEOUT_SECONDS = 29
