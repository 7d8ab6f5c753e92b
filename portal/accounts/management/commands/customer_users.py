from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from portal.accounts.models import Customer, Tenant
from portal.accounts.services import user_create, user_send_invitation


class Command(BaseCommand):
    help = (
        "Support: customer_users add --tenant SLUG --customer ERP_ID --email EMAIL "
        "[--name NAME] [--password P | --invite]"
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add")
        add.add_argument("--tenant", required=True)
        add.add_argument("--customer", type=int, required=True, help="the customer's ERP id")
        add.add_argument("--email", required=True)
        add.add_argument("--name", default="")
        how = add.add_mutually_exclusive_group(required=True)
        how.add_argument("--password", help="a permanent password")
        how.add_argument("--invite", action="store_true", help="e-mail a set-password link")

    def handle(self, *args, action, tenant, customer, email, name, password, invite, **options):
        with scopes_disabled():
            tenant_obj = Tenant.objects.filter(slug=tenant).first()
            if tenant_obj is None:
                raise CommandError(f"Unknown tenant {tenant!r}.")
            customer_obj = Customer.objects.filter(
                tenant=tenant_obj, erp_id=customer, removed_at__isnull=True
            ).first()
            if customer_obj is None:
                raise CommandError(
                    f"Customer {customer} is not mirrored for {tenant!r} (or the ERP deleted "
                    "it): check the ERP id or run `manage.py erp_sync`."
                )
            try:
                user = user_create(
                    tenant=tenant_obj,
                    customer=customer_obj,
                    email=email,
                    name=name,
                    password=password,
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
            if invite:
                user_send_invitation(user=user)
        how = "invitation sent" if invite else "permanent password set"
        self.stdout.write(f"Login {user.email} created for {customer_obj.name} ({how}).")
