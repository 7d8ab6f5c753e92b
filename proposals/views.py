"""Customer pages: PAINEL, PEDIDOS, an order, its approval or decline, its proposal PDF and
attachments, and the version an open order page polls."""

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from contracts import selectors as contract_selectors
from erp_sync.mirror import erp_sync_order
from portal.documents.downloads import stored_file_response
from portal.http import SeeOther
from proposals import documents, selectors, services, snapshots
from proposals.forms import DeclineForm, OrderFilterForm
from proposals.fragments import order_body_html, order_rows_html
from proposals.timeline import order_timeline

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
    """PAINEL: what awaits the customer's action first, then the latest orders."""
    tenant, user, today = request.tenant, request.user, timezone.localdate()
    actions = selectors.order_list_awaiting_action(tenant=tenant, user=user, today=today)
    latest = selectors.order_list_latest_for_user(tenant=tenant, user=user)
    context = {
        "action_rows": order_rows_html(
            orders=actions, row="action", day=today, state=services.order_next_action
        ),
        "order_rows": order_rows_html(
            orders=latest, row="latest", day=today, prepare=selectors.order_installments_load
        ),
    }
    return render(request, "proposals/dashboard.html", context)


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
        "order_rows": order_rows_html(orders=page.orders, row="list", day=timezone.localdate()),
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
    blockers = [] if approval else services.order_approval_blockers(order=order)
    context = {
        "order": order,
        "order_body": order_body_html(order=order),
        "approval": approval,
        "declined": services.order_declined_as_is(order=order),
        "timeline": order_timeline(order=order),
        "signing": contract_selectors.contract_signing_for_order(order=order, user=request.user),
        "blockers": blockers,
        "can_decline": not services.order_decline_blockers(order=order),
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
            messages.warning(request, " ".join(map(str, blockers)))
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


@require_http_methods(["GET", "POST"])
def order_decline(request, numero: int):
    """RECUSAR PROPOSTA. GET: the confirmation step, with the reason's form. POST: decline."""
    order = selectors.order_get_for_approval(
        tenant=request.tenant, user=request.user, number=numero
    )
    detail_url = reverse("order_detail", args=[order.number])
    blockers = services.order_decline_blockers(order=order)
    if blockers:
        messages.warning(request, " ".join(map(str, blockers)))
        return SeeOther(detail_url)
    if request.method == "GET":
        form = DeclineForm(initial={"versao": order.erp_version})
        return render(request, "proposals/order_decline.html", {"order": order, "form": form})

    form = DeclineForm(request.POST)
    if not form.is_valid():
        return render(
            request, "proposals/order_decline.html", {"order": order, "form": form}, status=400
        )
    seen_version = form.cleaned_data["versao"]
    result = services.order_decline(
        order=order,
        user=request.user,
        reason=form.cleaned_data["motivo"],
        seen_version=order.erp_version if seen_version is None else seen_version,
        remirror=erp_sync_order,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    if result.ok:
        messages.success(request, result.message)
    elif result.changed:
        messages.warning(request, result.message)
        if seen_version is not None:
            return SeeOther(f"{detail_url}?comparar={seen_version}")
    else:
        messages.error(request, result.message)
    return SeeOther(detail_url)


@require_safe
def order_version(request, numero: int):
    """What an open order page polls (static/js/order-follow.js) to offer a reload."""
    current = selectors.order_version_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    return JsonResponse(
        {"numero": current.number, "versao": current.version, "status": current.status}
    )


@require_safe
def attachment_download(request, numero: int, id: int):
    attachment = selectors.attachment_get_for_user(
        tenant=request.tenant, user=request.user, order_number=numero, attachment_id=id
    )
    return stored_file_response(
        attachment.file, filename=attachment.name, content_type=attachment.mime
    )


def _proposal_pdf(request, numero: int, *, inline: bool):
    order = selectors.order_get_brief_for_user(
        tenant=request.tenant, user=request.user, number=numero
    )
    document = documents.proposal_pdf_to_serve(order=order)
    return stored_file_response(
        document.file,
        filename=documents.proposal_pdf_filename(order),
        content_type="application/pdf",
        inline=inline,
    )


@require_safe
def proposal_pdf(request, numero: int):
    return _proposal_pdf(request, numero, inline=False)


@require_safe
def proposal_view(request, numero: int):
    """The proposal in the browser's PDF viewer (VISUALIZAR), same file and checks."""
    return _proposal_pdf(request, numero, inline=True)
