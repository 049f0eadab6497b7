"""Chapter 08's roles answer case 19 of the security list: who gets 403, who is sent to log in, and what changes nothing.

The reference Bookshelf of chapter 08 is built once; four visitors (anonymous, a member, a librarian, an admin) ask for
every page and POST that a role guards, CSRF on, with tokens read from the pages as a browser does.
"""

from datetime import datetime, timezone
import sys

import pytest
from helpers import csrf_token_in, filled_form

from workbook import reference
from workbook.app import TEST_CONFIG, forget_package, load_create_app

PASSWORD = "a long passphrase for the staff"
# who is who: the roles each visitor gets with `flask grant-role`
STAFF = {"ann": [], "ben": [], "lea": ["librarian"], "max": ["admin"]}
# Ann wrote review 1 of book 1; Ben is the member who tries what he may not
EDIT_BOOK, EDIT_REVIEW, DELETE_REVIEW, ROLES_PAGE = "/books/1/edit", "/reviews/1/edit", "/reviews/1/delete", "/admin/roles"
# exercise 08.4's page: librarians only, the review's author too is refused
MOVE_REVIEW = "/reviews/1/move"
# the answer each visitor gets to a GET of each guarded page: a status, or "login" for a redirect to the login page
GETS = {
    None: {EDIT_BOOK: "login", EDIT_REVIEW: "login", ROLES_PAGE: "login", MOVE_REVIEW: "login"},
    "ben": {EDIT_BOOK: 403, EDIT_REVIEW: 403, ROLES_PAGE: 403, MOVE_REVIEW: 403},
    "ann": {EDIT_BOOK: 403, EDIT_REVIEW: 200, ROLES_PAGE: 403, MOVE_REVIEW: 403},
    "lea": {EDIT_BOOK: 200, EDIT_REVIEW: 200, ROLES_PAGE: 403, MOVE_REVIEW: 200},
    "max": {EDIT_BOOK: 403, EDIT_REVIEW: 403, ROLES_PAGE: 200, MOVE_REVIEW: 403},
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Build chapter 08's reference once; add the four members, a book and Ann's review; grant the roles."""
    folder = tmp_path_factory.mktemp("bookshelf08")
    reference.build(folder, "08")
    app = load_create_app(folder)(dict(TEST_CONFIG))
    from bookshelf.db import db
    from bookshelf.models import Book, Review, User

    with app.app_context():
        members = {}
        for name in STAFF:
            members[name] = User(name=name.title(), email=f"{name}@example.com", confirmed_at=datetime.now(timezone.utc))
            members[name].set_password(PASSWORD)
        db.session.add_all(members.values())
        db.session.add(Review(book=Book(title="Kindred", author="Octavia E. Butler"), user=members["ann"], rating=5,
                              text="Read it in one sitting."))
        db.session.commit()
    runner = app.test_cli_runner()
    for name, roles in STAFF.items():
        for role in roles:
            assert runner.invoke(args=["grant-role", f"{name}@example.com", role]).exit_code == 0
    yield app
    forget_package(folder)
    if str(folder.resolve()) in sys.path:
        sys.path.remove(str(folder.resolve()))


def visitor(app, name):
    """Return a test client logged in through the login form as the member with this name, or anonymous for None."""
    client = app.test_client()
    if name is not None:
        page = client.get("/auth/login").get_data(as_text=True)
        response = client.post("/auth/login", data=filled_form(page, f"{name}@example.com", PASSWORD))
        assert response.status_code == 302, f"expected {name} to log in, got {response.status_code}"
    return client


def token(client):
    """Return a CSRF token of the client's session, from a page with a form."""
    return csrf_token_in(client.get("/auth/login" if client.get_cookie("session") is None else "/auth/password",
                                    follow_redirects=True).get_data(as_text=True))


def answer(response):
    location = response.headers.get("Location", "")
    return "login" if response.status_code == 302 and location.startswith("/auth/login?next=") else response.status_code


def review_state(app):
    from bookshelf.db import db
    from bookshelf.models import Book, Review

    with app.app_context():
        review = db.session.get(Review, 1)
        return db.session.get(Book, 1).title, review and (review.rating, review.text, review.book_id)


@pytest.mark.parametrize("name", GETS, ids=lambda name: name or "anonymous")
def test_each_visitor_gets_the_page_403_or_the_login_page(app, name):
    client = visitor(app, name)
    got = {path: answer(client.get(path)) for path in GETS[name]}
    assert got == GETS[name]


@pytest.mark.parametrize("path, data", [
    (EDIT_BOOK, {"title": "Ben's book now", "author": "Ben"}),
    (EDIT_REVIEW, {"rating": "1", "text": "Ben was here"}),
    (DELETE_REVIEW, {}),
    (ROLES_PAGE, {"email": "ben@example.com", "role": "admin"}),
    (MOVE_REVIEW, {"book_id": "2"}),
], ids=["edit-book", "edit-review", "delete-review", "grant-role", "move-review"])
def test_a_member_posting_to_a_librarian_or_admin_url_gets_403_and_changes_nothing(app, path, data):
    before = review_state(app)
    ben = visitor(app, "ben")
    response = ben.post(path, data={**data, "csrf_token": token(ben)})
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    assert review_state(app) == before
    from bookshelf.db import db
    from bookshelf.models import User

    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(name="Ben")).roles == []


