"""show(response): a Flask test-client response, seen in a notebook as a browser shows the page."""

import html
import json
import re
from urllib.parse import urlsplit

# Why not a sandboxed <iframe srcdoc>: JupyterLab's sanitizer removes iframes (and <style> and <script>) from the
# outputs of an untrusted notebook, which is every solution notebook opened fresh and every new Binder, so the page
# would vanish exactly where a learner first meets it. Instead the page is rebuilt here from an allow-list: the tags
# and attributes that the sanitizer keeps and that cannot run anything, with our own inline styles of plain values.
# The same fragment then renders alike trusted and untrusted, and is safe in a trusted notebook too, where
# JupyterLab would run a <script> or an onerror= it was given. Links, forms and images are made inert: a click in a
# notebook must not navigate JupyterLab away, and a relative address means nothing outside the test client.
# Hidden inputs are left out of both parts: a browser does not show them, and their values (CSRF tokens) change
# from run to run, which nbval, comparing stored outputs byte for byte, would report as a difference.

_BOX_STYLE = "border: 1px solid #9e9e9e; border-radius: 4px; padding: 4px 12px; margin-top: 4px; overflow-x: auto;"
_HEAD_STYLE = "font-family: monospace; font-size: 13px;"
_STATUS_STYLES = {  # the status line's colour says "fine", "go elsewhere" or "refused" before it is read
    2: "color: #2e7d32; font-weight: bold;", 3: "color: #a15c00; font-weight: bold;",
    4: "color: #c62828; font-weight: bold;", 5: "color: #c62828; font-weight: bold;",
}
_MUTED_STYLE = "color: #757575;"
_LINK_STYLE = "color: #1565c0; text-decoration: underline; cursor: default;"
_IMAGE_STYLE = "border: 1px dashed #9e9e9e; padding: 0 4px; color: #757575;"
_PRE_STYLE = "margin: 0; padding: 0; background-color: transparent; font-size: 13px;"

# elements whose content a browser does not show as the page's text, or that could run or fetch something
_DROPPED = {"script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "noscript", "svg",
            "math", "canvas", "audio", "video", "head", "title", "meta", "link", "base", "applet", "dialog"}
