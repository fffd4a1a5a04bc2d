"""CPU milliseconds per request by page of the realistic mix, in-process (README, "Throughput of one server").

    python -m bench.cpu [--scale 10kload] [--requests 40] [--profile case_page]

Drives ``bench.load``'s client (its form defaults and POST data) through Django's test client on the bench
database ``doorstep_bench_<scale>`` and times each page's requests with ``time.process_time()``: no server,
no network, so two versions of the code compare on one machine even while other work shares it (take the
lowest of a few runs). ``--profile`` samples one page's stacks on CPU time (``ITIMER_PROF``) and prints the
functions and templates holding the most of it. The POSTs write to the bench database, as bench.load's do.
"""

import argparse
import collections
import contextlib
import signal
import time

from bench.common import collect_static, configure, database_url

SAMPLE_SECONDS = 0.0005


class Sampler:
    """Counts, on each CPU-time tick, every function and template on the stack (inclusive time)."""

    def __init__(self):
        self.ticks = 0
        self.inclusive: collections.Counter = collections.Counter()

    def _tick(self, _signum, frame):
        self.ticks += 1
        seen = set()
        while frame is not None:
            code = frame.f_code
            names = [f"{code.co_filename.rsplit('site-packages/', 1)[-1]}:{code.co_name}"]
            if code.co_name == "_render" and code.co_filename.endswith("django/template/base.py"):
                names.append(f"template {getattr(frame.f_locals.get('self'), 'name', '?')}")
            for name in names:
                if name not in seen:
                    seen.add(name)
                    self.inclusive[name] += 1
            frame = frame.f_back

    def __enter__(self):
        signal.signal(signal.SIGPROF, self._tick)
        signal.setitimer(signal.ITIMER_PROF, SAMPLE_SECONDS, SAMPLE_SECONDS)
        return self

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_PROF, 0, 0)

    def report(self, top: int) -> None:
        print(f"cpu: {self.ticks} samples; share of CPU time on the stack:")
        for name, count in self.inclusive.most_common(top):
            print(f"  {count * 100 / self.ticks:5.1f} %  {name}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="10k")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--profile", default=None, help="a page of the mix, e.g. case_page")
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args(argv)
    url = database_url(args.scale)
    configure(url)
    collect_static()
    from django.test import Client as DjangoClient

    from bench import load

    ((username, cases),) = load.pick_cases(url, 1)
    django_client = DjangoClient()

    class InProcess(load.Client):
        def request(self, method, path, **kwargs):
            if method == "POST":
                return django_client.post(path, kwargs.get("data"))
            response = django_client.get(path)
            response.text = response.content.decode()
            return response

    client = InProcess("", username, cases)
    if (
        client.request("POST", "/accounts/login/", data={"username": username, "password": load.PASSWORD}).status_code
        != 302
    ):
        raise SystemExit(f"login of {username} failed")
    client.prepare_forms()
    result = {}
    for kind, _weight in load.MIX:
        if args.profile and kind != args.profile:
            continue
        for _ in range(3):  # warm: templates compiled, connection open
            client.hit(kind)
        sampler = Sampler() if args.profile else None
        started = time.process_time()
        with sampler or contextlib.nullcontext():
            statuses = [client.hit(kind).status_code for _ in range(args.requests)]
        result[kind] = round((time.process_time() - started) * 1000 / args.requests, 1)
        if not all(load.expected(kind, status) for status in statuses):
            raise SystemExit(f"{kind}: unexpected answers {collections.Counter(statuses)}")
        if sampler:
            sampler.report(args.top)
    weights = dict(load.MIX)
    mix = sum(result[k] * weights[k] for k in result) / sum(weights[k] for k in result)
    print(f"cpu: CPU ms per request {result}, mix {mix:.1f}")


if __name__ == "__main__":
    main()
