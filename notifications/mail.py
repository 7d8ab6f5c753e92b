"""A notification as an e-mail message: text and HTML parts in the recipient's language (pt-BR
unless a user chose English), in the tenant's name, logo and colour, every link on the tenant's
primary domain."""

import hashlib
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.mime.image import MIMEImage

import magic
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from notifications.models import ESSENTIAL, NotificationSettings
from portal.accounts.models import Tenant, User
from portal.accounts.selectors import tenant_absolute_url, tenant_primary_hostname

LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif"}
LOGO_MAX_BYTES = 512 * 1024
LOGO_CID = "logo"


@dataclass(frozen=True)
class MailFile:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


@dataclass(frozen=True)
class Mail:
    """One e-mail of one event (`kind`, `event_key`) to one recipient."""

    kind: str
    event_key: str
    recipient: str
    subject: str
    template: str  # templates/notifications/email/<template>.txt and .html
    context: dict
    user: User | None = None  # a customer's user (None: the company's notification e-mail)
    files: tuple[MailFile, ...] = field(default=())
    language: str = "pt-br"  # the recipient's (portal.languages.user_language), else pt-BR

    @property
    def unsubscribable(self) -> bool:
        return self.user is not None and self.kind not in ESSENTIAL


def _logo(tenant: Tenant) -> MIMEImage | None:
    """The tenant's logo as an inline image (cid:logo): files have no public URL to link."""
    if not tenant.logo:
        return None
    try:
        with tenant.logo.open("rb") as stream:
            content = stream.read(LOGO_MAX_BYTES + 1)
    except OSError:
        return None
    subtype = LOGO_TYPES.get(magic.from_buffer(content[:4096], mime=True))
    if subtype is None or len(content) > LOGO_MAX_BYTES:
        return None
    image = MIMEImage(content, _subtype=subtype)
    image.add_header("Content-ID", f"<{LOGO_CID}>")
    image.add_header("Content-Disposition", "inline", filename=f"logo.{subtype}")
    return image


def _message_id(tenant: Tenant, mail: Mail, hostname: str) -> str:
    """The same for every attempt: a mail client shows a message sent twice only once."""
    seed = f"{tenant.pk}:{mail.kind}:{mail.event_key}:{mail.recipient}".encode()
    return f"<{hashlib.sha256(seed).hexdigest()[:40]}@{hostname}>"


def mail_message(
    *, tenant: Tenant, prefs: NotificationSettings, mail: Mail, unsubscribe_token: str = ""
) -> EmailMultiAlternatives:
    hostname = tenant_primary_hostname(tenant=tenant)
    logo = _logo(tenant)
    unsubscribe_url = ""
    if mail.unsubscribable:
        path = reverse("mail_unsubscribe", args=[unsubscribe_token])
        unsubscribe_url = tenant_absolute_url(tenant=tenant, path=path)
    context = {
        "tenant": tenant,
        "company": tenant.brand_name,
        "color": tenant.primary_color,
        "has_logo": logo is not None,
        "logo_cid": LOGO_CID,
        "portal_url": tenant_absolute_url(tenant=tenant, path="/"),
        "user": mail.user,
        "subject": mail.subject,
        "unsubscribe_url": unsubscribe_url,
        **mail.context,
    }
    template = f"notifications/email/{mail.template}"
    headers = {
        "Message-ID": _message_id(tenant, mail, hostname),
        "Auto-Submitted": "auto-generated",
    }
    if unsubscribe_url:
        # RFC 8058: a mail client unsubscribes with one POST to this URL, no page needed.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    reply_to = prefs.reply_to or tenant.email
    sender = str(
        Address(
            display_name=prefs.sender_name or tenant.brand_name,
            addr_spec=settings.DEFAULT_FROM_EMAIL,
        )
    )
    with translation.override(mail.language):
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=text,
        from_email=sender,
        to=[mail.recipient],
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    if logo is not None:
        message.attach(logo)
    for file in mail.files:
        message.attach(file.filename, file.content, file.mimetype)
    return message
