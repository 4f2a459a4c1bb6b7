"""HTTP around GraphQL: bodies, methods, batches, GraphiQL and CSRF."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from metadata.models import Metadata
from tests.graphql.conftest import UPDATE, URL, extensions, metadata_input, post

PYTHON_TEXT = (
    "Traceback",
    "JSONDecodeError",
    "UnicodeDecodeError",
    "RecursionError",
    "codec",
    "Expecting value",
    "line 1 column",
    "django.",
)
HTML = {"Accept": "text/html,application/xhtml+xml"}


def assert_clean_400(response) -> dict:
    assert response.status_code == 400, response.content
    text = response.content.decode()
    assert not any(leak in text for leak in PYTHON_TEXT), text
    return response.json()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"query": "{ __typename }", "variables": {"x": NaN}}',
        b"[" * 5000 + b"]" * 5000,
        b'{"query": "\xff\xfe"}',
        b"",
        b'{"query": "{ __typename }", "variables": {"id": "A-\\ud800"}}',
    ],
    ids=["malformed", "nan", "deep", "not-utf8", "empty", "lone-surrogate"],
)
def test_bad_bodies_are_400_without_python_text(db, body):
    response = Client().post(URL, body, content_type="application/json")
    assert assert_clean_400(response)["errors"][0]["message"]


def test_batches_are_refused_before_any_work(db):
    batch = [{"query": "{ __typename }"}] * 3
    response = Client().post(URL, batch, content_type="application/json")
    body = assert_clean_400(response)
    assert "batches are not supported" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "envelope, message",
    [
        ({"query": 42}, "query must be a string"),
        ({"query": "{ __typename }", "variables": [1]}, "variables must be a JSON object"),
        ({"query": "{ __typename }", "operationName": 7}, "operationName must be a string"),
        ({"variables": {}}, "Must provide query string"),
    ],
)
def test_malformed_envelopes_are_400(db, envelope, message):
    response = Client().post(URL, envelope, content_type="application/json")
    assert message in assert_clean_400(response)["errors"][0]["message"]


@pytest.mark.parametrize(
    "query, variables, message",
    [
        ("mutation {", None, "Syntax Error"),
        ("{ metadata { key } }", None, "argument 'linkedObjectType'"),
        (
            '{ metadata(linkedObjectType: ACCOUNT_NUMBER, identifier: "x") { key } }',
            None,
            "ACCOUNT_NUMBER",
        ),
        (UPDATE, metadata_input(identifier=5), "String cannot represent"),
        (UPDATE, metadata_input(linked_object_type="ACCOUNT_NUMBER"), "ACCOUNT_NUMBER"),
        (UPDATE, {"input": {"linkedObjectType": "ACCOUNT"}}, "was not provided"),
        (UPDATE, None, "was not provided"),
    ],
)
def test_malformed_graphql_is_reported_as_graphql_core_words_it(gql, query, variables, message):
    response = gql(query, variables)
    body = assert_clean_400(response)
    assert message in body["errors"][0]["message"], body
    assert not Metadata.objects.exists()


@pytest.mark.parametrize("variables", ['{"id": "\\udc00"}', '{"id": NaN}', "[" * 3000])
def test_get_variables_are_parsed_strictly(db, variables):
    query = "query ($id: String!) { metadata(linkedObjectType: ACCOUNT, identifier: $id) { key } }"
    response = Client().get(URL, {"query": query, "variables": variables})
    assert "Variables are invalid JSON" in assert_clean_400(response)["errors"][0]["message"]


def test_application_graphql_bodies(db):
    response = Client().post(URL, "{ __typename }", content_type="application/graphql")
    assert response.json() == {"data": {"__typename": "Query"}}


def test_get_runs_queries_but_not_mutations(db):
    client = Client()
    assert client.get(URL, {"query": "{ __typename }"}).json() == {"data": {"__typename": "Query"}}
    mutation = client.get(URL, {"query": "mutation { __typename }"})
    assert mutation.status_code == 405
    assert "POST" in mutation.json()["errors"][0]["message"]


def test_other_methods_are_405(db):
    assert Client().put(URL, "{}", content_type="application/json").status_code == 405


def test_graphiql_on_get_from_a_browser(db):
    response = Client().get(URL, headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"graphiql" in response.content.lower()


def test_the_graphiql_page_is_held_to_the_gateway_origin(db):
    response = Client().get(URL, headers={"Accept": "text/html"})
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert b"cdn" not in response.content.lower()


@pytest.mark.parametrize(
    "send",
    [
        lambda client: client.post(
            URL, {"query": "{ __typename }"}, content_type="application/json", headers=HTML
        ),
        lambda client: client.get(URL, {"query": "{ __typename }", "raw": ""}, headers=HTML),
    ],
    ids=["post", "get-raw"],
)
def test_only_a_page_load_gets_graphiql(db, send):
    """A POST, or a GET that asks for the raw answer, is an API call even from a browser."""
    response = send(Client())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"data": {"__typename": "Query"}}
    assert "Content-Security-Policy" not in response


def test_bodies_over_64_kib_are_refused_before_parsing(db):
    body = json.dumps({"query": "{ __typename }", "pad": "x" * 70_000})
    response = Client().post(URL, body, content_type="application/json")
    assert response.status_code == 413


class TestCsrf:
    """Stack note 2: a real browser client is CSRF-checked; header-authenticated ones are not."""

    def test_header_authenticated_posts_need_no_csrf_token(self, token_for):
        client = Client(enforce_csrf_checks=True)
        client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
        response = post(
            client,
            UPDATE,
            metadata_input(),
            authorization=f"JWT {token_for('partner@example.com')}",
        )
        assert response.status_code == 200
        assert response.json()["data"]["updateMetadata"]["metadata"]

    def test_only_the_graphiql_page_sets_the_csrf_cookie(self, token_for):
        client = Client()
        token = token_for("partner@example.com")
        api = post(client, "{ __typename }", authorization=f"JWT {token}")
        assert api.status_code == 200
        assert settings.CSRF_COOKIE_NAME not in api.cookies
        page = client.get(URL, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.cookies[settings.CSRF_COOKIE_NAME].value

    def test_cookieless_posts_need_no_csrf_token(self, demo):
        response = post(Client(enforce_csrf_checks=True), UPDATE, metadata_input())
        assert response.status_code == 200
        assert extensions(response.json())["errorCode"] == "KT-CT-1112"

    def test_cookie_session_posts_without_a_csrf_token_are_refused(self, demo):
        client = Client(enforce_csrf_checks=True)
        client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
        response = post(client, UPDATE, metadata_input())
        assert response.status_code == 403
        assert not Metadata.objects.exists()

    def test_cookie_session_posts_with_the_csrf_token_pass(self, demo):
        client = Client(enforce_csrf_checks=True)
        page = client.get(URL, headers={"Accept": "text/html"})
        csrf = page.cookies[settings.CSRF_COOKIE_NAME].value
        client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
        response = post(client, UPDATE, metadata_input(), HTTP_X_CSRFTOKEN=csrf)
        assert response.status_code == 200
        assert extensions(response.json())["errorCode"] == "KT-CT-1112"
