"""A bounded load of the realistic mix against the balancer, from threads: case list 30 %, case page 25 %,
API list 10 %, visit POST 15 %, payment POST 10 %, contact POST 10 %. Every call is recorded with its start and
end; a write that fails is sent again with the same idempotency key until it is acknowledged (contact attempts
have no key: they are sent once)."""

import datetime as dt
import http.client
import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

MIX = (
    ("case_list", 0.30),
    ("case_page", 0.25),
    ("api_list", 0.10),
    ("visit", 0.15),
    ("payment", 0.10),
    ("contact", 0.10),
)
ACKNOWLEDGED = {"visit": (200, 201), "payment": (200, 201), "contact": (302,)}
WRITE_RETRIES = 15
RETRY_PAUSE = 0.3
SHANGHAI = ZoneInfo("Asia/Shanghai")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Call:
    kind: str
    path: str
    start: float
    end: float
    status: int | None
    error: str = ""
    content_type: str = ""
    key: str = ""
    body: bytes = b""


@dataclass
class Record:
    calls: list[Call] = field(default_factory=list)
    acknowledged: dict[str, set] = field(default_factory=lambda: {"visit": set(), "payment": set(), "contact": set()})
    abandoned: dict[str, set] = field(default_factory=lambda: {"visit": set(), "payment": set(), "contact": set()})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


class Client:
    """One user's browser and phone: a session (cookies kept by hand, since the topology's cookies are Secure
    and this is plain HTTP on loopback) and an API token."""

    def __init__(self, port: int, record: Record, tag: str):
        self.port = port
        self.record = record
        self.tag = tag
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.token = ""

    def request(self, kind: str, method: str, path: str, body=None, headers=None, key: str = "") -> Call:
        headers = dict(headers or {})
        headers["Host"] = "127.0.0.1"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.monotonic()
        call = Call(kind, path, start, start, None, key=key)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            call.body = response.read()
            call.status = response.status
            call.content_type = response.getheader("Content-Type", "")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
        except (OSError, http.client.HTTPException) as exc:
            call.error = f"{exc.__class__.__name__}: {exc}"
        finally:
            conn.close()
            call.end = time.monotonic()
        self.record.add(call)
        return call

    def login(self, username: str, password: str, form_path: str) -> None:
        page = self.request("login", "GET", "/accounts/login/")
        token = CSRF_FIELD.search(page.body.decode()).group(1)
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"})
        done = self.request(
            "login", "POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert done.status == 302, (done.status, done.body[:300])
        form_page = self.request("login", "GET", form_path)
        assert form_page.status == 200, form_page.status
        self.csrf = CSRF_FIELD.search(form_page.body.decode()).group(1)

    def api(self, kind: str, method: str, path: str, payload=None, key: str = "") -> Call:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        body = None
        if payload is not None:
            body = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        return self.request(kind, method, path, body, headers, key=key)


def _daytime_before_now() -> dt.datetime:
    """The last 10:00 in Shanghai that has passed: contact attempts must fall outside quiet hours."""
    now = dt.datetime.now(SHANGHAI)
    ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
    return ten if ten <= now else ten - dt.timedelta(days=1)


def _write(client: Client, kind: str, send, case: int) -> None:
    """Send until acknowledged; the idempotency key makes the retries safe. Contacts (no key) go once."""
    key = str(uuid.uuid4())
    tries = 1 if kind == "contact" else WRITE_RETRIES
    for _ in range(tries):
        call = send(client, case, key)
        if call.status in ACKNOWLEDGED[kind]:
            with client.record.lock:
                client.record.acknowledged[kind].add(key)
            return
        if call.status is not None and call.status < 500:
            break  # a refusal is not retried: the test fails on it
        time.sleep(RETRY_PAUSE)
    with client.record.lock:
        client.record.abandoned[kind].add(key)


def _visit(client: Client, case: int, key: str) -> Call:
    payload = {
        "case": case,
        "idempotency_key": key,
        "checked_in_at": dt.datetime.now(dt.UTC).isoformat(),
        "identity_confirmed": True,
        "met": "borrower",
        "outcome": "other",
        "notes": f"{client.tag} {key}",
    }
    return client.api("visit", "POST", "/api/v1/visits/", payload, key=key)


def _payment(client: Client, case: int, key: str) -> Call:
    payload = {
        "case": case,
        "amount": "1.00",
        "paid_on": (dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=1)).isoformat(),
        "channel": "cash",
        "reference": f"{client.tag} {key}",
        "idempotency_key": key,
    }
    return client.api("payment", "POST", "/api/v1/payments/", payload, key=key)


def _contact(client: Client, case: int, key: str) -> Call:
    form = {
        "csrfmiddlewaretoken": client.csrf,
        "channel": "sms",
        "party": "borrower",
        "other_number": "13800000000",
        "result": "answered",
        "attempted_at": _daytime_before_now().strftime("%Y-%m-%dT%H:%M"),
        "note": f"{client.tag} {key}",
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return client.request("contact", "POST", f"/cases/{case}/contact/", urlencode(form), headers, key=key)


WRITES = {"visit": _visit, "payment": _payment, "contact": _contact}


def run_client(client: Client, cases: list[int], *, seed: int, deadline: float, max_requests: int) -> None:
    rng = random.Random(seed)
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    sent = 0
    while time.monotonic() < deadline and sent < max_requests:
        sent += 1
        kind = rng.choices(kinds, weights)[0]
        case = rng.choice(cases)
        if kind == "case_list":
            client.request(kind, "GET", "/cases/")
        elif kind == "case_page":
            client.request(kind, "GET", f"/cases/{case}/")
        elif kind == "api_list":
            client.api(kind, "GET", "/api/v1/cases/")
        else:
            _write(client, kind, WRITES[kind], case)
