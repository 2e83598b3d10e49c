"""The tests are laid out like the code: the tests of a package's module sit in that package's
mirror (tests/ledger/chain/ for ledger/chain/), never flat in tests/; what test modules share is
imported from tests/helpers/, never from another test module or a conftest (pytest gives each
conftest's fixtures to the tests below it, and importing one by hand hides where a fixture comes
from)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
HELPERS = TESTS / "helpers"
# The packages whose modules have tests of their own; a test of one sits under tests/<package>/.
PACKAGES = ("api", "ledger", "watermark")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, at any depth of its code, relative imports resolved."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            # `from tests.helpers import service` imports the module tests.helpers.service
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_tests_import_only_helpers_never_a_test_module_or_a_conftest():
    wrong = []
    for path in python_files():
        for line, name in imported(path):
            if (name == "tests" or name.startswith("tests.")) and not (name + ".").startswith("tests.helpers."):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "import shared code from tests/helpers/:\n" + "\n".join(wrong)


def test_importable_code_lives_in_helpers_and_helpers_hold_no_tests():
    wrong = []
    for path in python_files():
        kind = path.name in ("__init__.py", "conftest.py") or path.name.startswith("test_")
        if path.is_relative_to(HELPERS):
            if path.name.startswith("test_") or path.name == "conftest.py":
                wrong.append(f"{path.relative_to(ROOT)}: tests and fixtures do not belong in tests/helpers/")
        elif not kind:
            wrong.append(f"{path.relative_to(ROOT)}: a module other tests could import belongs in tests/helpers/")
    assert not wrong, "\n".join(wrong)


def test_no_test_of_a_package_module_sits_flat_in_tests():
    wrong = []
    for path in sorted(TESTS.glob("test_*.py")):
        for line, name in imported(path):
            if name.split(".")[0] in PACKAGES:
                wrong.append(f"{path.relative_to(ROOT)}:{line} tests {name}: move it to tests/{name.split('.')[0]}/...")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_folder_of_a_package_mirror_is_a_package_of_the_code(package):
    mirror = TESTS / package
    if not mirror.is_dir():
        pytest.skip(f"no tests/{package}/")
    folders = [p for p in mirror.rglob("*") if p.is_dir() and p.name != "__pycache__"]
    wrong = [str(p.relative_to(ROOT)) for p in folders if not (ROOT / p.relative_to(TESTS) / "__init__.py").is_file()]
    assert not wrong, f"no such package in {package}/ for: " + ", ".join(wrong)


@pytest.mark.parametrize(
    "path",
    [
        ".reelledger-crawl/state.sqlite",
        "studio.key",
        "film.mp4",
        "copy.mp4",
        "leaked-excerpt.mp4",
        "marked.mp4",
        "suspect.mp4",
        "week-47.csv",
        "week-48.json",
        "clips-47.csv",
        "seeds.txt",
        "statement.json",
        "producer.json",
        "investor.json",
        "case-1.json",
        "case-1.copy",
        "case-1.png",
    ],
)
def test_what_following_the_readme_leaves_in_the_repository_is_ignored(path):
    """The README's commands write these in the repository root; a watermark key is a secret."""
    import subprocess

    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{path} is not ignored"


def test_the_repositorys_own_files_are_not_ignored():
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT, input=tracked, capture_output=True, text=True
    ).stdout
    assert ignored.split() == []
