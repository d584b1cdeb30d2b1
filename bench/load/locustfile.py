"""Locust mix for bench/load/run.py: residents in their cabinets, one operator in the back office.

Residents sign in through allauth's form, open the account card, charges, payments, receipts
(list and a PDF) and submit meter readings; now and then one signs out and in again. Each
simulated resident connects from its own loopback address (127.0.x.y), as residents come from
their own addresses: allauth's per-address sign-in limit then applies per resident, as it would.
The operator signs in at /office/login/, uploads a payment registry, starts the billing run
(admin action) and uploads a second registry that repeats a quarter of the first.

Every reading acknowledged by the server («Показания за … приняты») and every registry accepted
for import is appended to JSON lines under LOAD_ACKS, for the reconciliation after the run.
Started by run.py, which sets LOAD_FACTS, LOAD_ACKS and the LOAD_* timings.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from locust import HttpUser, between, constant, events, task
from requests.adapters import HTTPAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from e2e_stack import StackError, forms_of, next_value, set_field  # noqa: E402

FACTS = json.loads(Path(os.environ["LOAD_FACTS"]).read_text(encoding="utf-8"))
ACKS = Path(os.environ["LOAD_ACKS"])
THINK = (
    float(os.environ.get("LOAD_THINK_MIN", "5")),
    float(os.environ.get("LOAD_THINK_MAX", "15")),
)
TIMEOUT = 60
_logins = itertools.count()
_addresses = itertools.count(1)
_write_lock = threading.Lock()
_started = {"at": time.monotonic()}


@events.test_start.add_listener
def _on_start(**_kwargs):
    _started["at"] = time.monotonic()


def since_start() -> float:
    return time.monotonic() - _started["at"]


def record(kind: str, row: dict) -> None:
    """One acknowledged write, appended at once: a crash later does not lose the record."""
    line = json.dumps(row, ensure_ascii=False) + "\n"
    with _write_lock, open(ACKS / f"{kind}.jsonl", "a", encoding="utf-8") as out:
        out.write(line)


class SourceAddressAdapter(HTTPAdapter):
    """Connections from a given loopback address instead of 127.0.0.1."""

    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(connections, maxsize, block, **kwargs)


def own_address(user: HttpUser) -> None:
    n = next(_addresses)
    user.client.mount("http://", SourceAddressAdapter(f"127.0.{1 + n // 250}.{1 + n % 250}"))


def form_having(page: str, field: str) -> dict | None:
    return next((f for f in forms_of(page) if field in f["names"]), None)


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return match.group(1) if match else ""


class Resident(HttpUser):
    weight = 100
    wait_time = between(*THINK)

    def on_start(self):
        own_address(self)
        login = FACTS["logins"][next(_logins) % len(FACTS["logins"])]
        self.username = login["username"]
        self.account = login["account_id"]
        self.receipts: list[str] = []
        self.sign_in()

    def get(self, path: str, name: str, expect_text: str | None = None, **kwargs):
        with self.client.get(
            path, name=name, timeout=TIMEOUT, catch_response=True, **kwargs
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "/accounts/login/" in response.url and "/accounts/login/" not in path:
                response.failure("signed out unexpectedly")
            elif expect_text and expect_text not in response.text:
                response.failure(f"no «{expect_text}» on the page")
            return response

    def sign_in(self):
        page = self.get("/accounts/login/", "sign-in form").text
        form = form_having(page, "login")
        if form is None:
            return
        fields = set_field(form["fields"], "login", self.username)
        fields = set_field(fields, "password", FACTS["password"])
        with self.client.post(
            "/accounts/login/",
            data=fields,
            name="sign in (POST)",
            timeout=TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "/accounts/login/" in response.url:
                response.failure(f"sign-in refused: HTTP {response.status_code}")

    @task(1)
    def sign_out_and_in(self):
        page = self.get(f"/accounts/{self.account}/", "account card").text
        with self.client.post(
            "/accounts/logout/",
            data={"csrfmiddlewaretoken": csrf_of(page)},
            name="sign out (POST)",
            timeout=TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
        self.sign_in()

    @task(5)
    def account_card(self):
        self.get(f"/accounts/{self.account}/", "account card")

    @task(3)
    def charges(self):
        self.get(f"/accounts/{self.account}/charges/", "charges")

    @task(3)
    def payments(self):
        self.get(f"/accounts/{self.account}/payments/", "payments")

    @task(2)
    def receipts(self):
        page = self.get(f"/accounts/{self.account}/receipts/", "receipts list").text
        self.receipts = re.findall(rf"/accounts/{self.account}/receipts/(\d+)/", page)
        if self.receipts and random.random() < 0.5:
            receipt = random.choice(self.receipts)
            with self.client.get(
                f"/accounts/{self.account}/receipts/{receipt}/pdf/",
                name="receipt PDF",
                timeout=TIMEOUT,
                catch_response=True,
            ) as response:
                if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                    response.failure(f"no PDF: HTTP {response.status_code}")

    @task(2)
    def readings(self):
        path = f"/accounts/{self.account}/meters/"
        page = self.get(path, "meters").text
        form = next(
            (f for f in forms_of(page) if any(re.fullmatch(r"m\d+_\d+", n) for n in f["names"])),
            None,
        )
        if form is None:
            return  # an account without meters: nothing to submit
        names = sorted(n for n in form["names"] if re.fullmatch(r"m\d+_\d+", n))
        fields = list(form["fields"])
        try:
            for name in names:
                fields = set_field(fields, name, next_value(page, name))
        except StackError:
            return
        accepted = False
        for attempt in range(3):
            page, accepted = self.submit_readings(path, fields, attempt)
            if page is None or accepted:
                break
            # A refusal of some meters (a jump to confirm, a meter out of verification): tick
            # the confirmations, leave out the meters refused outright, and send again.
            changed = False
            # A meter refused outright (an error at one of its values) is left out whole: every
            # zone of it and its confirmation, if it had one (an empty value with a ticked box is
            # itself refused). The other meters' confirmations are ticked.
            refused = set(re.findall(r'id="id_m(\d+)_\d+_errors"', page))
            for name in names:
                if name[1:].split("_")[0] in refused and dict(fields).get(name):
                    fields = set_field(fields, name, "")
                    changed = True
            for meter_id in refused:
                if ("confirm_" + meter_id, "on") in fields:
                    fields = set_field(fields, "confirm_" + meter_id, None)
                    changed = True
            for meter_id in re.findall(r'name="confirm_(\d+)"', page):
                if meter_id not in refused and ("confirm_" + meter_id, "on") not in fields:
                    fields = set_field(fields, "confirm_" + meter_id, "on")
                    changed = True
            if not any(dict(fields).get(n) for n in names):
                return  # every meter refused outright (e.g. verification overdue): none to send
            if not changed:
                errors = re.findall(r'class="field__errors"[^>]*><li>([^<]*)', page)
                errors += re.findall(r'(?s)class="form-errors"[^>]*>(.*?)</div>', page)
                self.environment.events.request.fire(
                    request_type="POST",
                    name="readings (POST)",
                    response_time=0,
                    response_length=0,
                    exception=Exception(f"readings refused: {errors[:2]}"),
                    context={},
                )
                break
        if not accepted:
            return
        sent = dict(fields)
        by_meter: dict[int, list[tuple[int, str]]] = {}
        for name in names:
            if not sent.get(name):
                continue
            meter_id, zone = (int(x) for x in name[1:].split("_"))
            value = Decimal(sent[name].replace(",", "."))
            by_meter.setdefault(meter_id, []).append((zone, str(value)))
        for meter_id, zones in by_meter.items():
            record(
                "readings",
                {
                    "at": time.time(),
                    "user": self.username,
                    "account_id": self.account,
                    "meter_id": meter_id,
                    "month": FACTS["month"],
                    "values": [v for _z, v in sorted(zones)],
                },
            )

    def submit_readings(self, path: str, fields: list, attempt: int) -> tuple[str | None, bool]:
        name = "readings (POST)" if attempt == 0 else "readings resent (POST)"
        with self.client.post(
            path, data=fields, name=name, timeout=TIMEOUT, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return None, False
            page = response.text
            accepted = re.search(r"Показания за ([^<]*?) приняты: \d+", page)
            if accepted and accepted.group(1) != FACTS["month_label"]:
                response.failure(f"accepted for another month: {accepted.group(0)}")
                return None, False
            if not accepted and attempt == 2:
                response.failure("readings refused three times")
            return page, bool(accepted)


class Operator(HttpUser):
    """The one operator: import, billing run, second import, then the office page now and then."""

    fixed_count = 1
    wait_time = constant(2)

    def on_start(self):
        own_address(self)
        self.plan = [
            (float(os.environ.get("LOAD_IMPORT_AT", "10")), self.upload, FACTS["files"][0]),
            (float(os.environ.get("LOAD_BILLING_AT", "20")), self.billing, None),
            (float(os.environ.get("LOAD_IMPORT2_AT", "30")), self.upload, FACTS["files"][1]),
        ]
        self.watch: list[str] = []
        page = self.client.get("/office/login/", name="office: sign-in form").text
        form = form_having(page, "password")
        user_field = "username" if "username" in form["names"] else "login"
        fields = set_field(form["fields"], user_field, "operator")
        fields = set_field(fields, "password", os.environ["LOAD_STAFF_PASSWORD"])
        with self.client.post(
            "/office/login/", data=fields, name="office: sign in (POST)", catch_response=True
        ) as response:
            if "/office/login/" in response.url:
                response.failure("back office sign-in refused")

    @task
    def work(self):
        if self.plan and since_start() >= self.plan[0][0]:
            _at, action, argument = self.plan.pop(0)
            action(argument)
            return
        for path in list(self.watch):
            page = self.client.get(path, name="office: progress").text
            running = "payments-status--queued" in page or "payments-status--processing" in page
            if "/files/" in path and not running:
                self.watch.remove(path)
            if "billingrun" in path:
                status = re.search(r'(?s)<td class="field-status[^"]*">(.*?)</td>', page)
                if status and re.sub(r"<[^>]+>|\s", "", status.group(1)) in ("завершён", "ошибка"):
                    self.watch.remove(path)
        if not self.watch and not self.plan:
            time.sleep(8)  # nothing left to do but look now and then
            self.client.get("/office/tools/payments/", name="office: payments page")

    def upload(self, path: str):
        page = self.client.get("/office/tools/payments/", name="office: payments page").text
        form = form_having(page, "bank")
        fields = dict(form["fields"]) if form else {}
        fields.setdefault("bank", str(FACTS["bank_id"]))
        with (
            open(path, "rb") as data,
            self.client.post(
                "/office/tools/payments/upload/",
                data=fields,
                files={"file": (Path(path).name, data, "text/plain")},
                name="office: upload registry (POST)",
                timeout=TIMEOUT,
                catch_response=True,
            ) as response,
        ):
            match = re.search(r"/office/tools/payments/files/(\d+)/", response.url)
            if response.status_code != 200 or not match:
                response.failure(f"upload refused: HTTP {response.status_code}")
                return
            record("payments", {"at": time.time(), "file_id": int(match.group(1)), "path": path})
            self.watch.append(f"/office/tools/payments/files/{match.group(1)}/")

    def billing(self, _argument):
        changelist = "/office/registry/period/"
        page = self.client.get(changelist, name="office: periods").text
        form = form_having(page, "action")
        if form is None:
            return
        fields = set_field(form["fields"], "action", "run_billing")
        fields = set_field(fields, "index", "0")
        fields = set_field(fields, "select_across", "0")
        fields = set_field(fields, "_selected_action", str(FACTS["period_id"]))
        with self.client.post(
            changelist, data=fields, name="office: run billing (POST)", catch_response=True
        ) as response:
            if response.status_code != 200 or 'class="error"' in response.text:
                response.failure("billing run refused")
                return
        self.watch.append(f"/office/billing/billingrun/?period__id__exact={FACTS['period_id']}")
