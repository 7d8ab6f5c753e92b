from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from portal.accounts import services
from portal.accounts.admin_site import (
    AccessRuleMixin,
    LabelledInlineFormSet,
    PortalModelAdmin,
    ReadOnlyModelAdmin,
    is_support_admin,
)
from portal.accounts.models import Customer, Tenant, TenantDomain, User, normalize_email
from portal.formats import cpf_cnpj_br, datetime_br

# Logins are managed by role (portal.accounts.admin_site.AccessRuleMixin), not by groups.
admin.site.unregister(Group)

hostname_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
    "Informe só o nome do domínio, sem http:// nem porta (ex.: portal.empresa.com.br).",
)


class TenantDomainForm(forms.ModelForm):
    class Meta:
        model = TenantDomain
        fields = ["hostname", "is_primary"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The hostname is the primary key: renaming would leave the old row behind. Read-only,
        # not disabled: the formset finds the existing row by the posted value.
        if not self.instance._state.adding:
            self.fields["hostname"].widget.attrs["readonly"] = True

    def clean_hostname(self):
        if not self.instance._state.adding:
            return self.instance.hostname
        hostname = self.cleaned_data["hostname"].strip().lower()
        hostname_validator(hostname)
        if hostname == settings.SUPPORT_HOST:
            raise ValidationError("Este é o domínio do suporte.")
        return hostname


class TenantDomainFormSet(LabelledInlineFormSet):
    promoted: TenantDomain | None = None

    def clean(self):
        super().clean()
        kept = [
            form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)
        ]
        primaries = sum(1 for form in kept if form.cleaned_data.get("is_primary"))
        if primaries > 1:
            raise ValidationError(
                "Marque só um domínio como principal: é nele que os links dos e-mails "
                "e documentos são montados."
            )
        if kept and not primaries:
            # The first domain of a company is its primary.
            first = kept[0]
            first.cleaned_data["is_primary"] = True
            first.instance.is_primary = True
            self.promoted = first.instance


class TenantDomainInline(AccessRuleMixin, admin.TabularInline):
    model = TenantDomain
    form = TenantDomainForm
    formset = TenantDomainFormSet
    extra = 1


@admin.register(Tenant)
class TenantAdmin(AccessRuleMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "erp_company_id", "primary_hostname", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "legal_name", "cnpj", "domains__hostname"]
    inlines = [TenantDomainInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "erp_company_id", "is_active"]}),
        (
            "Dados da empresa nos documentos",
            {"fields": ["legal_name", "cnpj", "address", "phone", "email"]},
        ),
        (
            "Marca",
            {
                "fields": ["display_name", "logo", "primary_color"],
                "description": "A cor do texto sobre a cor principal (branco ou preto) é "
                "escolhida pelo portal para ler com contraste de pelo menos 4,5:1; links na "
                "cor principal ficam mais escuros se ela for clara demais sobre o branco.",
            },
        ),
        ("Notificações", {"fields": ["notification_email"]}),
    ]

    @admin.display(description="domínio principal")
    def primary_hostname(self, tenant):
        domain = next((d for d in tenant.domains.all() if d.is_primary), None)
        return domain.hostname if domain else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("domains")

    def delete_queryset(self, request, queryset):
        # One by one: Tenant.delete() clears its hosts from the cache every node shares
        # (a bulk delete would leave them answering until the cache entries expire).
        for tenant in queryset:
            tenant.delete()

    def save_formset(self, request, form, formset, change):
        if formset.model is not TenantDomain:
            return super().save_formset(request, form, formset, change)
        # Demote before promoting: the database allows one primary domain per tenant.
        # Instance save()/delete() also clear the hostname cache, so changes apply at once.
        domains = formset.save(commit=False)
        if formset.promoted is not None and formset.promoted not in domains:
            domains.append(formset.promoted)  # unchanged in the form, promoted by clean()
        for domain in formset.deleted_objects:
            domain.delete()
        for domain in sorted(domains, key=lambda d: d.is_primary):
            domain.save()


