"""The set-up files agree: one list of dependencies, one test command."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from workbook.chapters import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def declared() -> dict[str, Requirement]:
    requirements = [Requirement(r) for r in PYPROJECT["dependencies"]]
    requirements += [Requirement(r) for extra in PYPROJECT["optional-dependencies"].values() for r in extra]
    return {r.name.lower(): r for r in requirements}


def test_environment_installs_this_package():
    pip_section = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    local = [line for line in pip_section if line.startswith("-e .")]
    assert local, "environment.yml must install the package itself (-e .) to get pyproject's dependencies"
    for line in local:
        extras = re.findall(r"\[([^\]]*)\]", line)
        for extra in extras[0].split(",") if extras else []:
            assert extra.strip() in PYPROJECT["optional-dependencies"]


def test_environment_names_no_package_with_another_range():
    packages = declared()
    conda = [d for d in ENVIRONMENT["dependencies"] if isinstance(d, str)]
    pip_section = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    for entry in conda + [p for p in pip_section if not p.startswith("-")]:
        name, _, version = entry.partition("=")
        name = name.strip().lower()
        if name in ("python", "pip"):
            continue
        assert name in packages, f"environment.yml installs {name}, which pyproject.toml does not list"
        if version:
            assert packages[name].specifier.contains(version.strip("="), prereleases=True), entry


def test_environment_python_meets_requires_python():
    python = next(d for d in ENVIRONMENT["dependencies"] if isinstance(d, str) and d.startswith("python"))
    version = python.split("=")[-1]
    assert SpecifierSet(PYPROJECT["requires-python"]).contains(version + ".0")


def test_ci_and_readme_use_the_same_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make lab" in readme
