import sqlite3

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from erp_sync.router import erp_alias
from erp_sync.schema import GENERATORS, schema_path, schema_with_current_triggers


def erp_schema_sql(vendor: str) -> str:
    path = schema_path(vendor)
    if not path.exists():
        raise CommandError(f"No ERP schema for database vendor {vendor!r} (have: {path.parent})")
    return path.read_text()


def sqlite_statements(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies hold semicolons of their own)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    return statements


class Command(BaseCommand):
    help = (
        "ERP tables and triggers (erp_sync/sql/): erp_schema create (demos and tests) | "
        "generate (rewrite the triggers generated from erp_sync/schema.py)"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "generate"])
        parser.add_argument("--database", default=None, help="alias (default: the ERP's)")

    def handle(self, *args, action, database, **options):
        if action == "generate":
            for vendor in GENERATORS:
                schema_path(vendor).write_text(schema_with_current_triggers(vendor))
                self.stdout.write(f"{schema_path(vendor)} generated.")
            return
        connection = connections[database or erp_alias()]
        sql = erp_schema_sql(connection.vendor)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # Statement by statement: executescript() would COMMIT the caller's transaction.
                for statement in sqlite_statements(sql):
                    cursor.execute(statement)
            else:
                cursor.execute(sql)
        self.stdout.write(f"ERP schema ready on {connection.alias} ({connection.vendor}).")