# kept with their own tag (all kept by JupyterLab's sanitizer); any other tag is unwrapped to its content
_KEPT = {"a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "button", "caption",
         "cite", "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "fieldset",
         "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i", "input",
         "ins", "kbd", "label", "legend", "li", "mark", "meter", "nav", "ol", "optgroup", "option", "output",
         "p", "pre", "progress", "q", "s", "samp", "section", "select", "small", "span", "strong", "sub", "summary",
         "sup", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr"}
_VOID = {"br", "col", "hr", "img", "input", "wbr", "area", "source", "track", "meta", "link", "base", "embed",
         "param", "keygen"}
# the attributes that change what is seen; no event handler, address, id, class or style of the page passes
_ATTRIBUTES = {
    "input": {"type", "value", "placeholder", "checked", "disabled", "readonly", "size", "min", "max", "step",
              "multiple"},
    "textarea": {"rows", "cols", "placeholder", "disabled", "readonly"},
    "select": {"multiple", "size", "disabled"}, "option": {"selected", "disabled", "label"},
    "optgroup": {"label", "disabled"}, "button": {"disabled"}, "fieldset": {"disabled"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}, "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "reversed", "type"}, "li": {"value"}, "details": {"open"}, "abbr": {"title"},
    "meter": {"value", "min", "max", "low", "high"}, "progress": {"value", "max"},
}
_INPUT_TYPES = {"text", "email", "password", "number", "url", "search", "tel", "date", "datetime-local", "month",
                "week", "time", "color", "range", "checkbox", "radio", "submit", "reset", "button", "file"}
# a browser ends these when the next one starts (<li>one<li>two): closed here so that the fragment stays balanced
_ENDED_BY = {"li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "option": {"option"}, "optgroup": {"optgroup"},
             "tr": {"tr", "td", "th"}, "td": {"td", "th"}, "th": {"td", "th"},
             "thead": {"thead", "tbody", "tr", "td", "th"}, "tbody": {"thead", "tbody", "tr", "td", "th"},
             "tfoot": {"thead", "tbody", "tr", "td", "th"}}
_BLOCKS = {"address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl", "dt", "fieldset",
           "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
           "legend", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul"}


class _Element:
    """One element of the rebuilt page: the tag shown, its kept attributes, its children (elements and text)."""

    def __init__(self, tag: str, attributes: dict[str, str], source: str = "", alt: str | None = None):
        self.tag, self.attributes, self.children = tag, attributes, []
        self.source = source or tag  # the page's own tag, which its end tag names
        self.alt = alt  # an image's text; None for everything else


def _invisible(attributes: dict[str, str | None]) -> bool:
    style = (attributes.get("style") or "").replace(" ", "").lower()
    return "hidden" in attributes or "display:none" in style


class _PageReader:
    """Rebuild a page's body from the allow-list above, as a tree of _Element and text."""

    def __init__(self):
        from html.parser import HTMLParser

        self.root = _Element("div", {})
        self.open = [self.root]  # the elements not yet ended, innermost last
        self.skipping = []  # the tags whose content is being left out, innermost last
        parser = HTMLParser(convert_charrefs=True)
        parser.handle_starttag, parser.handle_startendtag = self.start, self.start_end
        parser.handle_endtag, parser.handle_data = self.end, self.text
        self.parser = parser

    def read(self, page: str) -> _Element:
        self.parser.feed(page)
        self.parser.close()
        return self.root

    def start_end(self, tag, attrs):
        self.start(tag, attrs)
        if tag not in _VOID:
            self.end(tag)

    def start(self, tag, attrs):
        attributes = {name: value for name, value in attrs}
        if self.skipping:
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _DROPPED or _invisible(attributes):
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        self._end_implied(tag)
        element = self._rebuilt(tag, attributes)
        if element is None:  # an unknown tag or a hidden input: its content, if any, still shows
            return
        self.open[-1].children.append(element)
        if tag not in _VOID:
            self.open.append(element)

    def end(self, tag):
        if self.skipping:
            if self.skipping[-1] == tag:
                self.skipping.pop()
            return
        for depth in range(len(self.open) - 1, 0, -1):  # a stray end tag is ignored, as a browser ignores it
            if self.open[depth].source == tag:
                del self.open[depth:]
                return

    def text(self, data):
        if not self.skipping:
            self.open[-1].children.append(data)

    def _end_implied(self, tag):
        while len(self.open) > 1:
            current = self.open[-1].tag
            if current in _ENDED_BY.get(tag, ()) or (current == "p" and tag in _BLOCKS):
                self.open.pop()
            else:
                return

    @staticmethod
    def _rebuilt(tag: str, attributes: dict[str, str | None]) -> _Element | None:
        if tag == "a":  # inert: no address to follow; the address shows on hover
            shown = {"style": _LINK_STYLE}
            href = (attributes.get("href") or "").strip()
            if href and urlsplit(href).scheme in ("", "http", "https", "mailto"):  # a javascript: one is not shown
                shown["title"] = href
            return _Element("span", shown, source="a")
        if tag == "form":  # a <div>: nothing inside can submit; where it would have gone is shown on hover
            method, action = (attributes.get("method") or "get").upper(), attributes.get("action") or ""
            return _Element("div", {"title": f"form: {method} {action}".rstrip()}, source="form")
        if tag == "img":  # its address is relative to an app that is not serving: its text takes its place
            alt = " ".join((attributes.get("alt") or "").split())
            return _Element("span", {"style": _IMAGE_STYLE}, source="img", alt=f"image: {alt}" if alt else "image")
        if tag not in _KEPT:
            return None
        kept = {name: value or "" for name, value in attributes.items() if name in _ATTRIBUTES.get(tag, ())}
        if tag == "input":
            kind = (attributes.get("type") or "text").lower()
            if kind == "hidden":
                return None
            kept["type"] = kind if kind in _INPUT_TYPES else "text"
        if tag == "button":
            kept["type"] = "button"  # outside a form it submits nothing anyway; said here so that it is plain
        return _Element(tag, kept)


def _html(node) -> str:
    """Return a rebuilt node as HTML: every text and attribute value escaped."""
    if isinstance(node, str):
        return html.escape(node, quote=False)
    attributes = "".join(f' {name}="{html.escape(value)}"' for name, value in node.attributes.items())
    if node.alt is not None:
        return f"<span{attributes}>{html.escape(node.alt, quote=False)}</span>"
    if node.tag in _VOID:
        return f"<{node.tag}{attributes}>"
    return f"<{node.tag}{attributes}>{''.join(_html(child) for child in node.children)}</{node.tag}>"


def _control_text(node: _Element) -> str:
    """Return how a form control reads in plain text: [value], [x], (•), [Submit]."""
    if node.tag == "input":
        kind, value = node.attributes["type"], node.attributes.get("value", "")
        if kind == "checkbox":
            return "[x]" if "checked" in node.attributes else "[ ]"
        if kind == "radio":
            return "(•)" if "checked" in node.attributes else "( )"
        if kind in ("submit", "reset", "button"):
            return f"[{value or kind.capitalize()}]"
        if kind == "file":
            return "[Choose file]"
        if kind == "password" and value:
            return "[" + "•" * len(value) + "]"
        return f"[{value or '____'}]"
    if node.tag == "select":
        options = [option for option in _descendants(node) if option.tag == "option"]
        chosen = next((o for o in options if "selected" in o.attributes), options[0] if options else None)
        return f"[{_inline_text(chosen) if chosen else ''} ▾]"
    if node.tag == "textarea":
        return f"[{_inline_text(node) or '____'}]"
    return f"[{_inline_text(node)}]"  # a button


def _descendants(node: _Element):
    for child in node.children:
        if isinstance(child, _Element):
            yield child
            yield from _descendants(child)


def _inline_text(node: _Element) -> str:
    return " ".join("".join(part for child in node.children for part in _text_parts(child)).split())


def _text_parts(node, number: int = 0):
    """Yield a rebuilt node's visible text; "\n" between blocks, whitespace collapsed later."""
    if isinstance(node, str):
        yield re.sub(r"\s+", " ", node)  # a line break in the page's source is a space on the screen
        return
    if node.alt is not None:
        yield f"[{node.alt}]"
        return
    if node.tag in ("input", "select", "textarea", "button"):
        yield f" {_control_text(node)} "
        return
    if node.tag == "br":
        yield "\n"
        return
    if node.tag == "hr":
        yield "\n----\n"
        return
    block = node.tag in _BLOCKS
    yield "\n" if block else ""
    if node.tag == "li":
        yield f"{number}. " if number else "- "
    if node.tag == "tr":  # a row on one line, its cells between bars
        cells = [child for child in node.children if isinstance(child, _Element)]
        yield " | ".join(_inline_text(cell) for cell in cells) + "\n"
        return
    ordered = node.tag == "ol"
    count = int(node.attributes.get("start", "1")) if ordered and node.attributes.get("start", "1").isdigit() else 1
    for child in node.children:
        if ordered and isinstance(child, _Element) and child.tag == "li":
            yield from _text_parts(child, count)
            count += 1
        else:
            yield from _text_parts(child)
    yield "\n" if block else ""


def _page_text(root: _Element) -> str:
    lines = (" ".join(line.split()) for line in "".join(_text_parts(root)).split("\n"))
    return "\n".join(line for line in lines if line)


def _address(request) -> str:
    query = request.query_string.decode("latin-1")
    return f"{request.method} {request.path}" + (f"?{query}" if query else "")


def _status_line(response) -> str:
    """Return "200 OK", or for a redirect not followed where it sends the browser: "302 FOUND → /login"."""
    location = response.headers.get("Location")
    return f"{response.status} → {location}" if 300 <= response.status_code < 400 and location else response.status


def _redirects(response) -> str:
    """Return the redirects followed to reach this response, each address with its answer; "" when none were."""
    history = getattr(response, "history", ())
    if not history:
        return ""
    return " → ".join(f"{_address(step.request)} → {step.status}" for step in (*history, response))


def _page(response) -> tuple[str, str]:
    """Return the body as (plain text, HTML): a page rebuilt, JSON indented, other types summed up in a line."""
    body = response.get_data()
    if not body:
        return "(empty body)", f'<div style="{_MUTED_STYLE}">(empty body)</div>'
    mimetype = response.mimetype or ""
    text = body.decode("utf-8", errors="replace")  # Werkzeug sends text as UTF-8; a stray byte must not stop us
    if mimetype == "text/html":
        root = _PageReader().read(text)
        return _page_text(root), "".join(_html(child) for child in root.children)
    if response.is_json or mimetype.startswith("text/"):
        if response.is_json:
            try:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            except ValueError:
                pass  # not JSON after all: shown as it came
        return text, f'<pre style="{_PRE_STYLE}">{html.escape(text, quote=False)}</pre>'
    summary = f"({mimetype or 'no content type'}, {len(body):,} bytes)"
    return summary, f'<div style="{_MUTED_STYLE}">{html.escape(summary, quote=False)}</div>'


def response_parts(response) -> tuple[str, str]:
    """Return a test-client response as (plain text, HTML): its status line and redirects above the page."""
    status, kind, redirects = _status_line(response), response.content_type or "no content type", _redirects(response)
    page_text, page_html = _page(response)
    text = "\n".join([f"{status} · {kind}", *filter(None, [redirects]), "", page_text])
    status_style = _STATUS_STYLES.get(response.status_code // 100, "")
    heading = (f'<div><span style="{status_style}">{html.escape(status, quote=False)}</span>'
               f'<span style="{_MUTED_STYLE}"> · {html.escape(kind, quote=False)}</span></div>')
    if redirects:
        heading += f'<div style="{_MUTED_STYLE}">{html.escape(redirects, quote=False)}</div>'
    return text, f'<div><div style="{_HEAD_STYLE}">{heading}</div><div style="{_BOX_STYLE}">{page_html}</div></div>'


def show(response) -> None:
    """Show a test-client response as a browser shows the page, under its status line."""
    from IPython import get_ipython
    from IPython.display import display

    text, fragment = response_parts(response)
    if get_ipython() is None:  # plain Python: the page's text, as a text browser would show it
        print(text)
        return
    display({"text/plain": text, "text/html": fragment}, raw=True)
