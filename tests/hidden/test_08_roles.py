"""Hidden tests for chapter 08: what grading adds to the public checks."""


import pytest
from flask import g
from flask_login import login_user
from workbook.check_fixtures import CliRunner, chapter05_stand_ins, form_token, logged_in_client  # noqa: F401 (a fixture)

# grading leaves chapter 05's exercises blank: members' passwords and log-ins come from stand-ins
pytestmark = pytest.mark.usefixtures("chapter05_stand_ins")

PASSPHRASE = "correct horse battery staple"


def learner_models():
    from bookshelf.db import db
    from bookshelf.models import Book, Login, Review, Role, User

    return db, User, Book, Review, Role, Login


def add_member(app, name, roles=()):
    """Add a member with the roles named; return their id."""
    db, User, Book, Review, Role, Login = learner_models()
    with app.app_context():
        member = User(name=name, email=f"{name.lower()}@example.com")
        member.set_password(PASSPHRASE)
        member.roles.extend(db.session.scalars(db.select(Role).where(Role.name.in_(roles))))
        db.session.add(member)
        db.session.commit()
        return member.id


def add_review(app, author_id, text="Read it in one sitting."):
    db, User, Book, Review, Role, Login = learner_models()
    with app.app_context():
        review = Review(book=Book(title="Kindred", author="Octavia E. Butler"), user=db.session.get(User, author_id),
                        rating=5, text=text)
        db.session.add(review)
        db.session.commit()
        return review.id


def log_in(app, name):
    """Return a test client logged in as the member with this name, with a log-in of its own."""
    return logged_in_client(app, f"{name.lower()}@example.com")


# 08.1: what an identity provides

@pytest.mark.exercise("08.1")
def test_a_member_with_two_roles_provides_both(app):
    """A member who is librarian and admin provides both RoleNeeds, not only the first role."""
    from flask_principal import RoleNeed

    from bookshelf import roles

    db, User, *_ = learner_models()
    max_ = add_member(app, "Max", roles=["librarian", "admin"])
    with app.test_request_context():
        app.preprocess_request()
        login_user(db.session.get(User, max_))
        provides = set(g.identity.provides)
        allowed = roles.librarian_permission.can(), roles.admin_permission.can()
    assert {RoleNeed("librarian"), RoleNeed("admin")} <= provides, f"expected both roles, got {provides}"
    assert allowed == (True, True)


@pytest.mark.exercise("08.1")
def test_a_review_written_later_is_editable_at_the_next_request(app):
    """The needs are read from the database at every request: a review Ann writes after logging in is hers to edit."""
    from flask_principal import identity_loaded

    from bookshelf import roles

    ann = add_member(app, "Ann")
    client = log_in(app, "Ann")
    client.get("/auth/password")
    review = add_review(app, ann)
    seen = []
    with identity_loaded.connected_to(lambda sender, identity: seen.append(set(identity.provides)), app):
        client.get("/auth/password")
    assert seen and roles.ReviewNeed("edit", review) in seen[-1], f"expected ReviewNeed('edit', {review}), got {seen}"


# 08.2: editing one's own review

@pytest.mark.exercise("08.2")
def test_a_librarian_edits_anyones_review(app):
    """Lea, a librarian, sees and saves the form of Ann's review: the permission allows a librarian too."""
    db, User, Book, Review, Role, Login = learner_models()
    ann = add_member(app, "Ann")
    add_member(app, "Lea", roles=["librarian"])
    review = add_review(app, ann)
    lea = log_in(app, "Lea")
    path = f"/reviews/{review}/edit"
    assert lea.get(path).status_code == 200, "expected a librarian to see any review's form"
    response = lea.post(path, data={"rating": 3, "text": "Edited by a librarian.", "csrf_token": form_token(lea, path)})
    assert response.status_code in (302, 303), f"expected a redirect after saving, got {response.status_code}"
    with app.app_context():
        saved = db.session.get(Review, review)
        assert (saved.rating, saved.text, saved.user_id) == (3, "Edited by a librarian.", ann)


@pytest.mark.exercise("08.2")
def test_the_403_page_is_bookshelfs(app):
    """Ben's 403 is Bookshelf's "Not allowed" page, raised with abort(403), not an empty answer with the status 403."""
    ann = add_member(app, "Ann")
    add_member(app, "Ben")
    review = add_review(app, ann)
    response = log_in(app, "Ben").get(f"/reviews/{review}/edit")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True), "expected the 403 page (abort(403))"


# 08.3: granting roles

@pytest.mark.exercise("08.3")
def test_granting_twice_says_so(app):
    """The same role granted twice: grant_role returns True, then False (the command says "already"), one row."""
    from bookshelf.admin import grant_role
    from bookshelf.models import user_roles

    db, *_ = learner_models()
    add_member(app, "Ann")
    with app.app_context():
        answers = [grant_role("ann@example.com", "librarian") for _ in range(2)]
        rows = db.session.execute(db.select(db.func.count()).select_from(user_roles)).scalar()
    assert answers == [True, False], f"expected grant_role to return True, then False, got {answers}"
    assert rows == 1, f"expected one row for Ann's one role, got {rows}"


