"""Background work of the digital signature (Django's task framework; enqueue with
portal.background.queue.enqueue_on_commit): sealing a contract once its last signer has signed,
and adding the timestamp a seal owes once the TSA answers. Both are idempotent."""

import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import task

from contracts.models import SealedContract, SignatureMode, SignatureTrail
from contracts.seal import contract_seal, sealed_contract_timestamp, signed_by_all
from portal.background.queue import retry_backoff

TIMESTAMP_RETRY_FIRST_SECONDS = 60
TIMESTAMP_RETRY_MAX_SECONDS = 3600


@task
def contract_seal_task(*, trail_id: int) -> str:
    """Seal the trail's contract if every designated signer has signed it (else nothing)."""
    seal = contract_seal(trail_id=trail_id)
    return f"sealed {seal.verification_code}" if seal else "nothing to seal"


@task
def sealed_contract_timestamp_task(*, seal_id: int) -> str:
    """Add the document timestamp a seal made while the TSA was down is waiting for."""
    return "timestamped" if sealed_contract_timestamp(seal_id=seal_id) else "TSA did not answer"


def signature_retries_enqueue(*, now: datetime.datetime | None = None) -> dict:
    """The follower's periodic sweep: queue a seal for each open contract every designated signer
    has signed but that has none (its task failed, or the tenant had no certificate then), and
    a timestamp for each
    seal still owed one, backing off 1, 2, 4… minutes (at most an hour) between tries.

    Marking a seal as tried when its task is queued keeps a slow or stopped worker from
    collecting one task per sweep.
    """
    now = now or timezone.now()
    with scopes_disabled():
        live_seals = SealedContract.objects.filter(trail=OuterRef("pk"), voided_at__isnull=True)
        candidates = (
            SignatureTrail.objects.filter(
                contract__signature_mode=SignatureMode.DIGITAL,
                contract__order__status="PRO",
                signatures__voided_at__isnull=True,
            )
            .exclude(Exists(live_seals))
            .distinct()
            .select_related("contract")
        )
        seals = 0
        for trail in candidates:
            if signed_by_all(trail):
                contract_seal_task.enqueue(trail_id=trail.pk)
                seals += 1
        timestamps = 0
        owed = SealedContract.objects.filter(timestamp_pending=True, voided_at__isnull=True)
        for seal in owed.filter(Q(timestamp_tried_at__isnull=True) | Q(timestamp_tried_at__lt=now)):
            wait = retry_backoff(
                seal.timestamp_attempts + 1,
                base_seconds=TIMESTAMP_RETRY_FIRST_SECONDS,
                max_seconds=TIMESTAMP_RETRY_MAX_SECONDS,
            )
            if seal.timestamp_tried_at and (now - seal.timestamp_tried_at).total_seconds() < wait:
                continue
            SealedContract.objects.filter(pk=seal.pk).update(timestamp_tried_at=now)
            sealed_contract_timestamp_task.enqueue(seal_id=seal.pk)
            timestamps += 1
    return {"seals": seals, "timestamps": timestamps}
