"""The mirror engine: the ERP's customers and order aggregates into the portal's models.

Written once, used by `manage.py erp_sync`, the follower, the benchmarks, and the approval and
upload views, which hand `erp_sync_order` to their services (the domain sits below the mirror
and never imports it). Idempotent and keyed by ERP id: an aggregate whose `versao` the mirror
already has is skipped without a write; everything else is read in chunks and written in bulk,
one transaction per chunk.

The ERP's data is not ours: a NULL text reads as empty, a NULL amount as zero, and one malformed
aggregate (an unknown status, a text longer than the portal's column, a missing customer, or
anything else that raises for it) is skipped and recorded as a SkippedRecord for staff, without
stopping the pass; the next pass tries it again. Rows the ERP deleted are marked removed, never
deleted: their approvals, uploads and history are evidence. Files leave storage only after the
transaction that forgot them commits.
"""

import datetime
import functools
import gc
import hashlib
import json
import logging
import time
import uuid
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing import get_context

import psycopg
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import BooleanField, Count, DecimalField, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Coalesce, Length
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.models import Contract, ContractSigner
from contracts.services import contract_source_key
from contracts.signing import contract_signing_reconcile, signing_requests_queue
from erp_sync.models import (
    MONEY,
    ErpCliente,
    ErpContratoSignatario,
    ErpPedido,
    ErpPedidoAnexo,
    ErpPedidoContrato,
    ErpPedidoItem,
    ErpPedidoParcela,
    SkippedRecord,
    SyncState,
)
from notifications.tasks import notify_proposal_created, notify_status_changed
from portal.accounts.models import Customer, Tenant, User, normalize_email
from portal.background.queue import enqueue_on_commit
from proposals.models import (
    Approval,
    Attachment,
    AttachmentKind,
    AttachmentOrigin,
    Decline,
    Installment,
    Order,
    OrderItem,
    OrderSnapshot,
    OrderStatus,
    StatusChange,
)
from proposals.search import order_search_text
from proposals.snapshots import order_snapshot_data

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
ZERO = Decimal(0)
# ERP columns read for children, and the portal columns they land in (same order after the
# leading pedido_id, which becomes tenant_id + order_id).
ERP_ITEM = (
    "pedido_id", "id", "sequencia", "tipo", "codigo", "descricao", "unidade", "quantidade",
    "valor_unitario", "desconto", "valor_total", "informacoes",
)  # fmt: skip
# Optional item columns read NULL as empty or zero, by the database (a million rows a bulk pass).
ITEM_READ = tuple(
    Coalesce(column, Value(""), output_field=TextField())
    if column in ("codigo", "unidade", "informacoes")
    else Coalesce(column, Value(Decimal(0)), output_field=DecimalField(**MONEY))
    if column == "desconto"
    else column
    for column in ERP_ITEM
)
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
# Optional ERP columns (DESIGN.md): NULL reads as empty text, or as zero (the others stay NULL).
ORDER_NULLS = dict.fromkeys(("salesperson", "payment_method", "payment_terms", "notes"), "") | (
    dict.fromkeys(("products_total", "services_total", "discount", "freight", "total"), ZERO)
)
# Connection trouble ends the pass (the follower reconnects and retries); anything else an
# aggregate raises costs only that aggregate.
PASS_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError)


COUNTS = (
    "customers_created",
    "customers_updated",
    "customers_deleted",
    "orders_created",
    "orders_updated",
    "orders_deleted",
    "orders_unchanged",
)


@dataclass(frozen=True)
class Skip:
    """An ERP row the mirror could not take, and why (pt-BR, for the staff's sync page)."""

    kind: str  # SkippedRecord.Kind
    erp_id: int
    label: str
    error: str


