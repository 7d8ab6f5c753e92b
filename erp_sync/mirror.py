"""The mirror engine: the ERP's customers and order aggregates into the portal's models.

Written once, used by `manage.py erp_sync`, the follower, the benchmarks, and the approval and
upload views, which hand `erp_sync_order` to their services (the domain sits below the mirror
and never imports it). Idempotent and keyed by ERP id: an aggregate whose `versao` the mirror
already has is skipped without a write; everything else is read in chunks and written in bulk,
one transaction per chunk.
"""

import datetime
import gc
import hashlib
import json
import logging
import uuid
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.models import Contract, ContractSigner
from erp_sync.models import (
    ErpCliente,
    ErpContratoSignatario,
    ErpPedido,
    ErpPedidoAnexo,
    ErpPedidoContrato,
    ErpPedidoItem,
    ErpPedidoParcela,
    SyncState,
)
from portal.accounts.models import Customer, Tenant, User
from proposals.models import (
    Attachment,
    AttachmentOrigin,
    Installment,
    Order,
    OrderItem,
    OrderSnapshot,
    OrderStatus,
    StatusChange,
)
from proposals.snapshots import order_snapshot_data

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
# ERP columns read for children, and the portal columns they land in (same order after the
# leading pedido_id, which becomes tenant_id + order_id).
ERP_ITEM = (
    "pedido_id", "id", "sequencia", "tipo", "codigo", "descricao", "unidade", "quantidade",
    "valor_unitario", "desconto", "valor_total", "informacoes",
)  # fmt: skip
ITEM_COLUMNS = (
    "tenant_id", "order_id", "erp_id", "sequence", "kind", "code", "description", "unit",
    "quantity", "unit_price", "discount", "total", "notes",
)  # fmt: skip
ERP_INSTALLMENT = ("pedido_id", "id", "numero", "vencimento", "valor")
INSTALLMENT_COLUMNS = ("tenant_id", "order_id", "erp_id", "number", "due_date", "amount")
# A child row as the mirror writes it: a plain tuple for COPY, and the portal's field names for
# the order's snapshot, with no object per row in between.
ItemRow = namedtuple("ItemRow", ITEM_COLUMNS)
InstallmentRow = namedtuple("InstallmentRow", INSTALLMENT_COLUMNS)
ORDER_FIELDS = {
    # portal field: ERP column
    "number": "numero",
    "status": "status",
    "issued_on": "emitido_em",
    "valid_until": "validade",
    "salesperson": "vendedor",
    "payment_method": "forma_pagamento",
    "payment_terms": "condicao_pagamento",
    "notes": "observacoes",
    "products_total": "valor_produtos",
    "services_total": "valor_servicos",
    "discount": "desconto",
    "freight": "frete",
    "total": "valor_total",
    "approved_at": "aprovado_em",
    "erp_version": "versao",
    "erp_updated_at": "atualizado_em",
}
ERP_ORDER = ("id", "cliente_id", "aprovado_por", *ORDER_FIELDS.values())


COUNTS = (
    "customers_created",
    "customers_updated",
    "customers_deleted",
    "orders_created",
    "orders_updated",
    "orders_deleted",
    "orders_unchanged",
)


@dataclass
class SyncStats:
    customers_created: int = 0
    customers_updated: int = 0
    customers_deleted: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    orders_deleted: int = 0
    orders_unchanged: int = 0
    # (portal id, version) of proposals (PRO) mirrored at a new version: the follower has their
    # PDFs rendered ahead.
    proposals_changed: list[tuple[int, int]] = field(default_factory=list)
    # The ERP's atualizado_em of the oldest order change mirrored: the follower's lag is from it.
    oldest_change_at: datetime.datetime | None = None

    def __iadd__(self, other: "SyncStats") -> "SyncStats":
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.proposals_changed = self.proposals_changed + other.proposals_changed
        self.oldest_change_at = _earliest(self.oldest_change_at, other.oldest_change_at)
        return self

    def __add__(self, other: "SyncStats") -> "SyncStats":
        total = SyncStats()
        total += self
        total += other
        return total

    def __str__(self) -> str:
        return (
            f"customers +{self.customers_created} ~{self.customers_updated} "
            f"-{self.customers_deleted}; orders +{self.orders_created} ~{self.orders_updated} "
            f"-{self.orders_deleted} ={self.orders_unchanged}"
        )

    @property
    def changed(self) -> int:
        return sum(getattr(self, name) for name in COUNTS if name != "orders_unchanged")

    def lag_ms(self, *, now: datetime.datetime) -> int | None:
        """From the oldest ERP change mirrored to `now` (None: no order changed)."""
        if self.oldest_change_at is None:
            return None
        return max(0, round((now - self.oldest_change_at).total_seconds() * 1000))


