"""End-to-end run of the production stack on loopback: one month driven over HTTP only.

PostgreSQL (database kv_stack_e2e, created afresh), gunicorn with 3 workers and DEBUG off,
a Huey worker on Redis (db 5), static files collected and served by WhiteNoise, SMTP to an
aiosmtpd server inside this process. A resident signs in, subscribes to e-mailed receipts and
submits readings; the operator runs the billing (through the queue) and closes the month; the
mailed receipt's PDF is rendered and its QR code decoded.

Run: `.venv/bin/python scripts/e2e_stack.py` from the project root. Exit status 0 on success.
Environment: PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, postgres), STACK_REDIS_URL (default
redis://127.0.0.1:6379/5), STACK_KEEP=1 keeps the database and the work folder for a look.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import html
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_NAME = "kv_stack_e2e"
PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_PORT = os.environ.get("PGPORT", "5432")
PG_USER = os.environ.get("PGUSER", "postgres")
REDIS_URL = os.environ.get("STACK_REDIS_URL", "redis://127.0.0.1:6379/5")
RESIDENT_PASSWORD = os.environ.get("DEMO_RESIDENT_PASSWORD", "demo-kvartplata")
STAFF_PASSWORD = os.environ.get("DEMO_STAFF_PASSWORD", "operator-kvartplata")
# The whole run must stay well under 3 minutes; each wait has its own smaller bound.
DEADLINE = time.monotonic() + 170
STARTED = time.monotonic()


class StackError(Exception):
    """A step failed: the message says which and why."""


def step(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {text}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StackError(message)


def remaining(limit: float) -> float:
    """A wait's bound: its own limit, never beyond the run's deadline."""
    return max(1.0, min(limit, DEADLINE - time.monotonic()))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- processes ---------------------------------------------------------------------------------


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """A command that must succeed; its output is returned (and shown when it fails)."""
    result = subprocess.run(  # noqa: S603 - fixed argv built here
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=remaining(timeout),
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"{' '.join(args)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    return run([PYTHON, "manage.py", *args], env, timeout)


def psql(sql: str) -> None:
    run(
        [
            shutil.which("psql") or "psql",
            "-h",
            PG_HOST,
            "-p",
            PG_PORT,
            "-U",
            PG_USER,
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            sql,
        ],
        dict(os.environ),
        timeout=60,
    )


class Service:
    """A background process of the stack, in its own process group, output to a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], workdir: Path):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv built here
            args,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            # The group holds only what this process started (gunicorn's workers, say).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


# --- SMTP --------------------------------------------------------------------------------------


class MailBox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def find(self, predicate) -> email.message.EmailMessage | None:
        with self._lock:
            return next((m for m in self.messages if predicate(m)), None)


def pdf_attachment(message: email.message.EmailMessage) -> bytes | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "application/pdf":
            return part.get_content()
    return None


