"""What a customer saw: an order version as plain data, and the comparison of two versions.

The mirror stores `order_snapshot_data(order)` as an OrderSnapshot for every version it mirrors;
a stale approval compares the version the customer saw with the one the ERP has now.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from portal import formats
from proposals.models import ItemKind, Order, OrderStatus

ORDER_FIELDS = {
    # field: (label, kind)
    "status": ("Status", "status"),
    "issued_on": ("Emissão", "date"),
    "valid_until": ("Validade", "date"),
    "salesperson": ("Vendedor", "text"),
    "payment_method": ("Forma de pagamento", "text"),
    "payment_terms": ("Condição de pagamento", "text"),
    "notes": ("Observações", "text"),
    "products_total": ("Valor dos produtos", "money"),
    "services_total": ("Valor dos serviços", "money"),
    "discount": ("Desconto", "money"),
    "freight": ("Frete", "money"),
    "total": ("Valor total", "money"),
}
ITEM_FIELDS = {
    "code": ("Código", "text"),
    "description": ("Descrição", "text"),
    "kind": ("Tipo", "kind"),
    "unit": ("Unidade", "text"),
    "quantity": ("Quantidade", "quantity"),
    "unit_price": ("Valor unitário", "unit_price"),
    "discount": ("Desconto", "money"),
    "total": ("Valor total", "money"),
    "notes": ("Informações", "text"),
}
INSTALLMENT_FIELDS = {
    "due_date": ("Vencimento", "date"),
    "amount": ("Valor", "money"),
}


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def order_snapshot_data(order: Order, items, installments) -> dict:
    """JSON-ready data of one order version (items and installments passed in: no queries)."""
    return {
        "order": {name: _plain(getattr(order, name)) for name in ORDER_FIELDS},
        "items": [
            {"erp_id": item.erp_id, "sequence": item.sequence}
            | {name: _plain(getattr(item, name)) for name in ITEM_FIELDS}
            for item in sorted(items, key=lambda i: (i.sequence, i.erp_id))
        ],
        "installments": [
            {"erp_id": inst.erp_id, "number": inst.number}
            | {name: _plain(getattr(inst, name)) for name in INSTALLMENT_FIELDS}
            for inst in sorted(installments, key=lambda i: (i.number, i.erp_id))
        ],
    }


def _display(kind: str, value) -> str:
    if value in (None, ""):
        return "—"
    if kind == "money":
        return formats.brl(Decimal(value))
    if kind == "unit_price":
        return formats.brl_unit_price(Decimal(value))
    if kind == "quantity":
        return formats.quantity_br(Decimal(value))
    if kind == "date":
        return "/".join(reversed(value.split("-")))
    if kind == "status":
        return OrderStatus(value).label
    if kind == "kind":
        return ItemKind(value).label
    return str(value)


def _same(kind: str, before, after) -> bool:
    if kind in ("money", "unit_price", "quantity") and before is not None and after is not None:
        return Decimal(before) == Decimal(after)
    return before == after


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class RowChange:
    """An item or installment: added, removed, or changed field by field."""

    change: str  # "added" | "removed" | "changed"
    label: str
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def change_label(self) -> str:
        return {"added": "incluído", "removed": "removido", "changed": "alterado"}[self.change]


@dataclass(frozen=True)
class VersionComparison:
    seen_version: int
    current_version: int
    fields: list[FieldChange]
    items: list[RowChange]
    installments: list[RowChange]

    @property
    def has_changes(self) -> bool:
        return bool(self.fields or self.items or self.installments)


def _field_changes(spec: dict, before: dict, after: dict) -> list[FieldChange]:
    return [
        FieldChange(label, _display(kind, before.get(name)), _display(kind, after.get(name)))
        for name, (label, kind) in spec.items()
        if not _same(kind, before.get(name), after.get(name))
    ]


def _row_changes(spec: dict, before: list, after: list, label) -> list[RowChange]:
    old_rows = {row["erp_id"]: row for row in before}
    new_rows = {row["erp_id"]: row for row in after}
    changes = []
    for row in before:
        if row["erp_id"] not in new_rows:
            changes.append(RowChange("removed", label(row)))
    for row in after:
        old = old_rows.get(row["erp_id"])
        if old is None:
            changes.append(RowChange("added", label(row), _field_changes(spec, {}, row)))
        else:
            diff = _field_changes(spec, old, row)
            if diff:
                changes.append(RowChange("changed", label(row), diff))
    return changes


def compare_snapshots(
    *, seen: dict, current: dict, seen_version: int, current_version: int
) -> VersionComparison:
    """Field by field and item by item: what the customer saw against what the ERP says now."""
    return VersionComparison(
        seen_version=seen_version,
        current_version=current_version,
        fields=_field_changes(ORDER_FIELDS, seen["order"], current["order"]),
        items=_row_changes(
            ITEM_FIELDS,
            seen["items"],
            current["items"],
            lambda row: f"Item {row['sequence']} — {row['description']}",
        ),
        installments=_row_changes(
            INSTALLMENT_FIELDS,
            seen["installments"],
            current["installments"],
            lambda row: f"Parcela {row['number']}",
        ),
    )


def order_version_comparison(*, order: Order, seen_version: int) -> VersionComparison | None:
    """The version the customer saw against the mirrored current one (None: nothing to compare)."""
    if seen_version == order.erp_version:
        return None
    snapshots = {
        snap.erp_version: snap.data
        for snap in order.snapshots.filter(erp_version__in=[seen_version, order.erp_version])
    }
    seen = snapshots.get(seen_version)
    if seen is None:
        return None
    current = snapshots.get(order.erp_version) or order_snapshot_data(
        order, order.items.all(), order.installments.all()
    )
    return compare_snapshots(
        seen=seen, current=current, seen_version=seen_version, current_version=order.erp_version
    )
