"""Read YAML safely, remembering line numbers and catching duplicate keys.

PyYAML's ``safe_load`` silently keeps the last of two equal keys, and forgets where each
value came from. :func:`read_yaml` uses a :class:`yaml.SafeLoader` subclass (so nothing
executable is ever constructed) that returns :class:`LineDict` mappings which know the line
of each key, and records every duplicate key as a :class:`~diffdx.exceptions.Problem`.
"""

from __future__ import annotations

from typing import Any

import yaml

from diffdx.exceptions import Problem


class LineDict(dict):
    """A ``dict`` that also knows the 1-based line of each key (``lines``) and of itself."""

    line: int | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class LineList(list):
    """A ``list`` that knows the 1-based line of each item (``lines``)."""

    line: int | None = None

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.lines: list[int] = []


def _make_loader(duplicates: list[Problem]) -> type[yaml.SafeLoader]:
    class _Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # type: ignore[override]
            mapping = LineDict()
            mapping.line = node.start_mark.line + 1
            self.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key in mapping:
                    first = mapping.lines[key]
                    duplicates.append(
                        Problem(
                            f"(key {key!r})",
                            f"duplicate key {key!r}; it is also on line {first}, "
                            "and YAML would silently keep only the last one",
                            line,
                        )
                    )
                    continue
                mapping[key] = self.construct_object(value_node, deep=True)
                mapping.lines[key] = line
            return mapping

        def construct_sequence(self, node, deep=False):  # type: ignore[override]
            seq = LineList(self.construct_object(child, deep=True) for child in node.value)
            seq.line = node.start_mark.line + 1
            seq.lines = [child.start_mark.line + 1 for child in node.value]
            return seq

    _Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
    _Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)
    return _Loader


def read_yaml(text: str) -> tuple[Any, list[Problem]]:
    r"""Parse YAML text safely.

    Parameters
    ----------
    text : str
        The YAML document.

    Returns
    -------
    data : object
        The parsed document, with :class:`LineDict` / :class:`LineList` containers.
    duplicates : list of Problem
        One problem per duplicate mapping key.

    Raises
    ------
    yaml.YAMLError
        If the text is not well-formed YAML.

    Examples
    --------
    >>> data, dups = read_yaml("a: 1\nb: 2\na: 3\n")
    >>> data, data.lines["b"], dups[0].line
    ({'a': 1, 'b': 2}, 2, 3)
    """
    duplicates: list[Problem] = []
    data = yaml.load(text, Loader=_make_loader(duplicates))  # a SafeLoader subclass
    return data, duplicates
