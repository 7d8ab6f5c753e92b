"""Customer pages run a fixed number of queries, however long the customer's history is.

Every request pays 1 before the page's own: the user with its customer (the tenant is cached by
host name after the first request, the session itself comes from the cache).
"""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from pypdf import PdfReader

from portal import formats
from proposals.models import (
    Approval,
    Attachment,
    AttachmentKind,
    AttachmentOrigin,
    Decline,
    OrderStatus,
    ProposalDocument,
    StatusChange,
)
from tests.document_history import DOCUMENTS_LARGE, DOCUMENTS_SMALL, NUMBER, order_with_documents
from tests.factories import ContractFactory, InstallmentFactory, OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db

REQUEST_QUERIES = 1  # user + customer
PAGE_QUERIES = {
    # proposals awaiting action (+ contract), latest orders; their rows, installments included,
    # come rendered from the cache (the first GET below rendered them: proposals.fragments)
    "dashboard": REQUEST_QUERIES + 2,
    "order_list": REQUEST_QUERIES + 1,  # one keyset page (its rows from the cache)
    "order_list_filtered": REQUEST_QUERIES + 1,  # also from a page position (a subquery)
    # the order (+ customer, contract, approval and its user), attachments, status changes,
    # declines (+ user); items and installments come rendered from the cache (the first GET
    # below rendered them: proposals.fragments)
    "order_detail": REQUEST_QUERIES + 4,
    "order_version": REQUEST_QUERIES + 1,  # number, version, status
}
SMALL = {"orders": 3, "items": 2, "installments": 1, "attachments": 0, "changes": 1}
LARGE = {
    "orders": 40,
    "items": 15,
    "installments": 6,
    "attachments": 4,
    "changes": 3,
    "declines": 3,
    "approved": True,
}


def build_history(
    user, *, orders, items, installments, attachments, changes, declines=0, approved=False
):
    customer = user.customer
    created = []
    for n in range(orders):
        order = OrderFactory(customer=customer, number=1000 + n, salesperson="Ana Reis")
        OrderItemFactory.create_batch(items, order=order, description="Compressor de ar")
        InstallmentFactory.create_batch(installments, order=order)
        for a in range(attachments):
            Attachment.objects.create(
                tenant=order.tenant,
                order=order,
                kind=AttachmentKind.OTHER,
                origin=AttachmentOrigin.ERP,
                name=f"anexo-{a}.pdf",
                mime="application/pdf",
                size=2048,
                sha256="0" * 64,
                file=f"attachments/anexo-{n}-{a}.pdf",
                created_at=timezone.now(),
            )
        for c in range(changes):
            StatusChange.objects.create(
                tenant=order.tenant,
                order=order,
                to_status=OrderStatus.PROPOSAL,
                changed_at=timezone.now() - datetime.timedelta(days=c),
                erp_version=c + 1,
            )
        for version in range(declines):
            # Declined earlier versions: the ERP answered each with a new one.
            Decline.objects.create(
                tenant=order.tenant,
                order=order,
                user=user,
                declined_at=timezone.now(),
                reason="Prazo de entrega longo demais.",
                order_version=version - declines,
            )
        created.append(order)
    if approved:
        # The newest order also has a signed contract and an approval (with its user) to show.
        ContractFactory(order=order, signed_at=timezone.now())
        Approval.objects.create(
            tenant=order.tenant,
            order=order,
            user=user,
            approved_at=timezone.now(),
            ip_address="203.0.113.9",
            order_version=1,
        )
    return created


