"""A fixed-window counter per client IP in the cache (Redis in production, shared by every web
node): public pages that do work for anonymous visitors answer 429 past the limit."""

import time

from django.core.cache import cache


def rate_limit_exceeded(request, *, scope: str, limit: int, window: int) -> bool:
    """Count this request; True once the IP made more than `limit` in the current window."""
    ip = request.META.get("REMOTE_ADDR", "")
    key = f"ratelimit:{scope}:{ip}:{int(time.time() // window)}"
    if cache.add(key, 1, window):
        return limit < 1
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return limit < 1
