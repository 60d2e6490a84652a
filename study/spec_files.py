"""Specs from files: a YAML path or the name of a shipped spec (study/specs/*.yaml), read with a
safe loader that refuses a key written twice, then validated by `study.spec.parse_spec`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .spec import SpecError, StudySpec, parse_spec

SPECS_PACKAGE = "study.specs"


def shipped_specs() -> dict[str, Path]:
    """The specs that ship with the package, by name."""
    folder = resources.files(SPECS_PACKAGE)
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (plain YAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"key {key!r} is given twice (first {seen[key]}); keep one", key_node.start_mark)
            seen[key] = f"at line {key_node.start_mark.line + 1}"
        return super().construct_mapping(node, deep=deep)


def load_spec(spec_or_name: str) -> StudySpec:
    """A spec from a YAML path, or a shipped spec by name."""
    path = Path(spec_or_name).expanduser()
    if path.is_dir():
        raise SpecError(f"{path} is a folder; give the spec's YAML file")
    if not path.is_file():
        shipped = shipped_specs()
        if spec_or_name not in shipped:
            raise SpecError(f"no spec file {spec_or_name!r} and no shipped spec of that name; shipped specs: {', '.join(sorted(shipped))}")
        path = shipped[spec_or_name]
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read the spec: {error}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no Python tags
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not valid YAML: {error}") from None
    return parse_spec(data, source=str(path))
