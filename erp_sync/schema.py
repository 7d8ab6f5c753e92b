"""The ERP schema's repeated triggers, generated from one list of the order's child tables.

erp_sync/sql/{postgresql,sqlite}.sql are the files an ERP installs, so the triggers are written
out in them; the part between the GENERATED markers comes from `CHILD_TABLES` here.
`manage.py erp_schema generate` rewrites it, and a test fails while a file is not current.

SQLite has row triggers only, and an UPDATE inside a trigger fires the table's other UPDATE
triggers (and, with `PRAGMA recursive_triggers = ON`, itself). So every SQLite trigger names the
columns it reacts to (`AFTER UPDATE OF …`), and every UPDATE a trigger makes sets only columns
that no trigger of that table reacts to again: `versao` fires the stamp, the stamp sets only
`atualizado_em`, which fires nothing. One change is one bump whatever `recursive_triggers` says.
"""

from dataclasses import dataclass
from pathlib import Path

from django.apps import apps

SQL_DIR = Path(__file__).resolve().parent / "sql"
BEGIN = "-- BEGIN GENERATED from erp_sync/schema.py (manage.py erp_schema generate): do not edit"
END = "-- END GENERATED"
NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


@dataclass(frozen=True)
class ChildTable:
    """A table whose rows belong to an order: a change to one bumps the order's versao."""

    model: str  # the erp_sync model of the table
    # The order's id for a row, in SQL; `{row}` is NEW or OLD.
    order_id: str = "{row}.pedido_id"
    # Rows that bump (empty: every row); `{row}` is NEW or OLD.
    only: str = ""

    @property
    def table(self) -> str:
        return apps.get_model("erp_sync", self.model)._meta.db_table

    @property
    def columns(self) -> list[str]:
        """The columns whose UPDATE bumps the order: all but the table's own stamp."""
        return [c for c in _columns(self.model) if c != "atualizado_em"]

    @property
    def stamped(self) -> bool:
        """The row has an atualizado_em of its own, stamped on every change."""
        return "atualizado_em" in _columns(self.model)

    def order_of(self, row: str) -> str:
        return self.order_id.format(row=row)

    def bumps(self, row: str) -> str:
        return self.only.format(row=row)


CHILD_TABLES = [
    ChildTable("ErpPedidoItem"),
    ChildTable("ErpPedidoParcela"),
    ChildTable("ErpPedidoContrato"),
    ChildTable(
        "ErpContratoSignatario",
        order_id="(SELECT pedido_id FROM erp_pedido_contrato WHERE id = {row}.contrato_id)",
    ),
    # The portal's own uploads (origem PORTAL) are not a change of the ERP's order.
    ChildTable("ErpPedidoAnexo", only="{row}.origem = 'ERP'"),
]
# The ERP's own rows that bump themselves: a change to any column the portal reads.
SELF_BUMPING = ["ErpCliente", "ErpPedido"]


def _columns(model: str) -> list[str]:
    return [f.column for f in apps.get_model("erp_sync", model)._meta.concrete_fields]


def _when(*conditions: str) -> str:
    conditions = [c for c in conditions if c]
    return f" WHEN {' OR '.join(conditions)}" if conditions else ""


def _bump(where: str) -> str:
    return f"BEGIN\n    UPDATE erp_pedido SET versao = versao + 1 WHERE {where};\nEND;"


def _sqlite_self_triggers(model: str) -> list[str]:
    table = apps.get_model("erp_sync", model)._meta.db_table
    data = [c for c in _columns(model) if c not in ("versao", "atualizado_em")]
    return [
        # A writer that did not move versao itself: +1 (which fires the stamp below).
        f"CREATE TRIGGER {table}_bump AFTER UPDATE OF {', '.join(data)}\n"
        f"ON {table} FOR EACH ROW WHEN NEW.versao IS OLD.versao\n"
        f"BEGIN\n    UPDATE {table} SET versao = versao + 1 WHERE id = NEW.id;\nEND;",
        f"CREATE TRIGGER {table}_stamp AFTER UPDATE OF versao\n"
        f"ON {table} FOR EACH ROW\n"
        f"BEGIN\n    UPDATE {table} SET atualizado_em = {NOW} WHERE id = NEW.id;\nEND;",
    ]


def _sqlite_child_triggers(child: ChildTable) -> list[str]:
    table, new, old = child.table, child.order_of("NEW"), child.order_of("OLD")
    triggers = [
        f"CREATE TRIGGER {table}_ins AFTER INSERT\n"
        f"ON {table} FOR EACH ROW{_when(child.bumps('NEW'))}\n{_bump(f'id = {new}')}",
        f"CREATE TRIGGER {table}_upd AFTER UPDATE OF {', '.join(child.columns)}\n"
        f"ON {table} FOR EACH ROW{_when(child.bumps('NEW'), child.bumps('OLD'))}\n"
        f"{_bump(f'id IN ({new}, {old})')}",
        f"CREATE TRIGGER {table}_del AFTER DELETE\n"
        f"ON {table} FOR EACH ROW{_when(child.bumps('OLD'))}\n{_bump(f'id = {old}')}",
    ]
    if child.stamped:
        triggers.append(
            f"CREATE TRIGGER {table}_stamp AFTER UPDATE OF "
            f"{', '.join(child.columns)}\nON {table} FOR EACH ROW\n"
            f"BEGIN\n    UPDATE {table} SET atualizado_em = {NOW} WHERE id = NEW.id;\nEND;"
        )
    return triggers


def sqlite_triggers() -> str:
    """Dropped and created again, so running the file again installs the current ones."""
    triggers = [t for model in SELF_BUMPING for t in _sqlite_self_triggers(model)]
    triggers += [t for child in CHILD_TABLES for t in _sqlite_child_triggers(child)]
    return "\n\n".join(f"DROP TRIGGER IF EXISTS {t.split()[2]};\n{t}" for t in triggers)


def postgresql_triggers() -> str:
    """One statement trigger per child table and operation (erp_child_bump does the work)."""
    tables = ", ".join(f"'{child.table}'" for child in CHILD_TABLES)
    return f"""DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY[{tables}] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %1$s_ins ON %1$s', t);
        EXECUTE format('CREATE TRIGGER %1$s_ins AFTER INSERT ON %1$s'
                       ' REFERENCING NEW TABLE AS new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION erp_child_bump()', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %1$s_upd ON %1$s', t);
        EXECUTE format('CREATE TRIGGER %1$s_upd AFTER UPDATE ON %1$s'
                       ' REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION erp_child_bump()', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %1$s_del ON %1$s', t);
        EXECUTE format('CREATE TRIGGER %1$s_del AFTER DELETE ON %1$s'
                       ' REFERENCING OLD TABLE AS old_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION erp_child_bump()', t);
    END LOOP;
END $$;"""


GENERATORS = {"sqlite": sqlite_triggers, "postgresql": postgresql_triggers}


def schema_path(vendor: str) -> Path:
    return SQL_DIR / f"{vendor}.sql"


def schema_with_current_triggers(vendor: str) -> str:
    """The vendor's .sql with its generated part as `CHILD_TABLES` makes it now."""
    text = schema_path(vendor).read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{GENERATORS[vendor]()}\n{END}{tail}"
