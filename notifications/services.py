"""Sending a notification once per (event, recipient), and a user's choice of what to receive."""

import datetime
import logging
import smtplib
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from notifications.mail import Mail, mail_message
from notifications.models import MailOptOut, NotificationSettings, SentMail
from portal.accounts.models import Tenant, User

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


class MailDeferred(Exception):
    """The mail server did not take the message now (refused with 4xx, down, timed out)."""


class MailRefused(Exception):
    """The mail server refused the recipient for good (5xx): trying again will not help."""


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    BEING_SENT = "being sent"  # another run of the same task holds the claim
    OFF = "turned off"
    UNSUBSCRIBED = "unsubscribed"


def notification_settings_for(*, tenant: Tenant) -> NotificationSettings:
    """The tenant's settings; defaults (everything on) until staff save theirs in admin."""
    with scopes_disabled():
        found = NotificationSettings.objects.filter(tenant=tenant).first()
    return found or NotificationSettings(tenant=tenant)


def unsubscribe_token(*, user: User) -> str:
    """A signed token naming the user: the unsubscribe link works without login, for ever."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(user.pk))


def user_for_unsubscribe_token(*, tenant: Tenant, token: str) -> User | None:
    try:
        user_id = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=user_id, tenant=tenant).first()


def user_mail_unsubscribe(*, user: User) -> None:
    MailOptOut.objects.get_or_create(user=user)


def user_mail_resubscribe(*, user: User) -> None:
    MailOptOut.objects.filter(user=user).delete()


def _claim(tenant: Tenant, mail: Mail) -> SentMail | None:
    """The mail's row, claimed for this run; None if it went already or another run sends it."""
    row, _ = SentMail.objects.get_or_create(
        tenant=tenant,
        kind=mail.kind,
        event_key=mail.event_key,
        recipient=mail.recipient.lower(),
        defaults={"user": mail.user, "subject": mail.subject[:300]},
    )
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.EMAIL_TIMEOUT * 3 + 30)
    claimed = (
        SentMail.objects.filter(pk=row.pk, sent_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + lease)
    )
    return row if claimed else None


def _refused_for_good(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return False


def mail_send_once(*, tenant: Tenant, mail: Mail) -> Outcome:
    """Send `mail` unless it went already; raises MailDeferred / MailRefused when not sent.

    The row is claimed (committed) before the message goes out and marked sent right after,
    so no lock is held while the mail server answers. A worker killed between the two leaves
    a claim that expires and the message goes again: the one case of a duplicate, and it
    carries the same Message-ID.
    """
    prefs = notification_settings_for(tenant=tenant)
    if not prefs.is_on(mail.kind):
        return Outcome.OFF
    if mail.unsubscribable and MailOptOut.objects.filter(user=mail.user).exists():
        return Outcome.UNSUBSCRIBED
    with scopes_disabled():
        row = _claim(tenant, mail)
        if row is None:
            sent = SentMail.objects.filter(
                tenant=tenant,
                kind=mail.kind,
                event_key=mail.event_key,
                recipient=mail.recipient.lower(),
            ).exclude(sent_at=None)
            return Outcome.ALREADY_SENT if sent.exists() else Outcome.BEING_SENT
        token = unsubscribe_token(user=mail.user) if mail.unsubscribable else ""
        rows = SentMail.objects.filter(pk=row.pk)
        try:
            mail_message(tenant=tenant, prefs=prefs, mail=mail, unsubscribe_token=token).send()
        except (smtplib.SMTPException, OSError) as error:
            rows.update(
                claimed_until=None, attempts=F("attempts") + 1, last_error=repr(error)[:2000]
            )
            logger.warning("%s to %s not sent: %r", mail.kind, mail.recipient, error)
            if _refused_for_good(error):
                raise MailRefused(f"{mail.recipient}: {error}") from error
            raise MailDeferred(f"{mail.recipient}: {error}") from error
        except BaseException:
            rows.update(claimed_until=None)
            raise
        rows.update(sent_at=timezone.now(), claimed_until=None, attempts=F("attempts") + 1)
    logger.info("%s sent to %s (%s)", mail.kind, mail.recipient, mail.event_key)
    return Outcome.SENT
