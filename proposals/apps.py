from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Propostas e pedidos"

    def ready(self):
        # WeasyPrint's import (~0.5 s) and the PDF stylesheet are paid when a process starts,
        # never by a customer's request.
        from portal.documents import pdf  # noqa: F401
