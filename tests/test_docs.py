"""The docs stay true while the code moves (no model needed).

- docs/configuration.md is what scripts/config_docs.py renders from bot/settings_fields.py
  and scripts/variables.py;
- every environment variable the code reads is declared there, once, and every declared
  one is read somewhere, with the same default;
- every project path, module and relative link written in README.md, CONTRIBUTING.md and
  docs/*.md exists in the tree.
"""

import ast
from functools import lru_cache
import itertools
import os
from pathlib import Path
import re
import subprocess
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

from bot.settings import ENV, Settings
from scripts import config_docs
from scripts.variables import ELSEWHERE

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
CODE_DIRS = ("bot", "actions", "contract", "nlu", "scripts", "benchmarks")
RASA_CONFIG = ("endpoints.yml", "credentials.yml")
SHELL = ("Makefile", *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "scripts").glob("*.sh"))))

# Made by make, by running or by measuring, never committed: a doc may name them freely.
GENERATED = (".venv", ".venv-audit", ".run", "results", "models", "bot/static/vendor")
PACKAGES = ("bot", "actions", "contract", "nlu", "scripts", "benchmarks", "tests")
FENCES = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1", re.M | re.S)  # also indented, in a list
SPAN = re.compile(r"`((?:[^`\n]|\n(?![ \t]*\n))+)`")  # inline code, over a line break too


# --- docs/configuration.md -------------------------------------------------------------


def test_the_configuration_page_is_generated_from_the_settings():
    page = ROOT / "docs" / "configuration.md"
    assert page.read_text(encoding="utf-8") == config_docs.render(), (
        "docs/configuration.md is out of date: run python scripts/config_docs.py"
    )


def test_every_setting_has_a_meaning():
    for name, field in Settings.__fields__.items():
        if field.field_info.extra.get("parsed") and not field.field_info.description:
            continue  # documented by the field that shares its variable (display_names: HUB_AGENTS)
        assert field.field_info.description, f"Settings.{name} has no description"
    for variable in ELSEWHERE:
        assert variable.meaning and variable.read_by, variable.names


def _env_reads(tree: ast.AST) -> Iterator[Tuple[str, Optional[object]]]:
    """(variable, literal default or None) for os.environ.get("X"[, d]), os.environ["X"],
    "X" in os.environ, and env.get("X") / env["X"] on a mapping called env."""

    def is_environ(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id in ("environ", "env")
        )

    def literal(node: Optional[ast.AST]) -> Optional[object]:
        return node.value if isinstance(node, ast.Constant) else None

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "getenv")
            and is_environ(node.func.value)
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield node.args[0].value, literal(node.args[1]) if len(node.args) > 1 else None
        elif isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.ctx, ast.Load):
            if isinstance(node.slice, ast.Constant):
                yield node.slice.value, None
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
            if any(isinstance(op, ast.In) for op in node.ops) and any(map(is_environ, node.comparators)):
                yield node.left.value, None


@lru_cache(maxsize=1)
def read_in_code() -> Dict[str, List[Tuple[str, Optional[object]]]]:
    """Every variable the Python code and Rasa's config read: name -> [(where, default)]."""
    reads: Dict[str, List[Tuple[str, Optional[object]]]] = {}
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            for name, default in _env_reads(ast.parse(path.read_text(encoding="utf-8"))):
                reads.setdefault(name, []).append((where, default))
    for config in RASA_CONFIG:
        for name in re.findall(r"\$\{(\w+)\}", (ROOT / config).read_text(encoding="utf-8")):
            reads.setdefault(name, []).append((config, None))
    return reads


def declared() -> Dict[str, str]:
    """Every declared variable -> its default as the docs give it."""
    names = {}
    for field in Settings.__fields__.values():
        variable = field.field_info.extra.get("env")
        if variable and variable not in names:
            names[variable] = config_docs.shown_default(field)
    for variable in ELSEWHERE:
        for name in variable.names:
            names[name] = variable.default
    return names


def test_every_variable_the_code_reads_is_declared_in_the_settings():
    missing = {name: where for name, where in read_in_code().items() if name not in declared()}
    assert not missing, f"read but not declared (a Settings field or ELSEWHERE): {missing}"


def test_every_declared_variable_is_read_somewhere():
    shell = "\n".join((ROOT / name).read_text(encoding="utf-8") for name in SHELL)
    read = set(read_in_code()) | set(ENV.values())  # Settings.from_env reads every ENV variable
    unread = [
        name for name in declared() if name not in read and not re.search(r"\$[{(]" + name + r"\b", shell)
    ]
    assert not unread, f"declared but read nowhere: {unread}"


