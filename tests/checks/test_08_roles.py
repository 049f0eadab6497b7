"""Checks for chapter 08: what an identity provides, editing one's own review, granting roles, and moving a review."""


import pytest
from flask import g
from flask_login import login_user
from workbook.check_fixtures import CliRunner, chapter05_stand_ins, form_token, logged_in_client  # noqa: F401 (a fixture)

# grading leaves chapter 05's exercises blank: members' passwords and log-ins come from stand-ins
pytestmark = pytest.mark.usefixtures("chapter05_stand_ins")

# the points each exercise is worth, in the notebook's check cell too (a test keeps the two the same)
POINTS = {"08.1": 3, "08.2": 3, "08.3": 2, "08.4": 3}
# the earlier exercises of this chapter that an exercise's check needs solved (measured by a test);
# grading leaves every other exercise blank
NEEDS = {"08.2": ["08.1"], "08.3": ["08.1"], "08.4": ["08.1"]}

PASSPHRASE = "correct horse battery staple"
# a page with a form that every member may open (its CSRF token serves any POST of the session)
MEMBER_PAGE = "/auth/password"


def learner_models():
    from bookshelf.db import db
    from bookshelf.models import Book, Review, Role, User

    return db, User, Book, Review, Role


def add_member(app, name, roles=()):
    """Add a member with a password and the roles named; return their id."""
    db, User, Book, Review, Role = learner_models()
    with app.app_context():
        member = User(name=name, email=f"{name.lower()}@example.com")
        member.set_password(PASSPHRASE)
        member.roles.extend(db.session.scalars(db.select(Role).where(Role.name.in_(roles))))
        db.session.add(member)
        db.session.commit()
        return member.id


def add_review(app, author_id, text="Read it in one sitting.", title="Kindred"):
    """Add a book with one review by the member; return the review's id."""
    db, User, Book, Review, Role = learner_models()
    with app.app_context():
        review = Review(book=Book(title=title, author="Octavia E. Butler"), user=db.session.get(User, author_id),
                        rating=5, text=text)
        db.session.add(review)
        db.session.commit()
        return review.id


def identity_of(app, member_id, reviews=()):
    """Log the member in within a request; return what the identity provides and what each permission says."""
    db, User, *_ = learner_models()
    from bookshelf import roles

    with app.test_request_context():
        app.preprocess_request()
        if member_id is not None:
            # Flask-Login's user_logged_in signal tells Flask-Principal, which loads the identity again
            login_user(db.session.get(User, member_id))
        return g.identity.provides, {
            "librarian": roles.librarian_permission.can(),
            "admin": roles.admin_permission.can(),
            "edit": {review_id: roles.edit_review_permission(review_id).can() for review_id in reviews},
        }, roles


def log_in(app, name):
    """Return a test client logged in as the member with this name, as chapter 05's login view would log them in."""
    return logged_in_client(app, f"{name.lower()}@example.com")


# 08.1: what an identity provides

@pytest.mark.exercise("08.1")
def test_a_librarian_provides_their_id_and_role(app):
    """A librarian's identity provides UserNeed(their id) and RoleNeed("librarian"), not "admin".
    Add UserNeed(current_user.id), then a RoleNeed(role.name) for each role in current_user.roles.
    """
    from flask_principal import RoleNeed, UserNeed

    lea = add_member(app, "Lea", roles=["librarian"])
    provides, can, _ = identity_of(app, lea)
    assert UserNeed(lea) in provides, f"expected the identity to provide UserNeed({lea}), it provides {provides}"
    assert RoleNeed("librarian") in provides, f"expected RoleNeed('librarian') for a librarian, got {provides}"
    assert can["librarian"] and not can["admin"], f"expected a librarian to be allowed as librarian only, got {can}"


