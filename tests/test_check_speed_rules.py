"""What makes every check fast (workbook/check_fixtures.py) changes no verdict: cheap password hashes that still prove a
salted scrypt hash and a login's cost, URL builders and templates compiled once per check, SQLite without fsync, and
pytest's rewritten checks kept on disk. Each rule is proved here against Werkzeug's, Jinja's, SQLite's or pytest's own."""

import ast
import hashlib
import importlib.util
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, render_template
from sqlalchemy import create_engine, text
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.security import check_password_hash, generate_password_hash

from helpers import run, write_files
from workbook import chapters, check_fixtures, reference
from workbook.check_fixtures import (
    CHECK_PBKDF2_ITERATIONS, CHECK_SCRYPT_N, TemplateCode, cache_rewritten_checks, cheap_password_hashes,
    sqlite_files_unsynced, url_builders_reused,
)

PASSPHRASE = "correct horse battery staple"


# ---- password hashes ----------------------------------------------------------------------------------------------


@pytest.fixture
def costs(monkeypatch):
    """Record the cost each scrypt and PBKDF2 computation really ran at (beneath the checks' cheap wrappers)."""
    seen = []
    real_scrypt, real_pbkdf2 = hashlib.scrypt, hashlib.pbkdf2_hmac

    def scrypt(password, **kwargs):
        seen.append(("scrypt", kwargs["n"]))
        return real_scrypt(password, **kwargs)

    def pbkdf2_hmac(hash_name, password, salt, iterations, dklen=None):
        seen.append(("PBKDF2", iterations))
        return real_pbkdf2(hash_name, password, salt, iterations, dklen)

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", pbkdf2_hmac)
    return seen


@pytest.mark.parametrize("method", ["scrypt", "scrypt:32768:8:1", "scrypt:131072:8:1"])
def test_a_check_stores_a_salted_scrypt_hash_at_a_low_cost(costs, method):
    """What Werkzeug stores names the method and cost asked for, with a new salt; it is computed at the check's cost,
    and checked the same way: the right password is accepted, any other refused."""
    with cheap_password_hashes() as hashes:
        first, second = generate_password_hash(PASSPHRASE, method), generate_password_hash(PASSPHRASE, method)
        named = method if method != "scrypt" else "scrypt:32768:8:1"
        assert first.startswith(named + "$") and second.startswith(named + "$")
        assert first != second and PASSPHRASE not in first
        assert check_password_hash(first, PASSPHRASE) and check_password_hash(second, PASSPHRASE)
        assert not check_password_hash(first, PASSPHRASE + "!") and not check_password_hash(first, "")
    assert costs == [("scrypt", CHECK_SCRYPT_N)] * 6
    assert hashes.computed == [named] * 6  # counted at the cost asked for


def test_pbkdf2_is_cheap_too_and_counted(costs):
    with cheap_password_hashes() as hashes:
        stored = generate_password_hash(PASSPHRASE, "pbkdf2:sha256:600000")
        assert stored.startswith("pbkdf2:sha256:600000$")
        assert check_password_hash(stored, PASSPHRASE) and not check_password_hash(stored, "other")
    assert costs == [("PBKDF2", CHECK_PBKDF2_ITERATIONS)] * 3
    assert hashes.computed == ["pbkdf2:sha256:600000"] * 3


def test_hashlib_is_itself_again_after_a_check():
    real_scrypt, real_pbkdf2 = hashlib.scrypt, hashlib.pbkdf2_hmac
    with cheap_password_hashes():
        assert hashlib.scrypt is not real_scrypt and hashlib.pbkdf2_hmac is not real_pbkdf2
    assert hashlib.scrypt is real_scrypt and hashlib.pbkdf2_hmac is real_pbkdf2


def test_a_wrong_scrypt_cost_keeps_hashlib_error():
    """A cost that is not a power of 2 is an error at full cost: it stays one in a check."""
    with cheap_password_hashes(), pytest.raises(ValueError):
        hashlib.scrypt(b"password", salt=b"salt", n=3000, r=8, p=1)


def test_during_counts_what_an_action_hashed():
    with cheap_password_hashes() as hashes:
        generate_password_hash("before")
        assert hashes.during(lambda: None) == []
        assert hashes.during(lambda: check_password_hash(generate_password_hash("x"), "y")) == ["scrypt:32768:8:1"] * 2
    assert check_fixtures.hashes_told([]) == "none"
    assert check_fixtures.hashes_told(["scrypt:32768:8:1"]) == "1 (scrypt:32768:8:1)"


DEFAULT, HIGHER, CHEAP = "scrypt:32768:8:1", "scrypt:131072:8:1", "scrypt:16:1:1"


