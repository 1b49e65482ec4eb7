"""The Markdown tables docs/api.md carries, generated from the same catalogue as openapi.json.

`cutout openapi --docs docs/api.md` rewrites them in place; tests/unit/test_doc_tables.py fails
when the page and the code disagree, so a new error code cannot stay undocumented.
"""

from __future__ import annotations

from cutout.api.removebg_contract import removebg_error
from cutout.openapi.catalogue import REMOVEBG_ERRORS, error_codes

ERROR_HEADER = "| status | code | when |"
REMOVEBG_HEADER = ("| status on `/v1.0/removebg` | `errors[0].code` | `errors[0].title` "
                   "| native code |")


def error_table() -> str:
    """Every native error code, by status: the codes `ErrorCode` in openapi.json lists."""
    rows = sorted((status, code, " ".join(meaning.split()))
                  for code, (status, meaning) in error_codes().items())
    lines = [ERROR_HEADER, "|---|---|---|"]
    lines += [f"| {status} | `{code}` | {meaning} |" for status, code, meaning in rows]
    return "\n".join(lines)


def removebg_error_table() -> str:
    """How the remove.bg route names each error it answers (remove.bg's status and code)."""
    mapped: dict[tuple[int, str, str], list[str]] = {}
    for cls in REMOVEBG_ERRORS:
        status, body = removebg_error(cls.status, cls.code, "")
        error = body["errors"][0]
        ours = mapped.setdefault((status, error["code"], error["title"]), [])
        if cls.code not in ours:
            ours.append(cls.code)
    lines = [REMOVEBG_HEADER, "|---|---|---|---|"]
    lines += [f"| {status} | `{code}` | {title} | {', '.join(f'`{c}`' for c in ours)} |"
              for (status, code, title), ours in sorted(mapped.items())]
    return "\n".join(lines)


def replace_table(page: str, table: str) -> str:
    """`page` (Markdown) with the table that starts with `table`'s header line replaced."""
    header = table.split("\n", 1)[0]
    start = page.index(header)
    end = page.find("\n\n", start)
    return page[:start] + table + (page[end:] if end != -1 else "\n")


def with_error_tables(page: str) -> str:
    """docs/api.md with both generated error tables brought up to date."""
    return replace_table(replace_table(page, error_table()), removebg_error_table())
