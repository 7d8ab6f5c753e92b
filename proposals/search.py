"""The PEDIDOS search: one normalized text per order, matched word by word on both databases.

`Order.search_text` holds the order's number, salesperson and notes and its items' codes,
descriptions and INFORMAÇÕES, without accents and in lower case. The mirror writes it with
each order version (`order_search_text`); a search normalizes the typed words the same way and
asks for every word in any order (`search_condition`). "manutencao" finds "Manutenção",
"aço chapa" finds "Chapa de aço", "70" finds orders 7001–7099. On PostgreSQL a trigram GIN
index (pg_trgm, migration 0004) answers `LIKE '%palavra%'` without reading every order.
"""

import re
import unicodedata
from collections.abc import Iterable

from django.db.models import Q

from proposals.models import Order, OrderItem

# Words this short match almost everything and cannot use the trigram index.
MIN_WORD = 2
MAX_WORDS = 8


# The accents of Latin script, once decomposed: one pass of C removes them all.
LATIN_MARKS = re.compile("[\u0300-\u036f]+")


def normalize(text: str | None) -> str:
    """'Manutenção  PREVENTIVA' -> 'manutencao preventiva': no combining marks, case folded,
    single spaces. The mirror computes it for every order it writes: Portuguese text is ASCII
    once its Latin marks are gone, and only other scripts take the per-character test (2.4×
    slower)."""
    if not text:
        return ""
    bare = unicodedata.normalize("NFKD", text)
    if not bare.isascii():
        bare = LATIN_MARKS.sub("", bare)
        if not bare.isascii():
            bare = "".join(c for c in bare if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def order_search_text(*, number, salesperson, notes, items: Iterable) -> str:
    """The search text of an order; `items`: (code, description, notes) of each item."""
    parts = [str(number), salesperson, notes]
    for code, description, item_notes in items:
        parts += [code, description, item_notes]
    return normalize(" ".join(part for part in parts if part))


def search_words(text: str) -> list[str]:
    words = [w for w in normalize(text).split() if len(w) >= MIN_WORD or w.isdigit()]
    return list(dict.fromkeys(words))[:MAX_WORDS]


def search_condition(text: str) -> Q | None:
    """Every word of `text` somewhere in the order (None: nothing searchable was typed).

    LIKE's own wildcards are escaped by Django's `contains`; the stored text is already in
    lower case, so no LOWER() hides the column from the index.
    """
    words = search_words(text)
    if not words:
        return None
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return condition


def search_text_refresh(*, order_ids: Iterable[int]) -> None:
    """Recompute the search text of these orders from their rows (data migration, fixtures).

    The mirror does not need it: it computes the text from the rows it is writing.
    """
    order_ids = list(order_ids)
    items: dict[int, list] = {order_id: [] for order_id in order_ids}
    rows = OrderItem.objects.filter(order_id__in=order_ids).order_by("order_id", "sequence", "id")
    for order_id, code, description, notes in rows.values_list(
        "order_id", "code", "description", "notes"
    ):
        items[order_id].append((code, description, notes))
    orders = list(Order.objects.filter(pk__in=order_ids))
    for order in orders:
        order.search_text = order_search_text(
            number=order.number,
            salesperson=order.salesperson,
            notes=order.notes,
            items=items[order.pk],
        )
    Order.objects.bulk_update(orders, ["search_text"], batch_size=500)
