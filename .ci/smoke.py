"""Log in as each demo role against a running server and open its home page."""

import http.cookiejar
import re
import sys
import time
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")


def opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def wait_for_server():
    for _ in range(60):
        try:
            with urllib.request.urlopen(base + "/healthz/", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit("server did not answer /healthz/")


def login_and_open_home(username: str, expected: str) -> None:
    browser = opener()
    page = browser.open(base + "/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": "doorstep-demo", "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=form, headers={"Referer": base + "/"})  # noqa: S310
    home = browser.open(request, timeout=10)
    body = home.read().decode()
    if home.geturl().rstrip("/") != base or expected not in body:
        sys.exit(f"{username}: home page not shown (landed on {home.geturl()})")
    print(f"smoke: {username} sees '{expected}'")


wait_for_server()
login_and_open_home("collector1", "My day")
login_and_open_home("supervisor1", "My team")
login_and_open_home("manager", "Portfolio")