@dataclass
class SyncStats:
    customers_created: int = 0
    customers_updated: int = 0
    customers_deleted: int = 0  # removed: marked, never deleted (their evidence stays)
    orders_created: int = 0
    orders_updated: int = 0
    orders_deleted: int = 0  # removed, as customers_deleted
    orders_unchanged: int = 0
    # (portal id, version) of proposals (PRO) mirrored at a new version: the follower has their
    # PDFs rendered ahead.
    proposals_changed: list[tuple[int, int]] = field(default_factory=list)
    # The ERP's atualizado_em of the oldest order change mirrored: the follower's lag is from it.
    oldest_change_at: datetime.datetime | None = None
    skipped: list[Skip] = field(default_factory=list)

    def __iadd__(self, other: "SyncStats") -> "SyncStats":
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.proposals_changed = self.proposals_changed + other.proposals_changed
        self.oldest_change_at = _earliest(self.oldest_change_at, other.oldest_change_at)
        self.skipped = self.skipped + other.skipped
        return self

    def __add__(self, other: "SyncStats") -> "SyncStats":
        total = SyncStats()
        total += self
        total += other
        return total

    def __str__(self) -> str:
        skipped = f"; skipped {len(self.skipped)}" if self.skipped else ""
        return (
            f"customers +{self.customers_created} ~{self.customers_updated} "
            f"-{self.customers_deleted}; orders +{self.orders_created} ~{self.orders_updated} "
            f"-{self.orders_deleted} ={self.orders_unchanged}{skipped}"
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


def _mirrored_versions(mirror) -> dict:
    """Mirrored ERP id → version; None for a row marked removed (mirrored again if it returns)."""
    return {
        erp_id: None if removed_at else version
        for erp_id, version, removed_at in mirror.values_list("erp_id", "erp_version", "removed_at")
    }


def _diff(erp_versions: dict, mirror_versions: dict) -> tuple[list, list]:
    """ERP ids to (re-)mirror, and live mirrored ids the ERP no longer has."""
    changed = sorted(i for i, v in erp_versions.items() if mirror_versions.get(i) != v)
    gone = sorted(i for i, v in mirror_versions.items() if v is not None and i not in erp_versions)
    return changed, gone


def _delete_after_commit(file: FieldFile) -> None:
    """Storage has no transactions: a file goes only once the change that dropped it commits,
    so a rolled-back pass never leaves a row naming a missing file."""
    if file:
        storage, name = file.storage, file.name
        transaction.on_commit(lambda: storage.delete(name), robust=True)


# What the portal can hold ------------------------------------------------------------------


def _limits(model, columns: dict[str, str]) -> list[tuple[str, int | None, frozenset]]:
    """(ERP column, max_length, allowed values) of the portal fields that ERP columns land in:
    what an ERP value may break."""
    limits = []
    for column, name in columns.items():
        portal_field = model._meta.get_field(name)
        allowed = frozenset(value for value, _ in portal_field.choices or ())
        limits.append((column, portal_field.max_length, allowed))
    return limits


def _problem(column: str, value, max_length: int | None, allowed: frozenset) -> str | None:
    if value is None:
        return None
    if allowed and value not in allowed:
        return f"{column} {value!r} desconhecido (o portal aceita {', '.join(sorted(allowed))})"
    if max_length is not None and len(value) > max_length:
        return f"{column} com {len(value)} caracteres (o portal guarda até {max_length})"
    return None


CUSTOMER_LIMITS = _limits(Customer, {"nome": "name", "cpf_cnpj": "cpf_cnpj", "email": "email"})
ORDER_LIMITS = _limits(
    Order,
    {
        "status": "status",
        "vendedor": "salesperson",
        "forma_pagamento": "payment_method",
        "condicao_pagamento": "payment_terms",
        "aprovado_por": "approved_by",
    },
)
ITEM_LIMITS = _limits(
    OrderItem, {"tipo": "kind", "codigo": "code", "descricao": "description", "unidade": "unit"}
)
CONTRACT_LIMITS = _limits(Contract, {"titulo": "title", "assinatura": "signature_mode"})
SIGNER_LIMITS = _limits(ContractSigner, {"email": "email", "papel": "role"})
ATTACHMENT_LIMITS = _limits(Attachment, {"tipo": "kind", "nome": "name", "mime": "mime"})


def _misfits(queryset, limits):
    """The rows of `queryset` holding a value the portal cannot (see `_limits`), found by the
    database: a chunk's ten thousand items are checked without a Python loop over them."""
    aliases, condition = {}, Q()
    for column, max_length, allowed in limits:
        if allowed:
            condition |= Q(**{f"{column}__isnull": False}) & ~Q(**{f"{column}__in": allowed})
        if max_length:
            aliases[f"{column}_length"] = Length(column)
            condition |= Q(**{f"{column}_length__gt": max_length})
    return queryset.alias(**aliases).filter(condition)


def _row_problem(row, limits) -> str | None:
    for column, max_length, allowed in limits:
        value = getattr(row, column)
        # The common case without a call: this runs for every order of an initial mirror.
        if value is not None and (
            (allowed and value not in allowed) or (max_length and len(value) > max_length)
        ):
            return _problem(column, value, max_length, allowed)
    return None


def _customer_problem(cliente) -> str | None:
    return _row_problem(cliente, CUSTOMER_LIMITS)


def _order_problem(pedido, data: "_Aggregates") -> str | None:
    """Why this ERP order cannot be mirrored as it is (None: it can)."""
    problem = _row_problem(pedido, ORDER_LIMITS)
    if problem:
        return problem
    if pedido.id in data.misfit_items:
        for row in data.itens[pedido.id]:
            values = dict(zip(ERP_ITEM[1:], row, strict=True))
            for column, max_length, allowed in ITEM_LIMITS:
                problem = _problem(column, values[column], max_length, allowed)
                if problem:
                    return f"item {values['sequencia']}: {problem}"
    contrato = data.contratos.get(pedido.id)
    if contrato is not None:
        problem = _row_problem(contrato, CONTRACT_LIMITS)
        if problem:
            return f"contrato: {problem}"
        for signer in data.signatarios.get(pedido.id, ()):
            problem = _row_problem(signer, SIGNER_LIMITS)
            if problem:
                return f"signatário {signer.email}: {problem}"
    for anexo in data.anexos.get(pedido.id, ()):
        problem = _row_problem(anexo, ATTACHMENT_LIMITS)
        if problem:
            return f"anexo {anexo.id}: {problem}"
    return None


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


# Customers ---------------------------------------------------------------------------------


def _customer_label(cliente) -> str:
    return f"Cliente {cliente.id} — {cliente.nome[:100]}"


def _write_customers(tenant: Tenant, mirror, erp_rows, ids: list, stats: SyncStats) -> None:
    existing = {c.erp_id: c for c in _among(mirror, "erp_id", ids)}
    created, updated = [], []
    for row in _among(erp_rows, "id", ids):
        problem = _customer_problem(row)
        if problem:
            stats.skipped.append(
                Skip(SkippedRecord.Kind.CUSTOMER, row.id, _customer_label(row), problem)
            )
            continue
        customer = existing.get(row.id) or Customer(tenant=tenant, erp_id=row.id)
        customer.name = row.nome
        customer.cpf_cnpj = row.cpf_cnpj or ""
        customer.email = row.email or ""
        customer.is_active = row.ativo is not False  # NULL: the ERP did not say it is inactive
        customer.erp_version = row.versao
        customer.removed_at = None
        (updated if customer.pk else created).append(customer)
    Customer.objects.bulk_create(created)
    Customer.objects.bulk_update(
        updated, ["name", "cpf_cnpj", "email", "is_active", "erp_version", "removed_at"]
    )
    stats.customers_created += len(created)
    stats.customers_updated += len(updated)


def _sync_customers(tenant: Tenant, erp_ids: list | None) -> SyncStats:
    stats = SyncStats()
    erp_rows = ErpCliente.objects.filter(empresa_id=tenant.erp_company_id)
    mirror = Customer.objects.filter(tenant=tenant)
    if erp_ids is not None:
        erp_rows = erp_rows.filter(id__in=erp_ids)
        mirror = mirror.filter(erp_id__in=erp_ids)
    changed, gone = _diff(dict(erp_rows.values_list("id", "versao")), _mirrored_versions(mirror))
    for chunk in _chunks(changed):
        _isolated(
            chunk,
            lambda ids, chunk_stats: _write_customers(tenant, mirror, erp_rows, ids, chunk_stats),
            lambda ids: [
                Skip(SkippedRecord.Kind.CUSTOMER, row.id, _customer_label(row), "")
                for row in _among(erp_rows, "id", ids)
            ],
            stats,
        )
    if gone:
        with transaction.atomic():
            # Their logins stay (for the record) but can no longer log in.
            User.objects.filter(customer__tenant=tenant, customer__erp_id__in=gone).update(
                is_active=False, customer=None
            )
            now = timezone.now()
            _remove_orders(Order.objects.filter(tenant=tenant, customer__erp_id__in=gone), now)
            stats.customers_deleted = mirror.filter(
                erp_id__in=gone, removed_at__isnull=True
            ).update(removed_at=now)
    _record_skips(tenant, SkippedRecord.Kind.CUSTOMER, [*changed, *gone], stats.skipped)
    return stats


def _isolated(ids: list, write, skips_of, stats: SyncStats) -> None:
    """`write(ids, stats)` in one transaction; if it raises, each id alone in its own, so one
    aggregate that cannot be written is skipped (and recorded) and the others go through.

    `skips_of(ids)` names what a failed id was, for the record. Connection trouble (PASS_ERRORS)
    ends the pass instead: it would fail every aggregate after it too.
    """
    try:
        with transaction.atomic():
            chunk_stats = SyncStats()
            write(ids, chunk_stats)
        stats += chunk_stats
        return
    except PASS_ERRORS:
        raise
    except Exception as error:
        if len(ids) == 1:
            _skip_failed(ids, error, skips_of, stats)
            return
        logger.warning("A chunk of %d failed (%s): writing them one by one", len(ids), error)
    for erp_id in ids:
        try:
            with transaction.atomic():
                one_stats = SyncStats()
                write([erp_id], one_stats)
            stats += one_stats
        except PASS_ERRORS:
            raise
        except Exception as error:
            _skip_failed([erp_id], error, skips_of, stats)


def _skip_failed(ids: list, error: Exception, skips_of, stats: SyncStats) -> None:
    logger.exception("ERP row %s skipped", ids[0])
    for skip in skips_of(ids):
        stats.skipped.append(Skip(skip.kind, skip.erp_id, skip.label, _error_text(error)))


def _record_skips(tenant: Tenant, kind: str, attempted: list, skipped: list[Skip]) -> None:
    """The sync page's list: what this pass could not take, minus what it now took."""
    skipped = [skip for skip in skipped if skip.kind == kind]
    if not attempted and not skipped:
        return
    if skipped:
        SyncState.objects.get_or_create(tenant=tenant)  # the page that lists them
    records = SkippedRecord.objects.filter(tenant=tenant, kind=kind)
    known = set(records.values_list("erp_id", flat=True))
    resolved = (known & set(attempted)) - {skip.erp_id for skip in skipped}
    if resolved:
        records.filter(erp_id__in=resolved).delete()
    now = timezone.now()
    for skip in skipped:
        SkippedRecord.objects.update_or_create(
            tenant=tenant,
            kind=kind,
            erp_id=skip.erp_id,
            defaults={"label": skip.label[:200], "error": skip.error, "last_seen_at": now},
            create_defaults={
                "label": skip.label[:200],
                "error": skip.error,
                "first_seen_at": now,
                "last_seen_at": now,
            },
        )


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
    misfit_items: set  # orders with an item the portal cannot hold as it is


def _read_aggregates(pedido_ids: list) -> _Aggregates:
    itens, parcelas, signatarios, anexos = (defaultdict(list) for _ in range(4))
    # Orders, items and installments are the bulk of a chunk: plain tuples, no model instances.
    pedidos = _among(ErpPedido.objects, "id", pedido_ids).values_list(*ERP_ORDER, named=True)
    erp_itens = _among(ErpPedidoItem.objects, "pedido_id", pedido_ids)
    for row in erp_itens.values_list(*ITEM_READ):
        itens[row[0]].append(row[1:])
    misfit_items = set(_misfits(erp_itens, ITEM_LIMITS).values_list("pedido_id", flat=True))
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
        misfit_items=misfit_items,
    )


