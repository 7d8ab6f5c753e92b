"""The order's contract: its page (with the "Contrato Assinado" upload), view and download."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.core import is_ratelimited

from contracts import selectors, services
from contracts import signing as signing_services
from contracts.formats import verification_code_normalize
from contracts.forms import SignedContractForm, SigningCodeForm, SigningForm, VerifyUploadForm
from contracts.models import SIGNING_CODE_MINUTES
from contracts.signing import Signer
from contracts.uploads import SizeLimitUploadHandler, too_large_message
from contracts.verification import verify_pdf, verify_stored
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
        "signing": selectors.contract_signing_for_order(order=contract.order, user=request.user),
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


# Digital signature -------------------------------------------------------------------------


def _signer(request) -> Signer:
    return Signer(
        user=request.user,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def _sign_page(request, contract, signing, *, form=None, code_form=None, status=200):
    document = services.contract_pdf_ensure(contract=contract)
    context = {
        "order": contract.order,
        "contract": contract,
        "signing": signing,
        "document_sha256": document.sha256,
        "paragraphs": selectors.contract_text(file=document.file, sha256=document.sha256),
        "form": form or SigningForm(initial={"nome": request.user.name}),
        "code_form": code_form or SigningCodeForm(),
        "consent_text": signing_services.CONSENT_TEXT,
        "privacy_text": signing_services.PRIVACY_TEXT,
        "code_minutes": SIGNING_CODE_MINUTES,
    }
    return render(request, "contracts/contract_sign.html", context, status=status)


@sensitive_post_parameters("senha", "codigo", "cpf")
@require_http_methods(["GET", "HEAD", "POST"])
def contract_sign(request, numero: int):
    """The digital signature, for the contract's designated signers only (anyone else: 404).

    GET: the contract, the consent and step 1, or step 2 while a code is pending. POST `nome`,
    `cpf`, `senha`, `aceite`: step 1 (a code by e-mail). POST `codigo`: step 2 (signs).
    """
    contract = selectors.contract_get_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    signing = selectors.digital_signing_for_signer(contract=contract, user=request.user)
    here = reverse("contract_sign", args=[numero])
    if request.method != "POST":
        return _sign_page(request, contract, signing)
    if "novo_codigo" in request.POST:
        signing_services.signing_code_discard(contract=contract, user=request.user)
        messages.info(request, "Preencha o formulário novamente para receber um novo código.")
        return SeeOther(here)
    if "codigo" in request.POST:
        code_form = SigningCodeForm(request.POST)
        if not code_form.is_valid():
            return _sign_page(request, contract, signing, code_form=code_form)
        try:
            result = signing_services.signing_confirm(
                contract=contract, signer=_signer(request), code=code_form.cleaned_data["codigo"]
            )
        except signing_services.SigningRefused as refused:
            messages.error(request, refused.message)
            return SeeOther(here)
        if not result.created:
            messages.info(request, _("Sua assinatura deste contrato já estava registrada."))
        elif result.complete:
            messages.success(
                request,
                _(
                    "Contrato assinado. Todos os signatários assinaram: o Contrato Assinado, "
                    "selado digitalmente, está abaixo."
                ),
            )
        else:
            messages.success(
                request, _("Contrato assinado. Aguardando a assinatura dos demais signatários.")
            )
        return SeeOther(reverse("contract_detail", args=[numero]))
    form = SigningForm(request.POST)
    if not form.is_valid():
        return _sign_page(request, contract, signing, form=form)
    data = form.cleaned_data
    try:
        signing_services.signing_start(
            contract=contract,
            signer=_signer(request),
            full_name=data["nome"],
            cpf=data["cpf"],
            password=data["senha"],
            seen_sha256=data["documento"],
        )
    except signing_services.SigningRefused as refused:
        form.add_error(None, refused.message)
        return _sign_page(request, contract, signing, form=form)
    messages.success(
        request,
        _(
            "Enviamos um código de 6 dígitos para %(email)s. Digite-o abaixo para assinar "
            "(vale %(minutes)s minutos)."
        )
        % {"email": request.user.email, "minutes": SIGNING_CODE_MINUTES},
    )
    return SeeOther(here)


@require_safe
def contract_sealed_download(request, numero: int):
    """The sealed "Contrato Assinado" of a digital signature."""
    seal = selectors.sealed_contract_get_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    return stored_file_response(
        seal.file, filename=seal.download_name, content_type="application/pdf"
    )


# Public verification -----------------------------------------------------------------------


def _limited(request, scope: str) -> bool:
    rate = f"{settings.VERIFY_RATE_LIMIT}/{settings.VERIFY_RATE_WINDOW_SECONDS}s"
    return is_ratelimited(request, group=f"verify:{scope}", key="ip", rate=rate, increment=True)


def _too_many(request):
    return render(request, "contracts/verify_limited.html", status=429)


def _verify_page(request, **context):
    if request.tenant is None:
        raise Http404("Verificação disponível no endereço do portal da empresa.")
    context.setdefault("upload_form", VerifyUploadForm())
    context.setdefault("code", "")
    return render(request, "contracts/verify.html", context, status=context.pop("status", 200))


@login_not_required
@csrf_exempt  # only to install the upload size limit first: _verify_upload checks CSRF itself
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    """/verificar/: check a "Contrato Assinado" by uploading it, or go to its code's page."""
    if request.tenant is None:
        raise Http404("Verificação disponível no endereço do portal da empresa.")
    if request.method == "POST":
        handler = SizeLimitUploadHandler(request, limit=settings.SIGNED_CONTRACT_MAX_BYTES)
        request.upload_handlers.insert(0, handler)
        return _verify_upload(request, handler)
    code = request.GET.get("codigo", "").strip()
    if code:
        return SeeOther(reverse("verify_code", args=[verification_code_normalize(code)]))
    return _verify_page(request)


@csrf_protect
def _verify_upload(request, handler):
    if _limited(request, "verify-upload"):
        return _too_many(request)
    form = VerifyUploadForm(request.POST, request.FILES, too_large=handler.too_large)
    if not form.is_valid():
        return _verify_page(request, upload_form=form, status=400)
    upload = form.cleaned_data["arquivo"]
    upload.seek(0)
    result = verify_pdf(tenant=request.tenant, content=upload.read())
    return _verify_page(request, upload_form=form, result=result)


@login_not_required
@require_safe
def verify_code(request, codigo: str):
    """/verificar/<codigo>/: what the portal sealed under this code, checked again now."""
    if request.tenant is None:
        raise Http404("Verificação disponível no endereço do portal da empresa.")
    if _limited(request, "verify-code"):
        return _too_many(request)
    code = verification_code_normalize(codigo)
    seal = selectors.sealed_contract_for_code(tenant=request.tenant, code=code)
    if seal is None:
        return _verify_page(request, code=code, not_found=True, status=404)
    return _verify_page(request, code=code, seal=seal, result=verify_stored(seal=seal))
