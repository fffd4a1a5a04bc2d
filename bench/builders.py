"""Synthetic data for the bench, table by table, deterministic for a seed and a day.

Each ``build_*`` function writes one model's rows (plus the few it owns, e.g. instalments with
plans) through a ``TableWriter``; a model change is an edit in one function. Names, addresses and
IDs come from small pools and ``random.Random(seed)`` — no Faker per row.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password

from bench.common import Sizes
from collections_app import pii, priority
from collections_app.models import (
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Branch,
    DelinquentAccount,
    Product,
    Role,
    Stage,
    Team,
    User,
)
from collections_app.selectors.screening import PAGE_SIZE as SCREENING_PAGE_SIZE

CENT = Decimal("0.01")
GRACE_DAYS = 3
BENCH_PASSWORD = "doorstep-bench"  # noqa: S105 -- synthetic users of a local bench database
CITIES = [
    ("苏州", 31.30, 120.62), ("无锡", 31.49, 120.31), ("常州", 31.81, 119.97), ("南京", 32.06, 118.80),
    ("南通", 31.98, 120.89), ("扬州", 32.39, 119.41), ("镇江", 32.19, 119.42), ("泰州", 32.46, 119.92),
    ("盐城", 33.35, 120.16), ("淮安", 33.61, 119.02), ("宿迁", 33.96, 118.28), ("徐州", 34.21, 117.28),
    ("连云港", 34.60, 119.22), ("杭州", 30.27, 120.16), ("宁波", 29.87, 121.54), ("嘉兴", 30.75, 120.76),
    ("湖州", 30.89, 120.09), ("绍兴", 30.00, 120.58), ("上海", 31.23, 121.47), ("合肥", 31.82, 117.23),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建华国庆志强海燕晓明春梅"
ROADS = ["人民路", "解放路", "中山路", "建设路", "东环路", "西园路", "新华路", "长江路", "和平路", "滨湖路"]
DISTRICTS = ["姑苏区", "高新区", "工业园区", "吴中区", "相城区", "新城区", "老城区", "开发区"]
PRODUCTS = [p.value for p in Product]
# The filtered screening page the bench times (``bench.run``: the first branch's supervisor, DPD 91-180,
# credit cards) lists more than a full page at every scale, so 1M/10k compares the same page: at 10k the
# random draw left that filter 10 rows against 51 at 1M. The first accounts are those, without a case.
FILTERED_PAGE = {"branch": 0, "product": Product.CREDIT_CARD.value, "dpd": (91, 180)}
FILTERED_PAGE_ACCOUNTS = SCREENING_PAGE_SIZE + 10
# Where the cases stand: every stage, most of the work in follow-up (it carries the due checks).
STAGE_SHARES = [
    (Stage.SCREENING, 0.08),
    (Stage.PREPARATION, 0.12),
    (Stage.VISIT, 0.11),
    (Stage.NEGOTIATION, 0.08),
    (Stage.FOLLOW_UP, 0.36),
    (Stage.CLOSED, 0.25),
]
PATH = [Stage.SCREENING, Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION, Stage.FOLLOW_UP]


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


@dataclass
class Org:
    branches: list = field(default_factory=list)
    teams: list = field(default_factory=list)  # one per branch, same index
    supervisors: list = field(default_factory=list)
    collectors: list = field(default_factory=list)  # per branch index: list of users
    manager: User | None = None
    admin: User | None = None


@dataclass
class Ctx:
    rng: object
    sizes: Sizes
    today: dt.date
    tz: ZoneInfo
    writers: dict
    org: Org = field(default_factory=Org)
    counts: dict = field(default_factory=dict)
    code: str = "BE"  # the prefix of branch codes and account numbers

    @property
    def now(self) -> dt.datetime:
        """The moment the data is built up to: the start of ``today``, so that nothing generated lies in
        the future whatever the hour the generator runs (the dashboard's tallies roll what is recorded)."""
        return dt.datetime.combine(self.today, dt.time(0, 0), tzinfo=self.tz)

    def midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0, 0), tzinfo=self.tz)

    def w(self, model):
        return self.writers[model]


def build_org(ctx: Ctx, prefix: str = "bench") -> None:
    """Branches, one team each, its supervisor and collectors, a manager and an admin (ORM: a few hundred rows)."""
    org, sizes = ctx.org, ctx.sizes
    ctx.code = prefix.upper()[:2]
    password = make_password(BENCH_PASSWORD, salt="benchsalt")
    for b in range(sizes.branches):
        city, _lat, _lng = CITIES[b % len(CITIES)]
        branch = Branch.objects.create(code=f"{ctx.code}{b + 1:02d}", name=f"{city}分行", region=city)
        supervisor = User.objects.create(
            username=f"{prefix}_sup{b + 1:02d}", role=Role.SUPERVISOR, password=password, first_name=f"主管{b + 1}"
        )
        team = Team.objects.create(branch=branch, name=f"{city}走访一组", supervisor=supervisor)
        supervisor.team = team
        supervisor.save(update_fields=["team"])
        collectors = User.objects.bulk_create(
            User(
                username=f"{prefix}_col{b + 1:02d}_{k + 1:02d}",
                role=Role.COLLECTOR,
                team=team,
                region=city,
                password=password,
            )
            for k in range(sizes.collectors_per_branch)
        )
        org.branches.append(branch)
        org.teams.append(team)
        org.supervisors.append(supervisor)
        org.collectors.append(collectors)
    org.manager = User.objects.create(username=f"{prefix}_manager", role=Role.MANAGER, password=password)
    org.admin = User.objects.create(username=f"{prefix}_admin", role=Role.ADMIN, password=password, is_staff=True)