@pytest.mark.exercise("08.3")
def test_the_address_is_found_whatever_its_case(app):
    """ANN@Example.com finds Ann: addresses are stored in lower case."""
    db, User, *_ = learner_models()
    ann = add_member(app, "Ann")
    result = CliRunner(app).invoke(args=["grant-role", " ANN@Example.com", "admin"])
    assert result.exit_code == 0, f"expected exit status 0, got {result.exit_code}: {result.output}"
    with app.app_context():
        assert [role.name for role in db.session.get(User, ann).roles] == ["admin"]


# 08.4: a librarian moves a review

def add_book(app, title):
    db, User, Book, Review, Role, Login = learner_models()
    with app.app_context():
        book = Book(title=title, author="Ursula K. Le Guin")
        db.session.add(book)
        db.session.commit()
        return book.id


def review_on(app, author_id, book_id, text):
    """Add a review by the member of the book; return its id."""
    db, User, Book, Review, Role, Login = learner_models()
    with app.app_context():
        review = Review(book_id=book_id, user_id=author_id, rating=3, text=text)
        db.session.add(review)
        db.session.commit()
        return review.id


def place_of(app, review_id):
    db, User, Book, Review, Role, Login = learner_models()
    with app.app_context():
        review = db.session.get(Review, review_id)
        return review.book_id, review.user_id, review.rating, review.text


def move(client, review_id, book_id, token_from="/auth/password"):
    return client.post(f"/reviews/{review_id}/move",
                       data={"book_id": str(book_id), "csrf_token": form_token(client, token_from)})


@pytest.mark.exercise("08.4")
def test_a_librarian_moves_a_review_twice(app):
    """A librarian moves a review (her own, here) twice: it ends on the last book, redirected there, still hers."""
    import importlib

    importlib.import_module("bookshelf.moving")
    zoe = add_member(app, "Zoe", roles=["librarian"])
    first, second, third = (add_book(app, title) for title in ("The Dispossessed", "Dispossessed", "The Dispossessed (1974)"))
    review = review_on(app, zoe, first, "An ambiguous utopia.")
    client = log_in(app, "Zoe")
    for target in (second, third):
        response = move(client, review, target)
        assert response.status_code in (302, 303), f"expected a redirect after moving, got {response.status_code}"
        assert response.headers["Location"].endswith(f"/books/{target}"), response.headers["Location"]
    assert place_of(app, review) == (third, zoe, 3, "An ambiguous utopia.")
    assert "An ambiguous utopia." in client.get(f"/books/{third}").get_data(as_text=True)


@pytest.mark.exercise("08.4")
def test_the_author_may_not_move_their_review(app):
    """Cat, a member who wrote the review, gets 403 on the move page and on her POST; the review stays."""
    import importlib

    importlib.import_module("bookshelf.moving")
    cat = add_member(app, "Cat")
    first, second = add_book(app, "Lavinia"), add_book(app, "Lavinia (2008)")
    review = review_on(app, cat, first, "Virgil's silent bride speaks.")
    client = log_in(app, "Cat")
    page = client.get(f"/reviews/{review}/move")
    assert page.status_code == 403 and "Not allowed" in page.get_data(as_text=True)
    assert move(client, review, second).status_code == 403
    assert place_of(app, review)[0] == first


@pytest.mark.exercise("08.4")
def test_a_book_the_author_reviewed_is_refused(app):
    """Dan reviewed two of three books: moving one review onto the other's book is refused, and nothing moves."""
    import importlib

    importlib.import_module("bookshelf.moving")
    dan = add_member(app, "Dan")
    add_member(app, "Zoe", roles=["librarian"])
    books = [add_book(app, title) for title in ("Earthsea", "A Wizard of Earthsea", "The Tombs of Atuan")]
    kept = review_on(app, dan, books[2], "Darker than the first.")
    review = review_on(app, dan, books[0], "Magic with a price.")
    response = move(log_in(app, "Zoe"), review, books[2])
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.status_code
    assert place_of(app, review)[0] == books[0] and place_of(app, kept)[0] == books[2]


@pytest.mark.exercise("08.4")
def test_unknown_review_and_unknown_book(app):
    """Review 4242 does not exist: 404 on GET and POST. Book 4242 does not exist: the move is refused."""
    import importlib

    importlib.import_module("bookshelf.moving")
    eve = add_member(app, "Eve")
    add_member(app, "Zoe", roles=["librarian"])
    book = add_book(app, "The Lathe of Heaven")
    review = review_on(app, eve, book, "Dreams that change the world.")
    client = log_in(app, "Zoe")
    assert client.get("/reviews/4242/move").status_code == 404
    assert move(client, 4242, book).status_code == 404
    response = move(client, review, 4242)
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.status_code
    assert place_of(app, review)[0] == book


@pytest.mark.exercise("08.4")
def test_a_visitors_post_is_sent_to_log_in(app):
    """A visitor's POST, with a valid token, is sent to the login page and moves nothing."""
    import importlib

    importlib.import_module("bookshelf.moving")
    eve = add_member(app, "Eve")
    first, second = add_book(app, "Always Coming Home"), add_book(app, "Always Coming Home (1985)")
    review = review_on(app, eve, first, "An archaeology of the future.")
    response = move(app.test_client(), review, second, token_from="/auth/login")
    assert response.status_code == 302 and "/auth/login" in response.headers.get("Location", "")
    assert place_of(app, review)[0] == first
