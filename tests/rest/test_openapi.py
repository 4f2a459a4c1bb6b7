"""The OpenAPI description: public, complete for every route, warning-free, checked in."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from metadata import rules
from metadata.linkables import all_linkables
from tests.conftest import PARTNER

pytestmark = pytest.mark.django_db

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
PARTNER_METADATA_CODES = {
    *("200", "400", "401", "403", "404", "405", "412", "413", "415", "422", "429"),
}
LOOKUP_CODES = {"200", "400", "401", "405", "414", "422", "429"}


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    return yaml.safe_load(Client().get("/v1/schema/").content)


def test_the_schema_is_public_in_yaml_and_json(db: None) -> None:
    response = Client().get("/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    as_json = Client().get("/v1/schema/?format=json")
    assert as_json.status_code == 200
    assert json.loads(as_json.content)["openapi"].startswith("3.")


def test_swagger_ui_is_served(db: None) -> None:
    response = Client().get("/v1/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"/v1/schema/" in response.content


def test_the_checked_in_schema_is_the_generated_one(tmp_path: Path, served: dict[str, Any]) -> None:
    """Regenerate with `python manage.py spectacular --file docs/openapi.yaml`."""
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated))
    assert generated.read_text() == CHECKED_IN.read_text()
    assert yaml.safe_load(CHECKED_IN.read_text()) == served


def test_generation_validates_without_a_warning(tmp_path: Path) -> None:
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_two_paths_per_registry_collection(served: dict[str, Any]) -> None:
    paths = {path for path in served["paths"] if path.endswith("/partner_metadata")}
    expected = {f"/v1/{lk.collection}/{{identifier}}/partner_metadata" for lk in all_linkables()}
    lookups = {f"/v1/{lk.collection}/partner_metadata" for lk in all_linkables()}
    assert paths == expected | lookups
    assert "/v1/auth/token" in served["paths"]


def operations(served: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in served["paths"].items()
        if path.endswith("/{identifier}/partner_metadata")
        for method, operation in item.items()
    ]


def test_each_partner_metadata_operation_documents_every_status(served: dict[str, Any]) -> None:
    found = operations(served)
    assert {method for _, method, _ in found} == {"get", "put", "patch"}
    for path, method, operation in found:
        assert set(operation["responses"]) == PARTNER_METADATA_CODES, (path, method)
        for code, response in operation["responses"].items():
            ref = response["content"]["application/json"]["schema"]["$ref"]
            expected = {
                "200": "PartnerMetadata",
                "422": "ValidationErrorResponse",
            }.get(code, "ErrorResponse")
            assert ref == f"#/components/schemas/{expected}", (path, method, code)


def test_headers_in_both_directions(served: dict[str, Any]) -> None:
    for path, method, operation in operations(served):
        sent = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        expected = {"X-Monite-Version", "X-Monite-Entity-Id"}
        if method in ("put", "patch"):
            expected.add("If-Match")
        assert sent == expected, (path, method)
        answered = operation["responses"]["200"]["headers"]
        assert answered["ETag"]["required"] is True
        assert {"X-Monite-Version", "X-Monite-Entity-Id", "X-Request-Id"} <= set(answered)
        assert operation["security"] == [{"bearerAuth": []}]


def test_identifiers_are_typed_from_the_registry(served: dict[str, Any]) -> None:
    for linkable in all_linkables():
        item = served["paths"][f"/v1/{linkable.collection}/{{identifier}}/partner_metadata"]
        (identifier,) = [p for p in item["get"]["parameters"] if p["in"] == "path"]
        schema = identifier["schema"]
        kind = linkable.identifier_kind
        assert schema.get("format") == "uuid" if kind == "uuid" else schema["type"] == kind


def test_bodies_and_error_schemas(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    for name in ("PartnerMetadataRequest", "PatchedPartnerMetadataRequest"):
        assert schemas[name]["required"] == ["metadata"]
        assert schemas[name]["additionalProperties"] is False
    assert schemas["ErrorResponse"]["required"] == ["error"]
    assert set(schemas["Error"]["properties"]) == {"type", "message"}
    detail = schemas["ValidationErrorResponse"]["properties"]["detail"]
    assert detail["items"]["$ref"] == "#/components/schemas/ValidationDetail"
    assert set(schemas["ValidationDetail"]["properties"]) == {"loc", "msg", "type"}


def test_one_bearer_jwt_security_scheme(served: dict[str, Any]) -> None:
    assert served["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": served["components"]["securitySchemes"]["bearerAuth"]["description"],
        }
    }
    token = served["paths"]["/v1/auth/token"]["post"]
    assert "security" not in token or token["security"] in ([], [{}])
    assert {"200", "401", "422"} <= set(token["responses"])


def test_each_lookup_documents_its_query_and_statuses(served: dict[str, Any]) -> None:
    for linkable in all_linkables():
        operation = served["paths"][f"/v1/{linkable.collection}/partner_metadata"]["get"]
        # 404: a malformed X-Monite-Entity-Id, on the collections it scopes only.
        scoped = {"404"} if linkable.entity_field else set()
        assert set(operation["responses"]) == LOOKUP_CODES | scoped, linkable.collection
        query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert set(query) == {"key", "value", "limit", "pagination_token", "id"}
        assert not query["key"].get("required")  # the read-many mode sends id instead
        assert query["limit"]["schema"]["maximum"] == 100
        ids = query["id"]["schema"]
        assert (ids["minItems"], ids["maxItems"], ids["items"]["minLength"]) == (1, 100, 1)
        assert "value_error.extra" in operation["description"]  # unknown parameters
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["$ref"] == "#/components/schemas/LookupOrReadMany"


# What the document promises, checked against the server (issue 23).

KEY_SAMPLES = (
    "a",
    "external_id",
    " x ",
    "x" * 100,
    "x" * 101,
    "",
    " ",
    "\u00a0\u3000",
    "\t",
    "a\u0000",
    "a\u001f",
    "a\u007f",
    "a\u0085",
    "\u009f",
    "\u00a0a",
    "\u2028",
    "é",
    "😀",
)


def test_the_documented_key_rules_are_the_servers(served: dict[str, Any]) -> None:
    schema = served["components"]["schemas"]["PartnerMetadataRequest"]["properties"]["metadata"]
    names = schema["propertyNames"]
    pattern = re.compile(names["pattern"])
    for key in KEY_SAMPLES:
        documented = names["minLength"] <= len(key) <= names["maxLength"] and bool(
            pattern.search(key)
        )
        assert documented == (rules.key_violations(key, ()) == []), repr(key)


def test_every_conditional_write_states_the_if_match_rules(served: dict[str, Any]) -> None:
    for path, method, operation in operations(served):
        if method in ("put", "patch"):
            assert "empty value" in operation["description"], (path, method)
            assert "412" in operation["description"], (path, method)


def test_path_examples_name_demo_objects_the_partner_reaches(
    served: dict[str, Any], token_for: Any
) -> None:
    """Each example leads to a 200, so a generated client (or a fuzzer) reaches the logic."""
    headers = {"Authorization": f"Bearer {token_for(PARTNER)}"}
    for path, method, operation in operations(served):
        if method != "get":
            continue
        (identifier,) = [p for p in operation["parameters"] if p["in"] == "path"]
        (example,) = identifier["examples"].values()
        concrete = path.replace("{identifier}", str(example["value"]))
        assert Client().get(concrete, headers=headers).status_code == 200, concrete


def test_the_token_example_is_the_demo_clients_grant(served: dict[str, Any], demo: None) -> None:
    body = served["paths"]["/v1/auth/token"]["post"]["requestBody"]
    assert body["required"] is True
    (example,) = body["content"]["application/json"]["examples"].values()
    response = Client().post("/v1/auth/token", example["value"], content_type="application/json")
    assert response.status_code == 200, response.content


def test_a_created_subscription_links_to_its_operations(served: dict[str, Any]) -> None:
    created = served["paths"]["/v1/webhook_subscriptions"]["post"]["responses"]["201"]
    targets = {link["operationId"] for link in created["links"].values()}
    assert targets == {
        "get_webhook_subscription",
        "update_webhook_subscription",
        "delete_webhook_subscription",
        "rotate_webhook_secret",
        "list_webhook_deliveries",
    }
    ids = {
        operation.get("operationId")
        for item in served["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
    }
    assert targets <= ids


def test_bodies_that_refuse_extras_say_so(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    for name in ("SubscriptionInputRequest", "PatchedSubscriptionInputRequest"):
        assert schemas[name]["additionalProperties"] is False
        assert schemas[name]["properties"]["is_active"]["type"] == "boolean"
    lookup = served["paths"]["/v1/accounts/partner_metadata"]["get"]["parameters"]
    (value,) = [p for p in lookup if p["name"] == "value"]
    assert value["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MetadataValue"
    }


def test_each_collection_documents_its_batch_write(served: dict[str, Any]) -> None:
    for linkable in all_linkables():
        operation = served["paths"][f"/v1/{linkable.collection}/partner_metadata"]["patch"]
        assert set(operation["responses"]) == {
            "200",
            "400",
            "401",
            "405",
            "413",
            "415",
            "422",
            "429",
        }
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body["$ref"] == "#/components/schemas/PatchedBatchRequest"
        ok = operation["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]["$ref"] == (
            "#/components/schemas/BatchResponse"
        )
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
            ok["headers"]
        )
        assert operation["requestBody"]["required"] is True


def test_a_batch_body_states_its_required_members_and_their_lengths(
    served: dict[str, Any],
) -> None:
    schemas = served["components"]["schemas"]
    batch = schemas["PatchedBatchRequest"]
    assert (batch["required"], batch["additionalProperties"]) == (["data"], False)
    assert (batch["properties"]["data"]["minItems"], batch["properties"]["data"]["maxItems"]) == (
        1,
        100,
    )
    item = schemas["BatchItemRequest"]
    assert (item["required"], item["additionalProperties"]) == (["id", "metadata"], False)
    for member in ("id", "if_match"):
        assert item["properties"][member]["type"] == "string"
        assert item["properties"][member]["minLength"] == 1


def test_batch_examples_write_demo_objects(
    served: dict[str, Any], token_for: Any, subtests: pytest.Subtests
) -> None:
    """The batch's example leads to a 200, as the single routes' examples do."""
    headers = {"Authorization": f"Bearer {token_for(PARTNER)}"}
    for linkable in all_linkables():
        path = f"/v1/{linkable.collection}/partner_metadata"
        body = served["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
        (example,) = body["examples"].values()
        with subtests.test(path):
            response = Client().patch(
                path, example["value"], content_type="application/json", headers=headers
            )
            assert response.status_code == 200, response.content


def test_a_delivery_log_links_to_a_redelivery(served: dict[str, Any]) -> None:
    log = served["paths"]["/v1/webhook_subscriptions/{subscription_id}/deliveries"]["get"]
    (link,) = log["responses"]["200"]["links"].values()
    assert link["operationId"] == "redeliver_webhook"
    assert link["parameters"] == {
        "subscription_id": "$request.path.subscription_id",
        "delivery_id": "$response.body#/data/0/id",
    }