def _order_from(pedido, order: Order, itens: list) -> Order:
    for name, column in ORDER_FIELDS.items():
        value = getattr(pedido, column)
        setattr(order, name, ORDER_NULLS.get(name) if value is None else value)
    order.approved_by = pedido.aprovado_por or ""
    order.removed_at = None
    # itens: _item_row tuples; code, description and notes at 3, 4 and 10.
    order.search_text = order_search_text(
        number=order.number,
        salesperson=order.salesperson,
        notes=order.notes,
        items=((row[3], row[4], row[10]) for row in itens),
    )
    return order


def _stored_name(folder: str, tenant: Tenant) -> str:
    """A generated storage key: never a name that came from outside."""
    return f"{folder}/{tenant.slug}/{uuid.uuid4().hex}"


# What the mirror writes on a contract; the signature fields are the portal's own.
CONTRACT_FIELDS = [
    "erp_id", "title", "content_html", "erp_file", "erp_file_sha256", "signature_mode",
    "erp_updated_at",
]  # fmt: skip


def _signed_text(contract: Contract) -> tuple:
    """What the customer signs: a change of any of it voids the signature."""
    return (contract.title, contract.content_html, contract.erp_file_sha256)


def _void_signed_uploads(contract: Contract) -> None:
    """The ERP changed the contract: an earlier "Contrato Assinado" no longer counts.

    Kept in the history, marked void; the customer must send the new contract signed
    (DESIGN.md "Approval rules"). Runs after the contract's row is written, so an upload that
    held the row's lock has committed and is voided too.
    """
    now = timezone.now()
    voided = Attachment.objects.filter(
        order_id=contract.order_id,
        kind=AttachmentKind.SIGNED_CONTRACT,
        origin=AttachmentOrigin.PORTAL,
        voided_at__isnull=True,
    ).update(voided_at=now)
    if voided:
        Contract.objects.filter(pk=contract.pk).update(signed_at=None, signed_voided_at=now)
        logger.info(
            "Contract of order %s changed: %s signed upload(s) voided", contract.order_id, voided
        )


