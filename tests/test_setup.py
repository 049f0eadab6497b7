"""The set-up files agree: one list of dependencies, one test command."""

import importlib.metadata
import re
import tomllib

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from workbook import bundle
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


# --- the locks: requirements/learner.txt (the learner's packages) and requirements/test.txt (the same and the extras)

LOCK = ROOT / "requirements" / "learner.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"
# where a lock must hold: Linux, macOS and Windows, from the first Python the package allows to the newest
PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    "macos": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
}
PYTHONS = ("3.11.0", "3.11.9", "3.12.8", "3.13.1", "3.14.0")


def marker_environment(platform: str, python: str) -> dict[str, str]:
    return {**PLATFORMS[platform], "python_full_version": python, "python_version": ".".join(python.split(".")[:2]),
            "implementation_name": "cpython", "implementation_version": python,
            "platform_python_implementation": "CPython", "platform_release": "", "platform_version": "", "extra": ""}


def environments() -> list[tuple[str, dict[str, str]]]:
    return [(f"{platform} {python}", marker_environment(platform, python))
            for platform in PLATFORMS for python in PYTHONS]


def locked(path, environment: dict[str, str]) -> dict[str, str]:
    """Return the lock's pins that apply in a marker environment: {name: version}."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier  # each line pins one version: name==version
        assert specifier.operator == "==", line
        if requirement.marker is None or requirement.marker.evaluate(environment):
            assert requirement.name not in pins, f"{path.name} pins {requirement.name} twice for one platform"
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def applies(requirement: Requirement, environment: dict[str, str], extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras | {""})


def test_the_locks_pin_every_dependency_within_pyprojects_ranges():
    direct = [Requirement(r) for r in PYPROJECT["dependencies"]]
    extras = [Requirement(r) for extra in ("instructor", "test") for r in PYPROJECT["optional-dependencies"][extra]]
    for path, wanted in ((LOCK, direct), (TEST_LOCK, direct + extras)):
        for where, environment in environments():
            pins = locked(path, environment)
            for requirement in wanted:
                if not applies(requirement, environment, set()):
                    continue
                name = canonicalize_name(requirement.name)
                assert name in pins, f"{path.name} pins no {name} for {where}: run `make lock`"
                assert requirement.specifier.contains(pins[name], prereleases=True), (
                    f"{path.name} pins {name}=={pins[name]} for {where}, outside pyproject.toml's {requirement}: "
                    "run `make lock`")


def test_the_test_lock_keeps_the_learners_versions():
    for where, environment in environments():
        learner, test = locked(LOCK, environment), locked(TEST_LOCK, environment)
        changed = {name: (version, test.get(name)) for name, version in learner.items() if test.get(name) != version}
        assert not changed, f"requirements/test.txt changes the learner's versions for {where}: {changed}"


@pytest.mark.parametrize("path, extras", [(LOCK, ()), (TEST_LOCK, ("instructor", "test"))], ids=["learner", "test"])
def test_the_locks_are_complete_for_every_platform(path, extras):
    """Every package that a locked package needs, on Linux, macOS and Windows, is pinned, within the range it needs.

    What each package needs is read from its installed metadata; CI installs the lock, so that is the locked version's.
    """
    wanted = PYPROJECT["dependencies"] + [r for extra in extras for r in PYPROJECT["optional-dependencies"][extra]]
    for where, environment in environments():
        pins = locked(path, environment)
        pending = [Requirement(r) for r in wanted]
        seen = set()
        while pending:
            needed = pending.pop()
            name = canonicalize_name(needed.name)
            if not applies(needed, environment, set()) or (name, frozenset(needed.extras)) in seen:
                continue
            seen.add((name, frozenset(needed.extras)))
            assert name in pins, f"{path.name} pins no {name} for {where} ({needed}): run `make lock`"
            assert needed.specifier.contains(pins[name], prereleases=True), (
                f"{path.name} pins {name}=={pins[name]} for {where}, outside what {needed} needs: run `make lock`")
            try:
                installed = importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                continue  # another platform's package (pywinpty, appnope): its own needs cannot be read here
            if installed.version != pins[name]:
                continue  # another version for another Python (soupsieve for 3.11.0): its needs are not installed here
            for line in installed.requires or []:
                requirement = Requirement(line)
                if applies(requirement, environment, set(needed.extras)):
                    requirement.marker = None
                    pending.append(requirement)


def test_the_tests_run_on_the_locked_versions():
    """The environment running these tests is the lock's, as `make test` (and so CI) installs it."""
    environment = default_environment()
    differ = {}
    for name, version in locked(TEST_LOCK, {**environment, "extra": ""}).items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differ[name] = (version, installed)
    assert not differ, (f"installed versions differ from requirements/test.txt (locked, installed): {differ}; "
                        "run `make test`, which installs the lock")


def test_every_install_goes_through_the_lock():
    pip_section = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    assert "-r requirements/learner.txt" in pip_section, "conda and Binder must install the learner's lock"
    assert "requirements/learner.txt" in bundle.SETUP_FILES, "the bundle must carry the lock its Makefile installs"
    assert "-r requirements/learner.txt -e ." in bundle.MAKEFILE.replace("$(LOCK)", "requirements/learner.txt")
    header = LOCK.read_text(encoding="utf-8").splitlines()[:2]
    assert header == ["# This file was autogenerated by uv via the following command:", "#    make lock"], header
