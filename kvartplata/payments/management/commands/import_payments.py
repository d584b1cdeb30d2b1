"""Import a bank's payment registry file from the command line, with a progress bar."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.payments.models import Bank, PaymentFile
from kvartplata.payments.services import (
    PaymentError,
    payment_file_import,
    payment_file_upload,
    size_refusal,
)
from kvartplata.payments.tasks import import_payment_file


class Command(BaseCommand):
    help = "Загрузить реестр платежей банка: import_payments FILE --bank CODE [--organization ID]"

    def add_arguments(self, parser):
        parser.add_argument("file", help="путь к файлу реестра")
        parser.add_argument("--bank", required=True, help="код банка (Bank.code)")
        parser.add_argument(
            "--organization", type=int, help="id организации, если банков с кодом несколько"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="не загружать сразу, а поставить в очередь задач (huey)",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Файл не найден: {path}")
        bank = self._bank(options["bank"], options["organization"])
        size = path.stat().st_size
        reason = size_refusal(size)
        if reason:
            raise CommandError(reason)
        if options["queue"]:
            with open(path, "rb") as source:
                chunks = iter(lambda: source.read(1 << 20), b"")
                try:
                    payment_file = payment_file_upload(
                        bank=bank, name=path.name, chunks=chunks, size=size
                    )
                except PaymentError as exc:
                    raise CommandError(str(exc)) from exc
            enqueue_on_commit(import_payment_file, payment_file.pk)
            self.stdout.write(f"Реестр поставлен в очередь: файл №{payment_file.pk}")
            return
        payment_file = PaymentFile.objects.create(bank=bank, name=path.name[:255], size=size)
        show = options["verbosity"] > 0
        with tqdm(total=size, unit="B", unit_scale=True, desc=path.name, disable=not show) as bar:

            def progress(done: int, total: int) -> None:
                bar.update(done - bar.n)

            payment_file = payment_file_import(
                payment_file_id=payment_file.pk, path=path, progress=progress
            )
        if payment_file.status != PaymentFile.Status.IMPORTED:
            raise CommandError(f"Реестр отклонён (файл №{payment_file.pk}):\n{payment_file.error}")
        self.stdout.write(
            f"Реестр загружен (файл №{payment_file.pk}): строк {payment_file.lines_total}, "
            f"новых {payment_file.lines_imported}, повторов {payment_file.lines_duplicate}, "
            f"не сопоставлено {payment_file.lines_unmatched}, сумма {payment_file.amount_total} ₽."
        )

    def _bank(self, code: str, organization_id: int | None) -> Bank:
        banks = Bank.objects.filter(code=code).select_related("organization")
        if organization_id is not None:
            banks = banks.filter(organization_id=organization_id)
        banks = list(banks[:2])
        if not banks:
            raise CommandError(f"Банк с кодом «{code}» не найден.")
        if len(banks) > 1:
            raise CommandError(f"Банков с кодом «{code}» несколько: укажите --organization.")
        return banks[0]
