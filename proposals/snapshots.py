"""What a customer saw: an order version as plain data, and the comparison of two versions.

The mirror stores `order_snapshot_data(order)` as an OrderSnapshot for every version it mirrors;
a stale approval compares the version the customer saw with the one the ERP has now.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import formats
from proposals.models import ItemKind, Order, OrderStatus

ORDER_FIELDS = {
    # field: (label, kind)
    "status": (_("Status"), "status"),
    "issued_on": (_("Emissão"), "date"),
    "valid_until": (_("Validade"), "date"),
    "salesperson": (_("Vendedor"), "text"),
    "payment_method": (_("Forma de pagamento"), "text"),
    "payment_terms": (_("Condição de pagamento"), "text"),
    "notes": (_("Observações"), "text"),
    "products_total": (_("Valor dos produtos"), "money"),
    "services_total": (_("Valor dos serviços"), "money"),
    "discount": (_("Desconto"), "money"),
    "freight": (_("Frete"), "money"),
    "total": (_("Valor total"), "money"),
}
ITEM_FIELDS = {
    "code": (_("Código"), "text"),
    "description": (_("Descrição"), "text"),
    "kind": (_("Tipo"), "kind"),
    "unit": (_("Unidade"), "text"),
    "quantity": (_("Quantidade"), "quantity"),
    "unit_price": (_("Valor unitário"), "unit_price"),
    "discount": (_("Desconto"), "money"),
    "total": (_("Valor total"), "money"),
    "notes": (_("Informações"), "text"),
}
INSTALLMENT_FIELDS = {
    "due_date": (_("Vencimento"), "date"),
    "amount": (_("Valor"), "money"),
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
        return {"added": _("incluído"), "removed": _("removido"), "changed": _("alterado")}[
            self.change
        ]


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
            lambda row: gettext("Item %(sequence)s — %(description)s") % row,
        ),
        installments=_row_changes(
            INSTALLMENT_FIELDS,
            seen["installments"],
            current["installments"],
            lambda row: gettext("Parcela %(number)s") % row,
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
