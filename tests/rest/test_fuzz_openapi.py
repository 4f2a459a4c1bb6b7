"""Schemathesis against the live server's own /v1/schema/: no 5xx, answers as documented.

Every operation of the published schema gets generated requests (positive and negative),
each sent with a valid partner token; partner_metadata operations are also aimed at a real
demo object so the success paths are exercised, not only 404s. Bounded to stay short.

(schemathesis' lazy `from_fixture` loader does not run under pytest 9, so the operations
are driven through `APIOperation.as_strategy` with Hypothesis directly.)
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from metadata.linkables import all_linkables
from tests.conftest import COUNTERPART_ONE, ENTITY_ONE, PARTNER_CLIENT_ID, PARTNER_CLIENT_SECRET
from tests.live import LiveServer

pytestmark = pytest.mark.live

# Random identifiers mostly name nothing (404), so most examples go to a real object.
RANDOM_EXAMPLES = 6
NEGATIVE_EXAMPLES = 4
DEMO_OBJECT_EXAMPLES = 25
DEMO_IDENTIFIERS = {"/v1/counterparts/{identifier}/partner_metadata": COUNTERPART_ONE}
DEMO_HEADERS = {"X-Monite-Version": "2024-05-25", "X-Monite-Entity-Id": ENTITY_ONE}
# Every token request hashes a secret (about a second of CPU by design): a few suffice.
TOKEN_PATH = "/v1/auth/token"
TOKEN_EXAMPLES = 5
# No 5xx; status, content type, headers and body as documented; schema-invalid requests
# refused with a 4xx. (Not "schema-valid requests accepted": OpenAPI 3.0 cannot express the
# size and key rules, so a generated document may rightly be refused with a 422.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SETTINGS = {
    "deadline": 2000,
    "suppress_health_check": list(HealthCheck),
    "derandomize": True,
    "database": None,
}


@pytest.fixture
def partner_token(live_demo: LiveServer) -> str:
    grant = {
        "grant_type": "client_credentials",
        "client_id": PARTNER_CLIENT_ID,
        "client_secret": PARTNER_CLIENT_SECRET,
    }
    response = requests.post(f"{live_demo.url}/v1/auth/token", json=grant, timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def runs(operation: Any) -> list[tuple[str, Any, int]]:
    """(label, strategy, examples) for one operation."""
    positive = TOKEN_EXAMPLES if operation.path == TOKEN_PATH else RANDOM_EXAMPLES
    found = [
        ("positive", operation.as_strategy(GenerationMode.POSITIVE), positive),
        ("negative", operation.as_strategy(GenerationMode.NEGATIVE), NEGATIVE_EXAMPLES),
    ]
    identifier = DEMO_IDENTIFIERS.get(operation.path)
    if identifier is not None:
        # Headers fixed so that the generated bodies, not a random If-Match, decide.
        strategy = operation.as_strategy(
            GenerationMode.POSITIVE,
            path_parameters={"identifier": identifier},
            headers={**DEMO_HEADERS, **({"If-Match": "*"} if operation.method != "get" else {})},
        )
        found.append(("positive, demo object", strategy, DEMO_OBJECT_EXAMPLES))
    return found


def test_the_api_keeps_its_schema(live_demo: LiveServer, partner_token: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_demo.url}/v1/schema/?format=json", timeout=30)
    session = requests.Session()
    headers = {"Authorization": f"Bearer {partner_token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    webhook_operations = 8  # list, create, read, change, delete, deliveries, redeliver, rotate
    # per type: GET, PUT, PATCH of one object; lookup or read-many, and the batch PATCH
    assert len(operations) == 5 * len(list(all_linkables())) + 1 + webhook_operations

    for operation in operations:
        for label, strategy, examples in runs(operation):

            @given(case=strategy)
            @settings(max_examples=examples, **SETTINGS)
            def check(case: Any) -> None:
                case.call_and_validate(
                    base_url=live_demo.url,
                    session=session,
                    headers=headers,
                    checks=CHECKS,
                    timeout=10,
                )

            try:
                check()
            except Exception as failure:  # collected, reported together below
                failures.append(f"{operation.label} ({label}):\n{failure}")

    assert not failures, "\n\n".join(failures)
