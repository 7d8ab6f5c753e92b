"""Customer pages: PAINEL, PEDIDOS, an order, its approval, its proposal PDF and attachments."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from contracts import selectors as contract_selectors
from erp_sync.mirror import erp_sync_order
from portal.documents.downloads import stored_file_response
from portal.http import SeeOther
from proposals import documents, selectors, services, snapshots
from proposals.forms import OrderFilterForm

PAGE_PARAMETERS = ("apos", "antes")
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def _int_or_none(value: str | None) -> int | None:
    """A query-string integer that fits the database's BIGINT columns, else None."""
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and BIGINT_MIN <= number <= BIGINT_MAX else None


def _query_with(query, **params) -> str:
    """The filters of `query` with another page position."""
    query = query.copy()
    for name in PAGE_PARAMETERS:
        query.pop(name, None)
    for name, value in params.items():
        query[name] = value
    return query.urlencode()


@require_safe
def dashboard(request):
    orders = selectors.order_list_latest_for_user(tenant=request.tenant, user=request.user)
    return render(request, "proposals/dashboard.html", {"orders": orders})


@require_safe
def order_list(request):
    form = OrderFilterForm(request.GET)
    page = selectors.order_list_for_user(
        tenant=request.tenant,
        user=request.user,
        filters=form.filters(),
        page_size=settings.ORDER_LIST_PAGE_SIZE,
        after=_int_or_none(request.GET.get("apos")),
        before=_int_or_none(request.GET.get("antes")),
    )
    context = {
        "form": form,
        "orders": page.orders,
        "filtered": any(request.GET.get(name) for name in form.fields),
        "next_query": (
            _query_with(request.GET, apos=page.next_after) if page.next_after is not None else ""
        ),
        "previous_query": (
            _query_with(request.GET, antes=page.previous_before)
            if page.previous_before is not None
            else ""
        ),
    }
    return render(request, "proposals/order_list.html", context)


@require_safe
def order_detail(request, numero: int):
    order = selectors.order_get_for_user(tenant=request.tenant, user=request.user, number=numero)
    approval = getattr(order, "approval", None)
    seen_version = _int_or_none(request.GET.get("comparar"))
    context = {
        "order": order,
        "approval": approval,
        "signing": contract_selectors.contract_signing_for_order(order=order),
        "blockers": [] if approval else services.order_approval_blockers(order=order),
        "comparison": (
            snapshots.order_version_comparison(order=order, seen_version=seen_version)
            if seen_version is not None
            else None
        ),
    }
    return render(request, "proposals/order_detail.html", context)


@require_http_methods(["GET", "POST"])
def order_approve(request, numero: int):
    order = selectors.order_get_for_approval(
        tenant=request.tenant, user=request.user, number=numero
    )
    detail_url = reverse("order_detail", args=[order.number])
    if request.method == "GET":
        blockers = services.order_approval_blockers(order=order)
        if blockers:
            messages.warning(request, " ".join(blockers))
            return SeeOther(detail_url)
        return render(request, "proposals/order_approve.html", {"order": order})

    seen_version = _int_or_none(request.POST.get("versao"))
    if seen_version is None:
        messages.error(
            request,
            _("Não foi possível confirmar a aprovação: abra a proposta e tente novamente."),
        )
        return SeeOther(detail_url)
    result = services.order_approve(
        order=order,
        user=request.user,
        seen_version=seen_version,
        remirror=erp_sync_order,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    if result.ok:
        messages.success(request, result.message)
    elif result.changed:
        messages.warning(request, result.message)
        return SeeOther(f"{detail_url}?comparar={seen_version}")
    else:
        messages.error(request, result.message)
    return SeeOther(detail_url)


@require_safe
def attachment_download(request, numero: int, id: int):
    attachment = selectors.attachment_get_for_user(
        tenant=request.tenant, user=request.user, order_number=numero, attachment_id=id
    )
    return stored_file_response(
        attachment.file, filename=attachment.name, content_type=attachment.mime
    )


@require_safe
def proposal_pdf(request, numero: int):
    order = selectors.order_get_brief_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    document = documents.proposal_pdf_to_serve(order=order)
    return stored_file_response(
        document.file,
        filename=documents.proposal_pdf_filename(document, order),
        content_type="application/pdf",
    )