def _sync_contracts(tenant: Tenant, orders: list[Order], data: _Aggregates) -> None:
    existing = {c.order_id: c for c in Contract.objects.filter(order__in=orders)}
    # Signers are asked to sign once the tenant's initial load is done, never for it. Asked of
    # the database only when a contract's signing terms change (not on every chunk).
    ask_signers = functools.cache(lambda: _first_pass_done(tenant))
    for order in orders:
        contrato = data.contratos.get(order.erp_id)
        contract = existing.get(order.pk)
        if contrato is None:
            if contract is not None:
                contract.delete()
            continue
        signed_text = _signed_text(contract) if contract is not None else None
        before = _signing_terms(contract) if contract is not None else None
        contract = contract or Contract(tenant=tenant, order=order)
        contract.erp_id = contrato.id
        contract.title = contrato.titulo
        contract.content_html = contrato.conteudo_html or ""
        contract.signature_mode = contrato.assinatura
        contract.erp_updated_at = contrato.atualizado_em
        content = bytes(contrato.arquivo) if contrato.arquivo else b""
        digest = hashlib.sha256(content).hexdigest() if content else ""
        if digest != contract.erp_file_sha256:
            _delete_after_commit(contract.erp_file)
            contract.erp_file = None
            if content:
                contract.erp_file.save(
                    _stored_name("contracts", tenant), ContentFile(content), save=False
                )
            contract.erp_file_sha256 = digest
        if signed_text is None:
            contract.save()
        else:
            # Only the ERP's fields: an upload may have signed the row since it was read.
            contract.save(update_fields=CONTRACT_FIELDS)
            if _signed_text(contract) != signed_text:
                _void_signed_uploads(contract)
        # Signers named by the ERP are mirrored; those staff added in admin (no erp_id) stay.
        contract.signers.filter(erp_id__isnull=False).delete()
        ContractSigner.objects.bulk_create(
            ContractSigner(
                tenant=tenant,
                contract=contract,
                erp_id=s.id,
                email=normalize_email(s.email),
                role=s.papel,
            )
            for s in data.signatarios.get(order.erp_id, [])
        )
        if (before is not None or ask_signers()) and before != _signing_terms(contract):
            contract.order = order
            # Signatures of what is no longer the contract (or by who no longer signs it) void.
            voided = contract_signing_reconcile(contract=contract) if before is not None else []
            if ask_signers():
                signing_requests_queue(contract=contract, skip={s.email for s in voided})


