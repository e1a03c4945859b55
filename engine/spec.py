"""What a node is: its spec (identity and inputs) and its rule (how to compute it).

The engine knows two *source* kinds built in, named by the prefix of their key:

* ``file:<path>`` — a file, ``<path>`` relative to the build root with ``/``.
  Its value is a :class:`FileText`-shaped dict: ``{"text": str}`` when the file is
  a readable UTF-8 text (BOM removed, newlines normalised to ``\\n``), otherwise
  ``{"error": <code>}`` with a code from :data:`FILE_ERRORS`.
* ``dir:<path>`` — one directory's listing. Its value is a sorted list of
  ``[name, type]`` pairs, ``type`` one of ``"f"`` (file, or a link to a file
  inside the root), ``"d"`` (directory), ``"l"`` (a link to a directory inside the
  root: listed, but a walk should not descend through it — it aliases or loops),
  ``"o"`` (other) or ``"x"`` (a symbolic link that leaves the root, dangles or
  loops: never followed). Names that are not UTF-8 are left out. A missing
  directory has the value ``None``; one that cannot be listed (permissions)
  ``{"error": "unreadable"}``, so that rules can say so instead of taking it
  for empty.

Every other node is *derived*: a :class:`NodeSpec` names its inputs, and the
:class:`Rule` registered for its kind computes its value from the inputs' values.
Values are JSON data (dict, list, str, int, float, bool, None) so that the store
can keep them and fingerprint them. Use lists, not tuples: a value read back from
the store is decoded from JSON, and a rule must see the same value either way.

An *expander* is a rule whose value is a list of further :class:`NodeSpec`; the
engine adds those nodes to the graph. That is how dynamic structure works: the
rule that reads a directory listing decides which nodes exist below it.
"""

from __future__ import annotations

# types for checkers only, classes written out: see "Import cost" in promptgen/__init__.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Sequence

    JSON = Any
else:
    JSON = object  # the alias other modules import; nothing checks it at run time

#: Error codes a ``file:`` source value can carry instead of text.
FILE_ERRORS = (
    "missing",  # no such file (or it vanished during the build)
    "not_a_file",  # a directory or a special file
    "not_utf8",  # bytes that do not decode as UTF-8
    "too_large",  # larger than the engine's size limit
    "unreadable",  # permission denied or another OS error
    "outside_root",  # a symbolic link leading out of the build root
)

SOURCE_KINDS = ("file", "dir")


def kind_of(key: str) -> str:
    """The kind of a node is the part of its key before the first colon."""
    return key.split(":", 1)[0]


_SOURCE_PREFIXES = tuple(f"{kind}:" for kind in SOURCE_KINDS)


def is_source(key: str) -> bool:
    # called for every input of every node of every build: no split
    return key.startswith(_SOURCE_PREFIXES) or key in SOURCE_KINDS


def source_path(key: str) -> str:
    """The root-relative path of a ``file:`` or ``dir:`` key."""
    return key.split(":", 1)[1]


class NodeSpec:
    """Identity and inputs of one derived node.

    ``key`` is unique in the graph and conventionally ``f"{kind}:{name}"``.
    ``inputs`` are keys of other nodes, in the order the rule receives their
    values; source keys (``file:``/``dir:``) may be named without being declared.
    ``param`` is static JSON data handed to the rule (part of the node's identity:
    changing it makes the node recompute).
    """

    __slots__ = ("key", "kind", "inputs", "param")

    def __init__(self, key: str, kind: str, inputs: tuple[str, ...] = (), param: JSON = None) -> None:
        self.key = key
        self.kind = kind
        self.inputs = inputs
        self.param = param

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NodeSpec):
            return NotImplemented
        return (self.key, self.kind, self.inputs, self.param) == (other.key, other.kind, other.inputs, other.param)

    def __hash__(self) -> int:
        return hash((self.key, self.kind, self.inputs))

    def __repr__(self) -> str:
        return f"NodeSpec(key={self.key!r}, kind={self.kind!r}, inputs={self.inputs!r}, param={self.param!r})"

    def to_json(self) -> list[Any]:
        return [self.key, self.kind, list(self.inputs), self.param]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> "NodeSpec":
        key, kind, inputs, param = data
        return cls(key, kind, tuple(inputs), param)


class Rule:
    """How nodes of one kind are computed.

    ``compute(param, input_values)`` must be a pure function of its arguments and
    return JSON data (for an expander: a list of :class:`NodeSpec`). ``version``
    names the code: change it whenever ``compute`` changes meaning, and every node
    of the kind recomputes on the next build.
    """

    __slots__ = ("kind", "version", "compute", "expands", "doc")

    def __init__(self, kind: str, version: str, compute: Callable[[JSON, list[JSON]], Any],
                 expands: bool = False, doc: str = "") -> None:
        self.kind = kind
        self.version = version
        self.compute = compute
        self.expands = expands
        self.doc = doc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rule):
            return NotImplemented
        return (self.kind, self.version, self.compute, self.expands) == (
            other.kind, other.version, other.compute, other.expands)

    def __hash__(self) -> int:
        return hash((self.kind, self.version))

    def __repr__(self) -> str:
        return f"Rule(kind={self.kind!r}, version={self.version!r}, expands={self.expands!r})"


class RuleError(Exception):
    """A rule could not compute its node (bad input it chose not to tolerate)."""
