"""Run the billing of an open month: `billing_run --period YYYY-MM [--organization ID]`."""

from django.core.management.base import BaseCommand, CommandError

from kvartplata.billing.services import BillingError, billing_run_execute, billing_run_start
from kvartplata.lib.commands import ProgressBar
from kvartplata.registry.commands import organization_option, pick_organization, pick_period


class Command(BaseCommand):
    help = "Выполняет начисление за открытый период с индикатором хода работы."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="ГГГГ-ММ")
        organization_option(parser)

    def handle(self, *args, period, organization, **options):
        org = pick_organization(organization)
        target = pick_period(org, period)
        if target.is_closed:
            raise CommandError(f"Период {period} закрыт: начисление невозможно.")
        bar = ProgressBar("Начисление", enabled=options["verbosity"] > 0)
        try:
            run = billing_run_start(organization=org)
            run = billing_run_execute(run_id=run.id, progress=bar)
        except BillingError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(f"Строк начислений: {run.lines}, счетов: {run.accounts_total}.")
        for problem in run.report[:50]:
            self.stdout.write(
                f"  не начислено: ЛС {problem['account'] or '—'}, {problem['service']}: "
                f"{problem['problem']}"
            )
