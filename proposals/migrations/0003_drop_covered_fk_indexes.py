# The single-column indexes of these foreign keys duplicate the leading column of another index
# (see the models), and the mirror pays for each on every row it writes. Only the indexes go:
# AlterField alone would also drop and re-add each foreign key, re-checking every row of the
# table under an exclusive lock. The names are those 0001_initial created, on both backends.

import django.db.models.deletion
from django.db import migrations, models

COVERED = [
    # (index, table, column)
    ("proposals_installment_tenant_id_bba2468e", "proposals_installment", "tenant_id"),
    ("proposals_order_customer_id_5cd693fd", "proposals_order", "customer_id"),
    ("proposals_order_tenant_id_138378bc", "proposals_order", "tenant_id"),
    ("proposals_orderitem_tenant_id_01c449f9", "proposals_orderitem", "tenant_id"),
    ("proposals_ordersnapshot_order_id_0b7499d9", "proposals_ordersnapshot", "order_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("proposals", "0002_documents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for index, table, column in COVERED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="installment",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="accounts.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="orders",
                        to="accounts.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="accounts.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="orderitem",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="accounts.tenant",
                    ),
                ),
                migrations.AlterField(
                    model_name="ordersnapshot",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="snapshots",
                        to="proposals.order",
                    ),
                ),
            ],
        ),
    ]
