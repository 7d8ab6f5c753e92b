"""The contract's page and files run a fixed number of queries, however many signed copies,
attachments, rendered versions and other orders the customer has.

Every request pays 1 before the page's own: the user with its customer (see
tests/proposals/test_query_counts.py).
"""

import io
import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from pypdf import PdfReader

from contracts.models import ContractDocument
from tests.contracts.samples import pdf_bytes
from tests.document_history import DOCUMENTS_LARGE, DOCUMENTS_SMALL, NUMBER, order_with_documents

pytestmark = pytest.mark.django_db

REQUEST_QUERIES = 1  # user + customer
SIZES = {"small": DOCUMENTS_SMALL, "large": DOCUMENTS_LARGE}
CONTRACT_FILES = ("contract_view", "contract_download")


def visible_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize("size", sorted(SIZES))
def test_contract_page_queries_do_not_grow_with_the_signed_copies(
    size, tenant_a, user_a, client_a, django_assert_num_queries
):
    history = order_with_documents(tenant_a, user_a, client_a, SIZES[size])

    # the order (+ contract, approval), the signed copies
    with django_assert_num_queries(REQUEST_QUERIES + 2):
        response = client_a.get(reverse("contract_detail", args=[NUMBER]))

    assert response.status_code == 200
    text = visible_text(response)
    *earlier, current = history.signed_names
    assert "Contrato de fornecimento" in text
    assert f"Contrato Assinado {current}" in text
    if earlier:
        assert f"Versões anteriores ({len(earlier)})" in text
        assert all(name in text for name in earlier)
    else:
        assert "Versões anteriores" not in text
    assert "Substituir o Contrato Assinado" in text


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", CONTRACT_FILES)
def test_erp_contract_file_is_served_in_fixed_queries(
    name, size, tenant_a, user_a, client_a, django_assert_num_queries
):
    erp_file = pdf_bytes(3)
    order_with_documents(tenant_a, user_a, client_a, SIZES[size], contract_file=erp_file)

    # the order (+ contract): the ERP's file is on the contract's row
    with django_assert_num_queries(REQUEST_QUERIES + 1):
        response = client_a.get(reverse(name, args=[NUMBER]))

    assert b"".join(response.streaming_content) == erp_file
    assert response["Content-Disposition"].endswith(f'filename="contrato-pedido-{NUMBER}.pdf"')


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", CONTRACT_FILES)
def test_rendered_contract_is_served_in_fixed_queries(
    name, size, tenant_a, user_a, client_a, django_assert_num_queries
):
    history = order_with_documents(
        tenant_a, user_a, client_a, SIZES[size], render_each_version=("contract_view",)
    )
    contract = history.order.contract
    with scopes_disabled():
        documents = list(
            ContractDocument.objects.filter(contract=contract).order_by("created_at", "id")
        )
    assert len(documents) == SIZES[size]["versions"]

    # the order (+ contract), the rendering of its current HTML
    with django_assert_num_queries(REQUEST_QUERIES + 2):
        response = client_a.get(reverse(name, args=[NUMBER]))

    content = b"".join(response.streaming_content)
    assert content == documents[-1].file.read()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert f"Pedido nº {NUMBER}" in text
    assert ("Cláusula 1." if SIZES[size]["versions"] == 1 else "Versão 3 das cláusulas.") in text