def _signing_terms(contract: Contract) -> tuple:
    """What a digital signature binds: the contract's content, its mode and its signers."""
    signers = sorted(contract.signers.values_list("email", "role"))
    return (contract_source_key(contract), contract.signature_mode, signers)


def _sync_attachments(tenant: Tenant, orders: list[Order], data: _Aggregates) -> None:
    by_order = {order.erp_id: order for order in orders}
    existing = {
        a.erp_id: a
        for a in Attachment.objects.filter(order__in=orders, origin=AttachmentOrigin.ERP)
    }
    wanted = {anexo.id: anexo for erp_id in by_order for anexo in data.anexos.get(erp_id, [])}
    for erp_id in existing.keys() - wanted.keys():
        _delete_after_commit(existing[erp_id].file)
        existing[erp_id].delete()
    for erp_id, anexo in wanted.items():
        attachment = existing.get(erp_id)
        if attachment is not None and anexo.sha256 and attachment.sha256 == anexo.sha256:
            continue
        content = bytes(ErpPedidoAnexo.objects.values_list("conteudo", flat=True).get(id=erp_id))
        digest = hashlib.sha256(content).hexdigest()
        if attachment is not None and attachment.sha256 == digest:
            continue  # the ERP left sha256 NULL: the content tells
        if attachment is None:
            attachment = Attachment(tenant=tenant, erp_id=erp_id, origin=AttachmentOrigin.ERP)
        else:
            _delete_after_commit(attachment.file)
        attachment.order = by_order[anexo.pedido_id]
        attachment.kind = anexo.tipo
        attachment.name = anexo.nome
        attachment.mime = anexo.mime
        attachment.size = len(content)
        attachment.sha256 = digest
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


