"""The seal made where production makes it: a real `manage.py db_worker` process takes the task
queued by the last signature's commit and seals with a timestamp from the TSA on 127.0.0.1."""

import io

import pytest
from django_scopes import scopes_disabled
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature

from contracts import pki
from contracts.models import SealedContract
from tests.background.workers import eventually, start_worker, stop_worker, worker_env
from tests.conftest import HOST_A, host_client
from tests.contracts.signing import digital_contract, last_code, request_code, send_code, sign_all
from tests.erp_builders import erp_cliente, erp_pedido

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def worker(tsa):
    # Its e-mails stay in its memory: the console backend would fill the pipe with the PDFs.
    env = worker_env(TSA_URL=tsa.url, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    process = start_worker(env)
    yield process
    output = stop_worker(process)
    assert process.returncode == 0, output


def test_a_worker_process_seals_after_the_last_signature(
    settings, tenant_a, customer_a, certificate_a, tsa, worker, password
):
    cliente = erp_cliente(tenant_a.erp_company_id, nome=customer_a.name)
    pedido = erp_pedido(cliente, 7017, contrato={"assinatura": "DIGITAL"})
    contract, users = digital_contract(customer_a, erp_id=pedido.id, erp_version=pedido.versao)
    *others, (email, user) = users.items()
    # The codes' mails go in this process (the tests read them from its outbox)…
    sign_all(dict(others), password)
    client = host_client(HOST_A, user)
    request_code(client, email, password)
    code = last_code(email)
    # …and the last signature's commit queues the seal for the worker.
    settings.TASKS = DATABASE_QUEUE
    assert send_code(client, code).status_code == 303

    def sealed():
        with scopes_disabled():
            return SealedContract.objects.filter(trail__contract=contract).first()

    seal = eventually(sealed, 60, "the seal")
    assert seal.timestamped_at is not None and tsa.answered >= 1
    eventually(
        lambda: DBTaskResult.objects.filter(
            task_path="contracts.tasks.contract_seal_task", status=TaskResultStatus.SUCCESSFUL
        ).exists(),
        30,
        "the seal task done",
    )
    with seal.file.open("rb") as stream:
        reader = PdfFileReader(io.BytesIO(stream.read()))
    context = DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": [pki.to_asn1(pki.demo_authority().certificate)], "allow_fetching": False}
    )
    status = validate_pdf_signature(
        reader.embedded_signatures[0],
        signer_validation_context=context,
        ts_validation_context=context,
    )
    assert status.bottom_line and status.timestamp_validity.trusted
