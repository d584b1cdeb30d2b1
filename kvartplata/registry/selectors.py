"""Read-side queries of the registry."""

from django.db.models.functions import Length

from kvartplata.registry.models import PersonalAccount


def number_lengths(organization=None) -> list[int]:
    """The lengths the account numbers have (of one organization, or of all), longest first."""
    accounts = PersonalAccount.objects.all()
    if organization is not None:
        accounts = accounts.filter(organization=organization)
    return sorted(
        accounts.order_by().annotate(n=Length("number")).values_list("n", flat=True).distinct(),
        reverse=True,
    )


def number_variants(number: str, lengths: list[int]) -> list[str]:
    """The number as typed and with the leading zeros banks and people often drop.

    «100018» stands for «0000100018» where the organization's numbers have 10 digits.
    """
    variants = [number]
    if number.isdigit():
        variants += [number.zfill(n) for n in lengths if n > len(number)]
    return variants
