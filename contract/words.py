"""Files the shop owner edits (the hub's words in data/hub/, the playbook), read one way:
YAML checked by a pydantic model, and a refusal that names the file, the line and the
entry, e.g.

    data/hub/canned.yml, line 6 (canned_replies.[0].text.vi): unknown placeholder {refund}

Every text a customer or an agent reads comes in every language (`Texts`: one non-empty
text per language of contract/language.py); `pick` is "this language, else English",
said once here for every caller.
"""

from pathlib import Path
import string
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from pydantic import BaseModel, Extra, StrictStr, ValidationError, validator
import yaml

from contract.language import DEFAULT, LANGUAGES

Model = TypeVar("Model", bound=BaseModel)
Where = Tuple[Any, ...]  # a path in the file: keys and list positions
Problem = Tuple[Where, str]


class WordFileError(ValueError):
    """A file refused; the message names the file, the line and the entry."""


def pick(entry: Union[Mapping[str, str], "Texts"], language: Optional[str]) -> str:
    """The entry's text in `language`, else in English."""
    return entry.get(language or DEFAULT) or entry[DEFAULT]


def placeholders(text: str) -> List[str]:
    """The {placeholders} of a text (a literal brace is written {{ or }}); a ValueError
    for broken braces or a placeholder with a format ({x!r}, {x:>3})."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:  # a lone "{" or "}"
        raise ValueError(
            f"broken braces in {text!r} ({error}); write a literal brace as {{{{ or }}}}"
        ) from None
    found = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"unknown placeholder {{{name}}}")
        found.append(name)
    return found


class Texts(BaseModel):
    """One non-empty text per language: {"en": "...", "vi": "..."}."""

    en: StrictStr
    vi: StrictStr

    class Config:
        extra = Extra.forbid  # a misspelt language is refused, never ignored

    @validator("*")
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty text")
        return value

    # Read like the mapping it is in the file: language -> text.
    def __getitem__(self, language: str) -> str:
        if language not in LANGUAGES:
            raise KeyError(language)
        return getattr(self, language)

    def get(self, language: Optional[str], default: Optional[str] = None) -> Optional[str]:
        return getattr(self, language) if language in LANGUAGES else default

    def values(self) -> List[str]:
        return [getattr(self, language) for language in LANGUAGES]


assert tuple(Texts.__fields__) == LANGUAGES, "Texts needs a field per language of contract/language.py"


def only_placeholders(*allowed: str) -> Any:
    """A validator for a Texts subclass: its placeholders may only be `allowed`."""

    def check(cls, value: str) -> str:
        unknown = [p for p in placeholders(value) if p not in allowed]
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}}; use only " + ", ".join(f"{{{p}}}" for p in allowed)
            )
        return value

    return validator("*", allow_reuse=True)(check)


# --- reading a file: errors that name the file and the line ---------------------------


def _line_index(
    node: yaml.Node, path: Where = (), index: Optional[Dict[Where, int]] = None
) -> Dict[Where, int]:
    """Each path in the YAML document, mapped to its 1-based line."""
    index = {} if index is None else index
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _line_index(value, path + (key.value,), index)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, path + (i,), index)
    return index


def _where(source: str, lines: Dict[Where, int], path: Where) -> str:
    """The nearest line the file has for `path` (a missing key: its parent's)."""
    line = None
    for cut in range(len(path), -1, -1):
        line = lines.get(tuple(path[:cut]))
        if line:
            break
    named = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path) or "top level"
    return f"{source}, line {line} ({named})"


def _problem(error: Mapping[str, Any]) -> str:
    if error["type"] == "value_error.extra":
        return "unknown key"
    if error["type"] == "value_error.missing":
        return "is missing"
    return error["msg"]


def parse(
    text: str,
    source: str,
    model: Type[Model],
    check: Optional[Callable[[Model], List[Problem]]] = None,
    error: Type[WordFileError] = WordFileError,
) -> Model:
    """`text` (YAML, from `source`) as `model`; `check` finds what the model alone cannot
    (cross references), as (path, problem) pairs. Every problem is raised at once, as
    `error`, one line each."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise error(f"{source}: not valid YAML: {problem}") from problem
    lines = _line_index(node) if node is not None else {}
    if not isinstance(data, dict):
        raise error(f"{_where(source, lines, ())}: expected a mapping")
    try:
        parsed = model.parse_obj(data)
    except ValidationError as invalid:
        problems = [(tuple(p for p in e["loc"] if p != "__root__"), _problem(e)) for e in invalid.errors()]
    else:
        problems = check(parsed) if check else []
    if problems:
        raise error("\n".join(f"{_where(source, lines, path)}: {problem}" for path, problem in problems))
    return parsed


def load(
    path: Path,
    model: Type[Model],
    check: Optional[Callable[[Model], List[Problem]]] = None,
    error: Type[WordFileError] = WordFileError,
) -> Model:
    """The file at `path` as `model` (see `parse`)."""
    return parse(Path(path).read_text(encoding="utf-8"), str(path), model, check, error)
