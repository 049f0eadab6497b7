"""Hidden tests for chapter 11: what grading adds to the public checks (other inputs, the same rules)."""

import base64
import hashlib
import re

import pytest

from workbook.app import TEST_CONFIG, load_create_app
from workbook.check_fixtures import hardened, limited_app, store_clock

KEY = "8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b"


def tries(client, path, count, address):
    statuses = []
    for number in range(count):
        if path.startswith("/api/"):
            answer = client.post(path, json={"email": f"who{number}@example.org", "password": "not it"},
                                 environ_base={"REMOTE_ADDR": address})
        else:
            data = {"email": f"who{number}@example.org", "name": "Who",
                    "password": f"not the password {number}", "confirm": "not the same at all", "current": "nope"}
            answer = client.post(path, data=data, environ_base={"REMOTE_ADDR": address})
        statuses.append(answer.status_code)
    return statuses


# 11.1

@pytest.mark.exercise("11.1")
def test_four_per_hour_on_the_log_in_form(folder):
    statuses = tries(limited_app(folder, GUESS_LIMIT="4 per hour").test_client(), "/auth/login", 5, "203.0.113.50")
    assert 429 not in statuses[:4] and statuses[4] == 429, statuses


@pytest.mark.exercise("11.1")
def test_gets_between_posts_cost_nothing(folder):
    app = limited_app(folder, GUESS_LIMIT="3 per minute")
    client = app.test_client()
    statuses = []
    for _ in range(4):
        assert client.get("/auth/forgot", environ_base={"REMOTE_ADDR": "203.0.113.51"}).status_code == 200
        statuses += tries(client, "/auth/forgot", 1, "203.0.113.51")
    assert 429 not in statuses[:3] and statuses[3] == 429, statuses


@pytest.mark.exercise("11.1")
def test_three_addresses_three_counts(folder):
    app = limited_app(folder, GUESS_LIMIT="1 per minute")
    client = app.test_client()
    for address in ("203.0.113.60", "203.0.113.61", "2001:db8::7"):
        statuses = tries(client, "/api/tokens", 2, address)
        assert statuses[0] != 429 and statuses[1] == 429, (address, statuses)


@pytest.mark.exercise("11.1")
def test_a_ten_second_window_passes(folder):
    app = limited_app(folder, GUESS_LIMIT="2 per 10 seconds")
    client = app.test_client()
    with store_clock() as clock:
        assert tries(client, "/auth/register", 3, "203.0.113.70")[2] == 429
        clock.ahead = 11
        assert tries(client, "/auth/register", 2, "203.0.113.70").count(429) == 0


@pytest.mark.exercise("11.1")
def test_the_password_change_past_one_per_minute(folder):
    app = limited_app(folder, GUESS_LIMIT="1 per minute")
    assert tries(app.test_client(), "/auth/password", 2, "203.0.113.80")[1] == 429


# 11.2

def answered(folder):
    return hardened(limited_app(folder, GUESS_LIMIT="2 per hour"), "too_many")


@pytest.mark.exercise("11.2")
def test_the_registration_page_past_its_limit(folder):
    client = answered(folder).test_client()
    answer = None
    for number in range(3):
        answer = client.post("/auth/register", data={"name": "Cy", "email": f"cy{number}@example.org"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 429 and answer.mimetype == "text/html", answer.status_code
    assert "Too many tries" in text and "2 per 1 hour" in text and "Back to the books" in text


@pytest.mark.exercise("11.2")
def test_the_tokens_route_past_its_limit_in_the_one_shape(folder):
    client = answered(folder).test_client()
    for _ in range(3):
        answer = client.post("/api/tokens", json={"email": "cy@example.org", "password": "no"},
                             environ_base={"REMOTE_ADDR": "203.0.113.90"})
    assert answer.status_code == 429 and answer.is_json
    body = answer.get_json()
    assert body.get("error") == "too many requests" and "2 per 1 hour" in body.get("message", "")
    assert set(body) <= {"error", "message", "errors"}, body


# 11.3

def policy(answer):
    return {part.split()[0]: part.split()[1:] for part in answer.headers.get("Content-Security-Policy", "").split(";")
            if part.strip()}


def protected(folder, **config):
    return hardened(load_create_app(folder, reuse=True)({**TEST_CONFIG, **config}), "headers")


@pytest.mark.exercise("11.3")
@pytest.mark.parametrize("path", ["/auth/register", "/api/swagger.json", "/no/such/page"])
def test_framing_refused_everywhere(folder, path):
    answer = protected(folder).test_client().get(path)
    assert answer.headers.get("X-Frame-Options") == "DENY", path
    assert policy(answer).get("frame-ancestors") == ["'none'"], path


@pytest.mark.exercise("11.3")
def test_hsts_on_the_api_over_https(folder):
    answer = protected(folder).test_client().get("/api/swagger.json", base_url="https://books.example.org")
    age = re.search(r"max-age=(\d+)", answer.headers.get("Strict-Transport-Security", ""))
    assert age and int(age.group(1)) >= 31536000


@pytest.mark.exercise("11.3")
def test_a_server_redirects_a_form_to_https(folder):
    from flask import Flask

    from bookshelf import headers

    app = Flask("server")
    app.config.update(SECRET_KEY=KEY)
    app.add_url_rule("/auth/forgot", "forgot", lambda: "form", methods=["GET", "POST"])
    headers.init_app(app)
    plain = app.test_client().get("/auth/forgot?x=1")
    assert plain.status_code in (301, 302, 307, 308) and plain.headers["Location"].startswith("https://")


@pytest.mark.exercise("11.3")
def test_no_secure_session_cookie_over_http_in_tests(folder):
    answer = protected(folder).test_client().get("/auth/register")
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "secure" not in cookie.lower(), cookie


@pytest.mark.exercise("11.3")
def test_two_doc_pages_two_nonces_each_in_the_policy(folder):
    client = protected(folder).test_client()
    seen = set()
    for _ in range(2):
        answer = client.get("/api/doc")
        found = policy(answer)
        nonces = set(re.findall(r'<(?:script|style)\b[^>]*\bnonce="([^"]+)"', answer.get_data(as_text=True)))
        assert len(nonces) == 1, nonces
        (nonce,) = nonces
        assert f"'nonce-{nonce}'" in found.get("script-src", []) and f"'nonce-{nonce}'" in found.get("style-src", [])
        assert "'unsafe-inline'" not in found.get("script-src", [])
        seen.add(nonce)
    assert len(seen) == 2, "expected a new nonce for each answer"


@pytest.mark.exercise("11.3")
def test_the_book_pages_style_attribute_is_allowed(folder):
    app = protected(folder)
    source = app.jinja_loader.get_source(app.jinja_env, "main/book.html")[0]
    allowed = policy(app.test_client().get("/auth/register")).get("style-src", [])
    for style in set(re.findall(r'\bstyle="([^"{]*)"', source)):
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert "'unsafe-hashes'" in allowed and f"'sha256-{digest}'" in allowed, style
