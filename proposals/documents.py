"""The proposal PDF in storage: rendered once per order version, then served from storage.

`proposal_pdf_ensure` is the one way to get it: on a customer's first request, at approval, and
ahead of time by a task the ERP follower queues for new versions of PRO orders (proposals.tasks;
a bulk initial mirror does not render). It renders outside any transaction and stores the
result once (portal.documents.stored): two simultaneous first requests may both render, one row
and one file are kept.
"""

import logging
import time

from django.utils import timezone
from django_scopes import scope

from portal.documents.pdf import company_for, render_pdf
from portal.documents.stored import document_store_once
from proposals.models import Order, ProposalDocument

logger = logging.getLogger(__name__)


def proposal_pdf_render(*, order: Order) -> bytes:
    """The proposal of `order` as the mirror holds it now (its `erp_version`)."""
    return render_pdf(
        "pdf/proposal.html",
        {
            "company": company_for(order.tenant),
            "order": order,
            "customer": order.customer,
            "items": list(order.items.all()),
            "installments": list(order.installments.all()),
        },
    )


def proposal_pdf_filename(order: Order) -> str:
    """The name the customer's browser saves it under (the ERP's version is ours, not theirs)."""
    return f"proposta-{order.number}.pdf"


def proposal_pdf_to_serve(*, order: Order) -> ProposalDocument:
    """The proposal PDF to hand out (customer page, admin): once approved, the very document the
    customer approved (its hash is on the approval), even after the ERP moved the order on.

    Expects `order.approval` loaded (select_related) or absent.
    """
    approval = getattr(order, "approval", None)
    if approval is not None:
        with scope(tenant=order.tenant_id):
            approved = ProposalDocument.objects.filter(
                order=order, erp_version=approval.order_version
            ).first()
        if approved is not None:
            return approved
    return proposal_pdf_ensure(order=order)


def _stored(order: Order) -> ProposalDocument | None:
    return ProposalDocument.objects.filter(order=order, erp_version=order.erp_version).first()


def proposal_pdf_ensure(*, order: Order) -> ProposalDocument:
    """The stored proposal PDF of the order's current mirrored version, rendering it if needed.

    If the mirror moved the order to a newer version meanwhile, the document is that version's
    (compare `erp_version` with the version you expect). Works in a request and in the follower
    alike: it reads and writes only rows of the order's own tenant.
    """
    with scope(tenant=order.tenant_id):
        return _ensure(order)


# A render that the mirror overtakes is thrown away and redone for the new version; the mirror
# commits one version of an order at a time, so a second overtaking in a row is already rare.
RENDER_ATTEMPTS = 3


class _OrderChanged(Exception):
    """The mirror committed a new version of the order while it was being rendered."""


def _render_unchanged(order: Order) -> bytes:
    """The PDF of `order`, only if the mirror did not change the order meanwhile.

    No row is locked while WeasyPrint runs, so its reads (items, installments) could straddle a
    mirror commit; every commit bumps erp_version, so an unchanged version means one snapshot.
    """
    started = time.perf_counter()
    content = proposal_pdf_render(order=order)
    if not Order.objects.filter(pk=order.pk, erp_version=order.erp_version).exists():
        raise _OrderChanged
    logger.info(
        "Proposal %s v%s rendered in %.0f ms",
        order.number,
        order.erp_version,
        (time.perf_counter() - started) * 1000,
    )
    return content


def _store_current(order_pk: int) -> ProposalDocument:
    """The stored PDF of the order's version as the mirror has it now, rendered if missing."""
    current = Order.objects.select_related("tenant", "customer").get(pk=order_pk)
    return document_store_once(
        stored=lambda: _stored(current),
        render=lambda: _render_unchanged(current),
        build=lambda **file: ProposalDocument(
            tenant=current.tenant,
            order=current,
            erp_version=current.erp_version,
            created_at=timezone.now(),
            **file,
        ),
        folder=current.tenant.slug,
    )


def _ensure(order: Order) -> ProposalDocument:
    document = _stored(order)
    if document is not None:
        return document
    for _attempt in range(RENDER_ATTEMPTS - 1):
        try:
            return _store_current(order.pk)
        except _OrderChanged:
            continue
    return _store_current(order.pk)