@pytest.mark.exercise("08.1")
def test_a_member_may_edit_only_their_own_reviews(app):
    """A plain member provides ReviewNeed("edit", id) for each review they wrote, and no role.
    Query the ids of the reviews whose user_id is current_user.id, and add ReviewNeed("edit", review_id) for each.
    """
    from flask_principal import RoleNeed

    ann, ben = add_member(app, "Ann"), add_member(app, "Ben")
    anns, bens = add_review(app, ann), add_review(app, ben, title="Dawn")
    provides, can, roles = identity_of(app, ann, [anns, bens])
    assert roles.ReviewNeed("edit", anns) in provides, f"expected Ann to provide ReviewNeed('edit', {anns}), got {provides}"
    assert not any(isinstance(need, tuple) and need[:1] == ("role",) for need in provides), \
        f"expected no RoleNeed for a member without roles, got {provides}"
    assert RoleNeed("librarian") not in provides
    assert can["edit"] == {anns: True, bens: False}, "expected Ann to be allowed to edit her review and not Ben's"
    assert not can["librarian"]


@pytest.mark.exercise("08.1")
def test_a_member_with_two_roles_provides_each(app):
    """A member who is admin and librarian provides both RoleNeeds, and both permissions allow them.
    One RoleNeed for every role in current_user.roles, however many there are: not only the first.
    """
    from flask_principal import RoleNeed

    max_ = add_member(app, "Max", roles=["admin", "librarian"])
    provides, can, _ = identity_of(app, max_)
    assert {RoleNeed("admin"), RoleNeed("librarian")} <= set(provides), f"expected both roles provided, got {provides}"
    assert can["admin"] and can["librarian"], f"expected both permissions to allow Max, got {can}"


@pytest.mark.exercise("08.1")
def test_a_review_written_after_logging_in_is_editable_at_the_next_request(app):
    """The needs come from the database at every request: a review Ben writes once logged in is his to edit at once.
    Query the member's review ids each time the identity is loaded; kept from an earlier request (a cache, the
    session), they miss what changed since.
    """
    from flask_principal import identity_loaded

    from bookshelf import roles

    ben = add_member(app, "Ben")
    client = log_in(app, "Ben")
    client.get(MEMBER_PAGE)
    review = add_review(app, ben, title="Dawn")
    seen = []
    with identity_loaded.connected_to(lambda sender, identity: seen.append(set(identity.provides)), app):
        client.get(MEMBER_PAGE)
    assert seen and roles.ReviewNeed("edit", review) in seen[-1], (
        f"expected Ben's next request to provide ReviewNeed('edit', {review}), got {seen}"
    )


@pytest.mark.exercise("08.1")
def test_a_visitor_provides_nothing(app):
    """A visitor who is not logged in provides no need, and no permission allows them."""
    ann = add_member(app, "Ann", roles=["librarian", "admin"])
    review = add_review(app, ann)
    provides, can, _ = identity_of(app, None, [review])
    assert not provides, f"expected an anonymous identity to provide nothing, got {provides}"
    assert not (can["librarian"] or can["admin"] or can["edit"][review])


@pytest.mark.exercise("08.1")
def test_the_identity_follows_the_member_logged_in(app):
    """Through the test client: Lea's requests provide her role, and no longer once it is taken away (nothing cached)."""
    db, User, Book, Review, Role = learner_models()
    lea = add_member(app, "Lea", roles=["librarian"])
    client = log_in(app, "Lea")
    from bookshelf import roles

    seen = []

    def record(sender, identity):
        seen.append(set(identity.provides))

    from flask_principal import RoleNeed, identity_loaded

    with identity_loaded.connected_to(record, app):
        client.get(MEMBER_PAGE)
        with app.app_context():
            member = db.session.get(User, lea)
            member.roles.clear()
            db.session.commit()
        client.get(MEMBER_PAGE)
    assert seen and RoleNeed("librarian") in seen[0], f"expected Lea's first request to provide her role, got {seen}"
    assert RoleNeed("librarian") not in seen[-1], "expected a role taken away to be gone at the next request"
    assert roles.principal.use_sessions is False


# 08.2: editing one's own review

def edit(client, review_id, text, rating=4, token_from=MEMBER_PAGE):
    """Post the review's edit form with a CSRF token of the client's session."""
    return client.post(f"/reviews/{review_id}/edit", data={"rating": rating, "text": text,
                                                         "csrf_token": form_token(client, token_from)})