def _earliest(*moments: datetime.datetime | None) -> datetime.datetime | None:
    return min((moment for moment in moments if moment is not None), default=None)


def _chunks(ids: list, size: int = CHUNK_SIZE) -> Iterable[list]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _among(queryset, column: str, ids: Iterable):
    """`queryset` where `column` is one of `ids`: `__in`, without its cost on a chunk of ids.

    Django prepares each value of an `__in` list on its own and psycopg then inlines them one
    by one: for the 1,000 ids of a chunk that was a fifth of an initial mirror's Python time.
    PostgreSQL takes the whole list as one array parameter.
    """
    ids = list(ids)
    if not ids:
        return queryset.none()
    column = f"{queryset.model._meta.db_table}.{column}"
    if connections[queryset.db].vendor == "postgresql":
        sql, params = f"{column} = ANY(%s::bigint[])", [ids]
    else:
        sql, params = f"{column} IN ({', '.join(['%s'] * len(ids))})", ids
    return queryset.filter(RawSQL(sql, params, output_field=BooleanField()))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a chunk is read and written.

    A chunk's rows and model instances live until it is written, so the collector keeps
    promoting them and runs a full collection over every object of the process (Django's too)
    about every other chunk: a fifth of the engine's CPU in an initial mirror. A chunk makes no
    garbage cycles worth collecting meanwhile; the collector resumes (if it was on) after it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _diff(erp_versions: dict, mirror_versions: dict) -> tuple[list, list]:
    """ERP ids to (re-)mirror, and mirrored ids the ERP no longer has."""
    changed = sorted(i for i, v in erp_versions.items() if mirror_versions.get(i) != v)
    gone = sorted(i for i in mirror_versions if i not in erp_versions)
    return changed, gone


# Customers ---------------------------------------------------------------------------------


def _sync_customers(tenant: Tenant, erp_ids: list | None) -> SyncStats:
    stats = SyncStats()
    erp_rows = ErpCliente.objects.filter(empresa_id=tenant.erp_company_id)
    mirror = Customer.objects.filter(tenant=tenant)
    if erp_ids is not None:
        erp_rows = erp_rows.filter(id__in=erp_ids)
        mirror = mirror.filter(erp_id__in=erp_ids)
    changed, gone = _diff(
        dict(erp_rows.values_list("id", "versao")),
        dict(mirror.values_list("erp_id", "erp_version")),
    )
    for chunk in _chunks(changed):
        with transaction.atomic():
            existing = {c.erp_id: c for c in _among(mirror, "erp_id", chunk)}
            created, updated = [], []
            for row in _among(erp_rows, "id", chunk):
                customer = existing.get(row.id) or Customer(tenant=tenant, erp_id=row.id)
                customer.name = row.nome
                customer.cpf_cnpj = row.cpf_cnpj
                customer.email = row.email
                customer.is_active = row.ativo
                customer.erp_version = row.versao
                (updated if customer.pk else created).append(customer)
            Customer.objects.bulk_create(created)
            Customer.objects.bulk_update(
                updated, ["name", "cpf_cnpj", "email", "is_active", "erp_version"]
            )
            stats.customers_created += len(created)
            stats.customers_updated += len(updated)
    if gone:
        with transaction.atomic():
            # Their logins stay (for the record) but can no longer log in.
            User.objects.filter(customer__tenant=tenant, customer__erp_id__in=gone).update(
                is_active=False
            )
            _delete_orders(Order.objects.filter(tenant=tenant, customer__erp_id__in=gone))
            stats.customers_deleted = (
                mirror.filter(erp_id__in=gone).delete()[1].get(Customer._meta.label, 0)
            )
    return stats


# Orders ------------------------------------------------------------------------------------


@dataclass
class _Aggregates:
    """ERP rows of a chunk of orders, grouped by order id."""

    pedidos: list
    itens: dict
    parcelas: dict
    contratos: dict
    signatarios: dict
    anexos: dict


def _read_aggregates(pedido_ids: list) -> _Aggregates:
    itens, parcelas, signatarios, anexos = (defaultdict(list) for _ in range(4))
    # Orders, items and installments are the bulk of a chunk: plain tuples, no model instances.
    pedidos = _among(ErpPedido.objects, "id", pedido_ids).values_list(*ERP_ORDER, named=True)
    for row in _among(ErpPedidoItem.objects, "pedido_id", pedido_ids).values_list(*ERP_ITEM):
        itens[row[0]].append(row[1:])
    for row in _among(ErpPedidoParcela.objects, "pedido_id", pedido_ids).values_list(
        *ERP_INSTALLMENT
    ):
        parcelas[row[0]].append(row[1:])
    contratos = {c.pedido_id: c for c in _among(ErpPedidoContrato.objects, "pedido_id", pedido_ids)}
    if contratos:
        contrato_ids = {c.id: c.pedido_id for c in contratos.values()}
        for signer in ErpContratoSignatario.objects.filter(contrato_id__in=contrato_ids):
            signatarios[contrato_ids[signer.contrato_id]].append(signer)
    # The mirror ignores PORTAL rows (the portal's own uploads); content is read only if needed.
    erp_anexos = _among(ErpPedidoAnexo.objects, "pedido_id", pedido_ids).filter(origem="ERP")
    for anexo in erp_anexos.defer("conteudo"):
        anexos[anexo.pedido_id].append(anexo)
    return _Aggregates(
        pedidos=list(pedidos),
        itens=itens,
        parcelas=parcelas,
        contratos=contratos,
        signatarios=signatarios,
        anexos=anexos,
    )


def _order_from(pedido, order: Order) -> Order:
    for name, column in ORDER_FIELDS.items():
        setattr(order, name, getattr(pedido, column))
    order.approved_by = pedido.aprovado_por or ""
    return order


def _stored_name(folder: str, tenant: Tenant) -> str:
    """A generated storage key: never a name that came from outside."""
    return f"{folder}/{tenant.slug}/{uuid.uuid4().hex}"


def _sync_contracts(tenant: Tenant, orders: list[Order], data: _Aggregates) -> None:
    existing = {c.order_id: c for c in Contract.objects.filter(order__in=orders)}
    for order in orders:
        contrato = data.contratos.get(order.erp_id)
        contract = existing.get(order.pk)
        if contrato is None:
            if contract is not None:
                contract.delete()
            continue
        contract = contract or Contract(tenant=tenant, order=order)
        contract.erp_id = contrato.id
        contract.title = contrato.titulo
        contract.content_html = contrato.conteudo_html or ""
        contract.signature_mode = contrato.assinatura
        contract.erp_updated_at = contrato.atualizado_em
        content = bytes(contrato.arquivo) if contrato.arquivo else b""
        digest = hashlib.sha256(content).hexdigest() if content else ""
        if digest != contract.erp_file_sha256:
            if contract.erp_file:
                contract.erp_file.delete(save=False)
            if content:
                contract.erp_file.save(
                    _stored_name("contracts", tenant), ContentFile(content), save=False
                )
            contract.erp_file_sha256 = digest
        contract.save()
        # Signers named by the ERP are mirrored; those staff added in admin (no erp_id) stay.
        contract.signers.filter(erp_id__isnull=False).delete()
        ContractSigner.objects.bulk_create(
            ContractSigner(
                tenant=tenant, contract=contract, erp_id=s.id, email=s.email.lower(), role=s.papel
            )
            for s in data.signatarios.get(order.erp_id, [])
        )


def _sync_attachments(tenant: Tenant, orders: list[Order], data: _Aggregates) -> None:
    by_order = {order.erp_id: order for order in orders}
    existing = {
        a.erp_id: a
        for a in Attachment.objects.filter(order__in=orders, origin=AttachmentOrigin.ERP)
    }
    wanted = {anexo.id: anexo for rows in data.anexos.values() for anexo in rows}
    for erp_id in existing.keys() - wanted.keys():
        existing[erp_id].file.delete(save=False)
        existing[erp_id].delete()
    for erp_id, anexo in wanted.items():
        attachment = existing.get(erp_id)
        if attachment is not None and attachment.sha256 == anexo.sha256:
            continue
        content = bytes(ErpPedidoAnexo.objects.values_list("conteudo", flat=True).get(id=erp_id))
        if attachment is None:
            attachment = Attachment(tenant=tenant, erp_id=erp_id, origin=AttachmentOrigin.ERP)
        elif attachment.file:
            attachment.file.delete(save=False)
        attachment.order = by_order[anexo.pedido_id]
        attachment.kind = anexo.tipo
        attachment.name = anexo.nome
        attachment.mime = anexo.mime
        attachment.size = len(content)
        attachment.sha256 = hashlib.sha256(content).hexdigest()
        attachment.created_at = anexo.criado_em or timezone.now()
        attachment.file.save(_stored_name("attachments", tenant), ContentFile(content), save=False)
        attachment.save()


def _insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain rows into a portal table: COPY on PostgreSQL, executemany elsewhere.

    The mirror writes ~13 child rows per order; the ORM's bulk_create spends most of an
    initial mirror preparing them one value at a time.
    """
    if not rows:
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
            )


def _write_chunk(tenant: Tenant, data: _Aggregates, stats: SyncStats) -> None:
    cliente_ids = {p.cliente_id for p in data.pedidos}
    tenant_customers = _among(Customer.objects.filter(tenant=tenant), "erp_id", cliente_ids)
    customers = dict(tenant_customers.values_list("erp_id", "id"))
    if cliente_ids - customers.keys():
        stats += _sync_customers(tenant, sorted(cliente_ids - customers.keys()))
        customers = dict(tenant_customers.values_list("erp_id", "id"))
    existing = {
        o.erp_id: o
        for o in _among(Order.objects.filter(tenant=tenant), "erp_id", [p.id for p in data.pedidos])
    }
    created, updated = [], []
    previous_status = {erp_id: order.status for erp_id, order in existing.items()}
    for pedido in data.pedidos:
        if pedido.cliente_id not in customers:
            logger.warning(
                "Order %s skipped: customer %s unknown", pedido.numero, pedido.cliente_id
            )
            continue
        order = existing.get(pedido.id) or Order(tenant=tenant, erp_id=pedido.id)
        order.customer_id = customers[pedido.cliente_id]
        _order_from(pedido, order)
        (updated if order.pk else created).append(order)
    _create_orders(tenant, created)
    Order.objects.bulk_update(
        updated, ["customer_id", "approved_by", *ORDER_FIELDS], batch_size=CHUNK_SIZE
    )
    orders = created + updated
    stats.orders_created += len(created)
    stats.orders_updated += len(updated)
    stats.proposals_changed += [
        (o.pk, o.erp_version) for o in orders if o.status == OrderStatus.PROPOSAL
    ]
    stats.oldest_change_at = _earliest(stats.oldest_change_at, *(o.erp_updated_at for o in orders))

    OrderItem.objects.filter(order__in=updated).delete()
    Installment.objects.filter(order__in=updated).delete()
    items = [ItemRow(tenant.pk, o.pk, *row) for o in orders for row in data.itens.get(o.erp_id, [])]
    installments = [
        InstallmentRow(tenant.pk, o.pk, *row)
        for o in orders
        for row in data.parcelas.get(o.erp_id, [])
    ]
    _insert_rows(OrderItem, ITEM_COLUMNS, items)
    _insert_rows(Installment, INSTALLMENT_COLUMNS, installments)
    _record_versions(tenant, orders, items, installments, previous_status, updated)
    _sync_documents(tenant, data, orders, updated)


def _create_orders(tenant: Tenant, orders: list[Order]) -> None:
    """New orders in one COPY, then their ids (the children need them)."""
    columns = ("tenant_id", "customer_id", "erp_id", "approved_by", *ORDER_FIELDS)
    _insert_rows(Order, columns, [tuple(getattr(o, c) for c in columns) for o in orders])
    created = _among(Order.objects.filter(tenant=tenant), "erp_id", [o.erp_id for o in orders])
    ids = dict(created.values_list("erp_id", "id"))
    for order in orders:
        order.pk = ids[order.erp_id]


def _record_versions(tenant, orders, items, installments, previous_status, updated) -> None:
    """An OrderSnapshot per mirrored version, a StatusChange per status seen to change."""
    items_by_order, installments_by_order = defaultdict(list), defaultdict(list)
    for item in items:
        items_by_order[item.order_id].append(item)
    for installment in installments:
        installments_by_order[installment.order_id].append(installment)
    # A version already kept (an ERP restored to an older state) is not stored twice.
    kept = set(
        OrderSnapshot.objects.filter(order__in=updated).values_list("order_id", "erp_version")
    )
    now = timezone.now()
    snapshots, status_changes = [], []
    for order in orders:
        if (order.pk, order.erp_version) not in kept:
            data = order_snapshot_data(
                order, items_by_order[order.pk], installments_by_order[order.pk]
            )
            snapshots.append(
                (tenant.pk, order.pk, order.erp_version, json.dumps(data, ensure_ascii=False), now)
            )
        before = previous_status.get(order.erp_id, "")
        if before != order.status:
            changed_at = order.erp_updated_at or now
            status_changes.append(
                (tenant.pk, order.pk, before, order.status, changed_at, order.erp_version)
            )
    _insert_rows(
        OrderSnapshot, ("tenant_id", "order_id", "erp_version", "data", "created_at"), snapshots
    )
    _insert_rows(
        StatusChange,
        ("tenant_id", "order_id", "from_status", "to_status", "changed_at", "erp_version"),
        status_changes,
    )


def _sync_documents(tenant: Tenant, data: _Aggregates, orders: list, updated: list) -> None:
    if data.contratos or Contract.objects.filter(order__in=updated).exists():
        _sync_contracts(tenant, orders, data)
    if data.anexos or Attachment.objects.filter(order__in=updated, erp_id__isnull=False).exists():
        _sync_attachments(tenant, orders, data)


def _delete_orders(orders) -> int:
    for attachment in Attachment.objects.filter(order__in=orders):
        attachment.file.delete(save=False)
    return orders.delete()[1].get(Order._meta.label, 0)


def _sync_orders(tenant: Tenant, erp_ids: list | None) -> SyncStats:
    stats = SyncStats()
    erp_rows = ErpPedido.objects.filter(empresa_id=tenant.erp_company_id)
    mirror = Order.objects.filter(tenant=tenant)
    if erp_ids is not None:
        erp_rows = erp_rows.filter(id__in=erp_ids)
        mirror = mirror.filter(erp_id__in=erp_ids)
    erp_versions = dict(erp_rows.values_list("id", "versao"))
    changed, gone = _diff(erp_versions, dict(mirror.values_list("erp_id", "erp_version")))
    stats.orders_unchanged = len(erp_versions) - len(changed)
    for chunk in _chunks(changed):
        with _cyclic_gc_paused(), transaction.atomic():
            _write_chunk(tenant, _read_aggregates(chunk), stats)
    if gone:
        with transaction.atomic():
            stats.orders_deleted = _delete_orders(mirror.filter(erp_id__in=gone))
    return stats


# Public API --------------------------------------------------------------------------------


def erp_sync_tenant(*, tenant: Tenant) -> SyncStats:
    """A full pass for one tenant: customers, then orders."""
    with scopes_disabled():
        return _sync_customers(tenant, None) + _sync_orders(tenant, None)


def erp_sync_order(*, tenant: Tenant, erp_id: int) -> SyncStats:
    """Re-mirror one order aggregate (or remove it, if the ERP no longer has it)."""
    with scopes_disabled():
        return _sync_orders(tenant, [erp_id])


def erp_sync_customer(*, tenant: Tenant, erp_id: int) -> SyncStats:
    with scopes_disabled():
        return _sync_customers(tenant, [erp_id])


def erp_sync_all(*, tenant_slug: str | None = None) -> dict[Tenant, SyncStats]:
    """Every active tenant (or the one named): the command's and the follower's pass."""
    tenants = Tenant.objects.filter(is_active=True).order_by("slug")
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    return {tenant: erp_sync_tenant(tenant=tenant) for tenant in tenants}


# Health -----------------------------------------------------------------------------------


def sync_state_record_success(
    *, tenant: Tenant, stats: SyncStats, lag_ms: int | None, full_pass: bool
) -> None:
    """A pass or a notification mirrored fine: the portal is current for this tenant.
    `lag_ms`: ERP change → mirrored, when the pass mirrored a changed order."""
    fields = {"last_success_at": timezone.now(), "last_changed": stats.changed}
    if lag_ms is not None:
        fields["last_lag_ms"] = lag_ms
    if full_pass:
        mirrored = stats.orders_unchanged + stats.orders_created + stats.orders_updated
        fields["orders_mirrored"] = mirrored
    SyncState.objects.update_or_create(tenant=tenant, defaults=fields)


def sync_state_record_failure(*, error: str) -> None:
    """The ERP could not be read: every tenant's pages may now be out of date."""
    now = timezone.now()
    for tenant in Tenant.objects.filter(is_active=True):
        SyncState.objects.update_or_create(
            tenant=tenant, defaults={"last_error_at": now, "last_error": error[:2000]}
        )
