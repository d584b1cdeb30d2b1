"""Writes of the users app: creating logins, editing the profile, unlinking, deleting an account."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from kvartplata.users.audit import audit
from kvartplata.users.models import AccountLink, User


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    password: str | None,
    email_verified: bool = False,
    **fields,
) -> User:
    """A login with its allauth e-mail record; demo data and tests use email_verified=True.

    Without a verified e-mail record the cabinet's sign-in refuses the login as not activated.
    """
    user = get_user_model().objects.create_user(
        username=username, email=email.lower(), password=password, **fields
    )
    if email:
        EmailAddress.objects.create(
            user=user, email=email.lower(), primary=True, verified=email_verified
        )
    return user


@transaction.atomic
def user_profile_update(
    *,
    user: User,
    last_name: str,
    first_name: str,
    middle_name: str,
    phone: str,
    receipts_by_email: bool,
) -> User:
    user.last_name = last_name
    user.first_name = first_name
    user.middle_name = middle_name
    user.phone = phone
    user.receipts_by_email = receipts_by_email
    user.save(
        update_fields=["last_name", "first_name", "middle_name", "phone", "receipts_by_email"]
    )
    return user


@transaction.atomic
def account_link_remove(*, link: AccountLink, request=None) -> None:
    """Unlink a personal account from a cabinet; the account and its history stay."""
    audit("account_unlinked", request=request, user=link.user, account_id=link.account_id)
    link.delete()


@transaction.atomic
def user_delete(*, user: User, request=None):
    """Delete a resident's login with all personal data it holds; returns the farewell message.

    The personal accounts, readings and payments belong to the organization and stay; rows that
    pointed at the user keep a NULL instead (every such foreign key is SET_NULL). The message
    (None without a verified address) is rendered now, while the user row exists; the caller
    queues it: `email_send_on_commit(message)`.
    """
    address = EmailAddress.objects.filter(user=user, primary=True).first()
    message = None
    if address is not None and address.verified:
        message = _account_deleted_message(user=user, email=address.email)
    audit("account_deleted", request=request, user=user)
    AccountLink.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    user.delete()
    return message


def _account_deleted_message(*, user: User, email: str):
    from allauth.account.adapter import get_adapter

    context = {"username": user.username, "email": email, "site_url": settings.SITE_URL}
    # Rendered now: after the commit the user row is gone.
    return get_adapter().render_mail("account/email/account_deleted", email, context)


def user_display_name(user: User) -> str:
    """Full name for greetings, falling back to the login."""
    parts = [user.last_name, user.first_name, user.middle_name]
    name = " ".join(part for part in parts if part)
    return name or user.username
