"""`python -m tests.require_postgres URL`: fail loudly (never skip) when PostgreSQL is not there."""

import sys

import psycopg


def main(url: str) -> int:
    server_url = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(server_url, connect_timeout=5):
            return 0
    except psycopg.OperationalError as error:
        print(
            f"PostgreSQL is not reachable at {server_url}: {error}\n"
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
            " or set TEST_DATABASE_URL. The PostgreSQL tests are never skipped.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
