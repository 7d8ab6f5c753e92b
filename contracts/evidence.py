"""The evidence of a digital signature: events appended to a contract's trail, hash-chained.

Each event's hash covers its own fields and the hash of the event before it, and the trail
keeps the last number and hash. Editing a row changes what its hash should be; removing one
leaves a gap in the numbers and an event that points to a hash nobody has; removing the last
one leaves the trail pointing past the end. `evidence_chain_verify` finds all three.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from contracts.models import Contract, EventKind, SignatureEvent, SignatureTrail

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "kind",
    "user_pk",
    "email",
    "role",
    "full_name",
    "cpf",
    "ip_address",
    "user_agent",
    "consent_text",
    "contract_sha256",
    "contract_version",
    "details",
)
USER_AGENT_LENGTH = 1000


def canonical_json(data: dict) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(event: SignatureEvent) -> str:
    """SHA-256 of the previous hash and the event's fields, in a fixed serialisation."""
    data = {name: getattr(event, name) for name in HASHED_FIELDS}
    data["tenant"] = event.tenant_id
    data["trail"] = event.trail_id
    data["created_at"] = event.created_at.astimezone(datetime.UTC).isoformat(
        timespec="microseconds"
    )
    payload = f"{event.prev_hash}\n{canonical_json(data)}"
    return hashlib.sha256(payload.encode()).hexdigest()


def signature_trail_for(*, contract: Contract) -> SignatureTrail:
    """The contract's trail, created with its first event (expects `contract.order`)."""
    trail = SignatureTrail.objects.filter(contract=contract).first()
    if trail is not None:
        return trail
    with transaction.atomic():
        # The contract's row serialises two first signers creating the trail at once.
        Contract.objects.select_for_update().filter(pk=contract.pk).first()
        trail, _ = SignatureTrail.objects.get_or_create(
            contract=contract,
            defaults={
                "tenant_id": contract.tenant_id,
                "order": contract.order,
                "order_number": contract.order.number,
                "contract_title": contract.title,
                "created_at": timezone.now(),
            },
        )
    return trail


def evidence_append(
    *, trail: SignatureTrail, kind: EventKind, details: dict | None = None, **fields
) -> SignatureEvent:
    """Append one event to the trail (inside the caller's transaction; locks the trail row, so
    the events of one contract are numbered and chained one after the other)."""
    with transaction.atomic():
        locked = SignatureTrail.objects.select_for_update().get(pk=trail.pk)
        fields["user_agent"] = fields.get("user_agent", "")[:USER_AGENT_LENGTH]
        fields["ip_address"] = fields.get("ip_address") or ""
        event = SignatureEvent(
            tenant_id=locked.tenant_id,
            trail=locked,
            seq=locked.last_seq + 1,
            kind=kind,
            created_at=timezone.now(),
            details=canonical_json(details or {}),
            prev_hash=locked.last_hash or GENESIS,
            **fields,
        )
        event.hash = event_hash(event)
        event.save()
        SignatureTrail.objects.filter(pk=locked.pk).update(last_seq=event.seq, last_hash=event.hash)
    trail.last_seq, trail.last_hash = event.seq, event.hash
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def evidence_chain_verify(*, trail: SignatureTrail) -> ChainReport:
    """Walk the trail's events in order and say, in pt-BR, where the chain breaks."""
    trail = SignatureTrail.objects.get(pk=trail.pk)
    events = list(SignatureEvent.objects.filter(trail=trail).order_by("seq"))
    problems = []
    previous_hash, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            missing = (
                f"nº {expected_seq}"
                if event.seq == expected_seq + 1
                else f"nº {expected_seq} a {event.seq - 1}"
            )
            problems.append(f"Evento {missing} ausente.")
        if event.prev_hash != previous_hash:
            problems.append(f"Evento nº {event.seq} não aponta para o evento anterior.")
        if event_hash(event) != event.hash:
            problems.append(f"Evento nº {event.seq} foi alterado depois de registrado.")
        previous_hash, expected_seq = event.hash, event.seq + 1
    last_seq = events[-1].seq if events else 0
    last_hash = events[-1].hash if events else ""
    if (trail.last_seq, trail.last_hash) != (last_seq, last_hash):
        problems.append(
            f"A trilha registra {trail.last_seq} eventos, mas o último encontrado é o "
            f"nº {last_seq}: eventos finais foram removidos ou alterados."
        )
    return ChainReport(events=len(events), problems=problems)