def review_text(app, review_id):
    db, User, Book, Review, Role = learner_models()
    with app.app_context():
        return db.session.get(Review, review_id).text


@pytest.mark.exercise("08.2")
def test_the_author_edits_their_review(app):
    """Ann sees her review's form filled in, and her POST saves it and redirects to the book.
    Show reviews/edit.html with ReviewForm(obj=review); after validate_on_submit(), set rating and text, commit, redirect.
    """
    ann = add_member(app, "Ann")
    review = add_review(app, ann)
    client = log_in(app, "Ann")
    page = client.get(f"/reviews/{review}/edit")
    assert page.status_code == 200, f"expected Ann to see her review's form (200), got {page.status_code}"
    assert "Read it in one sitting." in page.get_data(as_text=True), "expected the form filled in with the review's text"
    response = edit(client, review, "Even better the second time.", token_from=f"/reviews/{review}/edit")
    assert response.status_code in (302, 303), f"expected a redirect after saving, got {response.status_code}"
    assert "/books/" in response.headers["Location"], f"expected a redirect to the book, got {response.headers['Location']}"
    assert review_text(app, review) == "Even better the second time."


@pytest.mark.exercise("08.2")
def test_another_member_gets_403_and_changes_nothing(app):
    """Ben may neither see nor post the form of Ann's review: 403 both times, and the review stays Ann's.
    abort(403) when edit_review_permission(review.id).can() is false, before the form is shown or saved.
    """
    ann, _ = add_member(app, "Ann"), add_member(app, "Ben")
    review = add_review(app, ann)
    ben = log_in(app, "Ben")
    page = ben.get(f"/reviews/{review}/edit")
    assert page.status_code == 403, "expected 403 for Ben on Ann's review's form"
    assert "Not allowed" in page.get_data(as_text=True), (
        "expected Bookshelf's 403 page (\"Not allowed\"): abort(403) shows it, a bare (\"\", 403) answer shows nothing"
    )
    response = edit(ben, review, "Ben was here")
    assert response.status_code == 403, f"expected 403 for Ben's POST, got {response.status_code}"
    assert review_text(app, review) == "Read it in one sitting.", "expected Ben's POST to change nothing"


@pytest.mark.exercise("08.2")
def test_a_librarian_edits_any_review(app):
    """Lea, a librarian, sees and saves the form of Ann's review, which stays Ann's.
    The rule is edit_review_permission: its author or a librarian. Comparing the review's author with current_user
    states another rule, the author's alone, which refuses librarians.
    """
    db, User, Book, Review, Role = learner_models()
    ann = add_member(app, "Ann")
    add_member(app, "Lea", roles=["librarian"])
    review = add_review(app, ann)
    lea = log_in(app, "Lea")
    path = f"/reviews/{review}/edit"
    assert lea.get(path).status_code == 200, "expected a librarian to see the form of any review (200)"
    response = edit(lea, review, "Tidied by a librarian.", rating=3, token_from=path)
    assert response.status_code in (302, 303), f"expected a redirect after a librarian saves, got {response.status_code}"
    with app.app_context():
        saved = db.session.get(Review, review)
        assert (saved.rating, saved.text, saved.user_id) == (3, "Tidied by a librarian.", ann), (
            "expected the librarian's change saved, and the review still Ann's"
        )


@pytest.mark.exercise("08.2")
def test_a_bad_rating_shows_the_form_again(app):
    """A rating of 9 is refused by the form: the page again, with the review unchanged."""
    ann = add_member(app, "Ann")
    review = add_review(app, ann)
    client = log_in(app, "Ann")
    response = edit(client, review, "Nine stars!", rating=9, token_from=f"/reviews/{review}/edit")
    assert response.status_code == 200, f"expected the form again (200), got {response.status_code}"
    assert review_text(app, review) == "Read it in one sitting."


