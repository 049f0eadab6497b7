"""Checks for chapter 11: limits on guesses, the answer past a limit, and the security headers."""

import base64
import hashlib
import re

import pytest

from workbook.app import TEST_CONFIG, load_create_app
from workbook.check_fixtures import hardened, limited_app, store_clock

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"11.1": 3, "11.2": 2, "11.3": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"11.2": ["11.1"]}

A_KEY = "4e1d2c3b4a5968778695a4b3c2d1e0f0a1b2c3d4e5f60718293a4b5c6d7e8f90"


def guesses(client, path, count, address="192.0.2.10"):
    """Send `count` wrong guesses to one of the guessed routes from this address; return their statuses."""
    statuses = []
    for number in range(count):
        if path == "/api/tokens":
            answer = client.post(path, json={"email": "nobody@example.com", "password": f"guess {number}"},
                                 environ_base={"REMOTE_ADDR": address})
        else:
            data = {"email": f"nobody{number}@example.com",
                    "password": f"guess number {number} is wrong", "confirm": "another guess entirely",
                    "name": "Nobody", "current": f"guess {number}"}
            answer = client.post(path, data=data, environ_base={"REMOTE_ADDR": address})
        statuses.append(answer.status_code)
    return statuses


# 11.1: limit the guesses

@pytest.mark.exercise("11.1")
def test_the_sixth_log_in_within_a_minute_is_refused(folder):
    """Five log-in POSTs from one address are answered; the sixth within the minute gets 429, whatever it carries.
    Count every POST to the log-in form, per client, against GUESS_LIMIT ("5 per minute"): the 6th guess must not reach
    the view, or a script tries passwords without end.
    """
    statuses = guesses(limited_app(folder).test_client(), "/auth/login", 6)
    assert 429 not in statuses[:5], f"expected the first 5 guesses to be answered, got {statuses}"
    assert statuses[5] == 429, f"expected the 6th POST within the minute to get 429, got {statuses}"


@pytest.mark.exercise("11.1")
def test_the_limit_is_guess_limit(folder):
    """With GUESS_LIMIT = "3 per minute", the third guess is answered and the fourth gets 429.
    Read the limit from app.config["GUESS_LIMIT"] when the limits are set, not a string of your own.
    """
    app = limited_app(folder, GUESS_LIMIT="3 per minute")
    statuses = guesses(app.test_client(), "/auth/login", 4)
    assert statuses[:3].count(429) == 0 and statuses[3] == 429, f"expected 3 answers, then 429; got {statuses}"


