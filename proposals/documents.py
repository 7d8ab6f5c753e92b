"""The proposal PDF in storage: rendered once per order version, then served from storage.

`proposal_pdf_ensure` is the one way to get it: on a customer's first request, at approval, and
ahead of time by the ERP follower for new versions of PRO orders (a bulk initial mirror does not
render). Two simultaneous first requests render once: the order's row is locked while rendering
(SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions take the write lock).
"""

import hashlib
import logging
import time
import uuid

from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from portal.storage import file_store
from proposals.models import Order, OrderStatus, ProposalDocument
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
        file_store(document.file, name, content)
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


def proposal_pdf_prerender(*, order_ids: list[int]) -> int:
    """Render, ahead of any request, the PDFs that the proposals (PRO) among `order_ids` lack
    for their current version; returns how many were rendered. The follower calls it for the
    proposals the ERP just changed, so the customer's first download is already stored."""
    with scopes_disabled():
        rendered_versions = ProposalDocument.objects.filter(
            order=OuterRef("pk"), erp_version=OuterRef("erp_version")
        )
        pending = list(
            Order.objects.filter(pk__in=order_ids, status=OrderStatus.PROPOSAL)
            .exclude(Exists(rendered_versions))
            .order_by("pk")
        )
    rendered = 0
    for order in pending:
        try:
            proposal_pdf_ensure(order=order)
            rendered += 1
        except DatabaseError:
            raise
        except Exception:
            # One proposal that cannot render must not hold back the others; the customer's
            # first request tries again (and logs the same error).
            logger.exception("Proposal %s v%s not rendered ahead", order.number, order.erp_version)
    return rendered
