from django import forms

from contracts.uploads import EMPTY, validate_signed_contract


class SignedContractForm(forms.Form):
    """The "Contrato Assinado" upload. `arquivo` cleans to a contracts.uploads.ValidatedUpload."""

    arquivo = forms.FileField(
        label="Contrato assinado (PDF, JPEG ou PNG)",
        error_messages={
            "required": "Escolha o arquivo do contrato assinado.",
            "empty": EMPTY,
            "invalid": "Nenhum arquivo foi recebido. Tente enviar novamente.",
            "missing": "Nenhum arquivo foi recebido. Tente enviar novamente.",
        },
    )

    def clean_arquivo(self):
        return validate_signed_contract(self.cleaned_data["arquivo"])

    def error_message(self) -> str:
        errors = [message for messages in self.errors.values() for message in messages]
        return " ".join(errors) or "Não foi possível ler o arquivo enviado."
