"""PDF rendering with WeasyPrint: any template of templates/pdf/ under the tenant's letterhead.

Imported when a web process starts (proposals.apps), so no request pays WeasyPrint's import;
stylesheets are parsed once per process and fonts are configured once per thread. Rendering
fetches nothing: the only URLs a document may use are `data:` ones (the tenant's logo is
inlined), so HTML that came from the ERP cannot make the server read local files or call hosts.
"""

import base64
import re
import threading
from dataclasses import dataclass

import magic
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from portal import formats
from portal.accounts.models import Tenant

LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
LOGO_MAX_BYTES = 1024 * 1024
BETWEEN_TAGS = re.compile(r">\s+<")
# Documents are written in pt-BR, whoever asks: the stored proposal PDF is rendered once per
# version and its SHA-256 is the approval's evidence, so there is one document of record, in the
# ERP company's language (its labels are in the catalogue; an English copy would be a second
# document with another hash). The signed contract and its evidence page likewise.
PDF_LANGUAGE = settings.LANGUAGE_CODE

# Our own templates use a handful of elements: this replaces WeasyPrint's whole HTML5
# user-agent stylesheet for them, whose selector matching costs ~15% of a proposal's render.
# HTML from elsewhere (the ERP's contracts) keeps the full one.
OWN_TEMPLATES_UA = """
html, body, div, p, h1, h2, h3, ul, ol, dl, dt, dd { display: block }
li { display: list-item }
head, title, meta { display: none }
table { display: table; border-spacing: 2px; border-collapse: separate; text-indent: 0 }
colgroup { display: table-column-group }
col { display: table-column }
thead { display: table-header-group; vertical-align: middle }
tbody { display: table-row-group; vertical-align: middle }
tr { display: table-row; vertical-align: inherit }
td, th { display: table-cell; vertical-align: inherit }
th, strong, b { font-weight: bold }
"""


def _fetcher() -> URLFetcher:
    """Refuses every URL but `data:` (one per render: a fetcher keeps request state)."""
    return URLFetcher(allowed_protocols=("data",))


STYLESHEET = CSS(filename=str(settings.BASE_DIR / "static" / "css" / "pdf.css"))
_OWN_UA = CSS(string=OWN_TEMPLATES_UA)
_fonts = threading.local()


class _OwnTemplateHTML(HTML):
    def _ua_stylesheets(self, forms=False):
        return [_OWN_UA]


def _font_config() -> FontConfiguration:
    """Pango's font map, kept warm between renders (per thread: it is not thread-safe)."""
    if not hasattr(_fonts, "config"):
        _fonts.config = FontConfiguration()
    return _fonts.config


@dataclass(frozen=True)
class Company:
    """The tenant as its documents present it."""

    name: str
    cnpj: str
    address: str
    contact: str
    logo: str  # a data: URI, or ""
    footer: str


def _logo_data_uri(tenant: Tenant) -> str:
    if not tenant.logo:
        return ""
    try:
        with tenant.logo.open("rb") as stream:
            content = stream.read(LOGO_MAX_BYTES + 1)
    except OSError:
        return ""
    mime = magic.from_buffer(content[:4096], mime=True)
    if len(content) > LOGO_MAX_BYTES or mime not in LOGO_TYPES:
        return ""
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def company_for(tenant: Tenant) -> Company:
    name = tenant.legal_name or tenant.name
    cnpj = formats.cpf_cnpj_br(tenant.cnpj)
    contact = " · ".join(part for part in (tenant.phone, tenant.email) if part)
    identity = " · ".join(part for part in (name, f"CNPJ {cnpj}" if cnpj else "", contact) if part)
    return Company(
        name=name,
        cnpj=cnpj,
        address=tenant.address,
        contact=contact,
        logo=_logo_data_uri(tenant),
        footer=_footer(identity),
    )


def _footer(identity: str) -> str:
    with translation.override(PDF_LANGUAGE):
        return _("%(company)s — gerado em %(when)s") % {
            "company": identity,
            "when": formats.datetime_br(timezone.now()),
        }


def render_pdf(template_name: str, context: dict, *, own_markup: bool = True) -> bytes:
    """A Jinja2 template of templates/pdf/ as PDF bytes.

    `own_markup=False` when the page embeds HTML written elsewhere (full user-agent styles).
    Always in PDF_LANGUAGE, whatever the request's.
    """
    with translation.override(PDF_LANGUAGE):
        html = render_to_string(template_name, context)
    if own_markup:
        # Indentation between tags only costs parsing and whitespace boxes (~3% of a render).
        html = BETWEEN_TAGS.sub("><", html)
    html_class = _OwnTemplateHTML if own_markup else HTML
    document = html_class(string=html, url_fetcher=_fetcher())
    return document.write_pdf(stylesheets=[STYLESHEET], font_config=_font_config())
