"""Request bodies of the REST door: strict JSON, read through the one parser of the rules.

DRF's own `JSONParser` accepts NaN and Infinity and has no depth guard; every JSON body of
the door goes through `rules.parse_json` instead, so REST and GraphQL refuse the same texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any

from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import BaseParser

from metadata import provisioning, rules
from metadata.errors import BodyTooLarge


class StrictJSONParser(BaseParser):
    """`application/json`: strict JSON of at most `rules.MAX_BODY_BYTES` bytes.

    The body size middleware refuses bodies by their declared length; this bound holds for a
    body whose length was not declared, which is read at most one byte past the limit.
    """

    media_type = "application/json"
    max_bytes = rules.MAX_BODY_BYTES

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read(self.max_bytes + 1) if stream is not None else b""
        if len(body) > self.max_bytes:
            if self.max_bytes != rules.MAX_BODY_BYTES:
                raise BodyTooLarge(self.max_bytes)
            raise RequestDataTooBig("The request body is over the limit.")
        return rules.parse_json(body)


class MergePatchJSONParser(StrictJSONParser):
    """`application/merge-patch+json` (RFC 7396's own media type), the same strict JSON."""

    media_type = "application/merge-patch+json"


class BatchJSONParser(StrictJSONParser):
    """The body of a batch (contract section 12): the same strict JSON, up to 256 KiB."""

    max_bytes = rules.MAX_BATCH_BODY_BYTES


# The REST routes whose bodies may be larger than `rules.MAX_BODY_BYTES`, by path (the first
# match decides): `BodySizeLimitMiddleware` refuses bodies over these by their declared length
# (`settings.BODY_SIZE_DOORS`), and these routes' parsers hold the same limits when reading.
BODY_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    # NDJSON lines from the platform's system of record (contract section 13).
    (re.compile(r"^/v1/provisioning/objects$"), provisioning.MAX_REQUEST_BYTES),
    # A batch of up to 100 objects' documents (contract section 12).
    (re.compile(r"^/v1/[a-z_]+/partner_metadata$"), rules.MAX_BATCH_BODY_BYTES),
)
