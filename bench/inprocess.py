"""Each customer page's time in one process, without gunicorn or wrk: where a request's time goes.

    .venv/bin/python -m bench.inprocess [--db-url …/portal_perf_bench] [--profile PAGE]

On a `bench.seed` database, with the production settings `bench.web` serves (Redis cache, DEBUG
off), Django's test client logs in as the heaviest customer (20,000 orders) and asks each page
5 times, then 7 batches of 30; prints the fastest and the median batch's time per request (the
database and Redis on this machine included). `--profile PAGE` adds cProfile's 40 largest
cumulative entries for 30 more requests of that page.
"""

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/portal_perf_bench")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--profile", help="a page to profile: painel, pedidos, search, detail, pdf")
    options = parser.parse_args()
    if os.environ.get("DJANGO_SETTINGS_MODULE") != "bench.settings_portal":
        from bench.seed import django_env

        static = tempfile.mkdtemp(prefix="bench-inprocess-")
        env = {
            **django_env(options.db_url),
            "DJANGO_SETTINGS_MODULE": "bench.settings_portal",
            "CACHE_URL": options.cache_url,
            "STATIC_ROOT": static,
            "MEDIA_ROOT": str(ROOT / "var" / "bench-media" / options.db_url.rsplit("/", 1)[1]),
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        os.execvpe(sys.executable, [sys.executable, "-m", "bench.inprocess", *sys.argv[1:]], env)
    measure(options.profile)


def measure(profiled: str | None) -> None:
    import django

    django.setup()
    from django.test import Client
    from django_scopes import scopes_disabled

    from bench.seed import HEAVY_CUSTOMER, PASSWORD, SEARCH_TERM
    from proposals.models import Order

    client = Client(HTTP_HOST="t001.bench.localhost")
    login = {"username": f"c{HEAVY_CUSTOMER}@bench.test", "password": PASSWORD}
    assert client.post("/entrar/", login).status_code == 302
    with scopes_disabled():
        number = (
            Order.objects.filter(tenant__slug="t001", customer__erp_id=HEAVY_CUSTOMER)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
    pages = {
        "painel": "/",
        "pedidos": "/pedidos/",
        "search": f"/pedidos/?q={SEARCH_TERM}",
        "detail": f"/pedidos/{number}/",
        "pdf": f"/pedidos/{number}/proposta.pdf",
    }

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)

    for name, path in pages.items():
        for _ in range(5):
            get(path)
        batches = []
        for _ in range(7):
            started = time.perf_counter()
            for _ in range(30):
                get(path)
            batches.append((time.perf_counter() - started) / 30 * 1000)
        batches.sort()
        print(f"{name:8} {path:32} fastest {batches[0]:6.2f} ms  median {batches[3]:6.2f} ms")
    if profiled:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(30):
            get(pages[profiled])
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