@pytest.mark.parametrize("path", [EDIT_BOOK, EDIT_REVIEW, DELETE_REVIEW, ROLES_PAGE, MOVE_REVIEW])
def test_anonymous_posts_with_a_token_are_sent_to_log_in(app, path):
    client = app.test_client()
    response = client.post(path, data={"csrf_token": token(client)})
    assert answer(response) == "login", f"expected a redirect to the login page, got {response.status_code}"


@pytest.mark.parametrize("path", [EDIT_BOOK, EDIT_REVIEW, DELETE_REVIEW, ROLES_PAGE, MOVE_REVIEW])
def test_staff_posts_without_a_csrf_token_are_refused(app, path):
    before = review_state(app)
    response = visitor(app, "lea" if path != ROLES_PAGE else "max").post(path, data={"email": "ben@example.com",
                                                                                  "role": "admin"})
    assert response.status_code == 400
    assert review_state(app) == before


def test_deleting_is_a_post(app):
    assert visitor(app, "lea").get(DELETE_REVIEW).status_code == 405


def test_a_role_taken_away_counts_at_the_next_request(app):
    """No identity is kept in the session (use_sessions=False): a librarian who loses the role gets 403 at once."""
    from bookshelf.db import db
    from bookshelf.models import User

    lea = visitor(app, "lea")
    assert lea.get(EDIT_BOOK).status_code == 200
    with app.app_context():
        member = db.session.scalar(db.select(User).filter_by(name="Lea"))
        roles = list(member.roles)
        member.roles.clear()
        db.session.commit()
        try:
            assert lea.get(EDIT_BOOK).status_code == 403
        finally:
            member.roles.extend(roles)
            db.session.commit()


def test_a_librarians_copied_cookie_grants_nothing_after_logout(app):
    """A session cookie copied before logout and replayed after: sent to log in, the role is not revived."""
    lea = visitor(app, "lea")
    copied = lea.get_cookie("session").value
    lea.post("/auth/logout", data={"csrf_token": token(lea)})
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert answer(thief.get(EDIT_BOOK)) == "login"


@pytest.mark.parametrize("email, role, message", [
    ("nobody@example.com", "librarian", "No member has the address nobody@example.com."),
    ("ben@example.com", "king", "There is no role king"),
])
def test_a_role_for_nobody_or_no_role_is_a_message_not_a_traceback(app, email, role, message):
    result = app.test_cli_runner().invoke(args=["grant-role", email, role])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert message in result.output


def test_the_admin_page_refuses_an_unknown_address_with_a_form_error(app):
    max_ = visitor(app, "max")
    response = max_.post(ROLES_PAGE, data={"email": "nobody@example.com", "role": "librarian", "csrf_token": token(max_)})
    assert response.status_code == 200
    assert "No member has the address nobody@example.com." in response.get_data(as_text=True)
    response = max_.post(ROLES_PAGE, data={"email": "ben@example.com", "role": "king", "csrf_token": token(max_)})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
