"""The order's contract: its page (with the "Contrato Assinado" upload), view and download."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from contracts import selectors, services
from contracts.forms import SignedContractForm
from contracts.uploads import SizeLimitUploadHandler, too_large_message
from erp_sync.mirror import erp_sync_order
from portal.documents.downloads import stored_file_response
from portal.http import SeeOther
from proposals.services import order_approval_blockers


@csrf_exempt  # only to install the upload size limit first: _upload checks CSRF itself
@require_http_methods(["GET", "HEAD", "POST"])
def contract_detail(request, numero: int):
    """GET: the contract page. POST: a "Contrato Assinado" upload."""
    if request.method == "POST":
        # Django parses the body (and spools the file) on first access to request.POST, which
        # the CSRF check makes: the size limit has to be in place before that.
        handler = SizeLimitUploadHandler(request, limit=settings.SIGNED_CONTRACT_MAX_BYTES)
        request.upload_handlers.insert(0, handler)
        return _upload(request, numero, handler)
    contract = selectors.contract_get_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    context = {
        "order": contract.order,
        "contract": contract,
        "signing": selectors.contract_signing_for_order(order=contract.order),
    }
    return render(request, "contracts/contract_detail.html", context)


@csrf_protect
def _upload(request, numero: int, handler: SizeLimitUploadHandler):
    contract = selectors.contract_get_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    order = contract.order
    # The detail page: its top shows the message and, once signed, APROVAR PROPOSTA.
    back = reverse("order_detail", args=[order.number])
    form = SignedContractForm(request.POST, request.FILES)
    if handler.too_large:
        # Nothing (or not all) of it was read: whatever arrived is not the customer's file.
        messages.error(request, too_large_message())
        return SeeOther(back)
    if not form.is_valid():
        messages.error(request, form.error_message())
        return SeeOther(back)
    try:
        result = services.signed_contract_upload(
            order=order,
            user=request.user,
            upload=form.cleaned_data["arquivo"],
            remirror=erp_sync_order,
            ip_address=request.META.get("REMOTE_ADDR"),
        )
    except services.UploadRefused as refused:
        messages.error(request, refused.message)
        return SeeOther(back)
    if not result.created:
        messages.info(
            request,
            _("O arquivo %(name)s já era o Contrato Assinado.") % {"name": result.attachment.name},
        )
        return SeeOther(back)
    contract.signed_at = result.attachment.created_at
    ready = not order_approval_blockers(order=order)
    messages.success(
        request,
        _("Contrato Assinado recebido: %(name)s.") % {"name": result.attachment.name}
        + (" " + _("Você já pode aprovar a proposta.") if ready else ""),
    )
    return SeeOther(back)


def _contract_pdf(request, numero: int, *, inline: bool):
    contract = selectors.contract_get_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    document = services.contract_pdf_ensure(contract=contract)
    return stored_file_response(
        document.file, filename=document.filename, content_type="application/pdf", inline=inline
    )


@require_safe
def contract_view(request, numero: int):
    """Shown by the browser's PDF viewer (which prints it)."""
    return _contract_pdf(request, numero, inline=True)


@require_safe
def contract_download(request, numero: int):
    return _contract_pdf(request, numero, inline=False)
