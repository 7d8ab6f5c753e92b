from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from erp_sync.demo_data import CENT, split_installments
from erp_sync.demo_data import propose as propose_demo
from erp_sync.demo_data import seed as seed_demo
from erp_sync.models import ErpCliente, ErpPedido, ErpPedidoItem, ErpPedidoParcela
from erp_sync.router import erp_alias
from portal.accounts.models import Tenant
from portal.formats import brl

STATUSES = ("PRO", "APR", "PED", "CAN")


class Command(BaseCommand):
    help = (
        "Play the ERP: erp_demo seed | propose [CLIENTE_ERP_ID] | advance NUMERO STATUS | "
        "cancel NUMERO | edit NUMERO"
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("seed")
        propose = actions.add_parser("propose")
        propose.add_argument(
            "cliente", type=int, nargs="?", help="erp_cliente.id (default: the demo login's)"
        )
        advance = actions.add_parser("advance")
        advance.add_argument("numero", type=int)
        advance.add_argument("status", choices=STATUSES)
        for name in ("cancel", "edit"):
            actions.add_parser(name).add_argument("numero", type=int)
        for action in actions.choices.values():
            action.add_argument("--empresa", type=int, help="ERP company, when numbers repeat")

    def handle(self, *args, action, **options):
        getattr(self, action)(**options)

    def seed(self, **options):
        names = dict(Tenant.objects.values_list("erp_company_id", "name"))
        lines = seed_demo(company_names=names)
        for line in lines or ["The demo ERP is already seeded."]:
            self.stdout.write(line)

    def propose(self, *, cliente, **options):
        try:
            pedido = propose_demo(cliente_id=cliente)
        except ErpCliente.DoesNotExist as error:
            raise CommandError(
                str(error) if cliente is None else f"No customer {cliente}."
            ) from None
        self.stdout.write(
            f"Proposta {pedido.numero} criada para {pedido.cliente.nome} "
            f"(cliente {pedido.cliente_id}, empresa {pedido.empresa_id}): {brl(pedido.valor_total)}"
        )

    def _pedido(self, numero: int, empresa: int | None) -> ErpPedido:
        pedidos = ErpPedido.objects.filter(numero=numero)
        if empresa is not None:
            pedidos = pedidos.filter(empresa_id=empresa)
        found = list(pedidos[:2])
        if not found:
            raise CommandError(f"No order {numero} in the ERP.")
        if len(found) > 1:
            raise CommandError(f"Order {numero} exists in several companies: add --empresa.")
        return found[0]

    def _set_status(self, numero, status, empresa):
        with transaction.atomic(using=erp_alias()):
            pedido = self._pedido(numero, empresa)
            before = pedido.status
            ErpPedido.objects.filter(id=pedido.id).update(status=status)
        pedido.refresh_from_db()
        self.stdout.write(f"Pedido {numero}: status {before} → {status} (versão {pedido.versao})")

    def advance(self, *, numero, status, empresa, **options):
        self._set_status(numero, status, empresa)

    def cancel(self, *, numero, empresa, **options):
        self._set_status(numero, "CAN", empresa)

    def edit(self, *, numero, empresa, **options):
        """What a salesperson does: a price goes up, the last item goes, totals follow."""
        with transaction.atomic(using=erp_alias()):
            pedido = self._pedido(numero, empresa)
            items = list(ErpPedidoItem.objects.filter(pedido=pedido).order_by("sequencia"))
            if not items:
                raise CommandError(f"Order {numero} has no items to edit.")
            first = items[0]
            first.valor_unitario = (first.valor_unitario * Decimal("1.10")).quantize(CENT)
            # The ERP's optional columns may be NULL (no discount, no freight).
            discount = first.desconto or Decimal(0)
            first.valor_total = (first.quantidade * first.valor_unitario - discount).quantize(CENT)
            first.save()
            removed = None
            if len(items) > 1:
                removed = items.pop()
                removed.delete()
            produtos = sum((i.valor_total for i in items if i.tipo == "P"), Decimal(0))
            servicos = sum((i.valor_total for i in items if i.tipo == "S"), Decimal(0))
            total = produtos + servicos - (pedido.desconto or 0) + (pedido.frete or 0)
            ErpPedido.objects.filter(id=pedido.id).update(
                valor_produtos=produtos, valor_servicos=servicos, valor_total=total
            )
            parcelas = list(ErpPedidoParcela.objects.filter(pedido=pedido).order_by("numero"))
            for parcela, value in zip(
                parcelas, split_installments(total, len(parcelas) or 1), strict=False
            ):
                parcela.valor = value
                parcela.save()
        pedido.refresh_from_db()
        gone = f"; item {removed.sequencia} ({removed.descricao}) removed" if removed else ""
        self.stdout.write(
            f"Pedido {numero}: item 1 now {brl(first.valor_unitario)}{gone}; total {brl(total)} "
            f"(versão {pedido.versao})"
        )
