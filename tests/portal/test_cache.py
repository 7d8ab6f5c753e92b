"""portal.cache.RedisCache: Django's Redis cache with one client per pool (issue 13), against
the real Redis; gunicorn's workers sharing it are in test_shared_cache.py."""

import os

import pytest

from portal.cache import RedisCache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.mark.postgres
def test_one_client_serves_every_call_and_a_forked_child():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache"})
    cache.clear()
    cache.set("tenant", {"slug": "alfa"})
    cache.set_many({"row:1": "<tr>1</tr>", "row:2": "<tr>2</tr>"})

    assert cache.get("tenant") == {"slug": "alfa"}
    assert cache.get_many(["row:1", "row:2", "row:3"]) == {
        "row:1": "<tr>1</tr>",
        "row:2": "<tr>2</tr>",
    }
    clients = {id(cache._cache.get_client(write=write)) for write in (False, True, False)}
    assert len(clients) == 1

    # A gunicorn worker is a fork of a process that may have used the cache already.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, cache.get("row:2").encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 100) == b"<tr>2</tr>"
    cache.clear()