@pytest.mark.exercise("08.2")
def test_a_visitor_is_sent_to_log_in(app):
    """A visitor who is not logged in is sent to the login page, not answered 403; an unknown review is 404."""
    ann = add_member(app, "Ann")
    review = add_review(app, ann)
    response = app.test_client().get(f"/reviews/{review}/edit")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"], \
        f"expected a redirect to the login page, got {response.status_code} {response.headers.get('Location')}"
    assert log_in(app, "Ann").get("/reviews/999/edit").status_code == 404


# 08.3: granting roles

def roles_of(app, email):
    db, User, Book, Review, Role = learner_models()
    with app.app_context():
        member = db.session.scalar(db.select(User).where(User.email == email))
        return sorted(role.name for role in member.roles)


@pytest.mark.exercise("08.3")
def test_the_command_grants_a_role(app):
    """flask grant-role ann@example.com librarian: exit status 0, and Ann is a librarian.
    Find the member by address and the Role by name, append the role to member.roles, commit, return True.
    """
    add_member(app, "Ann")
    result = CliRunner(app).invoke(args=["grant-role", "ann@example.com", "librarian"])
    assert result.exit_code == 0, f"expected exit status 0, got {result.exit_code}: {result.output}"
    assert roles_of(app, "ann@example.com") == ["librarian"]


@pytest.mark.exercise("08.3")
def test_an_address_is_found_whatever_its_case_and_spaces(app):
    """flask grant-role " Ann@Example.COM" admin finds Ann: an address typed with capitals or spaces is hers.
    Addresses are stored trimmed and in lower case: strip and lower the address given before looking it up.
    """
    add_member(app, "Ann")
    result = CliRunner(app).invoke(args=["grant-role", " Ann@Example.COM", "admin"])
    assert result.exit_code == 0, f"expected exit status 0, got {result.exit_code}: {result.output}"
    assert roles_of(app, "ann@example.com") == ["admin"]


@pytest.mark.exercise("08.3")
def test_a_role_granted_twice_is_said_and_stored_once(app):
    """Granting a role the member has: no error, grant_role returns False (the command says "already"), one row.
    Ask whether the member has the role before appending it: a second row for the same pair breaks the link
    table's primary key (an IntegrityError, a traceback), and the admin should read that nothing changed.
    """
    from bookshelf.admin import grant_role
    from bookshelf.models import user_roles

    db, *_ = learner_models()
    add_member(app, "Ann")
    result = CliRunner(app).invoke(args=["grant-role", "ann@example.com", "librarian"])
    assert result.exit_code == 0, f"expected the first grant to succeed, got {result.exit_code}: {result.output}"
    again = CliRunner(app).invoke(args=["grant-role", "ann@example.com", "librarian"])
    assert again.exit_code == 0, (
        f"expected granting again to be no error, got status {again.exit_code}: {again.output} {again.exception!r}"
    )
    assert "already" in again.output, f"expected the command to say Ann was librarian already, it said {again.output!r}"
    with app.app_context():
        assert grant_role("ann@example.com", "librarian") is False, "expected grant_role to return False the third time"
        rows = db.session.execute(db.select(db.func.count()).select_from(user_roles)).scalar()
    assert rows == 1, f"expected one row for Ann's one role, found {rows}"
    assert roles_of(app, "ann@example.com") == ["librarian"]


@pytest.mark.exercise("08.3")
@pytest.mark.parametrize("email, role, named", [("nobody@example.com", "librarian", "nobody@example.com"),
                                                ("ann@example.com", "king", "king")],
                         ids=["unknown-member", "unknown-role"])
def test_the_command_refuses_what_does_not_exist(app, email, role, named):
    """A member or a role that does not exist: a message naming it and the exit status 1, no traceback.
    Raise RoleError(...) when the member or the role is None; the command turns it into a ClickException.
    """
    add_member(app, "Ann")
    result = CliRunner(app).invoke(args=["grant-role", email, role])
    assert result.exit_code == 1, f"expected exit status 1, got {result.exit_code}: {result.output} {result.exception!r}"
    assert isinstance(result.exception, SystemExit), f"expected a message, not the exception {result.exception!r}"
    assert named in result.output, f"expected the message to name {named!r}, got {result.output!r}"
    assert roles_of(app, "ann@example.com") == []


