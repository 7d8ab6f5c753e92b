import unicodedata

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.cache import cache
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import ScopedManager

from portal.formats import validate_cnpj


def forget_cached_hosts(hostnames: list[str]) -> None:
    """Clear the host → tenant cache of `hostnames` now and again once the change commits.

    Another web node may resolve the host between now and the commit, read the old rows and
    cache them (portal.accounts.selectors.DOMAIN_CACHE_SECONDS): the second delete drops that.
    """
    keys = [TenantDomain.cache_key(hostname) for hostname in hostnames]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


class Tenant(models.Model):
    """An ERP company that offers the portal to its customers."""

    name = models.CharField("nome", max_length=200)
    slug = models.SlugField("identificador", max_length=50, unique=True)
    erp_company_id = models.BigIntegerField("empresa no ERP (empresa_id)", unique=True)
    legal_name = models.CharField("razão social", max_length=200, blank=True)
    cnpj = models.CharField("CNPJ", max_length=18, blank=True, validators=[validate_cnpj])
    address = models.CharField("endereço", max_length=300, blank=True)
    phone = models.CharField("telefone", max_length=40, blank=True)
    email = models.EmailField("e-mail", blank=True)
    display_name = models.CharField("nome de exibição", max_length=120, blank=True)
    logo = models.FileField("logotipo", upload_to="tenant-logos/", blank=True)
    primary_color = models.CharField(
        "cor principal",
        max_length=7,
        default="#1f4e79",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use o formato #RRGGBB.")],
    )
    notification_email = models.EmailField("e-mail de notificações", blank=True)
    is_active = models.BooleanField("ativa", default=True)

    class Meta:
        verbose_name = "empresa"
        verbose_name_plural = "empresas"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.forget_cached_domains()

    def delete(self, *args, **kwargs):
        self.forget_cached_domains()
        return super().delete(*args, **kwargs)

    def forget_cached_domains(self) -> None:
        """Host resolution caches the Tenant itself: a change must reach every web process."""
        if self.pk:
            forget_cached_hosts(list(self.domains.values_list("hostname", flat=True)))

    @property
    def brand_name(self) -> str:
        return self.display_name or self.name


class TenantDomain(models.Model):
    """A hostname that serves one tenant's portal."""

    hostname = models.CharField("domínio", max_length=253, primary_key=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="domains", verbose_name="empresa"
    )
    is_primary = models.BooleanField("principal", default=False)

    class Meta:
        verbose_name = "domínio"
        verbose_name_plural = "domínios"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_primary=True), name="one_primary_domain"
            ),
        ]

    def __str__(self) -> str:
        return self.hostname

    def save(self, *args, **kwargs):
        self.hostname = self.hostname.strip().lower()
        super().save(*args, **kwargs)
        forget_cached_hosts([self.hostname])

    def delete(self, *args, **kwargs):
        hostname = self.hostname
        result = super().delete(*args, **kwargs)
        # Django sets the primary key to None once deleted; the hostname is also the row's
        # name (admin's change message names each deleted inline row with str()).
        self.hostname = hostname
        forget_cached_hosts([hostname])
        return result

    @staticmethod
    def cache_key(hostname: str) -> str:
        return f"tenant-domain:{hostname}"


class Customer(models.Model):
    """A customer of the tenant, mirrored from erp_cliente."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="customers", verbose_name="empresa"
    )
    erp_id = models.BigIntegerField("código no ERP")
    name = models.CharField("nome", max_length=200)
    cpf_cnpj = models.CharField("CPF/CNPJ", max_length=18, blank=True)
    email = models.EmailField("e-mail", blank=True)
    is_active = models.BooleanField("ativo", default=True)
    erp_version = models.BigIntegerField("versão no ERP", default=0)
    # Deleted in the ERP: its logins stop, its orders are marked removed, the evidence stays.
    removed_at = models.DateTimeField("removido do ERP em", null=True, blank=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        verbose_name = "cliente"
        verbose_name_plural = "clientes"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "erp_id"], name="customer_erp_id_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name


def normalize_email(email: str) -> str:
    """The one form of an e-mail address: stored, looked up and locked out by.

    NFKC folds compatibility look-alikes (full-width letters, `ſ`) into their plain letters,
    casefold the case. Lookups then compare exactly: the database's own case rules (PostgreSQL's
    UPPER() makes `ı` an `I`) never decide whether two addresses are one.
    """
    return unicodedata.normalize("NFKC", email.strip()).casefold()


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        return normalize_email(email or "")

    def create_user(self, email, password=None, *, tenant=None, **extra):
        user = self.model(email=self.normalize_email(email), tenant=tenant, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        # Support staff: no tenant, they log in on SUPPORT_HOST only.
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, tenant=None, **extra)

    def get_by_natural_key(self, username):
        # Only reached by createsuperuser/changepassword: support users have no tenant.
        return self.get(tenant__isnull=True, email=normalize_email(username))


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Customer users belong to one Customer; staff to a tenant; support to none.

    Not scoped: sessions, axes and createsuperuser load users outside any tenant scope; every
    lookup filters by tenant instead (see portal.accounts.selectors).
    """

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="empresa",
    )
    email = models.EmailField("e-mail")
    name = models.CharField("nome", max_length=200, blank=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="cliente",
    )
    is_active = models.BooleanField("ativo", default=True)
    is_staff = models.BooleanField("equipe (acessa o admin)", default=False)
    must_change_password = models.BooleanField("deve trocar a senha", default=False)
    date_joined = models.DateTimeField("criado em", default=timezone.now)
    # Chosen with the footer's switch; blank: the portal's default (pt-BR). E-mails follow it.
    language = models.CharField("idioma", max_length=10, blank=True, default="")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "usuário"
        verbose_name_plural = "usuários"
        constraints = [
            models.UniqueConstraint("tenant", Lower("email"), name="user_email_per_tenant"),
            models.UniqueConstraint(
                Lower("email"), condition=Q(tenant__isnull=True), name="support_user_email"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split()[0]
