"""Parts of the pages that only the ERP changes, rendered once per ERP version.

The items, payment terms and totals of an order are the ERP's rows as the mirror copied them:
every change the ERP makes is a new `erp_version` (DESIGN.md, "The ERP contract"), so the HTML
of one version in one language never changes. The detail page takes it from the cache (shared by all
web workers) and skips the items' and installments' queries and their rendering, the largest
part of the page. The rows of PAINEL and PEDIDOS are the same kind of part: an order at one
version, on one day (its validity badge counts days). Nothing of the customer's own (approval,
signature, timeline) is cached here but what a row's key names (`state`).
"""

import datetime
import functools
import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.template import engines
from django.template.loader import render_to_string
from django.utils.translation import get_language
from markupsafe import Markup

from proposals.models import Order

TEMPLATE = "proposals/_order_body.html"
# A version never changes; the day only bounds what an idle order keeps in the cache.
CACHE_SECONDS = 24 * 60 * 60


ROW_TEMPLATES = {
    "action": "proposals/_row_action.html",  # PAINEL: awaiting the customer's action
    "latest": "proposals/_row_latest.html",  # PAINEL: latest orders, with installments
    "list": "proposals/_row_list.html",  # PEDIDOS
}


@functools.cache
def _templates_digest(template: str) -> str:
    """The fragment's templates as deployed: a new release never serves an old rendering."""
    env = engines["jinja2"].env
    digest = hashlib.sha256()
    for name in (template, "proposals/_macros.html"):
        source, _filename, _uptodate = env.loader.get_source(env, name)
        digest.update(source.encode())
    return digest.hexdigest()[:12]


def _cached_html(
    template: str,
    contexts: dict[str, dict],
    prepare: Callable[[list[Order]], None] = lambda orders: None,
) -> list[Markup]:
    """`template` rendered with each context, under its cache key, in the keys' order: one
    cache read for all of them, and one write of those rendered now (after `prepare` loaded
    what their orders need)."""
    html = cache.get_many(list(contexts))
    missing = {key: context for key, context in contexts.items() if key not in html}
    if missing:
        prepare([context["order"] for context in missing.values()])
        rendered = {
            key: render_to_string(template, context, using="jinja2")
            for key, context in missing.items()
        }
        cache.set_many(rendered, CACHE_SECONDS)
        html |= rendered
    return [Markup(html[key]) for key in contexts]


def order_body_html(*, order: Order) -> Markup:
    """The items, payment terms and totals of `order` as its page shows them."""
    digest = _templates_digest(TEMPLATE)
    key = f"order-body:{order.pk}:{order.erp_version}:{get_language()}:{digest}"
    return _cached_html(TEMPLATE, {key: {"order": order}})[0]


def order_rows_html(
    *,
    orders: list[Order],
    row: str,
    day: datetime.date,
    state: Callable[[Order], str] = lambda order: "",
    prepare: Callable[[list[Order]], None] = lambda orders: None,
) -> list[Markup]:
    """Each order's row of a list (`row`: a key of ROW_TEMPLATES), in order: one cache round
    trip for all of them, and the rows not cached yet rendered and stored in another.

    `state(order)`: what the row shows beyond the order's ERP version (part of its key and its
    context). `prepare(missing)`: loads what rendering the missing rows needs (their
    installments), so a page whose rows are all cached skips that query.
    """
    template = ROW_TEMPLATES[row]
    prefix = f"order-row:{row}:{get_language()}:{day.isoformat()}:{_templates_digest(template)}"
    contexts = {}
    for order in orders:
        context = {"order": order, "day": day, "state": state(order)}
        contexts[f"{prefix}:{order.pk}:{order.erp_version}:{context['state']}"] = context
    return _cached_html(template, contexts, prepare)
