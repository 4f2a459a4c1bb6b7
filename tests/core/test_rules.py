"""The rules of contract section 4, at their boundaries, plus properties of the size function."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metadata import rules
from metadata.errors import NotJSON, RuleViolation


def json_values(max_leaves: int = 10) -> st.SearchStrategy:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53), max_value=2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def violation_types(document: object) -> list[str]:
    with pytest.raises(RuleViolation) as caught:
        rules.check_document(document)
    return [v.type for v in caught.value.violations]


def document_of_size(size: int) -> dict[str, str]:
    """{"k":"xxx..."} is 8 bytes of envelope plus the string."""
    return {"k": "x" * (size - len('{"k":""}'))}


class TestSize:
    def test_exactly_2000_bytes_is_accepted(self) -> None:
        document = document_of_size(2000)
        assert rules.document_size(document) == 2000
        rules.check_document(document)

    def test_2001_bytes_is_refused_with_both_numbers(self) -> None:
        with pytest.raises(RuleViolation) as caught:
            rules.check_document(document_of_size(2001))
        assert caught.value.message == "metadata is 2001 bytes; the limit is 2000"

    def test_multibyte_text_counts_utf8_bytes_not_characters(self) -> None:
        document = {"k": "é" * 996}  # 8 + 2 * 996 = 2000 bytes, 1000 characters
        assert rules.document_size(document) == 2000
        rules.check_document(document)
        assert violation_types({"k": "é" * 997}) == ["value_error.too_large"]

    def test_size_is_compact_and_sorted(self) -> None:
        assert rules.canonical_json({"b": [1, 2], "a": {"y": 1, "x": None}}) == (
            '{"a":{"x":null,"y":1},"b":[1,2]}'
        )

    @given(st.dictionaries(st.text(max_size=10), json_values(), max_size=6))
    def test_size_ignores_key_order(self, document: dict) -> None:
        reversed_document = dict(reversed(list(document.items())))
        assert rules.document_size(document) == rules.document_size(reversed_document)

    @given(st.dictionaries(st.text(max_size=10), json_values(), max_size=6))
    def test_size_is_the_utf8_length_of_compact_json(self, document: dict) -> None:
        expected = json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        assert rules.document_size(document) == len(expected.encode("utf-8"))

    @given(json_values(max_leaves=20))
    def test_nesting_a_value_adds_exactly_its_brackets(self, value: object) -> None:
        inner = rules.document_size({"k": value})
        assert rules.document_size({"k": [value]}) == inner + 2
        assert rules.document_size({"k": {"n": value}}) == inner + len('{"n":}')

    @given(st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=50))
    def test_escaped_and_raw_text_count_the_same(self, text: str) -> None:
        assert rules.document_size({"k": text}) == rules.document_size(
            json.loads(json.dumps({"k": text}, ensure_ascii=True))
        )


class TestKeys:
    def test_100_characters_is_accepted(self) -> None:
        rules.check_document({"k" * 100: 1})

    def test_101_characters_is_refused_with_the_length(self) -> None:
        with pytest.raises(RuleViolation) as caught:
            rules.check_document({"k" * 101: 1})
        assert caught.value.message == "key is 101 characters; the limit is 100"
        assert caught.value.violations[0].loc == ("metadata", "k" * 101)

    def test_empty_key_is_refused(self) -> None:
        assert violation_types({"": 1}) == ["value_error.key.empty"]

    @pytest.mark.parametrize("key", [" ", "   ", "\u00a0\u3000"])
    def test_white_space_only_key_is_refused(self, key: str) -> None:
        assert violation_types({key: 1}) == ["value_error.key.blank"]

    @pytest.mark.parametrize("char", ["\x00", "\x01", "\n", "\x1f", "\x7f", "\x85", "\x9f"])
    def test_control_characters_are_refused(self, char: str) -> None:
        assert violation_types({f"a{char}b": 1}) == ["value_error.key.control_character"]

    def test_non_control_unicode_is_fine(self) -> None:
        rules.check_document({"ключ ✓ 键": 1, " padded ": 2})


class TestValues:
    def test_depth_16_is_accepted_and_17_refused(self) -> None:
        def nested(depth: int) -> object:
            value: object = 1
            for _ in range(depth):
                value = [value]
            return value

        assert rules.value_depth(nested(16)) == 16
        rules.check_document({"k": nested(16)})
        with pytest.raises(RuleViolation) as caught:
            rules.check_document({"k": nested(17)})
        assert caught.value.message == "value is nested 17 levels deep; the limit is 16"

    def test_depth_of_scalars_and_empty_containers(self) -> None:
        assert rules.value_depth("x") == 0
        assert rules.value_depth([]) == 1
        assert rules.value_depth({}) == 1
        assert rules.value_depth({"a": [1, {"b": []}]}) == 4

    @pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
    def test_nan_and_infinity_are_refused(self, number: float) -> None:
        assert violation_types({"k": [number]}) == ["value_error.not_finite"]

    def test_nul_is_refused_in_values_and_nested_keys(self) -> None:
        assert violation_types({"k": "a\x00b"}) == ["value_error.nul"]
        assert violation_types({"k": {"a\x00": 1}}) == ["value_error.nul"]

    def test_null_and_every_json_type_are_values(self) -> None:
        rules.check_document({"n": None, "b": False, "i": 1, "f": 1.5, "s": "", "l": [], "o": {}})

    def test_non_json_types_are_refused(self) -> None:
        assert violation_types({"k": {1, 2}}) == ["type_error.json"]

    def test_a_document_must_be_an_object(self) -> None:
        for not_object in ([], "x", 1, None):
            assert violation_types(not_object) == ["type_error.dict"]


class TestParse:
    def test_strict_json_refuses_nan_and_infinity(self) -> None:
        for text in ('{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'):
            with pytest.raises(NotJSON, match="not allowed"):
                rules.parse_json(text)

    def test_malformed_json_says_where(self) -> None:
        with pytest.raises(NotJSON, match="line 1, column"):
            rules.parse_json('{"a": }')

    def test_invalid_utf8_is_refused(self) -> None:
        with pytest.raises(NotJSON, match="not UTF-8"):
            rules.parse_json(b'{"a": "\xff"}')

    def test_hostile_nesting_never_reaches_the_recursion_limit(self) -> None:
        with pytest.raises(RuleViolation, match="nested 100000 levels deep"):
            rules.parse_json("[" * 100_000 + "]" * 100_000)

    def test_brackets_inside_strings_do_not_count(self) -> None:
        text = json.dumps({"k": "[" * 1000})
        assert rules.parse_json(text) == {"k": "[" * 1000}


class TestMergePatch:
    @pytest.mark.parametrize(
        ("document", "patch", "expected"),
        [  # RFC 7396, appendix A (the cases that apply to an object document)
            ({"a": "b"}, {"a": "c"}, {"a": "c"}),
            ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
            ({"a": "b"}, {"a": None}, {}),
            ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
            ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
            ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
            ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
            ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
            ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
            ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        ],
    )
    def test_rfc_7396_examples(self, document: dict, patch: dict, expected: dict) -> None:
        assert rules.apply_merge_patch(document, patch) == expected

    def test_the_input_document_is_not_mutated(self) -> None:
        document = {"a": {"b": 1}}
        rules.apply_merge_patch(document, {"a": {"b": 2}})
        assert document == {"a": {"b": 1}}


def test_etag_ignores_key_order_and_tracks_content() -> None:
    assert rules.document_etag({"a": 1, "b": 2}) == rules.document_etag({"b": 2, "a": 1})
    assert rules.document_etag({"a": 1}) != rules.document_etag({"a": 1.0})
    assert rules.document_etag({}).startswith('"')
