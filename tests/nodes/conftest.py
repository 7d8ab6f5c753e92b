"""Several web nodes over one PostgreSQL, one Redis and one S3, as production runs them.

The nodes (gunicorn, sync workers) serve the test database, so the tests that use them are
transactional: what a test writes is committed and seen by the nodes, and the other way round.
The nodes, Redis and S3 last for the module; Redis is emptied before each test, since the
database is (a cached host → tenant would outlive its rows).
"""

import os

import pytest
from django.db import connections

from tests.background.workers import database_url
from tests.s3 import ENVIRONMENT, endpoint_of, moto_server, new_bucket
from tests.servers import Node, Process, Redis


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("nodes")


@pytest.fixture(scope="module")
def redis_server(log_dir):
    with Redis(log_dir) as server:
        yield server


@pytest.fixture(scope="module")
def s3_bucket():
    with moto_server() as server:
        endpoint = endpoint_of(server)
        yield endpoint, new_bucket(endpoint)


@pytest.fixture(scope="module")
def _deployment_env(django_db_setup, redis_server, s3_bucket, log_dir):
    endpoint, bucket = s3_bucket
    env = {
        **os.environ,
        **ENVIRONMENT,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        "DATABASE_URL": database_url("default"),
        "CACHE_URL": redis_server.url,
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "ERP_SYNC_POLL_SECONDS": "0.2",
        "PORTAL_TEST_DIR": str(log_dir),  # settings_test's files of their own
    }
    env.pop("ERP_DATABASE_URL", None)
    if "erp" in connections:
        env["ERP_DATABASE_URL"] = database_url("erp")
    return env


@pytest.fixture
def node_env(_deployment_env, redis_server):
    """The environment of every process of the deployment: nodes, followers, commands."""
    redis_server.flush()
    return _deployment_env


@pytest.fixture(scope="module")
def _nodes(_deployment_env, log_dir):
    started = [Node(name, _deployment_env, log_dir) for name in ("node-a", "node-b")]
    try:
        for node in started:
            Process.start(node)
        for node in started:
            node.wait_ready()
        yield started
    finally:
        for node in started:
            node.stop()


@pytest.fixture
def nodes(_nodes, node_env):
    """Two web nodes, A and B, started together (once for the module)."""
    return _nodes
