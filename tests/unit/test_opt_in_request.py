"""The opt-in body is exactly `{"opt_in": true|false}`: nothing looser flips the switch."""

from __future__ import annotations

import pytest

from cutout.api.opt_in_request import parse_opt_in
from cutout.errors import InvalidRequest


@pytest.mark.parametrize("body, expected", [(b'{"opt_in": true}', True),
                                            (b'{"opt_in": false}', False)])
def test_exactly_a_json_boolean_sets_the_switch(body, expected):
    # Given the documented body, When it is parsed, Then it says which way the switch goes
    assert parse_opt_in(body) is expected


@pytest.mark.parametrize("body", [
    b'{"opt_in": false, "delete_data": true}',  # found by schemathesis: extra fields passed
    b'{"opt_in": true, "": []}',
    b'{"opt_in": "yes"}', b'{"opt_in": 1}', b"true", b"{", b"", b"[]",
])
def test_any_other_body_is_refused_400(body):
    # Given a body the document does not allow (additionalProperties: false, a boolean only)
    # When it is parsed, Then it is refused as invalid_request and nothing is set
    with pytest.raises(InvalidRequest) as refused:
        parse_opt_in(body)
    assert refused.value.status == 400
