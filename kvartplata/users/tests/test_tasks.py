"""E-mail leaves through the task queue, after the commit and never for a rolled-back change."""

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from kvartplata.users.tasks import email_send, email_send_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


def message():
    msg = EmailMultiAlternatives("Тема", "Текст", "noreply@example.ru", ["a@example.ru"])
    msg.attach_alternative("<p>Текст</p>", "text/html")
    msg.attach("receipt.pdf", b"%PDF-1.4", "application/pdf")
    return msg


def test_it_sends_after_the_commit(mailoutbox):
    with transaction.atomic():
        email_send_on_commit(message())
        assert mailoutbox == []
    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.subject == "Тема"
    assert sent.alternatives[0][0] == "<p>Текст</p>"
    assert sent.attachments[0][0] == "receipt.pdf"


def test_it_sends_nothing_when_rolled_back(mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        email_send_on_commit(message())
        raise RuntimeError
    assert mailoutbox == []


def test_the_task_takes_plain_data(mailoutbox):
    email_send(subject="S", body="B", to=["x@example.ru"], from_email="f@example.ru")
    assert mailoutbox[0].to == ["x@example.ru"]