@pytest.mark.exercise("08.3")
def test_an_admin_grants_on_the_page_and_a_member_may_not(app):
    """Max (admin) grants Ben librarian with the form; Ben (a member) gets 403; a visitor goes to log in."""
    add_member(app, "Max", roles=["admin"]), add_member(app, "Ben")
    max_ = log_in(app, "Max")
    response = max_.post("/admin/roles", data={"email": "ben@example.com", "role": "librarian",
                                               "csrf_token": form_token(max_, "/admin/roles")})
    assert response.status_code in (302, 303), f"expected a redirect after granting, got {response.status_code}"
    assert roles_of(app, "ben@example.com") == ["librarian"]
    ben = log_in(app, "Ben")
    assert ben.get("/admin/roles").status_code == 403
    assert ben.post("/admin/roles", data={"email": "ben@example.com", "role": "admin",
                                          "csrf_token": form_token(ben, MEMBER_PAGE)}).status_code == 403
    assert roles_of(app, "ben@example.com") == ["librarian"]
    visitor = app.test_client().get("/admin/roles")
    assert visitor.status_code == 302 and "/auth/login" in visitor.headers["Location"]


# 08.4: a librarian moves a review (a design exercise: only the URL, the field and the answers are fixed)

def moving_module():
    """Import the learner's bookshelf/moving.py: the factory starts without a blank one, a check says it is blank."""
    import importlib

    return importlib.import_module("bookshelf.moving")


def add_book(app, title):
    """Add a book without reviews; return its id."""
    db, User, Book, Review, Role = learner_models()
    with app.app_context():
        book = Book(title=title, author="Octavia E. Butler")
        db.session.add(book)
        db.session.commit()
        return book.id


def place_of(app, review_id):
    """Return (book id, author id, rating, text) of a review."""
    db, User, Book, Review, Role = learner_models()
    with app.app_context():
        review = db.session.get(Review, review_id)
        return review.book_id, review.user_id, review.rating, review.text


def move(client, review_id, book_id, token_from=MEMBER_PAGE):
    """Post the field book_id to the review's move URL, with a CSRF token of the client's session."""
    return client.post(f"/reviews/{review_id}/move", data={"book_id": book_id,
                                                         "csrf_token": form_token(client, token_from)})


def refused(response):
    """Say whether an answer keeps the review where it is: the form again (200) or a 4xx, never a redirect."""
    return response.status_code == 200 or 400 <= response.status_code < 500


@pytest.mark.exercise("08.4")
def test_a_librarian_moves_a_review_to_the_right_book(app):
    """Lea, a librarian, sees the move page of Ann's review; her POST moves it, still Ann's, and redirects to its new book.
    One view for GET and POST on /reviews/<int:review_id>/move. After the POST the review shows on the new book's
    page and no longer on the old one, and the answer redirects to the new book's page (url_for("main.book", ...)).
    """
    moving_module()
    ann = add_member(app, "Ann")
    add_member(app, "Lea", roles=["librarian"])
    review = add_review(app, ann, text="Read it in one sitting.", title="Kindred")
    old_book = place_of(app, review)[0]
    right_book = add_book(app, "Kindred (1979 edition)")
    lea = log_in(app, "Lea")
    page = lea.get(f"/reviews/{review}/move")
    assert page.status_code == 200, f"expected a librarian to see the move page (200), got {page.status_code}"
    assert "Kindred" in page.get_data(as_text=True), "expected the page to name the book the review is on"
    response = move(lea, review, right_book)
    assert response.status_code in (302, 303), f"expected a redirect after moving, got {response.status_code}"
    assert response.headers["Location"].endswith(f"/books/{right_book}"), (
        f"expected a redirect to the new book's page /books/{right_book}, got {response.headers['Location']}"
    )
    assert place_of(app, review) == (right_book, ann, 5, "Read it in one sitting."), (
        "expected the review on the new book, with its author, rating and text"
    )
    assert "Read it in one sitting." in lea.get(f"/books/{right_book}").get_data(as_text=True)
    assert "Read it in one sitting." not in lea.get(f"/books/{old_book}").get_data(as_text=True)


