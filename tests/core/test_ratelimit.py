"""The shared rate limit both doors use."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from metadata import ratelimit


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    cache.clear()


def test_a_caller_is_refused_past_the_rate_with_seconds_to_wait() -> None:
    rate = ratelimit.Rate(requests=3, seconds=60)
    decisions = [ratelimit.check("user", "alice", rate) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 1 <= decisions[-1].retry_after <= 60


def test_callers_do_not_share_a_budget() -> None:
    rate = ratelimit.Rate(requests=1, seconds=60)
    assert ratelimit.check("user", "alice", rate).allowed
    assert not ratelimit.check("user", "alice", rate).allowed
    assert ratelimit.check("user", "bob", rate).allowed
    assert ratelimit.check("anonymous", "alice", rate).allowed


def test_a_cache_that_does_not_answer_allows_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: None)
    monkeypatch.setattr(cache, "incr", lambda *args, **kwargs: None)
    rate = ratelimit.Rate(requests=1, seconds=60)
    assert all(ratelimit.check("user", "alice", rate).allowed for _ in range(5))


@pytest.mark.parametrize(
    ("text", "rate"),
    [("600/min", (600, 60)), ("10/s", (10, 1)), ("5000/hour", (5000, 3600)), ("1/day", (1, 86400))],
)
def test_rates_are_written_as_drf_writes_them(text: str, rate: tuple[int, int]) -> None:
    parsed = ratelimit.Rate.parse(text)
    assert (parsed.requests, parsed.seconds) == rate


def test_a_window_another_request_started_first_counts_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rate = ratelimit.Rate(requests=2, seconds=60)
    real_incr = cache.incr
    raced: list[str] = []

    def incr_racing_another_request(key: str, *args: object, **kwargs: object) -> int:
        if not raced:  # no counter yet; the other request creates it before our `add`
            raced.append(key)
            cache.add(key, 1, timeout=61)
            raise ValueError(key)
        return real_incr(key, *args, **kwargs)

    monkeypatch.setattr(cache, "incr", incr_racing_another_request)
    assert ratelimit.check("user", "alice", rate).allowed  # the window's second request
    assert not ratelimit.check("user", "alice", rate).allowed
    assert raced
