"""A workspace's configuration: its root, its plan roots, where template overrides live.

Read from the optional ``promptgen.toml`` at the workspace root (``plan_roots``,
``templates_dir``) plus plan roots given on the command line. Every error says
how to fix the file.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Sequence, Union

    PathArg = Union[str, "os.PathLike[str]"]

CONFIG_FILE = "promptgen.toml"
DEFAULT_PLAN_ROOTS = ("work-space/plans",)
DEFAULT_TEMPLATES_DIR = ".promptgen/templates"


class ConfigError(Exception):
    """``promptgen.toml`` (or a plan-root option) is wrong; the message says how to fix it."""


class WorkspaceConfig:
    """Where a workspace is and what it configures; immutable.

    ``root`` is the absolute path of the workspace folder (a str; a path-like
    given to the constructor is converted).
    """

    __slots__ = ("root", "plan_roots", "templates_dir")

    root: str
    plan_roots: tuple[str, ...]
    templates_dir: str

    def __init__(self, root: PathArg, plan_roots: tuple[str, ...] = DEFAULT_PLAN_ROOTS,
                 templates_dir: str = DEFAULT_TEMPLATES_DIR) -> None:
        object.__setattr__(self, "root", os.path.abspath(os.fspath(root)))
        object.__setattr__(self, "plan_roots", plan_roots)
        object.__setattr__(self, "templates_dir", templates_dir)

    def _fields(self) -> tuple:
        return (self.root, self.plan_roots, self.templates_dir)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(root={self.root!r}, plan_roots={self.plan_roots!r}, "
                f"templates_dir={self.templates_dir!r})")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a WorkspaceConfig is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a WorkspaceConfig is immutable")


def _relative(root: PathArg, value: object, what: str) -> str:
    """A workspace-relative ``/`` path, or ConfigError saying how to fix it."""
    example = 'e.g. "work-space/backlog-plans"'
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what}: expected a non-empty string path relative to the workspace root ({example})")
    raw = value.strip().replace("\\", "/")
    if os.path.isabs(raw):
        real, base = os.path.realpath(raw), os.path.realpath(root)
        if real == base:
            raw = "."
        elif real.startswith(base if base.endswith("/") else base + "/"):
            raw = real[len(base):].lstrip("/")
        else:
            raise ConfigError(f"{what}: {value!r} is outside the workspace {os.fspath(root)}; "
                              f"use a path inside it, relative to the root ({example})")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ConfigError(f"{what}: {value!r} must name a folder inside the workspace, "
                          f"relative to its root, without '..' ({example})")
    return "/".join(parts)


def load_config(root: PathArg, extra_plan_roots: Sequence[str] = ()) -> WorkspaceConfig:
    """The configuration of the workspace at ``root``.

    Reads the optional ``promptgen.toml`` at the root (``plan_roots = [...]``,
    ``templates_dir = "..."``), then adds ``extra_plan_roots`` (e.g. from the
    command line). Raises :class:`ConfigError` with a message that says how to
    fix the file. ``root`` is a str or a path-like; the configuration holds it
    as an absolute str.
    """
    root = os.path.abspath(os.fspath(root))
    plan_roots: list[str] = list(DEFAULT_PLAN_ROOTS)
    templates_dir = DEFAULT_TEMPLATES_DIR
    cfg_path = os.path.join(root, CONFIG_FILE)
    if os.path.isfile(cfg_path):
        import tomllib  # only when there is a config file; see promptgen/__init__.py

        try:
            with open(cfg_path, encoding="utf-8") as f:
                data = tomllib.loads(f.read())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{CONFIG_FILE}: not valid TOML ({exc}); fix the syntax, e.g. "
                              f'plan_roots = ["work-space/plans", "work-space/backlog-plans"]') from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{CONFIG_FILE}: cannot be read ({exc}); make it a readable UTF-8 file") from None
        unknown = sorted(set(data) - {"plan_roots", "templates_dir"})
        if unknown:
            raise ConfigError(f"{CONFIG_FILE}: unknown setting(s) {', '.join(unknown)}; "
                              f"the known settings are plan_roots and templates_dir")
        if "plan_roots" in data:
            value = data["plan_roots"]
            if not isinstance(value, list) or not value:
                raise ConfigError(f'{CONFIG_FILE}: plan_roots must be a non-empty list of folders, e.g. '
                                  f'plan_roots = ["work-space/plans", "work-space/backlog-plans"]')
            plan_roots = [_relative(root, v, f"{CONFIG_FILE}: plan_roots") for v in value]
        if "templates_dir" in data:
            templates_dir = _relative(root, data["templates_dir"], f"{CONFIG_FILE}: templates_dir")
    for extra in extra_plan_roots:
        plan_roots.append(_relative(root, extra, "plan root"))
    return WorkspaceConfig(root=root, plan_roots=tuple(dict.fromkeys(plan_roots)), templates_dir=templates_dir)