def _mirrorable(tenant: Tenant, data: _Aggregates, stats: SyncStats) -> tuple[list, dict]:
    """The chunk's orders that can be mirrored, with their customers' portal ids; the others
    are skipped and recorded."""
    cliente_ids = {p.cliente_id for p in data.pedidos}
    tenant_customers = _among(
        Customer.objects.filter(tenant=tenant, removed_at__isnull=True), "erp_id", cliente_ids
    )
    customers = dict(tenant_customers.values_list("erp_id", "id"))
    if cliente_ids - customers.keys():
        stats += _sync_customers(tenant, sorted(cliente_ids - customers.keys()))
        customers = dict(tenant_customers.values_list("erp_id", "id"))
    pedidos = []
    for pedido in data.pedidos:
        if pedido.cliente_id not in customers:
            problem = (
                f"o cliente {pedido.cliente_id} do pedido não está no ERP desta empresa "
                "(ou não pôde ser espelhado)"
            )
        else:
            problem = _order_problem(pedido, data)
        if problem:
            stats.skipped.append(
                Skip(SkippedRecord.Kind.ORDER, pedido.id, f"Pedido {pedido.numero}", problem)
            )
        else:
            pedidos.append(pedido)
    return pedidos, customers


def _write_chunk(tenant: Tenant, data: _Aggregates, stats: SyncStats) -> None:
    pedidos, customers = _mirrorable(tenant, data, stats)
    existing = {
        o.erp_id: o
        for o in _among(Order.objects.filter(tenant=tenant), "erp_id", [p.id for p in pedidos])
    }
    created, updated = [], []
    previous_status = {erp_id: order.status for erp_id, order in existing.items()}
    for pedido in pedidos:
        order = existing.get(pedido.id) or Order(tenant=tenant, erp_id=pedido.id)
        order.customer_id = customers[pedido.cliente_id]
        _order_from(pedido, order, data.itens.get(pedido.id, []))
        (updated if order.pk else created).append(order)
    _create_orders(tenant, created)
    Order.objects.bulk_update(
        updated,
        ["customer_id", "approved_by", "removed_at", "search_text", *ORDER_FIELDS],
        batch_size=CHUNK_SIZE,
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
    # New proposals are announced once the tenant's initial load is done, never for it.
    announced = created if created and _first_pass_done(tenant) else []
    _notify_customers(tenant, announced, updated, previous_status)


def _notify_customers(tenant: Tenant, created: list, updated: list, previous_status: dict):
    """Once the chunk commits: e-mail the customer a new proposal, or an order the ERP moved
    to Pedido or Cancelado (notifications.tasks)."""
    for order in created:
        if order.status == OrderStatus.PROPOSAL:
            enqueue_on_commit(notify_proposal_created, tenant_id=tenant.pk, order_id=order.pk)
    for order in updated:
        moved = previous_status.get(order.erp_id) != order.status
        if moved and order.status in (OrderStatus.ORDER, OrderStatus.CANCELLED):
            enqueue_on_commit(
                notify_status_changed,
                tenant_id=tenant.pk,
                order_id=order.pk,
                to_status=order.status,
                erp_version=order.erp_version,
            )


def _create_orders(tenant: Tenant, orders: list[Order]) -> None:
    """New orders in one COPY, then their ids (the children need them)."""
    columns = ("tenant_id", "customer_id", "erp_id", "approved_by", "search_text", *ORDER_FIELDS)
    _insert_rows(Order, columns, [tuple(getattr(o, c) for c in columns) for o in orders])
    created = _among(Order.objects.filter(tenant=tenant), "erp_id", [o.erp_id for o in orders])
    ids = dict(created.values_list("erp_id", "id"))
    for order in orders:
        order.pk = ids[order.erp_id]


def _status_set_at(order: Order, *, first_seen: bool) -> datetime.datetime:
    """When the ERP set the status the mirror now sees, by the ERP's own dates.

    An approval is dated by `aprovado_em`. An order seen for the first time (at go-live, every
    order at once) is dated by its issue — never by the moment the portal first mirrored it;
    its timeline (proposals.timeline) shows the ERP's dates rather than this row's time.
    """
    if order.status == OrderStatus.APPROVED and order.approved_at is not None:
        return order.approved_at
    if first_seen:
        midnight = datetime.datetime.combine(order.issued_on, datetime.time())
        return timezone.make_aware(midnight)
    return order.erp_updated_at or timezone.now()


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
            changed_at = _status_set_at(order, first_seen=order.erp_id not in previous_status)
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


def _remove_orders(orders, now: datetime.datetime) -> int:
    """Orders the ERP deleted leave the customer's pages, and only them: the approval, uploads,
    contract, snapshots and timeline stay with the row, for staff and support in admin."""
    return orders.filter(removed_at__isnull=True).update(removed_at=now)


def _sync_orders(tenant: Tenant, erp_ids: list | None) -> SyncStats:
    stats = SyncStats()
    erp_rows = ErpPedido.objects.filter(empresa_id=tenant.erp_company_id)
    mirror = Order.objects.filter(tenant=tenant)
    if erp_ids is not None:
        erp_rows = erp_rows.filter(id__in=erp_ids)
        mirror = mirror.filter(erp_id__in=erp_ids)
    erp_versions = dict(erp_rows.values_list("id", "versao"))
    changed, gone = _diff(erp_versions, _mirrored_versions(mirror))
    stats.orders_unchanged = len(erp_versions) - len(changed)
    if gone:
        # First: a new order may take the number of one the ERP deleted.
        with transaction.atomic():
            stats.orders_deleted = _remove_orders(mirror.filter(erp_id__in=gone), timezone.now())
    for chunk in _chunks(changed):
        with _cyclic_gc_paused():
            _isolated(
                chunk,
                lambda ids, chunk_stats: _write_chunk(tenant, _read_aggregates(ids), chunk_stats),
                lambda ids: [
                    Skip(SkippedRecord.Kind.ORDER, erp_id, f"Pedido {numero}", "")
                    for erp_id, numero in _among(erp_rows, "id", ids).values_list("id", "numero")
                ],
                stats,
            )
    _record_skips(tenant, SkippedRecord.Kind.ORDER, [*changed, *gone], stats.skipped)
    return stats


# Public API --------------------------------------------------------------------------------


def _first_pass_done(tenant: Tenant) -> bool:
    return SyncState.objects.filter(tenant=tenant, first_pass_at__isnull=False).exists()


def erp_sync_tenant(*, tenant: Tenant) -> SyncStats:
    """A full pass for one tenant: customers, then orders."""
    with scopes_disabled():
        stats = _sync_customers(tenant, None) + _sync_orders(tenant, None)
    if not _first_pass_done(tenant):
        SyncState.objects.update_or_create(
            tenant=tenant, defaults={"first_pass_at": timezone.now()}
        )
    return stats


def erp_sync_order(*, tenant: Tenant, erp_id: int) -> SyncStats:
    """Re-mirror one order aggregate (or mark it removed, if the ERP no longer has it)."""
    with scopes_disabled():
        return _sync_orders(tenant, [erp_id])


def erp_sync_customer(*, tenant: Tenant, erp_id: int) -> SyncStats:
    with scopes_disabled():
        return _sync_customers(tenant, [erp_id])


def erp_sync_each(
    *, tenant_slug: str | None = None, jobs: int = 1
) -> Iterator[tuple[Tenant, SyncStats]]:
    """Every active tenant (or the one named), one full pass each, handed over as each ends.

    `jobs` > 1 (PostgreSQL only) passes that many tenants at once, each in its own process with
    its own connection, the largest first: one pass alternates between its own Python and
    PostgreSQL's work, so on its own it keeps about one core busy (issue 13: the initial mirror
    of 100 tenants). Tenants share no mirrored rows, so their passes cannot conflict.

    A pass that changed much of the mirror (the initial mirror, a bulk load in the ERP) leaves
    the tables it wrote analyzed once every tenant is done: see `mirror_analyze_after_bulk_pass`.
    """
    tenants = Tenant.objects.filter(is_active=True).order_by("slug")
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    tenants = list(tenants)
    # Other processes could not see the rows of a caller's open transaction.
    parallel = jobs > 1 and len(tenants) > 1 and not connection.in_atomic_block
    if parallel and connection.vendor == "postgresql":
        passes = _parallel_passes(tenants, jobs)
    else:
        passes = ((tenant, erp_sync_tenant(tenant=tenant)) for tenant in tenants)
    total = SyncStats()
    for tenant, stats in passes:
        total += stats
        yield tenant, stats
    mirror_analyze_after_bulk_pass(stats=total)


def _tenant_pass(tenant_pk: int) -> SyncStats:
    """One tenant's full pass in a worker process of `_parallel_passes`."""
    try:
        return erp_sync_tenant(tenant=Tenant.objects.get(pk=tenant_pk))
    finally:
        connections.close_all()


def _parallel_passes(tenants: list[Tenant], jobs: int) -> Iterator[tuple[Tenant, SyncStats]]:
    """`erp_sync_tenant` of each tenant in `jobs` forked processes, the most orders first (so
    the largest tenant does not start last and finish alone)."""
    orders = dict(
        ErpPedido.objects.filter(empresa_id__in=[tenant.erp_company_id for tenant in tenants])
        .values("empresa_id")
        .annotate(n=Count("id"))
        .values_list("empresa_id", "n")
    )
    tenants = sorted(tenants, key=lambda tenant: -orders.get(tenant.erp_company_id, 0))
    # A forked child must not share the parent's sockets: each opens its own connections.
    connections.close_all()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        futures = {pool.submit(_tenant_pass, tenant.pk): tenant for tenant in tenants}
        for future in as_completed(futures):
            yield futures[future], future.result()


def erp_sync_all(*, tenant_slug: str | None = None, jobs: int = 1) -> dict[Tenant, SyncStats]:
    """Every active tenant (or the one named): the command's pass (see `erp_sync_each`)."""
    return dict(erp_sync_each(tenant_slug=tenant_slug, jobs=jobs))


# Statistics after a bulk pass ---------------------------------------------------------------

# Autovacuum's own default (autovacuum_analyze_scale_factor): the share of a table that must have
# changed before its statistics are stale enough to refresh.
ANALYZE_SHARE = 0.1
MIRRORED_MODELS = [Customer, Order, OrderItem, Installment, OrderSnapshot, StatusChange]
# What the pages join the mirrored orders with: written by the mirror too, or by customers (empty
# at go-live, and PostgreSQL's guess for a table never analyzed is a full one: the PAINEL then
# sorted a heavy customer's 4,117 open proposals, 12.6 ms, instead of reading its first 20,
# 0.2 ms).
JOINED_MODELS = [Contract, Attachment, Approval, Decline]


def mirror_analyze_after_bulk_pass(*, stats: SyncStats) -> bool:
    """ANALYZE the mirrored tables now if this pass changed a tenth of the orders it saw.

    PostgreSQL plans with the statistics of the last ANALYZE; after a bulk load autovacuum gets
    there minutes later, and until then every customer waits (the detail page's items query took
    50 ms instead of 13 right after the initial mirror, issue 13). Once per pass, after every
    chunk is written; the initial mirror (everything new) always qualifies. Returns whether it
    analyzed. SQLite: nothing (ANALYZE reads whole tables there, and its planner does well
    without).
    """
    changed = stats.orders_created + stats.orders_updated + stats.orders_deleted
    seen = stats.orders_unchanged + stats.orders_created + stats.orders_updated
    if connection.vendor != "postgresql" or not changed or changed < ANALYZE_SHARE * seen:
        return False
    started = time.monotonic()
    tables = ", ".join(model._meta.db_table for model in MIRRORED_MODELS + JOINED_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
    logger.info("Analyzed %s in %.0f ms", tables, (time.monotonic() - started) * 1000)
    return True


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


def sync_state_record_failure(*, error: str, tenants=None) -> None:
    """A pass failed (the ERP could not be read, or anything else): the pages of these tenants
    (default: every active one) may now be out of date."""
    now = timezone.now()
    for tenant in tenants if tenants is not None else Tenant.objects.filter(is_active=True):
        SyncState.objects.update_or_create(
            tenant=tenant, defaults={"last_error_at": now, "last_error": error[:2000]}
        )
