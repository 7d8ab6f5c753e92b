"""Admin list filters from the URL: only the filters a list shows, the password never.

Django takes any local field as a filter from the query string (`?password__regex=^pbkdf2…`),
so a list that answers "some rows" or "no rows" is an oracle that rebuilds a hidden value one
character at a time (issue #9, finding 1: 721 requests rebuilt a full hash).
"""

import pytest
from django.conf import settings
from django.contrib import admin
from django.db.models import ForeignKey, ManyToOneRel, OneToOneField
from django.urls import reverse

from portal.accounts.models import User
from tests.conftest import HOST_A, host_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_a(tenant_a):
    return UserFactory(customer=None, tenant=tenant_a, is_staff=True, email="equipe@alfa.com.br")


@pytest.fixture
def support(db):
    return UserFactory(
        customer=None, tenant=None, is_staff=True, is_superuser=True, email="sup@fornecedor.com"
    )


@pytest.fixture(params=["tenant_staff", "support"])
def admin_client(request, user_a, user_b):
    """Someone in the admin, with customer logins (and their hashes) in the database."""
    if request.param == "tenant_staff":
        return host_client(HOST_A, request.getfixturevalue("staff_a"))
    return host_client(settings.SUPPORT_HOST, request.getfixturevalue("support"))


def changelist(model_admin) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def registered():
    return sorted(admin.site._registry.values(), key=changelist)


def paths_to_the_password(model, depth: int = 2) -> list[str]:
    """Every field path from `model` to User.password, through up to `depth` relations."""
    if model is User:
        return ["password"]
    if depth == 0:
        return []
    paths = []
    for field in model._meta.get_fields():
        if isinstance(field, ForeignKey | OneToOneField | ManyToOneRel):
            name = field.get_accessor_name() if isinstance(field, ManyToOneRel) else field.name
            if name is None:  # a related_name="+" backwards relation: no lookup reaches it
                continue
            paths += [f"{name}__{p}" for p in paths_to_the_password(field.related_model, depth - 1)]
    return paths


def unlisted_local_fields(model_admin) -> list[str]:
    listed = {
        item[0] if isinstance(item, tuple | list) else item
        for item in [*model_admin.list_filter, "tenant", model_admin.date_hierarchy]
        if isinstance(item, str | tuple | list)
    }
    return [
        f.name
        for f in model_admin.model._meta.concrete_fields
        if f.name not in listed and not f.is_relation
    ]


def test_every_admin_is_probed():
    names = {m.model._meta.label for m in registered()}
    assert {"accounts.User", "accounts.Customer", "proposals.Approval"} <= names
    assert "password" in paths_to_the_password(User)
    assert any(
        p.endswith("__password") for m in registered() for p in paths_to_the_password(m.model)
    )


@pytest.mark.parametrize("lookup", ["password__regex", "password__startswith"])
def test_the_hash_oracle_of_the_finding_is_closed(admin_client, user_a, lookup):
    url = reverse("admin:accounts_user_changelist")
    prefix = "^md5" if lookup == "password__regex" else "md5"  # the tests' hasher

    response = admin_client.get(url, {"email": user_a.email, lookup: prefix})

    assert response.status_code == 400
    assert user_a.email not in response.content.decode()


@pytest.mark.parametrize("model_admin", registered(), ids=lambda m: m.model._meta.label)
def test_no_admin_filters_on_the_password_through_any_relation(admin_client, model_admin):
    for path in paths_to_the_password(model_admin.model):
        for lookup, value in [("regex", "^md5"), ("startswith", "md5"), ("exact", "x")]:
            response = admin_client.get(changelist(model_admin), {f"{path}__{lookup}": value})
            # 403: the role has no access to that list at all.
            assert response.status_code in (400, 403), (path, lookup, response.status_code)


@pytest.mark.parametrize("model_admin", registered(), ids=lambda m: m.model._meta.label)
def test_no_admin_filters_on_a_field_it_does_not_list(admin_client, model_admin):
    for name in unlisted_local_fields(model_admin):
        response = admin_client.get(changelist(model_admin), {f"{name}__startswith": "1"})
        assert response.status_code in (400, 403), (name, response.status_code)


def test_the_listed_filters_still_work(admin_client, user_a, other_user_a):
    other_user_a.is_active = False
    other_user_a.save()

    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"is_active__exact": 0})

    body = response.content.decode()
    assert response.status_code == 200
    assert other_user_a.email in body and user_a.email not in body
