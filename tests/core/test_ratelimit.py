"""The per-address limiter (portico/core/ratelimit.py) on Django's cache."""

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from portico.core import ratelimit
from portico.core.env import parse_cache_url

RATE = (3, 60)


def test_hits_over_the_limit_are_refused_until_the_window_ends():
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        for _ in range(3):
            ratelimit.limit_hit("test", "198.51.100.1", rate=RATE)
        with pytest.raises(ratelimit.RateLimited) as refused:
            ratelimit.limit_hit("test", "198.51.100.1", rate=RATE)
        assert 0 < refused.value.retry_after <= 60
        # Other addresses and other scopes count on their own.
        ratelimit.limit_hit("test", "198.51.100.2", rate=RATE)
        ratelimit.limit_hit("other", "198.51.100.1", rate=RATE)

        traveller.shift(60)
        ratelimit.limit_hit("test", "198.51.100.1", rate=RATE)


def test_check_refuses_only_once_recorded_hits_reach_the_limit():
    for _ in range(2):
        ratelimit.limit_check("test", "k", rate=RATE)
        ratelimit.limit_record("test", "k", rate=RATE)
    ratelimit.limit_check("test", "k", rate=RATE)
    ratelimit.limit_record("test", "k", rate=RATE)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.limit_check("test", "k", rate=RATE)


def test_scopes_take_their_numbers_from_settings(settings):
    settings.PORTICO_RATE_LIMITS = {"tiny": (1, 60)}
    ratelimit.limit_hit("tiny", "k")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.limit_hit("tiny", "k")


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("locmem://", "django.core.cache.backends.locmem.LocMemCache"),
        ("redis://127.0.0.1:6379/0", "django.core.cache.backends.redis.RedisCache"),
        ("rediss://cache.internal:6380/1", "django.core.cache.backends.redis.RedisCache"),
    ],
)
def test_cache_url_picks_the_backend(url, backend):
    config = parse_cache_url(url)
    assert config["BACKEND"] == backend
    if "redis" in url:
        assert config["LOCATION"] == url


def test_unknown_cache_url_scheme_stops_start_up():
    with pytest.raises(ImproperlyConfigured):
        parse_cache_url("memcached://x")


def test_behind_a_proxy_the_address_it_saw_counts_not_what_the_client_wrote(settings, rf):
    settings.PORTICO_TRUSTED_PROXY_HOPS = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    assert ratelimit.client_address(request) == "198.51.100.9"

    settings.PORTICO_TRUSTED_PROXY_HOPS = 0
    assert ratelimit.client_address(request) == "10.0.0.2"
