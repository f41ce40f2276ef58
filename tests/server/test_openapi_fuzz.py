"""schemathesis against the live server's own OpenAPI schema: no 5xx, no schema violations.

Bounded: a few dozen generated requests per route (valid and invalid bodies,
odd strings, path values with slashes), each checked for a non-5xx status
that the schema documents, a JSON content type, and a body matching the
documented response model (errors included: ``ErrorBody``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lore.server.service import IndexService

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES_PER_ROUTE = 30


def test_no_server_errors_and_no_schema_violations(service: IndexService,
                                                   live_server: Callable[..., str]) -> None:
    url = live_server(service)
    api = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        fuzz()