def _dpd(rng) -> int:
    r = rng.random()
    if r < 0.40:
        return rng.randint(1, 30)
    if r < 0.60:
        return rng.randint(31, 60)
    if r < 0.72:
        return rng.randint(61, 90)
    if r < 0.86:
        return rng.randint(91, 180)
    return rng.randint(181, 900)


def _national_id(i: int, branch: int) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=i % 14_600)
    return f"32{branch:02d}01{born:%Y%m%d}{(i // 14_600) % 1000:03d}{i % 10}"


def _filtered_page_accounts(sizes: Sizes) -> int:
    """How many of the first accounts fill the filtered screening page (none where they would leave
    too few accounts for the cases, as in the tests' small sizes)."""
    return FILTERED_PAGE_ACCOUNTS if sizes.accounts - FILTERED_PAGE_ACCOUNTS >= sizes.cases else 0


def choose_cases(ctx: Ctx) -> dict[int, str]:
    """Which accounts get a case, and its stage: account index → stage."""
    n = min(ctx.sizes.cases, ctx.sizes.accounts)
    chosen = ctx.rng.sample(range(_filtered_page_accounts(ctx.sizes), ctx.sizes.accounts), n)
    stages, start = {}, 0
    for i, (stage, share) in enumerate(STAGE_SHARES):
        end = n if i == len(STAGE_SHARES) - 1 else start + round(n * share)
        for idx in chosen[start:end]:
            stages[idx] = stage
        start = end
    return stages


def build_accounts(ctx: Ctx, case_stages: dict[int, str]) -> dict[int, tuple]:
    """Borrowers (with a phone and an address), their accounts; returns what cases need of them."""
    rng, sizes, today = ctx.rng, ctx.sizes, ctx.today
    w = priority.weights()
    borrowers, phones, addresses, accounts = (
        ctx.w(Borrower),
        ctx.w(BorrowerPhone),
        ctx.w(BorrowerAddress),
        ctx.w(DelinquentAccount),
    )
    created = ctx.now - dt.timedelta(days=400)
    case_accounts = {}
    reserved = _filtered_page_accounts(sizes)
    for i in range(sizes.accounts):
        measured = i < reserved
        b = FILTERED_PAGE["branch"] if measured else rng.randrange(sizes.branches)
        city, lat, lng = CITIES[b % len(CITIES)]
        borrower_id, address_id = borrowers.new_id(), addresses.new_id()
        row = {"id": borrower_id, "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)}
        row.update(created_at=created, updated_at=created)
        if rng.random() < sizes.national_id_share:
            nid = _national_id(i, b)
            row.update(
                national_id_encrypted=pii.encrypt(nid),
                national_id_hash=pii.lookup_hash(nid),
                national_id_last4=pii.last4(nid),
            )
        borrowers.add(row)
        phones.add(
            {
                "id": phones.new_id(),
                "borrower_id": borrower_id,
                "number": f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}",
            }
            | {"label": "mobile", "is_primary": True}
        )
        addresses.add(
            {
                "id": address_id,
                "borrower_id": borrower_id,
                "label": "home",
                "is_primary": True,
                "text": f"{city}市{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
                f"{rng.randint(1, 30)}栋{rng.randint(101, 2505)}室",
                "lat": Decimal(f"{lat + rng.uniform(-0.1, 0.1):.6f}"),
                "lng": Decimal(f"{lng + rng.uniform(-0.1, 0.1):.6f}"),
            }
        )
        dpd = rng.randint(*FILTERED_PAGE["dpd"]) if measured else _dpd(rng)
        since = today - dt.timedelta(days=dpd)
        amount = money(10 ** rng.uniform(2.5, 5.5))
        outstanding = amount * rng.randint(1, 8)
        broken = rng.choice((1, 1, 2, 3)) if rng.random() < 0.1 else 0
        contact = None
        if rng.random() < 0.3:
            contact = ctx.midnight(since) + dt.timedelta(days=rng.randint(0, dpd), hours=rng.randint(9, 19))
        reached = contact is not None and contact.date() >= since
        key = (
            (w["amount"] * priority.amount_points(amount)).quantize(CENT, ROUND_HALF_UP)
            + w["broken_promises"] * broken
            + w["no_contact"] * (0 if reached else 1)
            - w["dpd"] * priority.day_number(since)
        )
        account_id = accounts.new_id()
        accounts.add(
            {
                "id": account_id,
                "account_no": f"{ctx.code}{b + 1:02d}{i:012d}",
                "borrower_id": borrower_id,
                "branch_id": ctx.org.branches[b].pk,
                "product": FILTERED_PAGE["product"] if measured else rng.choice(PRODUCTS),
                "principal": (outstanding * Decimal("1.2")).quantize(CENT),
                "outstanding_balance": outstanding,
                "overdue_amount": amount,
                "overdue_since": since,
                "last_payment_date": since - dt.timedelta(days=rng.randint(1, 30)) if rng.random() < 0.7 else None,
                "currency": "CNY",
                "has_open_case": case_stages.get(i, Stage.CLOSED) != Stage.CLOSED,
                "broken_promises": broken,
                "last_contact_at": contact,
                "screening_key": key,
                "created_at": created,
                "updated_at": created,
            }
        )
        if i in case_stages:
            case_accounts[i] = (account_id, b, amount, dpd, broken, not reached, address_id)
    ctx.counts.update(borrowers=sizes.accounts, accounts=sizes.accounts)
    return case_accounts
