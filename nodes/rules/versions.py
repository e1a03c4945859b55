"""Rule versions, derived from the code each rule runs.

A rule's version must change whenever its code could compute something else:
then every node of its kind is recomputed after an upgrade, and nothing else
is. The code a rule runs is its module and every module that one imports,
directly or through others, anywhere in promptgen — at module level or inside
a function (rules import their parsers where they use them). That set is
found by reading the import statements of the source files, without importing
them, and the version hashes their bytes. No list of modules is kept by hand:
a module that a rule starts to import is part of its version from then on.

What counts as an import is read generously: imports for type checkers only,
and text in a docstring that looks like an import, count too. That can only
make a version change more often, never less. A package's ``__init__`` counts
only when a name is imported from it (the packages' docstrings are not rules).

The template rule's version also hashes the built-in template texts.

Deriving the versions reads some forty files; the result is kept in
``__pycache__`` next to this module, with the stamps of every file and folder
it read, and used again while none of them moved (the engine's stamp rule:
a stamp too recent to prove anything is never kept). Where that folder is not
writable the versions are derived at every build.

An installation without source files (bytecode only) cannot be read this
way: then every rule's version hashes every file of the domain package.
"""

from __future__ import annotations

import marshal
import os
import time

from promptgen.engine import fingerprint
from promptgen.engine.stamp import is_racy, stat_stamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Mapping, Optional

PACKAGE = "promptgen"
#: The folder that holds promptgen's subpackages (the installed ``promptgen/``).
_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CACHE_NAME = "rule-versions.marshal"

# what was read once per process: files of modules, folder listings, sources, imports
_files: dict[str, Optional[str]] = {}
_listings: dict[str, frozenset[str]] = {}
_sources: dict[str, Optional[bytes]] = {}
_deps: dict[str, list[str]] = {}
_versions: dict[str, str] = {}
_data_files: set[str] = set()


def versions(modules: Iterable[str], data: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The version of each rule module in ``modules``, from the cache when it still holds.

    ``data``: module → a folder of ``.md`` files its rule reads besides code
    (the built-in templates), hashed into its version too."""
    data = data or {}
    wanted = sorted(set(modules))
    cache = os.path.join(_TOP, "nodes", "rules", "__pycache__", _CACHE_NAME)
    keys = {m: m + ("\0" + data[m] if m in data else "") for m in wanted}
    found = _read_cache(cache, list(keys.values()))
    if found is not None:
        return {m: found[k] for m, k in keys.items()}
    out = {m: version(m, data.get(m)) for m in wanted}
    _write_cache(cache, {keys[m]: v for m, v in out.items()})
    return out


def version(module: str, data_dir: Optional[str] = None) -> str:
    """The version of a rule defined in ``module``: a hash of the source of
    everything it imports, and of the ``.md`` files in ``data_dir`` if given
    (derived now; see :func:`versions` for the cached form)."""
    if module not in _versions:
        modules = closure(module)
        if any(_source(m) is None for m in modules):
            _versions[module] = "1-" + _whole_package_hash()
        else:
            blob = b"".join(m.encode() + b"\0" + (_source(m) or b"") for m in modules)
            _versions[module] = "1-" + fingerprint.of_bytes(blob)[:12]
    return _versions[module] + ("" if data_dir is None else "-" + _data_hash(data_dir))


def _data_hash(folder: str) -> str:
    chunks = []
    for name in sorted(n for n in _listing(folder) if n.endswith(".md")):
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            chunks.append(name.encode() + b"\0" + f.read())
        _data_files.add(path)
    return fingerprint.of_bytes(b"".join(chunks))[:12]


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


# -- reading the code ---------------------------------------------------------------
def _file(module: str) -> Optional[str]:
    """The source file of a promptgen module (``promptgen.nodes.layout``), if it has one."""
    if module not in _files:
        folder, _, name = os.path.join(_TOP, *module.split(".")[1:]).rpartition(os.sep)
        if name + ".py" in _listing(folder):
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
                end = text.find(")", i)
                names = text[start:end].split(" import ", 1)[1]
            out.append((words[1], names))
        elif words and words[0] == "import":
            out.extend((w.split()[0], "") for w in line.split("import", 1)[1].split(",") if w.strip())
        if end < 0:
            break
        i = text.find("import ", end)
    return [(t, n) for t, n in out if t.startswith((".", PACKAGE + ".")) or t == PACKAGE]


def _resolve(module: str, target: str, names: str) -> list[str]:
    """The promptgen modules one import statement of ``module`` loads."""
    if target.startswith("."):
        level = len(target) - len(target.lstrip("."))
        path = _file(module)
        base = module if path is not None and path.endswith("__init__.py") else module.rsplit(".", 1)[0]
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


def _whole_package_hash() -> str:
    """Without sources to read: every file of the domain package."""
    chunks = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(_TOP, "nodes")):
        dirnames.sort()
        for name in sorted(filenames):
            with open(os.path.join(dirpath, name), "rb") as f:
                chunks.append(name.encode() + b"\0" + f.read())
    return fingerprint.of_bytes(b"".join(chunks))[:12]


# -- the cache ------------------------------------------------------------------------
def _read_cache(path: str, wanted: list[str]) -> Optional[dict[str, str]]:
    """The cached versions of ``wanted``, if every path they were read from is unmoved."""
    try:
        with open(path, "rb") as f:
            data = marshal.loads(f.read())
        stamps, found = data["stamps"], data["versions"]
        if not all(m in found for m in wanted):
            return None
        for p, stamp in stamps:
            if stat_stamp(p) != stamp:
                return None
        return {m: found[m] for m in wanted}
    except Exception:  # noqa: BLE001 - no cache, another format, a torn file: derive
        return None


def _write_cache(path: str, found: dict[str, str]) -> None:
    """Keep ``found`` with the stamps of what it was derived from; nothing if a stamp is racy."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)  # first: it may change a listed folder
    except OSError:
        return
    read = [p for m, p in _files.items() if p is not None and m in _sources] + list(_listings) + list(_data_files)
    read.append(os.path.abspath(__file__))  # how versions are derived is part of them
    now = time.time_ns()
    stamps = [(p, stat_stamp(p)) for p in sorted(set(read))]
    if any(is_racy(s, now) for _p, s in stamps):
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(marshal.dumps({"stamps": stamps, "versions": found}))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
