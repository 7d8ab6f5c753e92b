"""Parts of an order's page that only the ERP changes, rendered once per ERP version.

The items, payment terms and totals of an order are the ERP's rows as the mirror copied them:
every change the ERP makes is a new `erp_version` (DESIGN.md, "The ERP contract"), so the HTML
of one version in one language never changes. The detail page takes it from the cache (shared by all
web workers) and skips the items' and installments' queries and their rendering, the largest
part of the page. Nothing of the customer's own (approval, signature, timeline) is cached here.
"""

import functools
import hashlib

from django.core.cache import cache
from django.template import engines
from django.template.loader import render_to_string
from django.utils.translation import get_language
from markupsafe import Markup

from proposals.models import Order

TEMPLATE = "proposals/_order_body.html"
# A version never changes; the day only bounds what an idle order keeps in the cache.
CACHE_SECONDS = 24 * 60 * 60


@functools.cache
def _templates_digest() -> str:
    """The fragment's templates as deployed: a new release never serves an old rendering."""
    env = engines["jinja2"].env
    digest = hashlib.sha256()
    for name in (TEMPLATE, "proposals/_macros.html"):
        source, _filename, _uptodate = env.loader.get_source(env, name)
        digest.update(source.encode())
    return digest.hexdigest()[:12]


def order_body_html(*, order: Order) -> Markup:
    """The items, payment terms and totals of `order` as its page shows them."""
    key = f"order-body:{order.pk}:{order.erp_version}:{get_language()}:{_templates_digest()}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(TEMPLATE, {"order": order}, using="jinja2")
        cache.set(key, html, CACHE_SECONDS)
    return Markup(html)
