"""Background work on proposals (Django's task framework; enqueue with
portal.background.queue.enqueue_on_commit)."""

from django_scopes import scopes_disabled
from django_tasks import task

from proposals.documents import proposal_pdf_ensure
from proposals.models import Order, OrderStatus, ProposalDocument


@task
def proposal_pdf_render_ahead(*, tenant_id: int, order_id: int, erp_version: int) -> str:
    """Render the PDF of this proposal version before the customer asks for it.

    Idempotent: a version already rendered, superseded by a newer one (whose own task renders
    it), no longer a proposal, or gone from the ERP does nothing. Returns what happened.
    """
    with scopes_disabled():
        order = Order.objects.filter(pk=order_id, tenant_id=tenant_id).first()
        if order is None or order.status != OrderStatus.PROPOSAL:
            return "not a proposal"
        if order.erp_version != erp_version:
            return "superseded"
        if ProposalDocument.objects.filter(order=order, erp_version=erp_version).exists():
            return "already rendered"
    document = proposal_pdf_ensure(order=order)
    return "rendered" if document.erp_version == erp_version else "superseded"