# --- HTTP --------------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """Every <form> of a page: action, method and the fields a browser would send by default."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "id": a.get("id", ""),
                "fields": [],
                "names": set(),
            }
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            self._form["names"].add(name)
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self._form["fields"].append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._form["names"].add(name)
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a and not self._select_chosen:
                self._form["fields"].append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._form["names"].add(name)
            self._textarea = name
            self._form["fields"].append((name, ""))

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            name, value = self._form["fields"][-1]
            self._form["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None and self._form:
                self._form["fields"].append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(page: str) -> list[dict]:
    parser = FormParser()
    parser.feed(page)
    return parser.forms


def form_with(page: str, field: str) -> dict:
    """The first form of the page that has a field of this name."""
    for form in forms_of(page):
        if field in form["names"]:
            return form
    raise StackError(f"no form with a field «{field}» on the page")


def set_field(fields: list[tuple[str, str]], name: str, value: str | None) -> list:
    """Fields with `name` replaced by value (None drops it, as an unticked checkbox)."""
    kept = [(k, v) for k, v in fields if k != name]
    return kept if value is None else [*kept, (name, value)]


class Browser:
    """Cookies, redirects and CSRF tokens over plain urllib, as one user's browser."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
        url = urllib.parse.urljoin(self.base, path)
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body)  # noqa: S310 - http://127.0.0.1 only
        req.add_header("Referer", url)
        try:
            with self.opener.open(req, timeout=remaining(60)) as response:
                return (
                    response.status,
                    response.geturl(),
                    response.read().decode("utf-8", "replace"),
                )
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode("utf-8", "replace")

    def get(self, path: str, expect: int = 200) -> tuple[str, str]:
        status, url, page = self.request(path)
        check(status == expect, f"GET {path}: HTTP {status}, expected {expect}\n{text_of(page)}")
        return url, page

    def post(self, path: str, data: list[tuple[str, str]], expect: int = 200) -> tuple[str, str]:
        status, url, page = self.request(path, data)
        check(status == expect, f"POST {path}: HTTP {status}, expected {expect}\n{text_of(page)}")
        return url, page

    def submit(self, page_url: str, form: dict, fields: list[tuple[str, str]]) -> tuple[str, str]:
        action = urllib.parse.urljoin(page_url, form["action"] or page_url)
        return self.post(action, fields)


def text_of(page: str, limit: int = 1500) -> str:
    """Visible text of a page, squeezed, for messages."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    text = html.unescape(re.sub(r"(?s)<[^>]+>", " ", page))
    return re.sub(r"\s+", " ", text).strip()[:limit]


def errors_of(page: str) -> str:
    found = re.findall(
        r'(?is)<(?:ul|div|p)[^>]*class="[^"]*(?:errorlist|field__errors|form-errors|'
        r'notice--error|messagelist|error)[^"]*"[^>]*>(.*?)</(?:ul|div|p)>',
        page,
    )
    return " | ".join(text_of(f, 300) for f in found)


# --- the flow ----------------------------------------------------------------------------------


def wait_http(url: str, service: Service, limit: float) -> None:
    until = time.monotonic() + remaining(limit)
    while time.monotonic() < until:
        check(service.alive(), f"{service.name} exited:\n{service.tail()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=5) as response,  # noqa: S310 - loopback
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise StackError(f"{url} did not answer within {limit:.0f} s")


SETUP = """
import json
from kvartplata.billing.models import Period
from kvartplata.registry.models import Building, Organization
from kvartplata.users.models import AccountLink
# Whatever day this runs on, the readings window is open (the demo is built for today).
Organization.objects.update(readings_day_from=1, readings_day_to=31)
Building.objects.update(readings_day_from=None, readings_day_to=None)
link = AccountLink.objects.select_related("account", "user").get(user__username="demo")
period = Period.objects.exclude(state="closed").get()
print("SETUP " + json.dumps({
    "account_id": link.account.id,
    "account_number": link.account.number,
    "email": link.user.email,
    "period_id": period.id,
    "month": f"{period.month:%Y-%m}",
}))
"""


def setup_stack(env: dict[str, str]) -> dict:
    step(f"PostgreSQL: fresh database {DB_NAME}")
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")
    step("Redis: empty queue db " + REDIS_URL)
    import redis  # the stack's own dependency (requirements/base.txt)

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    client.flushdb()
    client.close()
    step("migrate")
    manage(env, "migrate", "--noinput", timeout=120)
    step("demo world: 40 accounts, 2 months")
    out = manage(env, "demo", "--accounts", "40", "--months", "2", timeout=120)
    check(f"пароль {RESIDENT_PASSWORD}" in out, f"demo did not print the resident's login:\n{out}")
    manage(env, "setup_staff_group", "--user", "operator", timeout=60)
    step("collectstatic")
    manage(env, "collectstatic", "--noinput", timeout=60)
    out = manage(env, "shell", "-c", SETUP, timeout=60)
    line = next((x for x in out.splitlines() if x.startswith("SETUP ")), None)
    check(line is not None, f"setup printed nothing:\n{out}")
    facts = json.loads(line[len("SETUP ") :])
    step(f"demo account № {facts['account_number']}, open month {facts['month']}")
    return facts


def resident_flow(base: str, facts: dict) -> None:
    resident = Browser(base)
    step("resident: sign-in form")
    url, page = resident.get("/accounts/login/")
    form = form_with(page, "login")
    fields = set_field(form["fields"], "login", "demo")
    fields = set_field(fields, "password", RESIDENT_PASSWORD)
    url, page = resident.submit(url, form, fields)
    check("/accounts/login/" not in url, f"sign-in refused: {errors_of(page) or text_of(page)}")
    step(f"resident: signed in, at {urllib.parse.urlparse(url).path}")

    step("resident: subscribe to e-mailed receipts in the profile")
    url, page = resident.get("/accounts/profile/")
    form = form_with(page, "receipts_by_email")
    fields = set_field(form["fields"], "receipts_by_email", "on")
    url, page = resident.submit(url, form, fields)
    check("Изменения сохранены" in page, f"profile not saved: {errors_of(page)}")
    ticked = form_with(page, "receipts_by_email")["fields"]
    check(("receipts_by_email", "on") in ticked, f"switch not stored: {errors_of(page)}")

    step("resident: submit readings for the open month")
    meters = f"/accounts/{facts['account_id']}/meters/"
    url, page = resident.get(meters)
    form = next(
        (f for f in forms_of(page) if any(re.fullmatch(r"m\d+_\d+", n) for n in f["names"])),
        None,
    )
    check(form is not None, f"no readings form: {text_of(page)}")
    names = sorted(n for n in form["names"] if re.fullmatch(r"m\d+_\d+", n))
    fields = list(form["fields"])
    for name in names:
        fields = set_field(fields, name, next_value(page, name))
    url, page = resident.submit(url, form, fields)
    if "Показания за" not in page:
        # A jump above the alert threshold asks for a confirmation tick: give it once.
        for name in form["names"]:
            if name.startswith("confirm_"):
                fields = set_field(fields, name, "on")
        url, page = resident.submit(url, form, fields)
    check("Показания за" in page and "приняты" in page, f"readings refused: {errors_of(page)}")
    accepted = re.search(r"Показания за [^.<]*приняты: \d+ шт\.", text_of(page, 100000))
    step("resident: " + (accepted.group(0) if accepted else "readings accepted"))


def next_value(page: str, field: str) -> str:
    """Last accepted reading of the meter's zone plus a little, written with a decimal comma."""
    meter_id, zone = (int(x) for x in field[1:].split("_"))
    section = re.search(rf'(?s)id="meter-{meter_id}".*?</section>', page)
    check(section is not None, f"no card for meter {meter_id}")
    last = re.search(r"Последние принятые показания (.*?) — за", text_of(section.group(0), 10**5))
    value = Decimal(0)
    if last:
        parts = last.group(1).split(";")
        if len(parts) >= zone:
            number = re.match(r"\s*(?:T\d:\s*)?(\d+(?:,\d+)?)", parts[zone - 1])
            if number:
                value = Decimal(number.group(1).replace(",", "."))
    return format(value + 3, "f").replace(".", ",")


def operator_flow(base: str, facts: dict, mailbox: MailBox, worker: Service) -> None:
    office = Browser(base)
    step("operator: sign in at /office/login/")
    url, page = office.get("/office/login/")
    form = form_with(page, "password")
    user_field = "username" if "username" in form["names"] else "login"
    fields = set_field(form["fields"], user_field, "operator")
    fields = set_field(fields, "password", STAFF_PASSWORD)
    url, page = office.submit(url, form, fields)
    check("/office/login/" not in url, f"back office sign-in refused: {errors_of(page)}")

    changelist = "/office/registry/period/"
    url, page = office.get(changelist)
    selectable = re.findall(r'name="_selected_action" value="(\d+)"', page)
    check(str(facts["period_id"]) in selectable, f"open period not in the list: {selectable}")
    actions = form_with(page, "action")
    offered = re.findall(r'<option value="([^"]+)"', page)
    for name in ("run_billing", "close_period"):
        check(name in offered, f"the Period changelist has no action «{name}» (offered: {offered})")

    def action(name: str) -> str:
        fields = set_field(actions["fields"], "action", name)
        fields = set_field(fields, "index", "0")
        fields = set_field(fields, "select_across", "0")
        fields = set_field(fields, "_selected_action", str(facts["period_id"]))
        _url, result = office.submit(url, actions, fields)
        refused = "errorlist" in result or '<li class="error">' in result
        check(not refused, f"action {name}: {messages_of(result) or errors_of(result)}")
        return result

    step("operator: run the billing (queued)")
    result = action("run_billing")
    step("operator: " + (messages_of(result) or "billing queued"))
    step("worker: waiting for the billing run to finish")
    until = time.monotonic() + remaining(90)
    while True:
        check(worker.alive(), f"the Huey worker exited:\n{worker.tail()}")
        _url, runs = office.get(
            f"/office/billing/billingrun/?period__id__exact={facts['period_id']}"
        )
        # Newest first: the run just queued is the first row of the period's runs.
        status = re.search(r'(?s)<td class="field-status[^"]*">(.*?)</td>', runs)
        status_text = text_of(status.group(1)) if status else ""
        if status_text == "завершён":
            break
        check(status_text != "ошибка", f"billing run failed: {text_of(runs, 3000)}")
        check(time.monotonic() < until, f"billing run still «{status_text}»\n{worker.tail()}")
        time.sleep(1)
    step("worker: billing run done")

    step("operator: close the period (receipts issued, mailing queued)")
    # The list's action leads to the month's close page: the figures, a confirmation and,
    # before the readings window has ended, a reason.
    result = action("close_period")
    close_url = f"/office/month/{facts['period_id']}/close/"
    close_form = form_with(result, "confirm")
    fields = set_field(close_form["fields"], "confirm", "yes")
    fields = set_field(fields, "reason", "Проверка стека: закрытие до конца окна показаний")
    _url, result = office.submit(close_url, close_form, fields)
    step("operator: " + (messages_of(result) or "period closed"))
    _url, page = office.get(f"{changelist}{facts['period_id']}/change/")
    state = re.search(r'(?s)<div class="readonly">\s*(открыт|начислен|закрыт)\s*</div>', page)
    check(state is not None and state.group(1) == "закрыт", "the period is not closed")


def messages_of(page: str) -> str:
    found = re.findall(r'(?s)<ul class="messagelist">(.*?)</ul>', page)
    return " | ".join(text_of(f, 400) for f in found)


def receipt_check(facts: dict, mailbox: MailBox, worker: Service, workdir: Path) -> None:
    step(f"SMTP: waiting for the receipt e-mail to {facts['email']}")
    until = time.monotonic() + remaining(60)
    message = None
    while message is None:
        check(worker.alive(), f"the Huey worker exited:\n{worker.tail()}")
        message = mailbox.find(
            lambda m: facts["email"] in str(m.get("To", "")) and pdf_attachment(m) is not None
        )
        if message is None:
            check(time.monotonic() < until, f"no receipt e-mail arrived\n{worker.tail()}")
            time.sleep(0.5)
    step(f"SMTP: «{message['Subject']}»")
    pdf = pdf_attachment(message)
    check(pdf.startswith(b"%PDF"), "the attachment is not a PDF")
    path = workdir / "receipt.pdf"
    path.write_bytes(pdf)
    run(
        [
            shutil.which("pdftoppm") or "pdftoppm",
            "-r",
            "200",
            "-png",
            "-singlefile",
            str(path),
            str(workdir / "page"),
        ],
        dict(os.environ),
        timeout=60,
    )
    out = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [
            shutil.which("zbarimg") or "zbarimg",
            "--raw",
            "-q",
            "--nodbus",
            "-Sbinary",
            str(workdir / "page.png"),
        ],
        capture_output=True,
        check=False,
        timeout=60,
    )
    chunks = [c for c in re.split(rb"(?=ST0001[123])", out.stdout.rstrip(b"\n")) if c]
    check(bool(chunks), "no QR code found in the receipt")
    codecs = {"1": "cp1251", "2": "utf-8", "3": "koi8-r"}
    texts = [c.decode(codecs[chr(c[6])]) for c in chunks]
    wanted = f"PersAcc={facts['account_number']}"
    hit = [t for t in texts if wanted in t.split(t[7]) and "|Sum=" in t]
    check(bool(hit), f"no QR code with {wanted} and Sum= among {texts}")
    total = re.search(r"\|Sum=(\d+)", hit[0])
    step(f"QR: {wanted}, Sum={total.group(1) if total else '?'} (kopecks), {len(texts)} code(s)")


def stop_on_signal(signum, _frame):
    # A CI timeout sends SIGTERM: unwind through `finally` so that the stack is stopped.
    raise KeyboardInterrupt(f"signal {signum}")


def stack_env(*, base: str, smtp_port: int, workdir: Path, db_name: str, redis_url: str) -> dict:
    """Production settings for the stack (DEBUG off) over plain HTTP on loopback."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"HUEY_IMMEDIATE", "SQLITE_TEST_NAME", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="kvartplata.settings",
        DEBUG="0",
        SECRET_KEY="stack-" + os.urandom(24).hex(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL=base,
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{db_name}",
        REDIS_URL=redis_url,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        DATA_DIR=str(workdir / "data"),
        DEMO_RESIDENT_PASSWORD=RESIDENT_PASSWORD,
        DEMO_STAFF_PASSWORD=STAFF_PASSWORD,
        # Two-factor sign-in for staff stays optional (its default): the operator has no device.
        OFFICE_REQUIRE_2FA="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_signal)
    for tool in ("psql", "pdftoppm", "zbarimg"):
        if not shutil.which(tool):
            print(f"FAILED: {tool} is not installed", file=sys.stderr)
            return 2
    from aiosmtpd.controller import Controller

    workdir = Path(tempfile.mkdtemp(prefix="kv_stack_"))
    smtp_port, http_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    env = stack_env(
        base=base, smtp_port=smtp_port, workdir=workdir, db_name=DB_NAME, redis_url=REDIS_URL
    )
    services: list[Service] = []
    mailbox = MailBox()
    controller = None
    ok = False
    try:
        facts = setup_stack(env)
        step(f"aiosmtpd on 127.0.0.1:{smtp_port}")
        controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        step(f"gunicorn: 3 workers on {base}")
        web = Service(
            "gunicorn",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "kvartplata.wsgi:application",
                "--workers",
                "3",
                "--bind",
                f"127.0.0.1:{http_port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--no-control-socket",
                "--access-logfile",
                "-",
            ],
            env,
            workdir,
        )
        services.append(web)
        step("huey: run_huey worker on Redis")
        worker = Service("huey", [PYTHON, "manage.py", "run_huey"], env, workdir)
        services.append(worker)
        wait_http(f"{base}/accounts/login/", web, 30)
        status, _url, css = Browser(base).request("/static/css/site.css")
        check(status == 200 and len(css) > 0, f"static file not served by WhiteNoise: {status}")
        step("gunicorn answers; static files served by WhiteNoise")
        resident_flow(base, facts)
        operator_flow(base, facts, mailbox, worker)
        receipt_check(facts, mailbox, worker, workdir)
        ok = True
    except Exception as exc:  # every failure ends the same way: logs shown, processes stopped
        detail = "" if isinstance(exc, StackError) else traceback.format_exc()
        print(f"FAILED: {exc}\n{detail}", file=sys.stderr)
        for service in services:
            print(f"--- {service.name} log (tail) ---\n{service.tail()}", file=sys.stderr)
    finally:
        for service in reversed(services):
            service.stop()
        if controller is not None:
            controller.stop()
        if ok and os.environ.get("STACK_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
            with contextlib.suppress(StackError, subprocess.SubprocessError):
                psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        else:
            print(f"kept for a look: {workdir}, database {DB_NAME}", file=sys.stderr)
    step("OK: one month end to end" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
