"""Per-address rate limits on Django's cache (CACHE_URL: locmem by default, Redis in production).

A limit is a number of hits per window (fixed windows of `window` seconds) for one scope
(e.g. "sign_in") and one key (usually the client's address). Keys are hashed, so the cache
never holds addresses or emails in clear.

    from portico.core import ratelimit

    ratelimit.limit_hit("password_reset", ratelimit.client_address(request))  # may raise
    # or, to count only failures:
    ratelimit.limit_check("sign_in", address)   # raises RateLimited when already over
    ratelimit.limit_record("sign_in", address)  # after a failure

The numbers per scope come from settings.PORTICO_RATE_LIMITS ({scope: (hits, seconds)});
a scope not listed there needs `rate=(hits, seconds)`.

With several processes, use a shared cache (redis://): locmem counts per process.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import caches

CACHE_ALIAS = "default"


class RateLimited(Exception):
    """Too many hits for this scope and key; `retry_after` is in whole seconds."""

    def __init__(self, scope: str, retry_after: int):
        super().__init__(f"rate limit {scope!r} reached; retry after {retry_after} s")
        self.scope = scope
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, at least 1, for messages to people."""
        return max(1, math.ceil(self.retry_after / 60))


def client_address(request) -> str:
    """The address limits apply to: REMOTE_ADDR, or behind PORTICO_TRUSTED_PROXY_HOPS proxies
    that each append to X-Forwarded-For, the address the outermost of them saw. (Entries
    further left are written by the client and cannot be trusted.)"""
    hops = settings.PORTICO_TRUSTED_PROXY_HOPS
    if hops:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [part.strip() for part in forwarded if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _rate(scope: str, rate: tuple[int, int] | None) -> tuple[int, int]:
    if rate is not None:
        return rate
    try:
        return tuple(settings.PORTICO_RATE_LIMITS[scope])
    except KeyError as exc:
        raise KeyError(f"No rate for {scope!r}: add it to PORTICO_RATE_LIMITS") from exc


def _window(scope: str, key: str, seconds: int) -> tuple[str, int]:
    now = time.time()
    start = int(now // seconds) * seconds
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    retry_after = max(1, math.ceil(start + seconds - now))
    return f"portico:rl:{scope}:{digest}:{start}", retry_after


def _count(cache_key: str) -> int:
    return int(caches[CACHE_ALIAS].get(cache_key) or 0)


def limit_check(scope: str, key: str, *, rate: tuple[int, int] | None = None) -> None:
    """Raise RateLimited if `key` has already used up its hits in this window."""
    hits, seconds = _rate(scope, rate)
    cache_key, retry_after = _window(scope, key, seconds)
    if _count(cache_key) >= hits:
        raise RateLimited(scope, retry_after)


def limit_record(scope: str, key: str, *, rate: tuple[int, int] | None = None) -> int:
    """Count one hit for `key` in this window and return the count so far."""
    _hits, seconds = _rate(scope, rate)
    cache_key, _retry_after = _window(scope, key, seconds)
    cache = caches[CACHE_ALIAS]
    # add() only sets a missing key, so concurrent first hits do not reset each other;
    # incr() is atomic on Redis and under locmem's lock.
    cache.add(cache_key, 0, timeout=seconds + 1)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.add(cache_key, 1, timeout=seconds + 1)
        return 1


def limit_hit(scope: str, key: str, *, rate: tuple[int, int] | None = None) -> None:
    """Count one hit and raise RateLimited if it goes over the limit (atomic: count, then judge)."""
    hits, seconds = _rate(scope, rate)
    if limit_record(scope, key, rate=(hits, seconds)) > hits:
        _cache_key, retry_after = _window(scope, key, seconds)
        raise RateLimited(scope, retry_after)
