"""Screen an answer's text before it runs: the names no answer needs, which reach into the grader."""

import io
import re
import tokenize

# names an answer to these exercises never needs, and that reach into the grader, the interpreter or the system
SCREENED_NAMES = {
    "_pytest", "pytest", "pluggy", "workbook", "conftest", "importlib", "__import__", "ctypes", "gc", "_getframe",
    "currentframe", "_current_frames", "walk_stack", "walk_tb", "f_back", "f_locals", "f_globals", "f_builtins",
    "tb_frame", "gi_frame", "cr_frame", "__globals__", "__code__", "__closure__", "__subclasses__", "__builtins__",
    "builtins", "settrace", "setprofile", "subprocess", "atexit", "_exit", "co_filename", "CodeType", "FunctionType",
    "__closure__", "cell_contents", "pluginmanager", "get_plugins", "hookimpl", "_reprcompare",
}
# compile is left to the run's guard: `from re import compile` is an answer's own business
BUILTINS_RUNNING_TEXT = {"exec", "eval", "breakpoint"}
# in strings only the words no text of an answer holds: "workbook" or "pytest" may well be in a docstring
SCREENED_IN_STRINGS = ("_pytest", "pluggy", "__globals__", "__code__", "__builtins__", "__subclasses__", "__import__",
                       "__closure__", "cell_contents", "f_back", "f_locals", "tb_frame", "ctypes")
# a test suite imports pytest and its conftest; it never needs to read the app's source instead of testing the app
# (not `inspect` itself: sqlalchemy.inspect is how a test asks the database what tables it has)
SCREENED_IN_SUITES = (SCREENED_NAMES - {"pytest", "conftest"}) | {
    "getsource", "getsourcelines", "linecache", "__wrapped__", "__module__", "__qualname__", "co_code",
    "co_consts", "co_names",
}


def screen(text: str, is_suite: bool = False) -> str:
    """Return why an answer's text reaches into the grader (a name it uses), or "" when it does not."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # a syntax error: the check says so; the words still say whether it tried
        tokens = [tokenize.TokenInfo(tokenize.NAME, word, (0, 0), (0, 0), "") for word in re.findall(r"\w+", text)]
    previous = None
    for token in tokens:
        if token.type == tokenize.NAME:
            if token.string in (SCREENED_IN_SUITES if is_suite else SCREENED_NAMES):
                return f"uses `{token.string}`, which no answer needs and which reaches into the grader"
            if token.string in BUILTINS_RUNNING_TEXT and not (previous and previous.string == "."):
                return f"calls `{token.string}`, which runs code from text"
            if token.string == "modules" and previous and previous.string == ".":
                return "uses `sys.modules`, which reaches into the grader"
        elif token.type == tokenize.STRING:
            hit = next((word for word in SCREENED_IN_STRINGS if word in token.string), None)
            if hit:
                return f"names `{hit}` in a string, which reaches into the grader"
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            previous = token
    return ""
