"""Worker isolation: a warm handler keeps nothing of one request for the next.

Two different images go through the same warm remove-background handler; afterwards no
object reachable from module state (the handler module, the cutout library, Powertools'
router) holds the first image, its base64, its result or its pixels, and nothing was
written to the temporary directory.
"""

from __future__ import annotations

import base64
import gc
import os
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
from integration_support import disc_image

from cutout.local.events import proxy_event

PATH = "/v1/remove-background"
FIRST_SIZE = (333, 222)
SECOND_SIZE = (320, 240)


def reachable(roots, limit: int = 400_000):
    """Every object reachable from `roots` through references (breadth first, bounded)."""
    seen: set[int] = set()
    queue = list(roots)
    while queue and len(seen) < limit:
        item = queue.pop()
        if id(item) in seen or isinstance(item, type(sys)) and item not in roots:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, (bytes, bytearray, str, int, float, np.ndarray)):
            continue
        if isinstance(item, types.FunctionType):
            # follow what a function keeps (closure, defaults, attributes), not its globals:
            # the modules we care about are roots already
            cells = [cell.cell_contents for cell in item.__closure__ or ()
                     if _filled(cell)]
            queue.extend([*cells, item.__defaults__, item.__kwdefaults__, item.__dict__])
            continue
        queue.extend(gc.get_referents(item))


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def module_roots(handler_module, handler):
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    modules = [m for name, m in list(sys.modules.items())
               if m is not None and (name == "cutout" or name.startswith("cutout."))]
    return [handler, handler_module, *modules, BaseRouter]


def holds(item, needles: list[bytes]) -> bool:
    if isinstance(item, str):
        item = item.encode("latin-1", errors="ignore")
    if isinstance(item, (bytes, bytearray, memoryview)):
        data = bytes(item)
        return any(needle in data for needle in needles)
    if isinstance(item, np.ndarray):
        shapes = {(h, w) for w, h in (FIRST_SIZE, SECOND_SIZE)}
        return item.ndim >= 2 and tuple(item.shape[:2]) in shapes
    return False


def test_nothing_of_one_request_survives_into_module_state_or_tmp(handlers, caller, tmp_path,
                                                                   monkeypatch):
    from integration_support import LocalContext, answer_of, load_function

    # Given a warm handler, and a temporary directory we can watch
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    system_tmp_before = set(os.listdir("/tmp"))
    handler = handlers["remove_background"]
    context = {"account_id": caller.account_id, "key_prefix": caller.key_prefix}
    first = disc_image("PNG", size=FIRST_SIZE, colour=(10, 220, 30), background=(90, 0, 90))
    second = disc_image("JPEG", size=SECOND_SIZE)

    # When two different images go through it, one after the other
    event = proxy_event("POST", PATH, headers={"Content-Type": "image/png"}, body=first,
                        authorizer=context)
    first_answer = answer_of(handler(event, LocalContext()))
    first_result = first_answer.body
    del event
    second_answer = answer_of(handler(proxy_event("POST", PATH, body=second,
                                                headers={"Content-Type": "image/jpeg"},
                                                authorizer=context), LocalContext()))
    assert (first_answer.status, second_answer.status) == (200, 200)
    second_result = second_answer.body
    del first_answer, second_answer
    gc.collect()

    # Then nothing reachable from module state holds either image, its base64 or its result
    # (the first would show a request leaking into the next, the second one outliving its
    # response), nor an array of either image's pixels
    mine = {id(first), id(first_result), id(second), id(second_result)}
    needles = [data[100:164] for data in (first, base64.b64encode(first), first_result,
                                          second, base64.b64encode(second), second_result)]
    module = load_function("remove_background")
    leaks = [type(item).__name__ for item in reachable(module_roots(module, handler))
             if id(item) not in mine and holds(item, needles)]
    assert leaks == []
    # And nothing was written to the temporary directories
    assert list(Path(tmp_path).iterdir()) == []
    for name in set(os.listdir("/tmp")) - system_tmp_before:
        path = Path("/tmp") / name
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert first not in path.read_bytes()
