"""Finding 8: `If-Match` is read in one pass, whatever the client sends.

The old reader was a `finditer` of a backtracking pattern: an 8 KB header of one long word
and a space cost about a second of CPU, and the scan then "found" a tag at the end of the
malformed element. The reader now splits the list once (quotes respected) and takes each
element whole: a well-formed header reads exactly as before, and an element that is not one
entity tag matches nothing (a conditional write with it answers 412 and writes nothing).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from metadata.rest.headers import if_match
from tests.conftest import COUNTERPART_ONE, PARTNER
from tests.rest.conftest import JSON, url

PATH = url("counterparts", COUNTERPART_ONE)

# The old reader, kept as the reference for well-formed headers.
_OLD_ENTITY_TAG = re.compile(r'\s*(\*|(?:W/)?"[^"]*"|[^,\s]+)\s*(?:,|$)')


def old_if_match(header: str) -> list[str]:
    tags = []
    for match in _OLD_ENTITY_TAG.finditer(header):
        tag = match.group(1)
        if tag != "*" and not tag.endswith('"'):
            tag = f'"{tag}"'
        tags.append(tag)
    return tags


def read(header: str | None) -> list[str] | None:
    extra = {} if header is None else {"HTTP_IF_MATCH": header}
    return if_match(RequestFactory().get("/", **extra))


# Elements of a well-formed list: `*`, strong and weak quoted tags (commas and spaces allowed
# inside the quotes), and bare tags (clients that drop the quotes).
_quoted = st.text(st.characters(blacklist_characters='"', codec="latin-1"), max_size=12)
_element = st.one_of(
    st.just("*"),
    _quoted.map(lambda s: f'"{s}"'),
    _quoted.map(lambda s: f'W/"{s}"'),
    st.text(st.sampled_from("abcdef0123456789-_./W:"), min_size=1, max_size=12),
)
_ows = st.text(st.sampled_from(" \t"), max_size=2)


@given(st.lists(st.tuples(_ows, _element, _ows), max_size=6))
def test_a_well_formed_header_reads_as_before(elements: list[tuple[str, str, str]]) -> None:
    header = ",".join(f"{before}{element}{after}" for before, element, after in elements)
    assert read(header) == old_if_match(header)


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        (None, None),
        ("", []),
        ("   ", []),
        (",,, ,", []),
        ("*", ["*"]),
        ('"abc"', ['"abc"']),
        ('W/"abc"', ['W/"abc"']),
        ("abc", ['"abc"']),
        ('"a", W/"b" ,*, c', ['"a"', 'W/"b"', "*", '"c"']),
        ('"a,b", "c d"', ['"a,b"', '"c d"']),
        ('"a",,"b",', ['"a"', '"b"']),
        ('"unterminated', ['""unterminated"']),  # a bare word, as before
        ("W/abc", ['"W/abc"']),
    ],
)
def test_headers_read_as_before(header: str | None, tags: list[str] | None) -> None:
    assert read(header) == tags
    if header is not None:
        assert old_if_match(header) == tags


@pytest.mark.parametrize(
    "header",
    ['"stale" "current"', "stale current", 'x"a,b" current', '"a"x, "b" "c"'],
)
def test_an_element_that_is_not_one_tag_matches_nothing(header: str) -> None:
    """The old scan picked a tag out of the middle or tail of a malformed element."""
    assert not {'"current"', '"b"', '"c"'} & set(read(header) or [])


@pytest.fixture
def partner_client(token_for: Any) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_for(PARTNER)}"})


def write(client: Client, if_match_header: str) -> Any:
    return client.put(
        PATH,
        json.dumps({"metadata": {"written": True}}),
        content_type=JSON,
        headers={"If-Match": if_match_header},
    )


@pytest.mark.parametrize("size", [8 * 1024, 64 * 1024])
def test_a_pathological_header_is_answered_412_and_writes_nothing(
    partner_client: Client, size: int
) -> None:
    before = partner_client.get(PATH)
    etag = before["ETag"]
    header = "a" * size + " " + etag.strip('"')  # one malformed element ending in the tag
    refused = write(partner_client, header)
    assert refused.status_code == 412, refused.content
    assert partner_client.get(PATH).json() == before.json()


@pytest.mark.parametrize("template", ['"stale" {etag}', "{bare} {bare}", '"stale" {bare}'])
def test_a_malformed_header_never_matches_the_current_tag(
    partner_client: Client, template: str
) -> None:
    before = partner_client.get(PATH)
    etag = before["ETag"]
    refused = write(partner_client, template.format(etag=etag, bare=etag.strip('"')))
    assert refused.status_code == 412, refused.content
    assert partner_client.get(PATH).json() == before.json()


def test_a_well_formed_header_with_the_current_tag_writes(partner_client: Client) -> None:
    etag = partner_client.get(PATH)["ETag"]
    assert write(partner_client, f'"stale", {etag}').status_code == 200
    assert write(partner_client, etag).status_code == 412  # the document changed