@pytest.mark.exercise("08.4")
def test_members_get_403_the_author_too(app):
    """Ann, who wrote the review, and Ben, a member, get 403 with Bookshelf's page on GET and POST; nothing moves.
    Moving is a librarian's job, whoever wrote the review: ask for the librarian role on GET and on POST, before
    anything changes (edit_review_permission allows the review's author too, so it is not the rule here).
    """
    moving_module()
    ann = add_member(app, "Ann")
    add_member(app, "Ben")
    review = add_review(app, ann)
    before = place_of(app, review)
    other_book = add_book(app, "Dawn")
    for name in ("Ann", "Ben"):
        member = log_in(app, name)
        page = member.get(f"/reviews/{review}/move")
        assert page.status_code == 403, f"expected 403 for {name} on the move page, got {page.status_code}"
        assert "Not allowed" in page.get_data(as_text=True), (
            "expected Bookshelf's 403 page (\"Not allowed\"): abort(403) or require(http_exception=403) shows it"
        )
        response = move(member, review, other_book)
        assert response.status_code == 403, f"expected 403 for {name}'s POST, got {response.status_code}"
        assert place_of(app, review) == before, f"expected {name}'s POST to move nothing"


@pytest.mark.exercise("08.4")
def test_a_visitor_is_sent_to_log_in_and_moves_nothing(app):
    """A visitor who is not logged in is sent to the login page, on GET and on POST (with a token), and nothing moves.
    @login_required goes first (outermost): Flask-Principal alone answers 403 to a visitor.
    """
    moving_module()
    ann = add_member(app, "Ann")
    review = add_review(app, ann)
    before = place_of(app, review)
    other_book = add_book(app, "Dawn")
    visitor = app.test_client()
    for response in (visitor.get(f"/reviews/{review}/move"), move(visitor, review, other_book, token_from="/auth/login")):
        assert response.status_code == 302 and "/auth/login" in response.headers.get("Location", ""), (
            f"expected a redirect to the login page, got {response.status_code} {response.headers.get('Location')}"
        )
    assert place_of(app, review) == before


@pytest.mark.exercise("08.4")
def test_a_review_that_does_not_exist_is_404(app):
    """A librarian asking to move review 999, which does not exist, gets 404 on GET and on POST.
    A review that does not exist is 404 before anything else: db.session.get returns None, db.get_or_404 answers 404.
    """
    moving_module()
    add_member(app, "Lea", roles=["librarian"])
    book = add_book(app, "Dawn")
    lea = log_in(app, "Lea")
    assert lea.get("/reviews/999/move").status_code == 404, "expected 404 for the move page of a review that does not exist"
    assert move(lea, 999, book).status_code == 404, "expected 404 for a POST to move a review that does not exist"


@pytest.mark.exercise("08.4")
@pytest.mark.parametrize("target", ["no such book", "a book Ann reviewed already"], ids=["unknown-book", "reviewed-already"])
def test_a_move_that_cannot_be_done_is_refused(app, target):
    """A book that does not exist, or one the author reviewed already: the form again or a 4xx, and nothing moves.
    One review per member and book: ask whether the author has a review of that book before moving (the database
    refuses a second one with an IntegrityError). And ask for the book itself: SQLite lets a review point at a book
    that does not exist.
    """
    moving_module()
    ann = add_member(app, "Ann")
    add_member(app, "Lea", roles=["librarian"])
    review = add_review(app, ann, text="Read it in one sitting.", title="Kindred")
    other = add_review(app, ann, text="The second one I read.", title="Kindred (1979 edition)")
    book = 999 if target == "no such book" else place_of(app, other)[0]
    before, others_before = place_of(app, review), place_of(app, other)
    response = move(log_in(app, "Lea"), review, book)
    assert refused(response), (
        f"expected the move to {target} refused (the form again, or a 4xx), got {response.status_code} "
        f"{response.headers.get('Location', '')}"
    )
    assert (place_of(app, review), place_of(app, other)) == (before, others_before), f"expected nothing moved to {target}"
