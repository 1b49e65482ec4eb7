"""remove.bg's rules for one removal, in the domain: what its contract calls an error.

remove.bg refuses an image in which it finds no subject (`unknown_foreground`) and names a
pixel count over the limit `resolution_too_high`; it never answers with a link. The
removal itself (and its privacy rules) is the same `RemovalService` the native route uses.
"""

from __future__ import annotations

from cutout.errors import ImageTooLarge, ResolutionTooHigh, UnknownForeground
from cutout.service.receipt import Receipt
from cutout.service.removal import NoForeground, Removal, RemovalService
from cutout.service.requests import RemovalRequest


def remove_for_removebg(service: RemovalService, request: RemovalRequest, account_id: str,
                        request_id: str,
                        receipt: Receipt | None = None) -> Removal:
    """`service.remove` under remove.bg's contract: inline only, a subject required."""
    try:
        return service.remove(request, account_id, request_id, link_allowed=False,
                              require_foreground=True, receipt=receipt)
    except ImageTooLarge as error:
        if type(error) is not ImageTooLarge:  # ResultTooLarge and friends keep their names
            raise
        raise ResolutionTooHigh(error.message) from None  # the decoder's pixel bound
    except NoForeground:
        raise UnknownForeground("no foreground was found in the image: the model saw no "
                                "subject to keep") from None
