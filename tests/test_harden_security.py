"""Chapter 11's Bookshelf answers the penetration test's findings 4 (no limit on guesses) and 10 (no framing rules,
CSP or HSTS), CSRF on.

Before chapter 11, 40 wrong passwords and then the right one logged in; here the 6th guess within the minute gets 429,
a page or the API's one JSON shape, and a try again once the window has passed (the limits' store's clock is moved,
not waited for). The reference of chapter 11 is built once.
"""

import re

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from helpers import MEMBER_EMAIL, MEMBER_PASSWORD, csrf_token_in, logged_in, reference_factory
from workbook.app import TEST_CONFIG
from workbook.check_fixtures import store_clock

LIMIT = 5  # the reference's GUESS_LIMIT: "5 per minute"
SHAPE = {"error", "message"}


@pytest.fixture(scope="module")
def create_app(tmp_path_factory):
    yield from reference_factory(tmp_path_factory, "11")


@pytest.fixture
def app(create_app):
    """A fresh app for each test: its limits count in a memory of their own."""
    return create_app(dict(TEST_CONFIG))


def post_form(client, path, address="203.0.113.1", **fields):
    """POST the form on path as a browser does, its CSRF token read from the page, from this client address."""
    token = csrf_token_in(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields}, environ_base={"REMOTE_ADDR": address})


def wrong_log_in(client, address="203.0.113.1", password="not the passphrase"):
    return post_form(client, "/auth/login", address, email=MEMBER_EMAIL, password=password)


def test_finding_4_the_right_password_after_five_wrong_ones_within_a_minute_is_refused(app):
    member = logged_in(app.test_client())  # registers the member (through the forms, not limited per client here)
    member.post("/auth/logout", data={"csrf_token": csrf_token_in(member.get("/").get_data(as_text=True))})
    client = app.test_client()
    wrong = [wrong_log_in(client).status_code for _ in range(LIMIT)]
    assert wrong == [200] * LIMIT, wrong
    right = wrong_log_in(client, password=MEMBER_PASSWORD)
    assert right.status_code == 429 and right.mimetype == "text/html"
    page = right.get_data(as_text=True)
    assert "Too many tries" in page and "5 per 1 minute" in page and "Back to the books" in page
    assert int(right.headers["Retry-After"]) > 0
    assert client.get("/books/new").status_code == 302, "the refused log-in must not log in"
    # the form still shows: only POSTs count
    assert client.get("/auth/login").status_code == 200


def test_finding_4_the_limit_resets_after_the_window_and_counts_per_client(app):
    client = app.test_client()
    with store_clock() as clock:
        assert [wrong_log_in(client).status_code for _ in range(LIMIT + 1)][-1] == 429
        assert wrong_log_in(client, address="198.51.100.2").status_code == 200, "another client has tries of its own"
        clock.ahead = 45
        assert wrong_log_in(client).status_code == 429, "still within the minute"
        clock.ahead = 61
        assert wrong_log_in(client).status_code == 200, "a new window, a new try"


@pytest.mark.parametrize("path, fields", [
    ("/auth/register", {"name": "Guess", "email": "guess@example.com", "password": "x" * 12, "confirm": "y" * 12}),
    ("/auth/forgot", {"email": "guess@example.com"}),
])
def test_finding_4_registration_and_the_forgotten_password_are_limited(app, path, fields):
    client = app.test_client()
    statuses = [post_form(client, path, **fields).status_code for _ in range(LIMIT + 1)]
    assert 429 not in statuses[:LIMIT] and statuses[LIMIT] == 429, statuses


def test_finding_4_the_password_change_is_limited(app):
    client = logged_in(app.test_client())
    statuses = [post_form(client, "/auth/password", current="wrong", password="z" * 12, confirm="z" * 12).status_code
                for _ in range(LIMIT + 1)]
    assert 429 not in statuses[:LIMIT] and statuses[LIMIT] == 429, statuses


def test_finding_4_api_tokens_past_the_limit_get_429_in_the_one_shape_then_reset(app):
    client = app.test_client()
    with store_clock() as clock:
        answers = [client.post("/api/tokens", json={"email": MEMBER_EMAIL, "password": "wrong"},
                               environ_base={"REMOTE_ADDR": "203.0.113.9"}) for _ in range(LIMIT + 1)]
        assert [a.status_code for a in answers] == [401] * LIMIT + [429]
        refused = answers[-1]
        assert refused.is_json and set(refused.get_json()) == SHAPE, refused.get_data(as_text=True)
        assert refused.get_json()["error"] == "too many requests" and "Retry-After" in refused.headers
        clock.ahead = 61
        again = client.post("/api/tokens", json={"email": MEMBER_EMAIL, "password": "wrong"},
                            environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert again.status_code == 401


def test_finding_4_limits_key_on_the_address_proxyfix_trusts(app):
    """Behind one proxy (PROXY_HOPS=1), the address the proxy added counts; one a client writes in front does not."""
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    client = app.test_client()

    def through_proxy(forwarded):
        return client.post("/api/tokens", json={"email": MEMBER_EMAIL, "password": "wrong"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": forwarded})

    assert [through_proxy(f"10.9.8.{n}, 198.51.100.77").status_code for n in range(LIMIT + 1)][-1] == 429, \
        "a forged first address must not buy new tries"
    assert through_proxy("198.51.100.78").status_code == 401, "another visitor behind the same proxy has tries"


def policy(answer):
    header = answer.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/auth/login", "/api/books", "/api/doc", "/no/such/page"])
def test_finding_10_no_page_may_be_framed_and_scripts_need_a_nonce(app, path):
    answer = app.test_client().get(path, base_url="https://localhost")
    assert answer.headers["X-Frame-Options"] == "DENY"
    found = policy(answer)
    assert found["frame-ancestors"] == ["'none'"] and found["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in found["script-src"] and "'unsafe-eval'" not in found["script-src"]
    assert re.match(r"max-age=\d{8}", answer.headers["Strict-Transport-Security"])


def test_finding_10_swagger_uis_inline_code_carries_this_answers_nonce(app):
    answer = app.test_client().get("/api/doc")
    nonces = set(re.findall(r'<(?:script|style)\b[^>]*nonce="([^"]+)"', answer.get_data(as_text=True)))
    (nonce,) = nonces
    assert f"'nonce-{nonce}'" in policy(answer)["script-src"] and f"'nonce-{nonce}'" in policy(answer)["style-src"]
    assert not re.search(r"<(script|style)(?![^>]*\b(src|nonce)=)[^>]*>", answer.get_data(as_text=True))


def test_finding_10_production_sends_plain_http_to_https(create_app):
    app = create_app({"SECRET_KEY": "k" * 64, "SERVER_NAME": "localhost", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    # the test client's scheme is PREFERRED_URL_SCHEME, which production sets to https: ask for http:// by name
    plain = app.test_client().get("/auth/login", base_url="http://localhost")
    assert plain.status_code == 302 and plain.headers["Location"] == "https://localhost/auth/login"
    secure = app.test_client().get("/auth/login", base_url="https://localhost")
    assert secure.status_code == 200 and "Strict-Transport-Security" in secure.headers