@pytest.mark.parametrize(("spent", "wanted", "as_much"), [
    ([DEFAULT], [DEFAULT], True),
    ([HIGHER], [DEFAULT], True),
    ([DEFAULT], [HIGHER], True),  # a member's hash above Werkzeug's default, DUMMY_HASH at it (chapter 05's text)
    ([DEFAULT, DEFAULT], [DEFAULT], True),
    ([], [DEFAULT], False),  # no dummy check
    ([CHEAP], [DEFAULT], False),  # a dummy at a cost that answers at once
    ("scrypt:16384:8:1".split(), [DEFAULT], False),
    (["pbkdf2:sha256:1000000"], [DEFAULT], False),  # another kind of hash: another time
    ([DEFAULT], [DEFAULT, DEFAULT], False),
    (["pbkdf2:sha256:1000000"], ["pbkdf2:sha256:1000000"], True),
    (["pbkdf2:sha256:1000"], ["pbkdf2:sha256:1000000"], False),
])
def test_hashed_as_much_compares_kind_and_cost(spent, wanted, as_much):
    assert check_fixtures.hashed_as_much(spent, wanted) is as_much


# ---- 05.4's rule: counted, not timed ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chapter05(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chapter05")
    (folder / "05_login.ipynb").write_text("{}", encoding="utf-8")
    reference.build(folder, "05")
    return folder


def changed(folder: Path, tmp_path: Path, path: str, old: str, new: str) -> Path:
    """Return a copy of the folder with one replacement in one file (which must hold the old text)."""
    copy = tmp_path / "folder"
    shutil.copytree(folder, copy)
    text_now = (copy / path).read_text(encoding="utf-8")
    assert old in text_now, f"{path} no longer holds {old!r}"
    write_files(copy, {path: text_now.replace(old, new)})
    return copy


def hidden_passed(folder: Path, exercise_id: str) -> bool:
    from workbook import runner

    chapter = chapters.chapter(exercise_id.split(".")[0])
    return runner.run_check(folder, exercise_id, chapter.hidden_file()).passed


def test_a_higher_scrypt_cost_in_05_1_passes_05_1_and_05_4(chapter05, tmp_path):
    """Chapter 05 suggests generate_password_hash(password, "scrypt:131072:8:1"): with DUMMY_HASH at Werkzeug's
    default, a login still costs one scrypt whether the e-mail is known or not, and both checks pass (issue 23)."""
    folder = changed(chapter05, tmp_path, "bookshelf/passwords.py", "generate_password_hash(password)",
                     'generate_password_hash(password, "scrypt:131072:8:1")')
    for exercise_id in ("05.1", "05.4"):
        passed, said = run(folder, exercise_id)
        assert passed, said
        assert hidden_passed(folder, exercise_id)


DUMMY_CHECK = """        if member is None or member.password_hash is None:
            # spend the time a wrong password costs, so that the answer's time does not say who is a member
            check_password_hash(DUMMY_HASH, form.password.data)
"""


@pytest.mark.parametrize(("dummy", "told"), [
    ("", "it cost none"),  # no dummy check at all: an unknown e-mail answers at once
    # a dummy of a cheap kind: PBKDF2 at one iteration instead of the member's scrypt
    ("        if member is None:\n"
     '            check_password_hash("pbkdf2:sha256:1$salt$" + "0" * 64, form.password.data)\n',
     "it cost 1 (pbkdf2:sha256:1)"),
    # scrypt, but at a cost that answers at once
    ("        if member is None:\n"
     '            check_password_hash("scrypt:1024:8:1$salt$" + "0" * 128, form.password.data)\n',
     "it cost 1 (scrypt:1024:8:1)"),
])
def test_a_login_that_spends_less_on_an_unknown_email_fails_05_4(chapter05, tmp_path, dummy, told):
    folder = changed(chapter05, tmp_path, "bookshelf/auth.py", DUMMY_CHECK, dummy)
    passed, said = run(folder, "05.4")
    assert not passed
    assert ("expected an unknown e-mail to cost the password hashing of a wrong password (1 (scrypt:32768:8:1))"
            in said), said
    assert told in said, said


def test_a_member_without_a_password_must_cost_a_hash_too(chapter05, tmp_path):
    """A public check and a hidden test hold the same rule for a member without a password: a dummy check for an
    unknown e-mail only leaves that member's answer cheaper, and both refuse it."""
    folder = changed(chapter05, tmp_path, "bookshelf/auth.py", "if member is None or member.password_hash is None:",
                     "if member is None:")
    passed, said = run(folder, "05.4")
    assert not passed
    assert "expected a member without a password to cost the password hashing of a wrong password" in said, said
    assert not hidden_passed(folder, "05.4")


