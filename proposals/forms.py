from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.models import OrderStatus
from proposals.selectors import OrderFilters

# <input type="date"> sends aaaa-mm-dd; people typing (no date picker) send dd/mm/aaaa.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
INVALID_NUMBER = _("Número do pedido inválido: use só algarismos.")


class OrderFilterForm(forms.Form):
    """FILTROS of the PEDIDOS page (a GET form: the query string is the state).

    The template writes the inputs itself (a hot page; Django's widget templates cost more
    than the rest of the page), so only labels, choices and validation live here.
    """

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Todos"))] + OrderStatus.choices,
        required=False,
        error_messages={"invalid_choice": _("Status inválido.")},
    )
    de = forms.DateField(
        label=_("Emitido de"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        error_messages={"invalid": _("Data inicial inválida: use o formato dd/mm/aaaa.")},
    )
    ate = forms.DateField(
        label=_("até"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        error_messages={"invalid": _("Data final inválida: use o formato dd/mm/aaaa.")},
    )
    numero = forms.IntegerField(
        label=_("Número"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "invalid": INVALID_NUMBER,
            "min_value": INVALID_NUMBER,
            "max_value": INVALID_NUMBER,
        },
    )
    q = forms.CharField(
        label=_("Buscar"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("Busca longa demais (até 100 caracteres).")},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("de"), data.get("ate")
        if start and end and start > end:
            self.add_error("ate", _("A data final é anterior à data inicial."))
        return data

    def filters(self) -> OrderFilters:
        """The valid part of the input: a field with an error does not filter."""
        self.is_valid()
        data = self.cleaned_data
        return OrderFilters(
            status=data.get("status") or "",
            issued_from=data.get("de"),
            issued_until=data.get("ate"),
            number=data.get("numero"),
            text=data.get("q") or "",
        )

    def date_value(self, name: str) -> str:
        """The value for <input type="date">: aaaa-mm-dd (it cannot show anything else)."""
        self.is_valid()
        value = self.cleaned_data.get(name)
        return value.isoformat() if value else ""


class DeclineForm(forms.Form):
    """RECUSAR PROPOSTA: the reason is required; the version is the one the customer saw."""

    motivo = forms.CharField(
        label=_("Por que você está recusando a proposta?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Conte o motivo da recusa: ele vai para a empresa junto com a recusa."),
            "max_length": _("Motivo longo demais (até %(limit_value)d caracteres)."),
        },
    )
    versao = forms.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
