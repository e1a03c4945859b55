"""Rule versions, derived from the code each rule runs.

A rule's version must change whenever its code could compute something else:
then every node of its kind is recomputed after an upgrade, and nothing else
is. The code a rule runs is its module and every module that one imports,
directly or through others, anywhere in promptgen (at module level or inside
a function: rules import their parsers where they use them). A package's
``__init__`` counts only when a name is imported from it: the packages'
docstrings are not rules. That set is
found by reading the import statements of the source files, without
importing them, and the version hashes their bytes. No list of modules is
kept by hand: a module that a rule starts to import is in its version from
then on.

Import statements are found with one regular expression over each file;
text that merely looks like an import (in a docstring) can only add a
module, which makes a version change more often, never less.

An installation without source files (bytecode only) cannot be read this
way: then every rule's version hashes every file of the domain package.
"""

from __future__ import annotations

import os

from promptgen.engine import fingerprint

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

PACKAGE = "promptgen"
#: The folder that holds promptgen's subpackages (the installed ``promptgen/``).
_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# what was read once per process: source files, their imports
_files: dict[str, Optional[str]] = {}
_listings: dict[str, frozenset[str]] = {}
_sources: dict[str, Optional[bytes]] = {}
_deps: dict[str, list[str]] = {}
_versions: dict[str, str] = {}


def _file(module: str) -> Optional[str]:
    """The source file of a promptgen module (``promptgen.nodes.layout``), if it has one."""
    if module not in _files:
        folder, _, name = os.path.join(_TOP, *module.split(".")[1:]).rpartition(os.sep)
        names = _listing(folder)
        if name + ".py" in names:
            _files[module] = os.path.join(folder, name + ".py")
        elif "__init__.py" in _listing(os.path.join(folder, name)):
            _files[module] = os.path.join(folder, name, "__init__.py")
        else:
            _files[module] = None
    return _files[module]


def _listing(folder: str) -> frozenset[str]:
    if folder not in _listings:
        try:
            _listings[folder] = frozenset(os.listdir(folder))
        except OSError:
            _listings[folder] = frozenset()
    return _listings[folder]


def _source(module: str) -> Optional[bytes]:
    if module not in _sources:
        path = _file(module)
        if path is None:
            _sources[module] = None
        else:
            with open(path, "rb") as f:
                _sources[module] = f.read()
    return _sources[module]


def _package_of(module: str) -> str:
    """The package a module's relative imports start from."""
    path = _file(module)
    is_package = path is not None and os.path.basename(path) == "__init__.py"
    return module if is_package else module.rsplit(".", 1)[0]


def _resolve(module: str, target: str, names: str) -> list[str]:
    """The promptgen modules one import statement of ``module`` loads."""
    if target.startswith("."):
        level = len(target) - len(target.lstrip("."))
        base = _package_of(module)
        for _ in range(level - 1):
            base = base.rsplit(".", 1)[0]
        rest = target.lstrip(".")
        target = f"{base}.{rest}" if rest else base
    path = _file(target)
    if path is None:
        return [target]  # no source to read (bytecode only): version() hashes the whole package
    if not path.endswith("__init__.py"):
        return [target]
    # ``from package import module``: the module; the package's own code counts
    # only when a name comes from it
    words = [n.strip().split(" ")[0] for n in names.strip("() \t\n").replace("\n", " ").split(",")]
    words = [w for w in words if w and not w.startswith("#")]
    modules = [f"{target}.{w}" for w in words if _file(f"{target}.{w}")]
    if len(modules) < len(words):
        modules.append(target)
    return modules


def _imports(module: str) -> list[str]:
    """The promptgen modules ``module``'s import statements name."""
    if module not in _deps:
        out: list[str] = []
        for target, names in _statements((_source(module) or b"").decode("utf-8", "replace")):
            out.extend(_resolve(module, target, names))
        _deps[module] = out
    return _deps[module]


def _statements(text: str) -> list[tuple[str, str]]:
    """``(module, imported names)`` of each ``from … import …`` and ``import …``
    line that names a promptgen module (relative, or ``promptgen.…``)."""
    out = []
    i = text.find("import ")
    while i >= 0:
        start = text.rfind("\n", 0, i) + 1
        end = text.find("\n", i)
        line = text[start:] if end < 0 else text[start:end]
        words = line.split()
        if words and words[0] == "from" and len(words) > 3 and words[2] == "import":
            names = line.split(" import ", 1)[1]
            if "(" in names and ")" not in names:  # names in parentheses, over several lines
                close = text.find(")", i)
                names = text[start:close].split(" import ", 1)[1]
                end = close
            out.append((words[1], names))
        elif words and words[0] == "import":
            out.extend((w.split()[0], "") for w in line.split("import", 1)[1].split(","))
        if end < 0:
            break
        i = text.find("import ", end)
    return [(t, n) for t, n in out if t.startswith((".", PACKAGE + ".")) or t == PACKAGE]


def closure(module: str) -> list[str]:
    """``module`` and every promptgen module it imports, transitively (sorted)."""
    seen = {module}
    todo = [module]
    while todo:
        for dep in _imports(todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return sorted(seen)


def version(module: str, extra: str = "") -> str:
    """The version of a rule defined in ``module``: a hash of the source of
    everything it imports (``extra``: data the rule reads, e.g. built-in templates)."""
    if module not in _versions:
        modules = closure(module)
        if any(_source(m) is None for m in modules):
            _versions[module] = "1-" + _whole_package_hash()
        else:
            blob = b"".join(m.encode() + b"\0" + (_source(m) or b"") for m in modules)
            _versions[module] = "1-" + fingerprint.of_bytes(blob)[:12]
    return _versions[module] + extra


def _whole_package_hash() -> str:
    """Without sources to read: every file of the domain package."""
    nodes = os.path.join(_TOP, "nodes")
    chunks = []
    for dirpath, dirnames, filenames in os.walk(nodes):
        dirnames.sort()
        for name in sorted(filenames):
            with open(os.path.join(dirpath, name), "rb") as f:
                chunks.append(name.encode() + b"\0" + f.read())
    return fingerprint.of_bytes(b"".join(chunks))[:12]
