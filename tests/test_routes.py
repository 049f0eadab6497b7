"""Every route of each chapter's reference app survives bad input: no 500, no exception, no redirect off the site.

From chapter 04 on the app has CSRFProtect: the bad input carries a real token, read from a page as a browser does,
so that it reaches the views; and every POST route refuses a request without one. From chapter 05 on the routes are
also tried by a member logged in through the forms, and from chapter 09 on that member sends a bearer token too.
"""

import io
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage
from werkzeug.routing import FloatConverter, IntegerConverter, PathConverter, UUIDConverter
from werkzeug.test import stream_encode_multipart

from workbook import chapters, reference
from workbook.app import TEST_CONFIG, forget_package, load_create_app

from helpers import MEMBER_EMAIL, MEMBER_PASSWORD, csrf_token_in, form_inputs, has_route, is_logged_in, logged_in

CHAPTERS = [chapter.number for chapter in chapters.all_chapters()]
EXAMPLES = 200  # per chapter and visitor: 5 to 12 s here, building the folder included, on a shared 2-core machine
FORM_EXAMPLES = 100  # per chapter with forms and visitor, POSTs to the forms only
# seconds per chapter, building the folder included: a bound on what the suite spends here, with room for a
# busy machine (measuring speed is the benchmarks' job)
TIME_LIMIT = 120