@admin.register(Customer)
class CustomerAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "erp_id", "document", "email", "is_active", "erp_presence"]
    list_filter = ["is_active"]
    search_fields = ["name", "cpf_cnpj", "email", "=erp_id"]
    fields = ["name", "erp_id", "document", "email", "is_active", "erp_presence", "logins"]
    readonly_fields = ["logins", "erp_presence", "document"]

    @admin.display(description="CPF/CNPJ", ordering="cpf_cnpj")
    def document(self, customer):
        return cpf_cnpj_br(customer.cpf_cnpj) or "—"

    @admin.display(description="no ERP", ordering="removed_at")
    def erp_presence(self, customer):
        if customer.removed_at is None:
            return "Presente"
        return f"Removido do ERP em {datetime_br(customer.removed_at)} (mantido como registro)"

    @admin.display(description="logins no portal")
    def logins(self, customer):
        emails = [user.email for user in customer.users.order_by("email")]
        return ", ".join(emails) or "—"


class UserAdminForm(forms.ModelForm):
    """The tenant of a login comes from the request (or support's choice), never from the POST."""

    request_tenant: Tenant | None = None  # set per request by UserAdmin.get_form
    acting_user: User | None = None

    temporary_password = forms.CharField(
        label="Nova senha temporária",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Deixe em branco para manter a senha atual. Se preencher, o usuário terá de "
        "trocá-la no próximo acesso.",
    )

    class Meta:
        model = User
        # `customer` too, added by the admin per request: its choices depend on the scope.
        fields = ["email", "name", "is_staff", "is_active", "must_change_password"]

    def target_tenant(self) -> Tenant | None:
        return self.request_tenant or self.instance.tenant

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def sets_temporary_password(self, cleaned: dict) -> bool:
        return bool(cleaned.get("temporary_password"))

    def clean(self):
        cleaned = super().clean()
        candidate = User(
            pk=self.instance.pk,
            tenant=self.target_tenant(),
            customer=cleaned.get("customer"),
            email=cleaned.get("email", ""),
            name=cleaned.get("name", ""),
            is_staff=cleaned.get("is_staff", self.instance.is_staff),
        )
        if candidate.tenant is not None and "email" in cleaned:
            try:
                services.user_validate(user=candidate)
            except ValidationError as error:
                self.add_error(None, error)
        if not self.sets_temporary_password(cleaned):
            cleaned["temporary_password"] = ""
        password = cleaned.get("temporary_password")
        if password:
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                self.add_error("temporary_password", error)
        editing_self = self.instance.pk is not None and self.instance.pk == self.acting_user.pk
        locks_self_out = not cleaned.get("is_active", True) or not cleaned.get("is_staff", True)
        if editing_self and locks_self_out:
            raise ValidationError(
                "Você não pode desativar o seu próprio login nem tirar dele o acesso ao admin."
            )
        return cleaned


