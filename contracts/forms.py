from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.uploads import EMPTY, validate_signed_contract


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