@pytest.mark.exercise("11.1")
def test_showing_the_form_is_not_a_guess(folder):
    """GET /auth/login any number of times costs no try; after the POSTs run out, the form still shows.
    Limit the POSTs only (methods=["POST"]): showing a form tries no password.
    """
    app = limited_app(folder, GUESS_LIMIT="2 per minute")
    client = app.test_client()
    shown = [client.get("/auth/login", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code for _ in range(4)]
    assert shown == [200] * 4, f"expected the form to show every time, got {shown}"
    statuses = guesses(client, "/auth/login", 3)
    assert statuses[:2].count(429) == 0 and statuses[2] == 429, f"expected 2 guesses answered after the GETs, then 429; got {statuses}"
    after = client.get("/auth/login", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert after.status_code == 200, "expected the form to show after the POSTs ran out"


@pytest.mark.exercise("11.1")
def test_each_client_counts_alone(folder):
    """When one address has used up its tries, another address still has its own.
    Key the limit on the client's address (get_remote_address, the Limiter's key function), not on one count for all.
    """
    app = limited_app(folder, GUESS_LIMIT="2 per minute")
    client = app.test_client()
    assert guesses(client, "/auth/login", 3, "192.0.2.10")[2] == 429, "expected the 3rd guess from one address to get 429"
    other = guesses(client, "/auth/login", 2, "198.51.100.7")
    assert 429 not in other, f"expected another address to get its own 2 tries, got {other}"


@pytest.mark.exercise("11.1")
def test_the_limit_resets_after_the_window(folder):
    """After the minute has passed (the check moves the store's clock), the same address may try again."""
    app = limited_app(folder, GUESS_LIMIT="2 per minute")
    client = app.test_client()
    with store_clock() as clock:
        assert guesses(client, "/auth/login", 3)[2] == 429, "expected the 3rd guess within the minute to get 429"
        clock.ahead = 61
        after = guesses(client, "/auth/login", 1)
    assert after != [429], "expected a try again once the minute had passed"


@pytest.mark.exercise("11.1")
@pytest.mark.parametrize("path", ["/auth/register", "/auth/forgot", "/auth/password", "/api/tokens"])
def test_every_guessed_route_is_limited(folder, path):
    """Registration, the forgotten password, the password change and POST /api/tokens refuse the guess past the limit.
    Every endpoint of GUESSED gets the limit, the API's too: a script asks whichever route has none.
    """
    app = limited_app(folder, GUESS_LIMIT="2 per minute")
    statuses = guesses(app.test_client(), path, 3)
    assert 429 not in statuses[:2] and statuses[2] == 429, f"expected 2 answers, then 429 on {path}; got {statuses}"


# 11.2: a 429 in Bookshelf's words

def too_many_app(folder):
    app = limited_app(folder, GUESS_LIMIT="1 per minute")
    return hardened(app, "too_many")


@pytest.mark.exercise("11.2")
def test_a_page_past_the_limit_is_bookshelfs_429_page(folder):
    """The log-in POST past the limit gets 429 and the page errors/429.html, in Bookshelf's layout."""
    client = too_many_app(folder).test_client()
    for _ in range(2):
        answer = client.post("/auth/login", data={"email": "a@example.com", "password": "x"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 429, f"expected status 429 with the page, got {answer.status_code}"
    assert answer.mimetype == "text/html" and "Too many tries" in text, "expected the page errors/429.html"
    assert "Back to the books" in text and "1 per 1 minute" in text, "expected the page to show the limit (error)"


@pytest.mark.exercise("11.2")
def test_the_api_answers_429_in_its_one_shape(folder):
    """POST /api/tokens past the limit gets 429 and {"error": "too many requests", "message": ...}, as every API error.
    Under /api/, hand the error to errors.py's http_error: a program reads JSON, not a page.
    """
    client = too_many_app(folder).test_client()
    for _ in range(2):
        answer = client.post("/api/tokens", json={"email": "a@example.com", "password": "x"})
    assert answer.status_code == 429, f"expected status 429, got {answer.status_code}"
    assert answer.is_json, f"expected JSON under /api/, got {answer.mimetype}"
    body = answer.get_json()
    assert body.get("error") == "too many requests" and body.get("message"), f"expected the API's one shape, got {body}"
    assert set(body) <= {"error", "message", "errors"}, f"expected the API's one shape, got {body}"


# 11.3: the security headers

def policy(answer) -> dict[str, list[str]]:
    """Return the answer's Content-Security-Policy as {directive: [sources]}."""
    header = answer.headers.get("Content-Security-Policy", "")
    assert header, "expected a Content-Security-Policy header"
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def bare_app(testing=False):
    """A Flask app of one page, with the learner's headers (init_app from bookshelf/headers.py)."""
    from flask import Flask

    from bookshelf import headers

    app = Flask("probe")
    app.config.update(TESTING=testing, SECRET_KEY=A_KEY)
    app.add_url_rule("/", "index", lambda: "Bookshelf")
    headers.init_app(app)
    return app


def headers_app(folder, **config):
    app = load_create_app(folder, reuse=True)({**TEST_CONFIG, **config})
    return hardened(app, "headers")


@pytest.mark.exercise("11.3")
@pytest.mark.parametrize("path", ["/auth/login", "/api/swagger.json", "/api/doc"])
def test_no_site_may_frame_bookshelf(folder, path):
    """Pages, the API and Swagger UI send X-Frame-Options: DENY and the policy's frame-ancestors 'none'.
    Talisman's default frame_options is SAMEORIGIN: say DENY, as the policy does.
    """
    answer = headers_app(folder).test_client().get(path)
    assert answer.headers.get("X-Frame-Options") == "DENY", f"expected X-Frame-Options: DENY on {path}"
    assert policy(answer).get("frame-ancestors") == ["'none'"], f"expected frame-ancestors 'none' on {path}"


@pytest.mark.exercise("11.3")
def test_hsts_goes_out_over_https(folder):
    """Over HTTPS the answer carries Strict-Transport-Security for a year at least."""
    answer = headers_app(folder).test_client().get("/auth/login", base_url="https://localhost")
    hsts = answer.headers.get("Strict-Transport-Security", "")
    age = re.search(r"max-age=(\d+)", hsts)
    assert age and int(age.group(1)) >= 31536000, f"expected HSTS for a year over HTTPS, got {hsts!r}"


@pytest.mark.exercise("11.3")
@pytest.mark.parametrize("mode", ["TESTING", "DEBUG"])
def test_development_and_tests_stay_on_plain_http(folder, mode):
    """In tests and in debug, a plain http:// request is answered, not sent to https://.
    force_https only where HTTPS is: off when app.debug or app.testing.
    """
    config = {"TESTING": False, "DEBUG": True} if mode == "DEBUG" else {}
    answer = headers_app(folder, **config).test_client().get("/auth/login")
    assert answer.status_code == 200, f"expected the page over http:// in {mode.lower()}, got {answer.status_code} " \
                                      f"to {answer.headers.get('Location')}"


@pytest.mark.exercise("11.3")
def test_production_sends_plain_http_to_https(folder):
    """On a server (debug and testing off), http://localhost/ is redirected to https://; over HTTPS it is answered."""
    app = bare_app(testing=False)
    plain = app.test_client().get("/")
    assert plain.status_code in (301, 302, 307, 308) and plain.headers["Location"].startswith("https://"), \
        f"expected a redirect to https:// in production, got {plain.status_code}"
    assert app.test_client().get("/", base_url="https://localhost").status_code == 200


@pytest.mark.exercise("11.3")
def test_the_session_cookie_is_left_to_the_factory(folder):
    """In tests, over plain http://, the session cookie is not marked Secure: chapter 10's check_production decides.
    Talisman marks it Secure on every request unless session_cookie_secure=False; serve() could then keep no log-in.
    """
    client = headers_app(folder).test_client()
    answer = client.get("/auth/login")
    cookies = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "expected the log-in form to set the session cookie (its CSRF token)"
    assert "secure" not in cookies[0].lower(), f"expected no Secure flag in tests, got {cookies[0]}"


@pytest.mark.exercise("11.3")
def test_swagger_ui_runs_under_the_policy_by_its_nonce(folder):
    """Every inline script and style of /api/doc carries the nonce that the policy names; no 'unsafe-inline' script.
    Add the nonce to the directives of NONCE_IN (content_security_policy_nonce_in): the page's tags read csp_nonce().
    """
    answer = headers_app(folder).test_client().get("/api/doc")
    found = policy(answer)
    page = answer.get_data(as_text=True)
    scripts = found.get("script-src", found.get("default-src", []))
    assert "'unsafe-inline'" not in scripts and "*" not in scripts, f"expected no 'unsafe-inline' script, got {scripts}"
    inline = re.findall(r"<(script|style)\b([^>]*)>", page)
    inline = [(tag, attributes) for tag, attributes in inline if "src=" not in attributes]
    assert inline, "expected Swagger UI's page with its inline script and style"
    for tag, attributes in inline:
        nonce = re.search(r'nonce="([^"]+)"', attributes)
        assert nonce, f"expected the inline <{tag}> of Swagger UI's page to carry a nonce"
        assert f"'nonce-{nonce.group(1)}'" in found.get(f"{tag}-src", []), \
            f"expected {tag}-src to name this answer's nonce, got {found.get(f'{tag}-src')}"


@pytest.mark.exercise("11.3")
def test_bookshelfs_own_style_attributes_are_allowed(folder):
    """Every style="..." of Bookshelf's templates (the log-out forms' display: inline) is allowed by style-src's hash."""
    app = headers_app(folder)
    styles = {style for name in app.jinja_loader.list_templates()
              for style in re.findall(r'\bstyle="([^"{]*)"', app.jinja_loader.get_source(app.jinja_env, name)[0])}
    assert styles, "expected Bookshelf's templates with their style attributes"
    allowed = policy(app.test_client().get("/auth/login")).get("style-src", [])
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert "'unsafe-hashes'" in allowed and f"'sha256-{digest}'" in allowed, \
            f"expected style-src to allow style=\"{style}\" by its hash, got {allowed}"