SITE = {"", "localhost"}
# inputs that once gave a 500 in the reference (see the chapters' text): tried first on every run
FOUND = [
    (("GET", "/books/99999999999999999999"), "", {}),
    (("GET", "/api/books/99999999999999999999"), "", {}),
    (("GET", "/api/members/99999999999999999999"), "", {}),
    (("GET", "/books/"), "page=99999999999999999999", {}),
    (("POST", "/api/members"), "", {"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}),
    (("POST", "/api/members"), "", {"json": {"email": "\ud800@example.com", "name": "Ann"}}),
    (("POST", "/api/members"), "", {"json": {"email": "ann@example.com", "name": "\ud800"}}),
    (("POST", "/api/tokens"), "", {"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}),
    (("POST", "/api/tokens"), "", {"json": {"email": "\ud800@example.com", "password": "\udfff"}}),
    (("POST", "/api/books"), "", {"json": {"title": "\ud800", "author": "Octavia E. Butler"}}),
    # 04.4's search: a quote in the words, and years past SQLite's 64 bits, the traps of a query built by hand
    (("GET", "/search"), "q=O%27Brien&year_from=-99999999999999999999&year_to=99999999999999999999", {}),
]
# fields that Bookshelf's forms and JSON bodies read, now or in later chapters, and two that nobody may set
FIELDS = ["email", "name", "title", "author", "year", "rating", "text", "password", "next", "id", "is_admin"]
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# POST routes that take no CSRF token by design: the members API acts on nobody's session and takes only JSON
# (chapter 04's text), and chapter 09's API authenticates with bearer tokens and ignores cookies; a route added
# here needs the same reason
CSRF_EXEMPT = {"/api/members", "/api/tokens", "/api/books", "/api/books/<int:book_id>/reviews"}
# file fields of Bookshelf's forms, and names a client may give a file: a path, a script, a double extension, none
FILE_FIELDS = ["cover", "avatar", "file"]
FILE_NAMES = ["cover.png", "../../app.py.png", "shell.php", "evil.php.png", "日本.png", "../../.png", ".png", "", "a.svg"]
SIGNATURES = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBP", b"<?php system($_GET['c']); ?>"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
OFF_SITE = ["//evil.com", "http://evil.com", "/\\evil.com", "\\\\evil.com", "\t//evil.com", "javascript:alert(1)"]

# numbers as a URL carries them: small, negative, and past 64 bits (SQLite's integers)
numbers = st.one_of(st.integers(-5, 300), st.integers(2**62, 10**30), st.integers(max_value=-(2**62)))


def texts(words):
    """Return a strategy for strings a client may send: words, an address, a number, an off-site link, or huge."""
    huge = st.builds(lambda char, size: char * size, awkward, st.integers(1_000, 20_000))
    return st.one_of(words, addresses(words), numbers.map(str), st.sampled_from(OFF_SITE), huge)


def addresses(words):
    return st.tuples(words, words).map("@".join)


# characters that bite: control characters, a right-to-left override, a capital I with a dot that grows in lower case
awkward = st.characters(codec="utf-8") | st.sampled_from(["\x00", "\n", "\u202e", "\u0130", "@"])
words = st.text(max_size=40) | st.text(awkward, min_size=1, max_size=40)
# a URL or a form carries UTF-8, which has no lone surrogates; a JSON string may escape one ("\ud800")
json_words = words | st.tuples(words, st.sampled_from(["\ud800", "\udfff"]), words).map("".join)
text = texts(words)
json_text = texts(json_words)
# JSON of every type: an object where one is expected is only one case among many
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.floats(allow_nan=False) | json_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=5),
    max_leaves=12,
)
raw_json = st.one_of(
    st.integers(900, 5_000).map(lambda depth: "[" * depth + "]" * depth),  # deeper than Python's parser goes
    st.text(max_size=60),  # broken JSON, mostly
    st.binary(max_size=60),  # not even UTF-8
)
json_bodies = st.one_of(
    json_values,
    # an object with the fields a view reads, holding anything
    st.fixed_dictionaries({}, optional={field: json_text | json_values for field in FIELDS}),
    # shaped as a member should be, with awkward strings
    st.fixed_dictionaries({"email": addresses(json_words) | json_text, "name": json_words | json_text}),
).map(lambda value: {"json": value})
form_bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), text, max_size=5).map(
    lambda form: {"data": form}
)
# a file as a form sends it: (bytes, file name, media type); the bytes begin like an image or not, some too large
files_sent = st.tuples(
    st.builds(bytes.__add__, st.sampled_from(SIGNATURES), st.binary(max_size=200))
    | st.sampled_from([600 * 1024, 2 * 1024 * 1024]).map(lambda size: b"\x89PNG\r\n\x1a\n" + bytes(size)),
    st.sampled_from(FILE_NAMES) | st.text(max_size=30),
    st.sampled_from(["image/png", "image/jpeg", "text/html", "application/x-php", "application/octet-stream"]),
)
multipart_bodies = st.tuples(
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), text, max_size=4),
    st.dictionaries(st.sampled_from(FILE_FIELDS) | st.text(max_size=8), files_sent, min_size=1, max_size=2),
).map(lambda parts: {"data": parts[0], "files": parts[1]})
bodies = st.one_of(st.just({}), json_bodies, raw_json.map(lambda raw: {"data": raw, "content_type": "application/json"}),
                   form_bodies, multipart_bodies)
# where a request carries its CSRF token: the form's hidden field, or the header that scripts use
placements = st.sampled_from(["field", "header"])
# the names that views read from the URL: paging, the page after log-in, and 04.4's search fields
queries = st.lists(st.tuples(st.sampled_from(["page", "per_page", "next", "q", "year_from", "year_to"])
                             | st.text(max_size=8), text), max_size=4)


def values_for(converter):
    """Return a strategy for one URL variable: what the converter takes, and anything else."""
    if isinstance(converter, IntegerConverter):
        # the seed's first books exist: their views go past the lookup to the forms
        wanted = (st.integers(1, 4) | numbers).map(str)
    elif isinstance(converter, FloatConverter):
        wanted = st.floats(allow_nan=False, allow_infinity=False).map(str)
    elif isinstance(converter, UUIDConverter):
        wanted = st.uuids().map(str)
    elif isinstance(converter, PathConverter):
        wanted = st.lists(st.sampled_from(["..", ".", "", "etc", "passwd", "%00"]) | st.text(max_size=10), max_size=5)
        return st.one_of(wanted, st.lists(text, max_size=3)).map(lambda parts: "/".join(quote(p, safe="") for p in parts))
    else:
        wanted = st.text(min_size=1, max_size=40)
    return st.one_of(wanted, text).map(lambda value: quote(value, safe=""))


