"""Whatever a client puts in an option, parsing answers with a client error, never a 500.

Generated values, not a list of cases: the stateful fuzzer in CI once found `size=¹`
(`"¹".isdigit()` is true, `int("¹")` fails) that no listed case had. Derandomised, so a
run is repeatable; the values mix free text with digit-like characters of other scripts.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutout.api.batch_request import parse_batch_request
from cutout.api.removebg_request import FIELDS, parse_removebg_request
from cutout.engine.options import OPTION_NAMES, RemovalOptions
from cutout.errors import CutoutError

# ASCII digits beside superscripts (isdigit, not int), Arabic-Indic and fullwidth digits
# (int accepts them), and the signs, units and letters options are written with
DIGITS = st.text(st.sampled_from("0123456789\u00b9\u00b2\u0663\uff11"), min_size=1, max_size=4)
NUMBER_LIKE = st.text(st.sampled_from("0123456789\u00b9\u00b2\u0663\uff11.-+eE%px ,#abcdef"),
                      max_size=6)
TEXT = st.one_of(DIGITS, NUMBER_LIKE, st.text(max_size=12))
SCALAR = st.one_of(TEXT, st.integers(), st.floats(), st.booleans(), st.none())
FUZZ = settings(max_examples=400, derandomize=True, deadline=None,
                suppress_health_check=list(HealthCheck))


def _refused_as_the_clients(parse, *args) -> None:
    try:
        parse(*args)
    except CutoutError as error:
        assert error.status < 500, (args, error)


@FUZZ
@given(st.sampled_from(OPTION_NAMES), TEXT)
def test_each_native_option_alone_never_fails_as_the_servers(name, value):
    _refused_as_the_clients(RemovalOptions.from_params, {name: value})


@FUZZ
@given(st.dictionaries(st.sampled_from(OPTION_NAMES), TEXT, max_size=4))
def test_native_options_together_never_fail_as_the_servers(params):
    _refused_as_the_clients(RemovalOptions.from_params, params)


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=4),
       st.dictionaries(st.sampled_from(FIELDS), SCALAR, max_size=4))
def test_removebg_fields_never_fail_as_the_servers(query, body):
    _refused_as_the_clients(parse_removebg_request, b"", None, query)
    _refused_as_the_clients(parse_removebg_request, json.dumps(body).encode(),
                            "application/json", None)


@FUZZ
@given(st.dictionaries(st.sampled_from([*OPTION_NAMES, "unknown"]), SCALAR, max_size=4))
def test_batch_options_never_fail_as_the_servers(options):
    document = {"source": {"bucket": "b", "prefix": "in/"},
                "destination": {"bucket": "b", "prefix": "out/"}, "options": options}
    _refused_as_the_clients(parse_batch_request, json.dumps(document).encode())