def page_urls(newest_number: int) -> dict[str, str]:
    return {
        "dashboard": reverse("dashboard"),
        "order_list": reverse("order_list"),
        "order_list_filtered": reverse("order_list")
        + "?status=PRO&de=2020-01-01&ate=31/12/2099&q=compressor&apos=99999",
        "order_detail": reverse("order_detail", args=[newest_number]),
        "order_version": reverse("order_version", args=[newest_number]),
    }


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("name", sorted(PAGE_QUERIES))
def test_page_queries_do_not_grow_with_the_history(
    name, size, client_a, user_a, django_assert_num_queries
):
    orders = build_history(user_a, **size)
    url = page_urls(orders[-1].number)[name]
    client_a.get(url)  # the host -> tenant cache, as on every request but a server's first

    with django_assert_num_queries(PAGE_QUERIES[name]):
        response = client_a.get(url)

    assert response.status_code == 200
    assert str(orders[-1].number) in response.content.decode()


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
def test_decline_page_queries_do_not_grow_with_the_history(
    size, client_a, user_a, django_assert_num_queries
):
    orders = build_history(user_a, **{**size, "approved": False})
    url = reverse("order_decline", args=[orders[-1].number])
    client_a.get(url)

    # the order (+ contract, approval, whether declined as it stands), its installments
    with django_assert_num_queries(REQUEST_QUERIES + 2):
        response = client_a.get(url)

    assert response.status_code == 200
    assert f"Recusar a proposta nº {orders[-1].number}" in response.content.decode()


# The order's documents: the approval confirmation and the downloads ---------------------------

DOCUMENT_SIZES = {"small": DOCUMENTS_SMALL, "large": DOCUMENTS_LARGE}


def flat(text: str) -> str:
    """Runs of white space (including the no-break space in "R$ 1,00") as one space."""
    return re.sub(r"\s+", " ", text)


def visible_text(response) -> str:
    return flat(re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize("size", sorted(DOCUMENT_SIZES))
def test_approval_confirmation_queries_do_not_grow_with_the_order(
    size, tenant_a, user_a, client_a, django_assert_num_queries
):
    history = order_with_documents(tenant_a, user_a, client_a, DOCUMENT_SIZES[size])
    order = history.order
    url = reverse("order_approve", args=[NUMBER])

    # the order (+ contract, approval), its installments
    with django_assert_num_queries(REQUEST_QUERIES + 2):
        response = client_a.get(url)

    assert response.status_code == 200
    text = visible_text(response)
    assert f"Confirmar aprovação da proposta nº {NUMBER}" in text
    assert flat(f"Valor total {formats.brl(order.total)}") in text
    with scopes_disabled():
        installments = list(order.installments.all())
    for installment in installments:
        due, amount = formats.date_br(installment.due_date), formats.brl(installment.amount)
        assert flat(f"{installment.number} {due} {amount}") in text
    assert f'name="versao" value="{order.erp_version}"' in response.content.decode()


@pytest.mark.parametrize("size", sorted(DOCUMENT_SIZES))
def test_stored_proposal_pdf_is_served_in_fixed_queries(
    size, tenant_a, user_a, client_a, django_assert_num_queries
):
    history = order_with_documents(
        tenant_a, user_a, client_a, DOCUMENT_SIZES[size], render_each_version=("proposal_pdf",)
    )
    with scopes_disabled():
        document = ProposalDocument.objects.get(
            order=history.order, erp_version=history.order.erp_version
        )

    # the order (+ contract, approval), its stored document
    with django_assert_num_queries(REQUEST_QUERIES + 2):
        response = client_a.get(reverse("proposal_pdf", args=[NUMBER]))

    content = b"".join(response.streaming_content)
    assert content == document.file.read()
    with scopes_disabled():
        versions = ProposalDocument.objects.filter(order=history.order).count()
    assert versions == DOCUMENT_SIZES[size]["versions"]  # earlier versions stay stored
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert f"Nº {NUMBER}" in text
    assert response["Content-Disposition"] == (f'attachment; filename="proposta-{NUMBER}.pdf"')


@pytest.mark.parametrize("size", sorted(DOCUMENT_SIZES))
def test_attachment_download_queries_do_not_grow_with_the_attachments(
    size, tenant_a, user_a, client_a, django_assert_num_queries
):
    history = order_with_documents(tenant_a, user_a, client_a, DOCUMENT_SIZES[size])
    attachment_id, sent = max(history.erp_attachments.items())
    with scopes_disabled():
        name = Attachment.objects.get(pk=attachment_id).name

    # the attachment, checked against the customer's order in the same query
    with django_assert_num_queries(REQUEST_QUERIES + 1):
        response = client_a.get(reverse("attachment_download", args=[NUMBER, attachment_id]))

    assert b"".join(response.streaming_content) == sent
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
