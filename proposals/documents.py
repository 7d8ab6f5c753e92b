"""The proposal PDF in storage: rendered once per order version, then served from storage.

`proposal_pdf_ensure` is the one way to get it: on a customer's first request, at approval, and
ahead of time by a task the ERP follower queues for new versions of PRO orders (proposals.tasks;
a bulk initial mirror does not render). Two simultaneous first requests render once: the
order's row is locked while rendering (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
transactions take the write lock).
"""

import hashlib
import logging
import time
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from proposals.models import Order, ProposalDocument
from proposals.pdf import proposal_pdf_render

logger = logging.getLogger(__name__)


def proposal_pdf_filename(document: ProposalDocument, order: Order) -> str:
    """The name the customer's browser saves it under."""
    return f"proposta-{order.number}-v{document.erp_version}.pdf"


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


def _ensure(order: Order) -> ProposalDocument:
    document = _stored(order)
    if document is not None:
        return document
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("tenant", "customer")
            .get(pk=order.pk)
        )
        document = _stored(locked)
        if document is not None:
            return document  # rendered by whoever held the lock before us
        started = time.perf_counter()
        content = proposal_pdf_render(order=locked)
        document = ProposalDocument(
            tenant=locked.tenant,
            order=locked,
            erp_version=locked.erp_version,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=timezone.now(),
        )
        name = f"{locked.tenant.slug}/{uuid.uuid4().hex}.pdf"
        document.file.save(name, ContentFile(content), save=False)
        try:
            document.save()
        except Exception:
            document.file.delete(save=False)
            raise
    logger.info(
        "Proposal %s v%s rendered in %.0f ms",
        locked.number,
        locked.erp_version,
        (time.perf_counter() - started) * 1000,
    )
    return document
