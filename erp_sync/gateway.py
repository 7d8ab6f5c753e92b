"""The ERP gateway: the only writes the portal makes to the ERP's tables.

The portal reads every ERP table (the mirror, erp_sync.mirror) but writes only these: an order
marked approved, the customer's signed contract as a PORTAL attachment, and an event row. Each
takes plain values (ERP ids, the company's `empresa_id`) and imports no portal domain code, so
proposals and contracts sit above it (DESIGN.md, "Layout"). Callers choose the transaction:
`transaction.atomic(using=erp_alias())`.
"""

import datetime
import json
from enum import StrEnum

from django.db.models import F

from erp_sync.models import ErpPedido, ErpPedidoAnexo, ErpPortalEvento


class ErpEvent(StrEnum):
    """erp_portal_evento.tipo"""

    CONTRACT_SENT = "CONTRATO_ENVIADO"
    CONTRACT_SIGNED = "CONTRATO_ASSINADO"
    PROPOSAL_APPROVED = "PROPOSTA_APROVADA"
    PROPOSAL_DECLINED = "PROPOSTA_RECUSADA"


def erp_order_is_open(*, company_id: int, erp_id: int, seen_version: int | None = None) -> bool:
    """The ERP's order is still a proposal (PRO), and the version the customer saw if
    `seen_version` is given: the customer may act on it."""
    rows = ErpPedido.objects.filter(id=erp_id, empresa_id=company_id, status="PRO")
    if seen_version is not None:
        rows = rows.filter(versao=seen_version)
    return rows.exists()


def erp_order_exists(*, company_id: int, erp_id: int) -> bool:
    """The ERP still has the order (a sealed contract goes to it whatever its status)."""
    return ErpPedido.objects.filter(id=erp_id, empresa_id=company_id).exists()


def erp_order_mark_approved(
    *, company_id: int, erp_id: int, seen_version: int, approved_by: str, now: datetime.datetime
) -> bool:
    """PRO → APR, only if the ERP's order is still the version the customer saw.

    One conditional UPDATE: the ERP's row is the arbiter (False: nothing was written).
    """
    updated = ErpPedido.objects.filter(
        id=erp_id, empresa_id=company_id, status="PRO", versao=seen_version
    ).update(status="APR", aprovado_em=now, aprovado_por=approved_by, versao=F("versao") + 1)
    return updated == 1


def erp_signed_contract_store(
    *, erp_id: int, name: str, mime: str, content: bytes, sha256: str, now: datetime.datetime
) -> None:
    """The order's one CONTRATO_ASSINADO row of origin PORTAL, replaced in place (it bumps no
    versao: the triggers ignore PORTAL rows)."""
    row = {"nome": name, "mime": mime, "conteudo": content, "sha256": sha256, "criado_em": now}
    sent = ErpPedidoAnexo.objects.filter(
        pedido_id=erp_id, tipo="CONTRATO_ASSINADO", origem="PORTAL"
    )
    if not sent.update(**row):
        ErpPedidoAnexo.objects.create(
            pedido_id=erp_id, tipo="CONTRATO_ASSINADO", origem="PORTAL", **row
        )


def erp_event_add(
    *, company_id: int, erp_id: int, kind: ErpEvent, data: dict, now: datetime.datetime
) -> None:
    """A portal action the ERP should know about (erp_portal_evento; `data` as JSON text)."""
    ErpPortalEvento.objects.create(
        empresa_id=company_id,
        pedido_id=erp_id,
        tipo=kind,
        dados=json.dumps(data, ensure_ascii=False),
        criado_em=now,
    )