def paths_for(rule):
    """Return a strategy for paths that this rule matches, with every variable generated."""
    # Werkzeug keeps a rule's converters in _converters, by variable name
    parts = {name: values_for(converter) for name, converter in rule._converters.items()}

    def fill(values):
        # the rule spells a variable <converter(arguments):name> or <name>: replace the whole placeholder
        path = re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda match: values[match[1]], rule.rule)
        # a path beginning with // would name another host to the test client itself
        return "/" + path.lstrip("/")

    return st.fixed_dictionaries(parts).map(fill)


def weighted(choices):
    """Return a strategy that draws from each strategy as often as its weight says (one_of counts each once)."""
    return st.sampled_from([strategy for strategy, weight in choices for _ in range(weight)]).flatmap(lambda s: s)


def forms_of(app) -> dict[str, tuple[list[str], list[str]]]:
    """Return, by rule, the text and file fields of the form on the rule's page, as a browser sees them."""
    client, forms = app.test_client(), {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.methods & BODY_METHODS:
            inputs = form_inputs(client.get(example_path(rule)).get_data(as_text=True))
            names = [name for name, kind, _ in inputs if kind not in ("hidden", "submit", "file")]
            files = [name for name, kind, _ in inputs if kind == "file"]
            if names or files:
                forms[rule.rule] = (names, files)
    return forms


def bodies_for(rule, forms):
    """Return a strategy for a request body to the rule: anything, and mostly its own form's fields if it has one."""
    if rule.rule not in forms:
        return bodies
    names, files = forms[rule.rule]
    shaped = st.fixed_dictionaries({}, optional={name: text for name in names})
    uploads = st.fixed_dictionaries({}, optional={name: files_sent for name in files}) if files else st.just({})
    filled = st.tuples(shaped, uploads).map(
        lambda parts: {"data": parts[0], "files": parts[1]} if parts[1] else {"data": parts[0]}
    )
    return weighted([(filled, 3), (bodies, 1)])


def form_posts(app):
    """Return a strategy for POSTs to the routes whose pages have a form, with mostly that form's fields."""
    forms = forms_of(app)
    rules = sorted((rule for rule in app.url_map.iter_rules() if rule.rule in forms and "POST" in rule.methods),
                   key=lambda rule: rule.rule)
    return st.sampled_from(rules).flatmap(
        lambda rule: st.tuples(paths_for(rule).map(lambda path: ("POST", path)), queries.map(urlencode),
                               bodies_for(rule, forms))
    )


def requests(app):
    """Return a strategy for ((method, path), query string, body) over every route of the app."""
    forms = forms_of(app)
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    # a route that takes a body gets more tries: its inputs are the most varied
    taking_bodies = [rule for rule in rules if rule.methods & BODY_METHODS]
    chosen = st.sampled_from(rules) | st.sampled_from(taking_bodies or rules)
    # mostly the methods the rule takes, where its view runs, and those with a body most; sometimes any other
    routed = chosen.flatmap(lambda rule: st.tuples(
        st.sampled_from(sorted(rule.methods) * 3 + sorted(rule.methods & BODY_METHODS) * 6 + METHODS),
        paths_for(rule), st.just(rule),
    ))
    anywhere = st.tuples(st.sampled_from(METHODS), st.text(max_size=30).map(lambda p: "/" + quote(p.lstrip("/"))),
                         st.none())
    return weighted([(routed, 3), (anywhere, 1)]).flatmap(
        lambda request: st.tuples(
            st.just(request[:2]), queries.map(urlencode),
            st.just({}) if request[0] not in BODY_METHODS
            else bodies if request[2] is None else bodies_for(request[2], forms),
        )
    )


def examples(cases):
    """Decorate a test with one Hypothesis example per case, its token in the header."""
    def decorate(test):
        for case in reversed(cases):
            test = example(case, "header")(test)
        return test
    return decorate


def reference_app(folder: Path, number: str):
    """Build the chapter's reference folder and return its app, with the demo data where the chapter has a seed."""
    reference.build(folder, number)
    # chapter 11's limits off: the fuzzing must reach the views behind them, and its member log in again at will
    # (tests/test_harden_security.py proves the limits)
    app = load_create_app(folder)(dict(TEST_CONFIG, RATELIMIT_ENABLED=False))
    if "seed" in app.cli.commands:
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
    return app


def sendable(body, token, placement):
    """Return the client.open arguments for a drawn body, with the CSRF token where placement says."""
    body, headers = dict(body), {}
    if token is not None:
        if placement == "field" and isinstance(body.get("data"), dict):
            body["data"] = {**body["data"], "csrf_token": token}
        else:
            headers["X-CSRFToken"] = token  # a JSON or raw body has no form field to carry it
    if "files" in body:
        uploads = {name: FileStorage(io.BytesIO(data), filename, content_type=kind)
                   for name, (data, filename, kind) in body.pop("files").items()}
        # encoded in memory: the test client would spool a large body to a temporary file that it never closes
        stream, length, boundary = stream_encode_multipart({**body.pop("data"), **uploads}, use_tempfile=False)
        body = {"input_stream": stream, "content_length": length,
                "content_type": f"multipart/form-data; boundary={boundary}"}
    return {**body, "headers": headers}


def is_csrf_refusal(response) -> bool:
    """Say whether a response is Flask-WTF's 400 for a missing or wrong CSRF token."""
    return response.status_code == 400 and b"CSRF" in response.data


def assert_survives(client, method, path, query, body, token=None, placement="header", answers=None, member=False):
    """Send one request and assert the invariants; count POST answers by status in answers."""
    shown = {**body, "files": {name: (f"{len(data)} bytes", *rest) for name, (data, *rest) in body["files"].items()}} \
        if "files" in body else body
    described = f"{method} {path[:120]}?{query[:120]} {json.dumps(shown, default=repr)[:300]} (token in {placement})"
    # closing the response closes its request's input stream, which a large upload keeps in a temporary file
    with client.open(path, method=method, query_string=query, **sendable(body, token, placement)) as response:
        check_answer(response, method, described, token, answers, member)


def check_answer(response, method, described, token, answers, member):
    """Assert that one answer is no server error, no CSRF refusal of a real token, no redirect off the site."""
    if answers is not None and method == "POST":
        answers[response.status_code] += 1
    assert response.status_code < 500, f"expected no server error for {described}, got {response.status_code}"
    if token is not None and method in BODY_METHODS:
        assert not is_csrf_refusal(response), f"expected a real CSRF token to be accepted for {described}"
    if response.status_code == 405:
        assert "Allow" in response.headers, f"expected a 405 to name the allowed methods (Allow) for {described}"
    if 300 <= response.status_code < 400:
        location = urlsplit(response.headers.get("Location", ""))
        assert location.scheme in ("", "http", "https") and location.netloc in SITE, (
            f"expected a redirect within the site for {described}, got Location: {response.headers.get('Location')}"
        )
        # a member logged in before every request reaches the views behind login_required
        assert not (member and location.path.startswith("/auth/login")), (
            f"expected a member logged in to be let in for {described}, got sent to {location.path}"
        )


def example_path(rule) -> str:
    """Return a path that the rule matches, every variable 1 (the seed's first book)."""
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", "1", rule.rule)


class Visitor:
    """A test client that holds a real CSRF token, read from a page, and stays logged in if it is a member."""

    def __init__(self, app, member: bool):
        self.app, self.member, self.client = app, member, app.test_client()
        self.protected = "csrf" in app.extensions  # CSRFProtect registers itself there
        self.token = self.session_token = None
        # chapter 09 on: the member also sends a bearer token, so that bad input reaches the API's views
        self.bearer = member and has_route(app, "/api/tokens")

    def stored_token(self):
        with self.client.session_transaction() as session:
            return session.get("csrf_token")

    def ready(self) -> None:
        """Log in again and read a new token if the last request ended the session (a logout, say)."""
        if self.member and not is_logged_in(self.client):
            logged_in(self.client)
        if self.bearer and self.client.get("/api/me").status_code == 401:
            # the first request, or a drawn DELETE /api/tokens revoked the last one: ask for a new token
            issued = self.client.post("/api/tokens", json={"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD})
            assert issued.status_code == 201, f"expected a token for the member, got {issued.status_code}"
            self.client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issued.json['token']}"
        if self.protected and (self.token is None or self.stored_token() != self.session_token):
            self.token = self.token_from_pages()
            self.session_token = self.stored_token()

    def token_from_pages(self) -> str:
        """Return the token of the first page with a form, as a browser gets it."""
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if "GET" in rule.methods:
                token = csrf_token_in(self.client.get(example_path(rule)).get_data(as_text=True))
                if token:
                    return token
        raise AssertionError("expected a page with a form (a hidden csrf_token input) in an app with CSRFProtect")


def assert_posts_need_a_token(app) -> None:
    """Assert that every POST route not exempt by design refuses a request without a token, with 400."""
    client = app.test_client()
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods and rule.rule not in CSRF_EXEMPT]
    for rule in posts:
        response = client.post(example_path(rule), data={"title": "A book", "text": "Fine."})
        assert is_csrf_refusal(response), (
            f"expected POST {rule.rule} without a CSRF token to be refused with 400, got {response.status_code}"
        )


@pytest.mark.parametrize("number", CHAPTERS)
def test_every_route_survives_bad_input(tmp_path, number):
    started = time.monotonic()
    app = reference_app(tmp_path, number)
    # from chapter 05 on, a member logged in through the forms reaches the views behind login_required
    visitors = [Visitor(app, member=False)] + ([Visitor(app, member=True)] if has_route(app, "/auth/register") else [])
    answers = {visitor: Counter() for visitor in visitors}
    if len(visitors) > 1 and "grant-role" in app.cli.commands:
        # chapter 08 on: the member is librarian and admin too, so that bad input reaches the views that roles guard
        # (tests/test_roles_security.py tries every role, and none, on them)
        logged_in(visitors[1].client)
        for role in ("librarian", "admin"):
            assert app.test_cli_runner().invoke(args=["grant-role", MEMBER_EMAIL, role]).exit_code == 0

    def fuzz(visitor, drawn_requests, examples_count):
        @settings(max_examples=examples_count, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(drawn_requests, placements)
        @examples(FOUND)
        def survives(drawn, placement):
            (method, path), query, body = drawn
            visitor.ready()
            assert_survives(visitor.client, method, path, query, body, visitor.token, placement, answers[visitor],
                            visitor.member)

        survives()

    try:
        if "csrf" in app.extensions:
            assert_posts_need_a_token(app)
        for visitor in visitors:
            fuzz(visitor, requests(app), EXAMPLES)
            if forms_of(app):
                # every route and method above; now the forms as their pages show them, where bad input does most
                fuzz(visitor, form_posts(app), FORM_EXAMPLES)
    finally:
        # the next chapter's app is the package bookshelf too: let it be imported from its own folder
        forget_package(tmp_path)
        if str(tmp_path.resolve()) in sys.path:
            sys.path.remove(str(tmp_path.resolve()))
    elapsed = time.monotonic() - started
    for visitor, counted in answers.items():
        reached = sum(count for status, count in counted.items() if status != 400)
        who = "a member" if visitor.member else "anonymous"
        print(f"chapter {number}, {who}: POST answers {dict(sorted(counted.items()))}, {reached} not 400")
        if visitor.protected:
            # each POST with a token was already asserted not refused for CSRF; some must also be answered by views
            assert reached > 0, f"expected POSTs with a real token to reach the views, got {dict(counted)}"
    print(f"chapter {number}: {elapsed:.1f} s")
    assert elapsed < TIME_LIMIT, f"expected chapter {number}'s routes to be tried within {TIME_LIMIT} s, took {elapsed:.0f} s"
