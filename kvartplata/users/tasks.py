"""Background tasks of users: every e-mail of the product leaves through the task queue."""

from functools import partial

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from huey.contrib.djhuey import task


@task(retries=3, retry_delay=60)
def email_send(
    *,
    subject: str,
    body: str,
    to: list[str],
    from_email: str,
    html: str = "",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Send one rendered message; plain data only, so that any worker can run it."""
    message = EmailMultiAlternatives(subject, body, from_email, to, headers=headers or {})
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    message.send()


def email_send_on_commit(message: EmailMessage) -> None:
    """Queue a rendered message once the surrounding transaction has committed.

    A message about a row that was rolled back (a sign-up that failed) must not leave.
    """
    html = ""
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    body = message.body
    if message.content_subtype == "html" and not html:
        html = body
    attachments = [
        (item[0], item[1], item[2])
        for item in message.attachments
        if isinstance(item, tuple) and isinstance(item[1], bytes)
    ]
    transaction.on_commit(
        partial(
            email_send,
            subject=str(message.subject),
            body=body,
            to=list(message.to),
            from_email=message.from_email,
            html=html,
            headers=dict(message.extra_headers),
            attachments=attachments,
        ),
        robust=True,
    )
