"""Show the workbook's answers in a notebook: a verdict as easy to see when it passes as when it fails."""

import html

# inline styles only, with plain values first: in an untrusted notebook (a solution opened fresh, a new Binder)
# JupyterLab drops <style> elements and any declaration it cannot read as a plain value, and keeps the rest
# the block spreads into the output's right padding, so that its colour runs to the edge as the error bar's does
_BLOCK = "margin: -2px -20px -2px 0; padding: 5px 0 5px 8px;"
# a translucent green reads on light and dark themes alike; the bar says "passed" before a word is read
PASSED_STYLE = _BLOCK + " background-color: rgba(56, 142, 60, 0.2); border-left: 4px solid #388e3c;"
# the error bar's pink: this translucent red is #fdd on white; the theme's own colour where JupyterLab allows it
FAILED_STYLE = (_BLOCK + " background-color: rgba(255, 0, 0, 0.134);"
                " background-color: var(--jp-rendermime-error-background, rgba(255, 0, 0, 0.134));")
# JupyterLab gives a <pre> in HTML a background and the prose size of its own: take the error bar's look instead
_TEXT_STYLE = ("margin: 0; padding: 0; background-color: transparent;"
               " font-size: 13px; font-size: var(--jp-code-font-size, 13px);")


def verdict_html(passed: bool, text: str) -> str:
    """Return a verdict's lines as an HTML block: green with a bar when passed, the error pink when not."""
    style = PASSED_STYLE if passed else FAILED_STYLE
    # learner strings are in the lines: escaped, markup in an answer shows as text and never runs
    return f'<div style="{style}"><pre style="{_TEXT_STYLE}">{html.escape(text, quote=False)}</pre></div>'


def show_verdict(passed: bool, text: str) -> None:
    """Show a check's verdict lines, coloured in a notebook, as plain text everywhere else."""
    # imported here: the check worker and plain scripts use the workbook without starting IPython
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is None:  # plain Python (a script, a test): there is nothing to render HTML
        print(text)
        return
    # the plain text is the verdict itself: nbval compares it, and front ends without HTML show it
    display({"text/plain": text, "text/html": verdict_html(passed, text)}, raw=True)
