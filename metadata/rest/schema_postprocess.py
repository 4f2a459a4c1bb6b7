"""A drf-spectacular `POSTPROCESSING_HOOKS` entry: what its builders cannot emit.

The self-referring `MetadataValue` (OpenAPI 3.1), the lookup's `value` as JSON content (a
parameter serialised as JSON text), and the OpenAPI links that lead a client (and a
fuzzer) from one answer to the operations on what it names: from a created webhook
subscription to its operations, from a delivery log to a redelivery, and from a read
document to a conditional write.
"""

from __future__ import annotations

from typing import Any

from metadata import rules
from metadata.rest import headers
from metadata.rest.serializers import METADATA_VALUE

LOOKUP_VALUE = "value"
# Operations whose body drf-spectacular leaves optional and the server does not: no body is a
# 400 (the token) or a 422 (provisioning, no lines).
BODY_REQUIRED = ("auth_token_create", "provisioning_objects_create")

NO_NUL = {"type": "string", "pattern": "^[^\\u0000]*$"}
METADATA_VALUE_SCHEMA: dict[str, Any] = {
    "description": (
        "Any JSON value: no string and no member name holds U+0000, numbers are finite, and "
        f"it nests at most {rules.MAX_DEPTH} levels (`x-max-depth`)."
    ),
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "number"},
        NO_NUL,
        {"type": "array", "items": {"$ref": f"#/components/schemas/{METADATA_VALUE}"}},
        {
            "type": "object",
            "propertyNames": NO_NUL,
            "additionalProperties": {"$ref": f"#/components/schemas/{METADATA_VALUE}"},
        },
    ],
    "x-max-depth": rules.MAX_DEPTH,
}
_SUBSCRIPTION_ID = {"subscription_id": "$response.body#/id"}
SUBSCRIPTION_LINKS: dict[str, dict[str, Any]] = {
    "GetSubscription": {"operationId": "get_webhook_subscription"},
    "UpdateSubscription": {"operationId": "update_webhook_subscription"},
    "DeleteSubscription": {"operationId": "delete_webhook_subscription"},
    "RotateSecret": {"operationId": "rotate_webhook_secret"},
    "ListDeliveries": {"operationId": "list_webhook_deliveries"},
}
# From a delivery log to another attempt of its newest delivery.
DELIVERY_LINKS: dict[str, dict[str, Any]] = {
    "RedeliverNewest": {
        "operationId": "redeliver_webhook",
        "parameters": {
            "subscription_id": "$request.path.subscription_id",
            "delivery_id": "$response.body#/data/0/id",
        },
    }
}


def postprocess(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Add the value schema, the lookup's JSON-text parameter and the links."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[METADATA_VALUE] = METADATA_VALUE_SCHEMA
    # A lookup page and a read-many answer share their shape where a lookup page's token is
    # null: either may match, so the two are alternatives, not exclusive ones.
    if "LookupOrReadMany" in schemas:
        schemas["LookupOrReadMany"] = {"anyOf": schemas["LookupOrReadMany"]["oneOf"]}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            _value_as_json(operation)
            operation_id = operation.get("operationId")
            if operation_id in BODY_REQUIRED:
                operation["requestBody"]["required"] = True
            if operation_id == "create_webhook_subscription":
                links = {
                    name: {**link, "parameters": _SUBSCRIPTION_ID}
                    for name, link in SUBSCRIPTION_LINKS.items()
                }
                operation["responses"]["201"]["links"] = links
            elif operation_id == "list_webhook_deliveries":
                operation["responses"]["200"]["links"] = DELIVERY_LINKS
            elif method == "get" and "ETag" in operation["responses"]["200"].get("headers", {}):
                operation["responses"]["200"]["links"] = _conditional_writes(item)
    return result


def _value_as_json(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] == LOOKUP_VALUE:
            for member in ("schema", "style", "explode"):
                parameter.pop(member, None)
            parameter["content"] = {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{METADATA_VALUE}"},
                    "example": "id_6c8f1262fdbc",
                }
            }


def _conditional_writes(item: dict[str, Any]) -> dict[str, Any]:
    """From a read document to PUT and PATCH of the same object with its ETag."""
    return {
        f"{method.capitalize()}IfUnchanged": {
            "operationId": item[method]["operationId"],
            "parameters": {
                "identifier": "$request.path.identifier",
                f"header.{headers.IF_MATCH}": f"$response.header.{headers.ETAG}",
            },
        }
        for method in ("put", "patch")
        if method in item
    }