def test_public_and_hidden_checks_share_every_fixture():
    """Both conftests import the same fixtures: the hidden tests hash, build URLs and compile templates as check() does."""
    def imported(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return {alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names}

    public, hidden = imported(chapters.CHECKS / "conftest.py"), imported(chapters.HIDDEN / "conftest.py")
    assert public == hidden
    assert {"password_hashes", "url_builders_compiled_once", "sqlite_without_fsync", "templates_compiled_once"} <= public


# ---- URL builders compiled once -----------------------------------------------------------------------------------


class Reversed(BaseConverter):
    """A converter of this app's own: the URL holds the value backwards."""

    def to_python(self, value):
        return value[::-1]

    def to_url(self, value):
        return value[::-1]


RULES = [
    ("/", {}, {}), ("/books/<int:book_id>", {}, {"book_id": 7}), ("/files/<path:name>", {}, {"name": "a/b c.txt"}),
    ("/page/<int:page>", {"page": 1}, {}), ("/pages/<int:page>", {}, {"page": 3}),
    ("/tag/<rev:name>", {}, {"name": "abc"}), ("/tag/<rev:name>", {"name": "xyz"}, {}),
    ("/search", {"sort": "year"}, {"q": "le guin", "sort": "year"}), ("/a//b", {}, {}),
    ("/<string(length=2):lang>/about", {}, {"lang": "en"}),
]


def built_urls(host_matching: bool = False) -> list[str]:
    """Build every rule's URL, with and without unknown arguments, in two maps (two apps) one after the other."""
    built = []
    for _ in range(2):
        rules = [Rule(rule, defaults=defaults or None, endpoint=f"e{i}", host="<sub>.example" if host_matching else None)
                 for i, (rule, defaults, _values) in enumerate(RULES)]
        url_map = Map(rules, converters={"rev": Reversed}, host_matching=host_matching, merge_slashes=True)
        adapter = url_map.bind("sub.example" if host_matching else "example.org")
        for i, (_rule, _defaults, values) in enumerate(RULES):
            extra = {"sub": "sub"} if host_matching else {}
            built.append(adapter.build(f"e{i}", {**values, **extra}, force_external=True))
            built.append(adapter.build(f"e{i}", {**values, **extra, "unknown": "1 2"}, append_unknown=True))
            built.append(adapter.build(f"e{i}", {**values, **extra, "unknown": "x"}, append_unknown=False))
    return built


@pytest.mark.parametrize("host_matching", [False, True])
def test_url_builders_compiled_once_build_what_werkzeug_builds(host_matching):
    expected = built_urls(host_matching)
    with url_builders_reused():
        assert built_urls(host_matching) == expected
    assert built_urls(host_matching) == expected


def test_an_equal_rule_reuses_its_builder_and_another_does_not():
    with url_builders_reused():
        first, second, other = (Map([Rule(rule, endpoint="e")]) for rule in ("/b/<int:x>", "/b/<int:x>", "/c/<int:x>"))
        rules = [next(iter(m.iter_rules())) for m in (first, second, other)]
        assert rules[0]._build.__func__ is rules[1]._build.__func__
        assert rules[0]._build.__func__ is not rules[2]._build.__func__
        # defaults are part of what a builder is made from
        a, b = (next(iter(Map([Rule("/p/<int:n>", defaults={"n": n}, endpoint="e")]).iter_rules())) for n in (1, 2))
        assert a._build.__func__ is not b._build.__func__


# ---- templates compiled once --------------------------------------------------------------------------------------


def template_app(folder: Path, shared: TemplateCode | None, **options) -> Flask:
    app = Flask("templated", template_folder=str(folder), root_path=str(folder))
    app.jinja_options = {**app.jinja_options, **options}
    if shared is not None:
        app.jinja_env.bytecode_cache = shared
    return app


def rendered(app: Flask, name: str, **context) -> str:
    with app.test_request_context():
        return render_template(name, **context)


def test_templates_compiled_once_render_what_jinja_renders(tmp_path):
    (tmp_path / "page.html").write_text("{{ title }}|{{ title|shout }}|{% for i in range(2) %}\n{{ i }}{% endfor %}")
    (tmp_path / "page.txt").write_text("{{ title }}\n")
    shared = TemplateCode()
    escaped = template_app(tmp_path, shared)
    escaped.jinja_env.filters["shout"] = str.upper
    title = "<b>Kindred</b>"
    expected = rendered(escaped, "page.html", title=title)
    assert "&lt;b&gt;" in expected and "<B>" not in expected
    again = template_app(tmp_path, shared)
    again.jinja_env.filters["shout"] = str.upper
    assert rendered(again, "page.html", title=title) == expected
    assert len(shared.compiled) == 1
    # the same file, other settings: compiled again, not the first app's code
    trimmed = template_app(tmp_path, shared, trim_blocks=True, keep_trailing_newline=True)
    trimmed.jinja_env.filters["shout"] = str.upper
    plain = template_app(tmp_path, None, trim_blocks=True, keep_trailing_newline=True)
    plain.jinja_env.filters["shout"] = str.upper
    assert rendered(trimmed, "page.html", title=title) == rendered(plain, "page.html", title=title) != expected
    assert len(shared.compiled) == 2
    assert rendered(template_app(tmp_path, shared), "page.txt", title=title) == title  # not escaped: not HTML
    # a changed file is compiled again
    (tmp_path / "page.html").write_text("changed {{ title }}")
    assert rendered(template_app(tmp_path, shared), "page.html", title="x") == "changed x"


def test_a_filter_passed_its_context_gets_its_own_code(tmp_path):
    from jinja2 import pass_context

    (tmp_path / "page.html").write_text("{{ 'x'|mark }}")
    shared = TemplateCode()
    plain = template_app(tmp_path, shared)
    plain.jinja_env.filters["mark"] = lambda value: f"plain {value}"
    contextual = template_app(tmp_path, shared)
    contextual.jinja_env.filters["mark"] = pass_context(lambda context, value: f"context {value}")
    assert rendered(plain, "page.html") == "plain x"
    assert rendered(contextual, "page.html") == "context x"
    assert len(shared.compiled) == 2


# ---- SQLite without fsync -----------------------------------------------------------------------------------------


def synchronous(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("PRAGMA synchronous")).scalar()
    finally:
        engine.dispose()


def plain_synchronous(path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        connection.close()


def test_sqlite_files_are_written_without_fsync_during_a_check_only(tmp_path):
    """SQLAlchemy's connections and plain sqlite3's skip fsync in a check, and only there; what they store is the same."""
    path = tmp_path / "check.sqlite"
    url = f"sqlite:///{path}"
    default = synchronous(url)
    with sqlite_files_unsynced():
        assert synchronous(url) == 0 and synchronous("sqlite://") == 0 and plain_synchronous(path) == 0
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE books (title TEXT)")
            connection.execute("INSERT INTO books VALUES ('Kindred')")
        connection.close()
        with pytest.raises(sqlite3.IntegrityError), sqlite3.connect(path) as connection:  # a failed transaction
            connection.execute("INSERT INTO books VALUES ('Dawn')")
            raise sqlite3.IntegrityError("rolled back")
        connection.close()
    assert synchronous(url) == default != 0 and plain_synchronous(path) == default
    assert [title for title, in sqlite3.connect(path).execute("SELECT title FROM books")] == ["Kindred"]


# ---- pytest's rewritten checks kept on disk -----------------------------------------------------------------------


def test_rewritten_checks_are_kept_and_read_by_pytest(tmp_path, monkeypatch):
    from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc

    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "conftest.py").write_text("")
    (checks / "helper.py").write_text("")
    source = checks / "test_sample.py"
    source.write_text("def test_sum():\n    total = 1 + 1\n    assert total == 3\n")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache_rewritten_checks([checks])
    assert not (checks / "__pycache__").exists(), "a process that writes no bytecode (a check's own) writes nothing"
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache_rewritten_checks([checks])
    kept = sorted(path.name for path in (checks / "__pycache__").iterdir())
    assert kept == [f"conftest{PYC_TAIL}", f"test_sample{PYC_TAIL}"], "pytest rewrites tests and conftests only"
    code = _read_pyc(source, checks / "__pycache__" / f"test_sample{PYC_TAIL}")
    assert code is not None
    # pytest reads it (writing nothing, as a check) and still shows the values an assert compared
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(source), "-p", "no:cacheprovider", "-q", "--tb=short"],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": ""},
    )
    assert "assert 2 == 3" in completed.stdout, completed.stdout
    # a changed file is not read from the old pyc: its hash differs
    source.write_text("def test_sum():\n    assert 1 == 1\n")
    assert _read_pyc(source, checks / "__pycache__" / f"test_sample{PYC_TAIL}") is None


def test_checks_with_an_assertion_pass_hook_are_left_to_pytest(tmp_path, monkeypatch):
    (tmp_path / "pytest.ini").write_text("[pytest]\nenable_assertion_pass_hook = true\n")
    (tmp_path / "test_sample.py").write_text("def test_x():\n    assert True\n")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache_rewritten_checks([tmp_path])
    assert not (tmp_path / "__pycache__").exists()


def test_the_worker_warms_what_every_check_imports():
    """WARM_IMPORTS names modules that exist: a misspelt one would silently warm nothing."""
    for name in check_fixtures.WARM_IMPORTS:
        assert importlib.util.find_spec(name) is not None, name
