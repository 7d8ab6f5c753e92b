from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from localflavor.br.validators import BRCPFValidator

from contracts.uploads import EMPTY, too_large_message, validate_signed_contract
from portal.formats import cpf_digits


class SignedContractForm(forms.Form):
    """The "Contrato Assinado" upload. `arquivo` cleans to a contracts.uploads.ValidatedUpload."""

    arquivo = forms.FileField(
        label=gettext_lazy("Contrato assinado (PDF, JPEG ou PNG)"),
        error_messages={
            "required": gettext_lazy("Escolha um arquivo do contrato assinado (PDF, JPEG ou PNG)."),
            "empty": EMPTY,
            "invalid": gettext_lazy("Nenhum arquivo foi recebido. Tente enviar novamente."),
            "missing": gettext_lazy("Nenhum arquivo foi recebido. Tente enviar novamente."),
        },
    )

    def clean_arquivo(self):
        return validate_signed_contract(self.cleaned_data["arquivo"])

    def error_message(self) -> str:
        errors = [message for messages in self.errors.values() for message in messages]
        return " ".join(errors) or _("Não foi possível ler o arquivo enviado.")


class SigningForm(forms.Form):
    """Step 1 of a digital signature: the POST fields `nome`, `cpf`, `senha`, `aceite`
    (DESIGN.md). `documento` is the SHA-256 of the contract the page showed: optional, and a
    stale page whose contract has changed since is refused."""

    nome = forms.CharField(
        label=gettext_lazy("Nome completo"),
        max_length=200,
        error_messages={"required": gettext_lazy("Informe o seu nome completo.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    cpf = forms.CharField(
        label="CPF",
        max_length=20,
        error_messages={"required": gettext_lazy("Informe o seu CPF.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "000.000.000-00"}),
    )
    senha = forms.CharField(
        label=gettext_lazy("Senha do portal"),
        strip=False,
        error_messages={"required": gettext_lazy("Digite a senha com que você entra no portal.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    aceite = forms.BooleanField(
        error_messages={"required": gettext_lazy("Marque o aceite para assinar o contrato.")},
    )
    documento = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_nome(self):
        name = " ".join(self.cleaned_data["nome"].split())
        if len(name.split()) < 2 or not any(c.isalpha() for c in name):
            raise ValidationError(_("Informe o nome completo, com nome e sobrenome."))
        return name

    def clean_cpf(self):
        digits = cpf_digits(self.cleaned_data["cpf"])
        try:
            BRCPFValidator()(digits)
        except ValidationError:
            raise ValidationError(
                _(
                    "CPF inválido: confira os 11 números (os dois últimos são dígitos "
                    "verificadores)."
                )
            ) from None
        return digits


class SigningCodeForm(forms.Form):
    """Step 2: the 6-digit code from the e-mail (spaces and dashes ignored)."""

    codigo = forms.CharField(
        label=gettext_lazy("Código recebido por e-mail"),
        max_length=20,
        error_messages={
            "required": gettext_lazy("Digite o código de 6 dígitos enviado ao seu e-mail.")
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "7"}
        ),
    )

    def clean_codigo(self):
        code = "".join(c for c in self.cleaned_data["codigo"] if not c.isspace() and c != "-")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise ValidationError(_("O código tem 6 dígitos, só números."))
        return code


class VerifyUploadForm(forms.Form):
    arquivo = forms.FileField(
        label=gettext_lazy("Contrato Assinado (PDF)"),
        error_messages={
            "required": gettext_lazy("Escolha o PDF do Contrato Assinado."),
            "empty": EMPTY,
            "invalid": gettext_lazy("Nenhum arquivo foi recebido. Tente enviar novamente."),
            "missing": gettext_lazy("Nenhum arquivo foi recebido. Tente enviar novamente."),
        },
    )

    def __init__(self, *args, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if too_large:
            self.fields["arquivo"].error_messages["required"] = too_large_message()
