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
