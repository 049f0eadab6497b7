"""Every command the READMEs give runs in the shell its block names: PowerShell, cmd or a Unix shell.

A `#` is no comment in cmd (`set X=a   # note` sets X to the whole rest of the line), `$env:` is PowerShell's alone,
`set X=` is cmd's, and Windows PowerShell 5.1 (the one every Windows has) knows no `&&` or `||`.
"""

import re

import pytest

from workbook import bundle
from workbook.chapters import ROOT

FENCE = re.compile(r"^( *)```([\w-]*)\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
POWERSHELL, CMD = "powershell", "bat"
UNIX = ("", "sh", "bash", "console", "shell")
CMD_VARIABLE = re.compile(r"%\w+%")
SET = re.compile(r"^set\s", re.IGNORECASE)
POWERSHELL_VARIABLE = re.compile(r"\$(env:|PWD\b|HOME\b)", re.IGNORECASE)


def documents() -> dict[str, str]:
    return {
        "README.md": (ROOT / "README.md").read_text(encoding="utf-8"),
        "the bundle's README": bundle.README.format(chapter_list="00 welcome", released="None."),
    }


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """Return each fenced block's language and its non-empty lines."""
    return [(found[2], [line.strip() for line in found[3].splitlines() if line.strip()])
            for found in FENCE.finditer(text)]


def powershell_problems(line: str) -> list[str]:
    problems = []
    if "#" in line:
        problems.append("a comment inside the block (put it in the text around it)")
    if "&&" in line or "||" in line:
        problems.append("&& or ||, which Windows PowerShell 5.1 does not know")
    if SET.match(line):
        problems.append("cmd's `set X=` (PowerShell: $env:X = ...)")
    if CMD_VARIABLE.search(line):
        problems.append("a cmd variable %X% (PowerShell: $env:X, $PWD)")
    if line.startswith("export "):
        problems.append("a Unix shell's export")
    if line.endswith("\\"):
        problems.append("a Unix shell's line continuation")
    return problems


def cmd_problems(line: str) -> list[str]:
    problems = []
    if "#" in line:
        problems.append("#, which cmd takes as part of the command, not as a comment")
    if POWERSHELL_VARIABLE.search(line):
        problems.append("a PowerShell variable ($env:, $PWD), which cmd passes on as it is")
    if "'" in line:
        problems.append("single quotes, which cmd passes on as they are")
    if "/" in line.split()[0]:
        problems.append("a / in the command's path, which cmd reads as an option")
    if line.startswith("export ") or line.endswith("\\") or "~/" in line:
        problems.append("Unix shell syntax")
    if SET.match(line) and not re.fullmatch(r"set (\w+)=\S(.*\S)?|set \"\w+=.*\"", line, re.IGNORECASE):
        problems.append("a `set` that is not `set NAME=value` (cmd keeps spaces around = and at the end)")
    return problems


def unix_problems(line: str) -> list[str]:
    problems = []
    if POWERSHELL_VARIABLE.search(line) or CMD_VARIABLE.search(line):
        problems.append("a Windows shell's variable")
    if re.search(r"\\Scripts\\", line):
        problems.append("a Windows path")
    return problems


CHECKS = {POWERSHELL: powershell_problems, CMD: cmd_problems, **{language: unix_problems for language in UNIX}}


@pytest.mark.parametrize("document", list(documents()))
def test_each_command_fits_the_shell_of_its_block(document):
    found = []
    for language, lines in blocks(documents()[document]):
        check = CHECKS.get(language)
        for line in lines if check else []:
            found += [f"{language or 'unix'} block: {line!r}: {problem}" for problem in check(line)]
    assert not found, f"{document}:\n" + "\n".join(found)


def environment_names(language: str, lines: list[str]) -> list[str]:
    if language == POWERSHELL:
        return re.findall(r"^\$env:(\w+)\s*=", "\n".join(lines), re.MULTILINE | re.IGNORECASE)
    return re.findall(r"^set \"?(\w+)=", "\n".join(lines), re.MULTILINE | re.IGNORECASE)


def commands(language: str, lines: list[str]) -> list[str]:
    """Return the block's lines without those that set a variable: the commands both shells run alike."""
    return [line for line in lines if not (line.lower().startswith("$env:") or SET.match(line))]


@pytest.mark.parametrize("document", list(documents()))
def test_windows_has_a_powershell_and_a_cmd_block_that_say_the_same(document):
    found = blocks(documents()[document])
    powershell = [(lines, environment_names(POWERSHELL, lines)) for language, lines in found if language == POWERSHELL]
    cmd = [(lines, environment_names(CMD, lines)) for language, lines in found if language == CMD]
    assert cmd and powershell, f"{document} gives Windows no separate PowerShell and cmd blocks"
    for lines, names in cmd:
        twins = [ps_names for ps_lines, ps_names in powershell
                 if commands(POWERSHELL, ps_lines) == commands(CMD, lines)]
        assert twins, f"{document}: no PowerShell block runs the commands of the cmd block {lines}"
        assert names in twins, f"{document}: the cmd block sets {names}, its PowerShell twin {twins[0]}"


def test_the_powershell_launcher_runs_in_windows_powershell_5():
    text = (ROOT / "start.ps1").read_text(encoding="utf-8")
    # PowerShell 5.1 reads a script without a byte-order mark in the ANSI code page: only ASCII reads the same
    assert text.isascii(), "start.ps1 must be ASCII"
    code = "\n".join(line.split("#")[0] for line in text.splitlines())  # no # in its strings
    assert "&&" not in code and "||" not in code and "??" not in code, "start.ps1 uses PowerShell 7's operators"
    # what the Makefile installs, it installs, and it records the Python in the same stamp
    assert "-m pip install -r $lock -e ." in text and '"requirements\\learner.txt"' in text
    assert '".venv\\.installed"' in text and "sys.version_info >= (3, 11)" in text
