"""S3 for tests: moto's server on 127.0.0.1 (a port the OS picks) and fresh private buckets,
with the storage configured as production configures it (portal.settings.s3_storage)."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto.server import ThreadedMotoServer

from portal.settings import s3_storage

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "teste", "aws_secret_access_key": "teste"}
# What a process started by a test needs in its environment to reach the same bucket.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
    "AWS_DEFAULT_REGION": REGION,
}


@contextmanager
def moto_server() -> Iterator[ThreadedMotoServer]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def endpoint_of(server: ThreadedMotoServer) -> str:
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


def new_bucket(endpoint: str) -> str:
    bucket = f"portal-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return bucket


def storage_settings(endpoint: str, bucket: str) -> dict:
    """STORAGES["default"] for this bucket, as portal.settings builds it in production."""
    return s3_storage(
        bucket=bucket,
        endpoint_url=endpoint,
        region_name=REGION,
        access_key=CREDENTIALS["aws_access_key_id"],
        secret_key=CREDENTIALS["aws_secret_access_key"],
    )
