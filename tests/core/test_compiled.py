"""Compiled queries (`metadata.compiled`) answer as the ORM does, with any bound values."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F, Value

from metadata.compiled import Placeholder, _name_parameters, compile_query
from metadata.expressions import ObjectIdOf
from metadata.models import User

pytestmark = pytest.mark.django_db


def _active_by_email(email: str) -> object:
    return User.objects.filter(email=email, is_active=True).order_by().values_list("email")[:1]


def test_a_compiled_query_answers_as_the_orm_for_every_value(demo: None) -> None:
    compiled = compile_query(
        _active_by_email,
        {"email": Placeholder("\x00sentinel\x00", User._meta.get_field("email"))},
        "default",
    )
    emails = [*User.objects.values_list("email", flat=True), "nobody@example.com"]
    for email in emails:
        assert compiled.rows(email=email) == list(_active_by_email(email)), email


def test_a_placeholder_must_appear_in_the_query() -> None:
    with pytest.raises(ValueError, match="does not appear"):
        compile_query(
            lambda email: User.objects.filter(is_active=True),
            {"email": Placeholder("\x00sentinel\x00", User._meta.get_field("email"))},
            "default",
        )


def test_named_parameters_bind_a_repeated_value_once_and_keep_literal_percents() -> None:
    sql = "SELECT %s, '100%%' WHERE a = %s AND b = %s AND c = %s"
    named, constants = _name_parameters(sql, (1, "u", 1, "u"), {"user": (1, 3)})
    assert named == (
        "SELECT %(constant_0)s, '100%%' WHERE a = %(user)s AND b = %(constant_0)s AND c = %(user)s"
    )
    assert constants == {"constant_0": 1}


def test_named_parameters_refuse_sql_that_does_not_match_its_parameters() -> None:
    with pytest.raises(ValueError, match="one %s per parameter"):
        _name_parameters("SELECT %s", (1, 2), {})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="named on PostgreSQL only")
def test_on_postgresql_the_callers_id_is_sent_once(demo: None) -> None:
    from metadata.linkables import by_name
    from metadata.selectors import _compiled_target_query, _TargetShape

    shape = _TargetShape(with_flags=True, with_document=True, for_client=False, with_key=False)
    compiled = _compiled_target_query(by_name("COUNTERPART"), shape)
    assert compiled.sql.count("%(user_id)s") > 1
    assert set(compiled.params) & {"user_id", "key", "content_type_id"} == set()
    shape = _TargetShape(with_flags=True, with_document=True, for_client=True, with_key=True)
    compiled = _compiled_target_query(by_name("COUNTERPART"), shape)
    assert compiled.sql.count("%(client_id)s") > 1  # the served entity and the flags
    assert set(compiled.params) & {"user_id", "client_id", "key", "content_type_id"} == set()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the dashed form is SQLite's")
def test_a_uuid_object_id_on_sqlite_is_built_from_a_column_only() -> None:
    user = User.objects.create(email="dashes@example.com")
    by_column = User.objects.annotate(object_id=ObjectIdOf(F("pk"), is_uuid=True))
    assert by_column.values_list("object_id", flat=True).get(pk=user.pk) == str(user.pk)
    with pytest.raises(ValueError, match="takes a column"):
        str(User.objects.annotate(object_id=ObjectIdOf(Value("x"), is_uuid=True)).query)
