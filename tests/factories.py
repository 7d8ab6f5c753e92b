"""factory_boy factories for the portal's own models (ERP rows: tests/erp_builders.py)."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from django_scopes import scopes_disabled

from contracts.models import Contract, SignatureMode
from portal.accounts.models import Customer, Tenant, TenantDomain, User
from proposals.models import Installment, ItemKind, Order, OrderItem, OrderStatus
from proposals.search import search_text_refresh

TEST_PASSWORD = "s3nha-de-teste-Portal"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Empresa {n} Ltda")
    slug = factory.Sequence(lambda n: f"empresa{n}")
    erp_company_id = factory.Sequence(lambda n: 100 + n)
    legal_name = factory.LazyAttribute(lambda o: o.name)
    cnpj = "12.345.678/0001-95"
    address = "Rua das Flores, 100 — Curitiba/PR"
    phone = "(41) 3333-4444"
    email = factory.LazyAttribute(lambda o: f"contato@{o.slug}.com.br")


class TenantDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantDomain

    tenant = factory.SubFactory(TenantFactory)
    hostname = factory.LazyAttribute(lambda o: f"{o.tenant.slug}.portal.test")
    is_primary = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    erp_id = factory.Sequence(lambda n: 5000 + n)
    name = factory.Sequence(lambda n: f"Cliente {n} Comércio Ltda")
    cpf_cnpj = "98.765.432/0001-10"
    email = factory.Sequence(lambda n: f"financeiro{n}@cliente.com.br")
    is_active = True
    erp_version = 0  # not yet mirrored: the first sync of its erp_cliente row updates it


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    tenant = factory.LazyAttribute(lambda o: o.customer.tenant if o.customer else None)
    customer = factory.SubFactory(CustomerFactory)
    email = factory.Sequence(lambda n: f"usuario{n}@cliente.com.br")
    name = factory.Sequence(lambda n: f"Usuário {n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True  # the hook writes the search text itself

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.LazyAttribute(lambda o: o.customer.tenant)
    erp_id = factory.Sequence(lambda n: 90000 + n)
    number = factory.Sequence(lambda n: 7000 + n)
    status = OrderStatus.PROPOSAL
    issued_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=2))
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=15))
    salesperson = "Mariana Souza"
    payment_method = "Boleto bancário"
    payment_terms = "30/60/90 dias"
    products_total = Decimal("1234.56")
    total = Decimal("1234.56")
    erp_version = 1

    @factory.post_generation
    def search_text(obj, create, extracted, **kwargs):
        """What the mirror writes with every order: the PEDIDOS search's text."""
        if create:
            with scopes_disabled():
                search_text_refresh(order_ids=[obj.pk])


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory)
    tenant = factory.LazyAttribute(lambda o: o.order.tenant)
    erp_id = factory.Sequence(lambda n: 300000 + n)
    sequence = factory.Sequence(lambda n: n + 1)
    kind = ItemKind.PRODUCT
    code = factory.Sequence(lambda n: f"PRD-{n:04d}")
    description = factory.Sequence(lambda n: f"Produto de teste {n}")
    unit = "UN"
    quantity = Decimal("2")
    unit_price = Decimal("617.28")
    total = Decimal("1234.56")
    notes = factory.Sequence(lambda n: f"Entrega em 10 dias úteis (item {n})")

    @factory.post_generation
    def order_search_text(obj, create, extracted, **kwargs):
        if create:
            with scopes_disabled():
                search_text_refresh(order_ids=[obj.order_id])


class InstallmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installment

    order = factory.SubFactory(OrderFactory)
    tenant = factory.LazyAttribute(lambda o: o.order.tenant)
    erp_id = factory.Sequence(lambda n: 600000 + n)
    number = factory.Sequence(lambda n: n + 1)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    amount = Decimal("411.52")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    order = factory.SubFactory(OrderFactory)
    tenant = factory.LazyAttribute(lambda o: o.order.tenant)
    erp_id = factory.Sequence(lambda n: 800000 + n)
    title = "Contrato de fornecimento"
    content_html = "<h1>Contrato de fornecimento</h1><p>Cláusula primeira.</p>"
    signature_mode = SignatureMode.MANUAL
