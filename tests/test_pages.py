"""show(response) shows a test-client response as a browser shows the page, and nothing of it can run."""

from html.parser import HTMLParser

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from helpers import read_html

SCRIPTED_PAGE = """<!doctype html><html><head><title>Add a book</title><style>h1 { color: red }</style>
<script>document.title = "script ran"</script></head>
<body onload="document.title = 'onload ran'">
<h1>Add a book</h1>
<p class="flash">Saved &amp; shelved</p>
<form method="post" action="/books/new" onsubmit="steal()">
  <input type="hidden" name="csrf_token" value="{token}">
  <label for="title">Title</label> <input id="title" name="title" value="Dune" onfocus="steal()">
  <button type="submit" formaction="javascript:steal()">Save</button>
</form>
<a href="javascript:alert(1)">Bad link</a> <a href="/books">All books</a>
<img src="x" onerror="alert(2)" alt="cover">
<p>&lt;script&gt;alert(3)&lt;/script&gt;</p>
</body></html>"""


def tiny_app():
    """Return a tiny Flask app: a page with a form and a random CSRF-like token, a redirect, JSON and a PNG."""
    import secrets

    from flask import Flask, flash, jsonify, redirect, render_template_string

    app = Flask(__name__)
    app.secret_key = "test"

    @app.get("/page")
    def page():
        return SCRIPTED_PAGE.replace("{token}", secrets.token_hex(16))

    @app.get("/flashed")
    def flashed():
        return render_template_string("<ul>{% for m in get_flashed_messages() %}<li>{{ m }}</li>{% endfor %}</ul>")

    @app.post("/books/new")
    def add():
        flash("Book added")
        return redirect("/shelf?sort=title")

    @app.get("/shelf")
    def shelf():
        return redirect("/flashed")

    @app.get("/api/books")
    def books():
        return jsonify({"books": [{"title": "Dune <3", "pages": 412}]})

    @app.get("/cover")
    def cover():
        return b"\x89PNG\r\n\x1a\n" + bytes(92), {"Content-Type": "image/png"}

    return app


def test_the_status_line_and_the_content_type_are_above_the_page():
    from workbook.pages import response_parts

    text, fragment = response_parts(tiny_app().test_client().get("/nowhere"))
    assert text.startswith("404 NOT FOUND · text/html; charset=utf-8\n\nNot Found\n")
    assert ">404 NOT FOUND</span>" in fragment and "text/html; charset=utf-8" in fragment


def test_a_redirect_not_followed_says_where_it_sends_the_browser():
    from workbook.pages import response_parts

    text, _ = response_parts(tiny_app().test_client().post("/books/new"))
    assert text.splitlines()[0] == "302 FOUND → /shelf?sort=title · text/html; charset=utf-8"


def test_a_followed_redirect_shows_each_address_with_its_answer_then_the_page():
    from workbook.pages import response_parts

    text, fragment = response_parts(tiny_app().test_client().post("/books/new", follow_redirects=True))
    chain = "POST /books/new → 302 FOUND → GET /shelf?sort=title → 302 FOUND → GET /flashed → 200 OK"
    assert text == f"200 OK · text/html; charset=utf-8\n{chain}\n\n- Book added"
    assert chain in fragment and "<li>Book added</li>" in fragment


def test_json_is_indented_in_a_pre_and_escaped():
    from workbook.pages import response_parts

    text, fragment = response_parts(tiny_app().test_client().get("/api/books"))
    body = '{\n  "books": [\n    {\n      "pages": 412,\n      "title": "Dune <3"\n    }\n  ]\n}'
    assert text == f"200 OK · application/json\n\n{body}"
    assert "<pre" in fragment and "Dune &lt;3" in fragment and "Dune <3" not in fragment


def test_other_types_are_summed_up_in_one_line():
    from workbook.pages import response_parts

    text, _ = response_parts(tiny_app().test_client().get("/cover"))
    assert text == "200 OK · image/png\n\n(image/png, 100 bytes)"


