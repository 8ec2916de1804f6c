"""YAML loading with bounds, for post front matter and config files alike.

Both come from people and tools the pipeline does not control, and PyYAML
alone will build whatever a document describes: nine levels of nine aliases
each (a "billion laughs") is a few hundred bytes that expand to 387 million
list items as soon as anything walks the result, and an impossible timestamp
(``2022-02-30``) raises a bare ``ValueError`` out of the constructor.

Invariants:
- every failure is a ``YamlError`` with a one-line reason (and the line, when
  the parser knows it); nothing else leaves ``load``;
- a document is refused before construction when it is larger than
  ``max_bytes``, nests deeper than ``MAX_DEPTH`` or, counting every alias as
  the copy it stands for, has more nodes than ``MAX_NODES`` or its own length
  in characters, whichever is larger (a document without aliases never has
  more nodes than characters, so only expansion is refused); the count stops
  at the bound, so a bomb costs a bounded amount of work, never its expansion;
- an invalid timestamp stays the string it was written as, so the caller that
  expects a date names the key and the value.

PyYAML has no such limits of its own (its issue tracker has asked since 2013),
so the node count is written here; parsing stays libyaml's C parser where it
is installed.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import YamlError

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the libyaml build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_NODES = 100_000  # nodes after alias expansion, at the least: far above any real front matter
MAX_DEPTH = 64  # nesting: PyYAML's constructor recurses once per level
MAX_BYTES = 1 << 20  # a front matter or config file of 1 MiB is already absurd


class BoundedLoader(_BaseLoader):
    """The safe loader, with timestamps that fail softly (see the module docstring)."""


def _timestamp(loader: BoundedLoader, node: ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def check_size(node: Node, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> None:
    """Count nodes as construction would produce them, stopping at the bound."""
    count = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        count += 1
        if count > max_nodes:
            raise YamlError(
                f"document too large: more than {max_nodes:,} values once aliases are expanded"
                " (an alias bomb?)"
            )
        if depth > max_depth:
            line = current.start_mark.line + 1 if current.start_mark else None
            raise YamlError(f"nested more than {max_depth} levels deep", line)
        if isinstance(current, SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))


def compose(text: str, max_bytes: int = MAX_BYTES) -> Node | None:
    """The checked node tree of ``text`` (``None`` for an empty document).

    ``max_bytes`` counts characters, which is what the caller has in hand.
    """
    loader = BoundedLoader(_checked_length(text, max_bytes))
    try:
        return _compose(loader, text)
    finally:
        loader.dispose()


def _checked_length(text: str, max_bytes: int) -> str:
    if len(text) > max_bytes:
        raise YamlError(f"document too large ({len(text):,} characters > {max_bytes:,})")
    return text


def _compose(loader: BoundedLoader, text: str) -> Node | None:
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _error(exc) from None
    if node is not None:
        check_size(node, max(MAX_NODES, len(text)))
    return node


def construct(node: Node | None) -> Any:
    """The Python value of a node tree from ``compose``."""
    loader = BoundedLoader("")
    try:
        return _construct(loader, node)
    finally:
        loader.dispose()


def _construct(loader: BoundedLoader, node: Node | None) -> Any:
    if node is None:
        return None
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _error(exc) from None
    except Exception as exc:
        # PyYAML's constructors fail outside its own error types on odd tagged values
        # (``!!float ''`` is an IndexError, ``!!int 0xzz`` a ValueError)
        raise YamlError(f"invalid value: {type(exc).__name__}: {exc}") from None


def load(text: str, max_bytes: int = MAX_BYTES) -> Any:
    """``yaml.safe_load`` with the bounds of this module, on one loader (one per post)."""
    loader = BoundedLoader(_checked_length(text, max_bytes))
    try:
        return _construct(loader, _compose(loader, text))
    finally:
        loader.dispose()


def _error(exc: yaml.YAMLError) -> YamlError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return YamlError(str(problem), mark.line + 1 if mark is not None else None)