def test_a_default_in_the_code_is_the_declared_default():
    shown = declared()
    wrong = [
        (name, where, default, shown[name])
        for name, reads in read_in_code().items()
        for where, default in reads
        if default not in (None, "") and name in shown and str(default) != shown[name].strip("`")
    ]
    assert not wrong, f"(variable, where, default in the code, default declared): {wrong}"


# --- paths named in the docs -------------------------------------------------------------


@lru_cache(maxsize=1)
def tree() -> Set[str]:
    """The files of the tree as it would be committed (tracked or new, not ignored), that
    exist on disk; outside a git checkout, every file on disk."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        listed = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return {name for name in listed if (ROOT / name).is_file()}


@lru_cache(maxsize=1)
def folders() -> Set[str]:
    return {str(Path(name).parent) for name in tree()} | {
        str(parent) for name in tree() for parent in Path(name).parents if str(parent) != "."
    }


def exists(path: str) -> bool:
    path = path.rstrip("/")
    return path in tree() or path in folders()


def top_level() -> Set[str]:
    return {name.split("/")[0] for name in tree()}


def generated(path: str) -> bool:
    return any(path == g or path.startswith(g + "/") for g in GENERATED)


def expand_braces(token: str) -> List[str]:
    """data/nlu/{en,vi}/ -> data/nlu/en/, data/nlu/vi/ (only brace lists with a comma)."""
    match = re.search(r"\{([^{}]*,[^{}]*)\}", token)
    if not match:
        return [token]
    return list(
        itertools.chain.from_iterable(
            expand_braces(token[: match.start()] + part + token[match.end() :])
            for part in match.group(1).split(",")
        )
    )


def module_problem(dotted: str) -> Optional[str]:
    """`actions.memory.forget_conversation`: the module must exist and define the name."""
    parts = dotted.split(".")
    for size in range(len(parts), 1, -1):
        base = "/".join(parts[:size])
        module = base + ".py" if base + ".py" in tree() else base + "/__init__.py"
        if module in tree():
            rest = parts[size:]
            if not rest:
                return None
            source = (ROOT / module).read_text(encoding="utf-8")
            name = re.escape(rest[0])
            if re.search(rf"^\s*(async\s+def|def|class)\s+{name}\b|^{name}\s*[:=]", source, re.M):
                return None
            return f"{module} defines no {rest[0]}"
    return "no such module"


def code_in(markdown: str) -> Iterator[str]:
    """The text of fenced blocks and of inline code spans."""
    for block in FENCES.finditer(markdown):
        yield block.group(0)
    for span in SPAN.finditer(FENCES.sub("", markdown)):
        yield span.group(1)


def named_paths(markdown: str) -> Iterator[Tuple[str, str]]:
    """("path" | "module", text) for everything in code that names a project path or module."""
    tops = top_level()
    for code in code_in(markdown):
        for token in code.split():
            token = token.strip("\"'(),;:.").split("=")[-1].strip("\"'")
            if not token or "://" in token or "..." in token or re.search(r"[<>*…$~]", token):
                continue
            if re.fullmatch(r"(%s)(\.[A-Za-z_]\w*)+" % "|".join(PACKAGES), token):
                yield "module", token
                continue
            for path in expand_braces(token):
                if re.search(r"[{}]", path) or generated(path):
                    continue
                first = path.split("/")[0]
                if first in tops and ("/" in path or first == path):
                    yield "path", path


def relative_links(markdown: str) -> Iterator[Tuple[str, str]]:
    """(path, anchor) of every link that is not to a web address."""
    text = SPAN.sub("", FENCES.sub("", markdown))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"[a-z]+:", target):
            path, _, anchor = target.partition("#")
            yield path, anchor


def anchors(markdown: str) -> Set[str]:
    """The heading anchors GitHub makes: lower case, punctuation dropped, spaces as '-'."""
    headings = re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*$", FENCES.sub("", markdown), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_name_only_paths_and_modules_that_exist(doc):
    problems = []
    for kind, name in sorted(set(named_paths(doc.read_text(encoding="utf-8")))):
        if kind == "path" and not exists(name):
            problems.append(f"`{name}`: no such file or folder")
        elif kind == "module" and module_problem(name):
            problems.append(f"`{name}`: {module_problem(name)}")
    assert not problems, f"{doc.relative_to(ROOT)} names what is not there: {problems}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_link_only_to_files_and_headings_that_exist(doc):
    broken = []
    for target, anchor in relative_links(doc.read_text(encoding="utf-8")):
        path = (
            os.path.normpath(os.path.relpath(doc.parent / target, ROOT))
            if target
            else str(doc.relative_to(ROOT))
        )
        if path.startswith("..") or not exists(path):
            broken.append(f"{target}: no such file")
        elif (
            anchor
            and path.endswith(".md")
            and anchor not in anchors((ROOT / path).read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}#{anchor}: no such heading")
    assert not broken, f"{doc.relative_to(ROOT)} links to what is not there: {broken}"