def test_a_page_shows_its_text_and_form_and_nothing_that_could_run_or_navigate():
    from workbook.pages import response_parts

    text, fragment = response_parts(tiny_app().test_client().get("/page"))
    assert text == ("200 OK · text/html; charset=utf-8\n\nAdd a book\nSaved & shelved\nTitle [Dune] [Save]\n"
                    "Bad link All books [image: cover]\n<script>alert(3)</script>")
    shown = read_html(fragment)
    assert "script" not in shown.tags and "style" not in shown.tags and "form" not in shown.tags
    assert "a" not in shown.tags and "img" not in shown.tags  # links and images are inert text
    lowered = fragment.lower()
    for dangerous in ("<script", "onload", "onerror", "onfocus", "onsubmit", "javascript:", "href=", "src=",
                      "action=", "formaction", "h1 { color"):
        assert dangerous not in lowered, dangerous
    assert 'title="/books"' in fragment  # a relative link's address shows on hover
    assert '<button type="button">Save</button>' in fragment
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in fragment  # the page's escaped text stays text


def test_every_tag_and_attribute_in_the_page_part_is_on_the_allow_list():
    from workbook import pages

    _, fragment = pages.response_parts(tiny_app().test_client().get("/page"))

    class Attributes(HTMLParser):
        def handle_starttag(self, tag, attrs):
            assert tag in pages._KEPT | {"div", "span"}, tag
            for name, _ in attrs:
                assert name in pages._ATTRIBUTES.get(tag, set()) | {"style", "title"} or (
                    tag == "button" and name == "type"), (tag, name)

    Attributes().feed(fragment)


def test_hidden_inputs_and_their_random_values_are_in_neither_part_so_two_renders_are_identical():
    from workbook.pages import response_parts

    client = tiny_app().test_client()
    first, second = client.get("/page"), client.get("/page")
    assert first.get_data() != second.get_data()  # the token differs from page to page
    token = first.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert response_parts(first) == response_parts(second)
    assert all(token not in part and "csrf_token" not in part for part in response_parts(first))


def test_a_page_that_breaks_out_of_its_box_or_its_markup_stays_inside_and_inert():
    from workbook.pages import response_parts

    page = ("</div></div><p>one<p>two<ul><li>a<li>b</ul><img src=x onerror=alert(1)//>"
            "<textarea></textarea><script>alert(1)</script></textarea><div hidden>secret</div>"
            "<svg><script>alert(2)</script></svg><p style='display: none'>also secret</p>"
            '<a href=" java\tscript:alert(3)">x</a><select><option>x<option selected>y</select>'
            "<table><tr><th>Title<th>Pages<tr><td>Dune<td>412</table>")
    from flask import Flask

    app = Flask(__name__)
    app.get("/")(lambda: page)
    text, fragment = response_parts(app.test_client().get("/"))
    assert text.split("\n\n", 1)[1] == "one\ntwo\n- a\n- b\n[image] [____] x [y ▾]\nTitle | Pages\nDune | 412"
    assert "script" not in fragment.replace("&lt;script", "") and "alert" not in fragment
    assert "secret" not in fragment
    # balanced: every element opened in the page part is closed inside the box
    depth = 0

    class Depth(HTMLParser):
        def handle_starttag(self, tag, attrs):
            nonlocal depth
            depth += tag not in ("br", "hr", "input", "wbr", "col")

        def handle_endtag(self, tag):
            nonlocal depth
            depth -= 1
            assert depth >= 0

    Depth().feed(fragment)
    assert depth == 0 and fragment.endswith("</div></div>")


def test_show_prints_the_plain_text_without_ipython(capsys):
    from workbook import show
    from workbook.pages import response_parts

    response = tiny_app().test_client().get("/api/books")
    show(response)
    assert capsys.readouterr().out == response_parts(response)[0] + "\n"


def test_in_a_kernel_show_stores_both_parts_and_the_same_bytes_run_after_run():
    code = (f"from flask import Flask\nfrom workbook import show\nPAGE = {SCRIPTED_PAGE!r}\n"
            "import secrets\napp = Flask('shown')\n"
            "app.get('/')(lambda: PAGE.replace('{token}', secrets.token_hex(16)))\n"
            "show(app.test_client().get('/'))")
    outputs = []
    for _ in range(2):
        notebook = new_notebook(cells=[new_code_cell(code)])
        NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
        outputs.append(notebook.cells[0]["outputs"])
    [output] = outputs[0]
    assert outputs[0] == outputs[1]
    assert output["output_type"] == "display_data" and set(output["data"]) == {"text/plain", "text/html"}
    assert output["data"]["text/plain"].startswith("200 OK · text/html; charset=utf-8\n\nAdd a book\n")