class UserAddForm(UserAdminForm):
    ACCESS_INVITE = "invite"
    ACCESS_TEMPORARY = "temporary"

    company = forms.ModelChoiceField(queryset=Tenant.objects.all(), label="Empresa")
    access = forms.ChoiceField(
        label="Como o usuário recebe o acesso",
        widget=forms.RadioSelect,
        initial=ACCESS_INVITE,
        choices=[
            (ACCESS_INVITE, "Enviar convite por e-mail (o usuário cria a própria senha)"),
            (
                ACCESS_TEMPORARY,
                "Definir uma senha temporária (o usuário troca no primeiro acesso)",
            ),
        ],
    )

    class Meta(UserAdminForm.Meta):
        fields = ["email", "name", "is_staff"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["temporary_password"].label = "Senha temporária"
        self.fields["temporary_password"].help_text = password_validators_help_text_html()
        if self.request_tenant is not None:
            del self.fields["company"]

    def target_tenant(self) -> Tenant | None:
        return self.request_tenant or self.cleaned_data.get("company")

    def sets_temporary_password(self, cleaned: dict) -> bool:
        return cleaned.get("access") == self.ACCESS_TEMPORARY

    def clean(self):
        cleaned = super().clean()
        if self.sets_temporary_password(cleaned) and not cleaned.get("temporary_password"):
            self.add_error("temporary_password", "Informe a senha temporária.")
        return cleaned


@admin.register(User)
class UserAdmin(PortalModelAdmin):
    staff_actions = frozenset({"view", "add", "change"})
    list_display = [
        "email",
        "name",
        "customer",
        "is_staff",
        "is_active",
        "password_status",
        "last_login_display",
    ]
    list_filter = ["is_active", "is_staff"]
    list_select_related = ["customer", "tenant"]
    search_fields = ["email", "name", "customer__name"]
    ordering = ["email"]
    autocomplete_fields = ["customer"]
    actions = ["send_set_password_link", "activate", "deactivate"]

    def get_queryset(self, request):
        # User is not a scoped model (sessions, axes): filter by the request's tenant here.
        users = super().get_queryset(request)
        if is_support_admin(request):
            return users
        return users.filter(tenant=request.tenant, is_superuser=False)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            identity = ["email", "name", "customer", "is_staff"]
            if is_support_admin(request):
                identity.insert(0, "company")
            return [
                (None, {"fields": identity}),
                ("Acesso", {"fields": ["access", "temporary_password"]}),
            ]
        identity = ["email", "name", "customer", "is_staff", "is_active"]
        if is_support_admin(request):
            identity = ["tenant", "is_superuser", *identity]
        return [
            (None, {"fields": identity}),
            (
                "Senha",
                {"fields": ["password_status", "must_change_password", "temporary_password"]},
            ),
            ("Histórico", {"fields": ["last_login_display", "date_joined_display"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "tenant",
            "is_superuser",
            "password_status",
            "last_login_display",
            "date_joined_display",
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = UserAddForm if obj is None else UserAdminForm
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(
            form.__name__,
            (form,),
            {"request_tenant": request.tenant, "acting_user": request.user},
        )

    def save_model(self, request, obj, form, change):
        password = form.cleaned_data.get("temporary_password")
        if change:
            obj.save()
            if password:
                services.user_set_temporary_password(user=obj, password=password)
            return
        user = services.user_create(
            tenant=form.target_tenant(),
            customer=obj.customer,
            email=obj.email,
            name=obj.name,
            password=password or None,
            must_change_password=bool(password),
            is_staff=obj.is_staff,
        )
        if not password:
            services.user_send_invitation(user=user)
        # The admin goes on with `obj` (history entry, redirect): make it the created row.
        obj.pk = user.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def response_add(self, request, obj, post_url_continue=None):
        if obj.has_usable_password():
            self.message_user(
                request,
                f"Informe a senha temporária a {obj.email}: ela terá de ser trocada no "
                "primeiro acesso.",
                messages.INFO,
            )
        else:
            self.message_user(request, f"Convite enviado para {obj.email}.", messages.INFO)
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="senha")
    def password_status(self, user):
        if not user.has_usable_password():
            return "Convite pendente"
        if user.must_change_password:
            return "Temporária"
        return "Definida"

    @admin.display(description="último acesso", ordering="last_login")
    def last_login_display(self, user):
        return datetime_br(user.last_login) or "—"

    @admin.display(description="criado em")
    def date_joined_display(self, user):
        return datetime_br(user.date_joined)

    @admin.action(description="Enviar link para definir a senha", permissions=["change"])
    def send_set_password_link(self, request, queryset):
        users = [user for user in queryset if user.tenant_id is not None and user.is_active]
        for user in users:
            services.user_send_invitation(user=user)
        self.message_user(request, f"Link enviado para {len(users)} login(s).")

    @admin.action(description="Ativar os logins selecionados", permissions=["change"])
    def activate(self, request, queryset):
        for user in queryset:
            services.user_set_active(user=user, active=True)
        self.message_user(request, f"{len(queryset)} login(s) ativado(s).")

    @admin.action(description="Desativar os logins selecionados", permissions=["change"])
    def deactivate(self, request, queryset):
        users = [user for user in queryset if user.pk != request.user.pk]
        for user in users:
            services.user_set_active(user=user, active=False)
        self.message_user(request, f"{len(users)} login(s) desativado(s).")
