"""The digital signature in a real browser on a phone-sized screen (375 px): two parties and a
witness each log in, read the contract, accept, identify themselves, confirm the password and
type the code from their e-mail; the sealed "Contrato Assinado" appears, checks out at
/verificar/, and the proposal is approved. Screenshots land in the test's tmp dir."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from contracts.models import SealedContract, SignerRole
from contracts.pki import sealing_certificate_demo
from contracts.tsa import DemoTimestampServer
from erp_sync.mirror import erp_sync_tenant
from erp_sync.models import ErpPedido
from portal.accounts.models import TenantDomain
from tests.contracts.signing import CODE, CPFS, NAMES, NUMBER
from tests.e2e.conftest import log_in
from tests.erp_builders import erp_cliente, erp_pedido
from tests.factories import UserFactory

PHONE = {"width": 375, "height": 812}
SIGNERS = {
    "parte1@clientealfa.com.br": SignerRole.PARTY,
    "parte2@clientealfa.com.br": SignerRole.PARTY,
    "testemunha@clientealfa.com.br": SignerRole.WITNESS,
}


@pytest.fixture
def tsa(settings):
    server = DemoTimestampServer()
    server.start_in_thread()
    settings.TSA_URL = server.url
    # The seal runs in the web process right after the last signature's commit: the browser
    # tests use SQLite's in-memory database, which a worker process cannot open (the seal in a
    # real worker: tests/contracts/test_seal_worker.py, on PostgreSQL).
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def portal(live_server, tenant_a, customer_a, tsa):
    TenantDomain.objects.create(hostname="alfa.localhost", tenant=tenant_a)
    sealing_certificate_demo(tenant=tenant_a)
    for email in SIGNERS:
        UserFactory(customer=customer_a, email=email, name=NAMES[email])
    cliente = erp_cliente(tenant_a.erp_company_id, id=customer_a.erp_id, nome=customer_a.name)
    erp_pedido(
        cliente,
        NUMBER,
        contrato={
            "titulo": "Contrato de prestação de serviços",
            "assinatura": "DIGITAL",
            "conteudo_html": "<h1>Contrato de prestação de serviços</h1>"
            + "".join(f"<h2>Cláusula {n}ª</h2><p>Texto da cláusula {n}.</p>" for n in range(1, 6)),
        },
        signatarios=list(SIGNERS.items()),
    )
    erp_sync_tenant(tenant=tenant_a)
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://alfa.localhost:{port}"


WIDEST = """[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right >
  window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' +
  e.getBoundingClientRect().right)"""


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def sign_as(page, portal, email, password, shots, index):
    page.context.clear_cookies()
    log_in(page, portal, email, password)
    page.wait_for_url(portal + "/")
    page.goto(portal + reverse("order_detail", args=[NUMBER]))
    page.get_by_role("link", name="ASSINAR DIGITALMENTE").click()
    page.wait_for_url(re.compile(rf"/pedidos/{NUMBER}/contrato/assinar/$"))
    assert "Texto da cláusula 5." in page.inner_text(".contract-text__body")
    assert "Medida Provisória nº 2.200-2/2001" in page.inner_text("main")
    assert fits_the_screen(page)
    page.screenshot(path=shots / f"{index}-formulario.png", full_page=True)

    page.get_by_label(re.compile("Li o contrato acima")).check()
    page.get_by_label("Nome completo").fill(NAMES[email])
    page.get_by_label("CPF").fill(CPFS[email])
    page.get_by_label("Senha do portal").fill(password)
    page.get_by_role("button", name="RECEBER CÓDIGO POR E-MAIL").click()
    page.get_by_label("Código recebido por e-mail").wait_for()
    assert f"Enviamos um código de 6 dígitos para {email}" in page.inner_text("main")
    assert fits_the_screen(page)
    page.screenshot(path=shots / f"{index}-codigo.png", full_page=True)

    message = [m for m in mail.outbox if m.to == [email]][-1]
    page.get_by_label("Código recebido por e-mail").fill(CODE.search(message.body).group(1))
    page.get_by_role("button", name="CONFIRMAR ASSINATURA").click()
    page.wait_for_url(re.compile(rf"/pedidos/{NUMBER}/contrato/$"))
    assert "Contrato assinado." in page.inner_text("main")
    assert fits_the_screen(page)
    page.screenshot(path=shots / f"{index}-assinado.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_three_signers_sign_on_a_phone_then_verify_and_approve(page, portal, password, tmp_path):
    with scopes_disabled():
        page.set_viewport_size(PHONE)
        shots = tmp_path / "screenshots"
        shots.mkdir()
        for index, email in enumerate(SIGNERS, start=1):
            sign_as(page, portal, email, password, shots, index)
            assert f"{index} de 3 signatários assinaram" in page.inner_text("main")

        seal = SealedContract.objects.get()
        main = page.inner_text("main")
        assert "Todos os signatários assinaram" in main
        assert seal.verification_code in main
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Contrato Assinado").click()
        download = download_info.value
        assert download.suggested_filename == f"contrato-assinado-{NUMBER}.pdf"
        sealed = download.path().read_bytes()

        # Anyone, logged out, checks it by code and by file.
        page.context.clear_cookies()
        page.goto(portal + reverse("verify"))
        page.get_by_label("Código de verificação").fill(seal.verification_code.lower())
        page.get_by_role("button", name="CONSULTAR CÓDIGO").click()
        page.wait_for_url(re.compile(rf"/verificar/{seal.verification_code}/$"))
        page.screenshot(path=shots / "4-verificar-codigo.png", full_page=True)
        assert "Documento íntegro" in page.text_content("main")
        assert fits_the_screen(page), page.evaluate(WIDEST)
        page.get_by_label("Contrato Assinado (PDF)").set_input_files(
            {"name": "contrato.pdf", "mimeType": "application/pdf", "buffer": sealed}
        )
        page.get_by_role("button", name="VERIFICAR ARQUIVO").click()
        assert "O arquivo enviado é idêntico ao que o portal selou." in page.inner_text("main")
        page.screenshot(path=shots / "5-verificar-arquivo.png", full_page=True)

        # And the proposal can now be approved.
        log_in(page, portal, "parte1@clientealfa.com.br", password)
        page.wait_for_url(portal + "/")
        page.goto(portal + reverse("order_detail", args=[NUMBER]))
        page.get_by_role("link", name="APROVAR PROPOSTA").first.click()  # the phone bar or the card
        page.get_by_role("button", name="Confirmar aprovação").click()
        page.wait_for_url(re.compile(rf"/pedidos/{NUMBER}/$"))
        assert f"Proposta {NUMBER} aprovada" in page.inner_text("main")
        page.screenshot(path=shots / "6-aprovado.png", full_page=True)
        assert ErpPedido.objects.get(numero=NUMBER).status == "APR"
