"""PEDIDOS: newest issue date first, and a search that ignores accents, case and word order,
finds a number by its first digits, on SQLite and PostgreSQL alike (the mirror writes the
normalized text; PostgreSQL answers it through a trigram index)."""

import datetime
import unicodedata

import pytest
from django.db import connection
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedidoItem
from proposals.models import Order
from proposals.search import normalize, search_words
from proposals.selectors import OrderFilters, order_list_for_user, order_list_latest_for_user
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirrored(tenant_a, user_a):
    """Three orders mirrored from the ERP, their numbers growing with their dates."""
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    day = datetime.date(2026, 3, 1)
    erp_pedido(cliente, 7001, emitido_em=day, vendedor="João Araújo", items=1)
    erp_pedido(cliente, 7002, emitido_em=day + datetime.timedelta(days=5), items=1)
    erp_pedido(cliente, 7103, emitido_em=day + datetime.timedelta(days=9), items=1)
    items = {
        7001: ("MAN-01", "Manutenção preventiva do compressor", "Inclui troca de óleo"),
        7002: ("CH-3", "Chapa de aço carbono 3 mm", ""),
        7103: ("DSC-7", 'Disco de corte 7" para metal', "Cor conforme amostra"),
    }
    for numero, (codigo, descricao, informacoes) in items.items():
        ErpPedidoItem.objects.filter(pedido__numero=numero).update(
            codigo=codigo, descricao=descricao, informacoes=informacoes
        )
    erp_sync_tenant(tenant=tenant_a)


def found(tenant, user, text) -> list[int]:
    with scope(tenant=tenant):  # as the request runs it
        page = order_list_for_user(
            tenant=tenant, user=user, filters=OrderFilters(text=text), page_size=25
        )
        return [order.number for order in page.orders]


def test_normalize_drops_accents_case_and_extra_spaces():
    assert normalize("  Manutenção   PREVENTIVA  ") == "manutencao preventiva"
    assert normalize("CHAPA DE AÇO") == "chapa de aco"
    assert normalize(None) == ""
    assert search_words("aço a 7 aço") == ["aco", "7"]  # one-letter words say nothing


def test_normalize_outside_latin_script_drops_every_combining_mark():
    def per_character(text):
        decomposed = unicodedata.normalize("NFKD", text)
        return " ".join(
            "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split()
        )

    # Marks outside U+0300–U+036F, letters without a decomposition, compatibility forms.
    samples = ["Ꞩ ø ß ﬁ ½ Ǆ 𝔸", "a\u0483 b\u1dc0 c\u20dd", "Ελληνικά Мэ́р", "ª nº 10", "Ação"]
    for text in samples:
        assert normalize(text) == per_character(text), text
    assert normalize("Ελληνικά Мэ́р Ǆ nº") == "ελληνικα мэр dz no"


@pytest.mark.parametrize(
    ("typed", "numbers"),
    [
        ("manutencao", [7001]),
        ("MANUTENÇÃO", [7001]),
        ("CHAPA DE AÇO", [7002]),
        ("aço chapa", [7002]),  # any order
        ("carbono chapa 3", [7002]),
        ("araujo", [7001]),  # the salesperson
        ("troca de oleo", [7001]),  # INFORMAÇÕES
        ("dsc-7", [7103]),  # the item's code
        ("70", [7002, 7001]),  # a number's first digits
        ("71", [7103]),
        ("7002", [7002]),
        ("chapa inexistente", []),
        ("50%", []),  # LIKE's wildcards are text here
    ],
)
def test_search_on_both_databases(mirrored, tenant_a, user_a, typed, numbers):
    assert found(tenant_a, user_a, typed) == numbers


def test_search_stays_within_the_customer(mirrored, tenant_a, other_user_a):
    assert found(tenant_a, other_user_a, "chapa") == []


def test_the_mirror_rewrites_the_search_text_with_each_version(mirrored, tenant_a, user_a):
    ErpPedidoItem.objects.filter(pedido__numero=7002).update(descricao="Tubo galvanizado")
    erp_sync_tenant(tenant=tenant_a)

    assert found(tenant_a, user_a, "chapa") == []
    assert found(tenant_a, user_a, "galvanizado") == [7002]


def test_lists_order_by_issue_date_newest_first_then_number(tenant_a, user_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    # A proposal re-issued today under an old number, and two on the same day.
    erp_pedido(cliente, 7001, emitido_em=datetime.date(2026, 3, 10))
    erp_pedido(cliente, 7002, emitido_em=datetime.date(2026, 1, 5))
    erp_pedido(cliente, 7003, emitido_em=datetime.date(2026, 2, 1))
    erp_pedido(cliente, 7004, emitido_em=datetime.date(2026, 2, 1))
    erp_sync_tenant(tenant=tenant_a)
    expected = [7001, 7004, 7003, 7002]

    with scope(tenant=tenant_a):
        latest = order_list_latest_for_user(tenant=tenant_a, user=user_a)
        assert [order.number for order in latest] == expected
    assert found(tenant_a, user_a, "") == expected


def test_keyset_pages_by_issue_date_walk_every_order_once_and_back(tenant_a, user_a, client_a):
    cliente = erp_cliente(tenant_a.erp_company_id, id=user_a.customer.erp_id)
    for n in range(7):
        # Numbers out of step with the dates, and pairs on the same day.
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=(n * 3) % 7 // 2)
        erp_pedido(cliente, 7000 + n, emitido_em=day, items=1, parcelas=1)
    erp_sync_tenant(tenant=tenant_a)
    with scopes_disabled():
        everything = [o.number for o in Order.objects.order_by("-issued_on", "-number")]

    forward, pages, after = [], [], None
    with scope(tenant=tenant_a):  # as the request runs it
        while True:
            page = order_list_for_user(
                tenant=tenant_a, user=user_a, filters=OrderFilters(), page_size=3, after=after
            )
            pages.append(page)
            forward += [order.number for order in page.orders]
            if page.next_after is None:
                break
            after = page.next_after
        assert forward == everything

        back = order_list_for_user(
            tenant=tenant_a,
            user=user_a,
            filters=OrderFilters(),
            page_size=3,
            before=pages[-1].previous_before,
        )
        assert [order.number for order in back.orders] == [o.number for o in pages[-2].orders]

    html = client_a.get(reverse("order_list") + f"?apos={pages[0].next_after}").content.decode()
    assert f'href="{reverse("order_detail", args=[forward[3]])}"' in html


@pytest.mark.postgres
def test_postgres_answers_the_search_through_the_trigram_index(mirrored, tenant_a):
    """The plan at scale is in bench/README.md; here: the index exists and can serve LIKE."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'order_search_text_trgm'")
        (definition,) = cursor.fetchone()
        assert "gin" in definition and "gin_trgm_ops" in definition
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM proposals_order WHERE search_text LIKE %s", ["%manutencao%"]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "order_search_text_trgm" in plan
