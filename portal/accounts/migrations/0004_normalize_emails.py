"""Stored e-mails in the one form logins are looked up and locked out by (normalize_email)."""

import unicodedata
from collections import defaultdict

from django.db import migrations


def normalize_email(email: str) -> str:
    """portal.accounts.models.normalize_email as of this migration (migrations stay frozen)."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def normalize_stored_emails(apps, schema_editor):
    """Refuses, naming them, logins of one tenant that would become one e-mail: which of
    them is the real one is support's call (rename or delete the other, then migrate)."""
    User = apps.get_model("accounts", "User")
    users = list(User.objects.select_related("tenant").order_by("pk"))
    holders = defaultdict(list)
    for user in users:
        holders[(user.tenant_id, normalize_email(user.email))].append(user)
    clashes = [group for group in holders.values() if len(group) > 1]
    if clashes:
        described = "; ".join(
            f"{group[0].tenant.slug if group[0].tenant else 'suporte'}: "
            f"{normalize_email(group[0].email)} ← " + ", ".join(u.email for u in group)
            for group in clashes
        )
        raise RuntimeError(f"Logins that normalize to one e-mail: {described}")
    changed = [user for user in users if user.email != normalize_email(user.email)]
    for user in changed:
        user.email = normalize_email(user.email)
    User.objects.bulk_update(changed, ["email"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_tenant_cnpj_validated")]

    operations = [migrations.RunPython(normalize_stored_emails, migrations.RunPython.noop)]
