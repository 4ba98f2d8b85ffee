"""A dry-run boot: everything ``serve`` would check before it opens a database.

``dougong validate`` and the studio call :func:`check` so that a blueprint reported ``ok``
really boots: the settings pass their schemas (:mod:`core.blueprint`), and then the
components are registered, their contributions collected and the one GraphQL schema built
(with every example document validated), exactly as :class:`core.kernel.Kernel` does — only
the database is never touched. A refusal comes back as a :class:`core.blueprint.Problem` at
the line of the component to blame, its message naming both parties of a collision; an
unexpected exception in a component's code is reported the same way, never as a traceback.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping

from ruamel.yaml import YAML

import core.blueprint
from core.blueprint import Blueprint, BlueprintError, Problem, _Located
from registry.discovery import InstalledComponent

# Held while a kernel is built by a process that builds them from several threads (the
# studio warms its catalog in one): strawberry's type definitions are shared by every schema
# built in the process and are not meant to be resolved by two threads at once.
BUILDING = threading.Lock()

_QUOTED = re.compile(r"'([a-z][a-z0-9_]*)'")


def check(
    path: str | os.PathLike,
    *,
    text: str | None = None,
    installed: Mapping[str, InstalledComponent] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Problem], Blueprint | None]:
    """(problems, blueprint): the blueprint only when there is no problem; never raises."""
    problems, blueprint, _kernel = _run(path, text, installed, env, keep_kernel=False)
    return problems, blueprint


def boot(
    path: str | os.PathLike,
    *,
    text: str | None = None,
    installed: Mapping[str, InstalledComponent] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Problem], Blueprint | None, Any]:
    """:func:`check`, plus the dry kernel it booted (its ``schema`` is the SDL frontends get)."""
    return _run(path, text, installed, env, keep_kernel=True)


def _run(
    path: str | os.PathLike, text: str | None, installed: Mapping[str, InstalledComponent] | None, env: Mapping[str, str] | None, *, keep_kernel: bool
) -> tuple[list[Problem], Blueprint | None, Any]:
    try:
        blueprint = core.blueprint.load_blueprint(path, text=text, installed=installed, env=env)
    except BlueprintError as exc:
        return list(exc.problems), None, None
    except Exception as exc:  # the checks must never crash: report it and go on
        return [Problem(str(path), None, None, f"internal error while checking: {exc!r}", hint="please report this")], None, None
    if keep_kernel:
        kernel, refusal = _attempt(blueprint)
    else:
        kernel, refusal = None, _refusal(blueprint)
    if refusal is None:
        return [], blueprint, kernel
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""  # load_blueprint read it a moment ago; positions fall back to line 1
    if isinstance(refusal, list):  # the storefront pages: problems at their own lines
        return refusal, None, None
    message, parties, hint = refusal
    return [_locate(blueprint, text, message, parties, hint)], None, None


Refusal = tuple[str, list[str], "str | None"]  # message, components it names, hint
_REFUSALS: OrderedDict[Any, Refusal | list[Problem] | None] = OrderedDict()


def _refusal(blueprint: Blueprint) -> Refusal | list[Problem] | None:
    """Why ``blueprint`` cannot boot (None: it boots), remembered for the last few hundred
    distinct boots: the same components with the same settings boot the same way, and
    editing a comment or a brand name (the studio, as someone types; the blueprint fuzzer)
    should not cost a second each."""
    if blueprint.pages is not None:
        # Page problems carry line numbers, which a cached answer would get wrong after an edit.
        return _attempt(blueprint)[1]
    key = _boot_key(blueprint)
    if key in _REFUSALS:
        _REFUSALS.move_to_end(key)
        return _REFUSALS[key]
    _kernel, refusal = _attempt(blueprint)
    _REFUSALS[key] = refusal
    while len(_REFUSALS) > 256:
        _REFUSALS.popitem(last=False)
    return refusal


def _boot_key(blueprint: Blueprint) -> Any:
    """Everything a dry-run boot depends on: which code (component, version, hooks module),
    which settings, the brand, auth and production switches, and the DOUGONG_* environment."""
    code = tuple((c.manifest.name, c.manifest.version, c.manifest.hooks, c.module) for c in blueprint.resolution.order)
    settings = json.dumps({name: entry.settings for name, entry in blueprint.components.items()}, sort_keys=True, default=repr)
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("DOUGONG_") or k == "REDIS_URL"))
    return code, settings, blueprint.brand, blueprint.auth, blueprint.production, blueprint.storage.redis, environment


def _attempt(blueprint: Blueprint) -> tuple[Any, Refusal | list[Problem] | None]:
    from core.errors import BootError
    from core.pages import PagesError

    try:
        return dry_kernel(blueprint), None
    except PagesError as exc:
        return None, list(exc.problems)
    except BootError as exc:
        return None, (str(exc), _parties(str(exc), blueprint), None)
    except Exception as exc:  # a component's own code failed while registering
        culprit = _component_in_traceback(exc.__traceback__, blueprint)
        message = f"{culprit or 'a component'} failed while booting: {type(exc).__name__}: {exc}"
        return None, (message, [culprit] if culprit else [], "a bug in the component: report it to its author")


def dry_kernel(blueprint: Blueprint) -> Any:
    """A :class:`core.kernel.Kernel` of ``blueprint`` whose database is never opened: its
    contributions and schema are complete; :class:`core.errors.BootError` if it cannot boot."""
    from core.kernel import Kernel

    with tempfile.TemporaryDirectory(prefix="dougong-dry-run-") as folder:
        # The engines are created but never connected: no file, no server is touched.
        kernel = Kernel(blueprint, database_url=f"sqlite+aiosqlite:///{Path(folder) / 'never-opened.sqlite'}")
    for engine in {kernel.db.write_engine, kernel.db.read_engine}:
        engine.sync_engine.dispose()
    return kernel


def _parties(message: str, blueprint: Blueprint) -> list[str]:
    """Loaded components a boot message names, in the order it names them."""
    loaded = set(blueprint.resolution.names)
    return list(dict.fromkeys(name for name in _QUOTED.findall(message) if name in loaded))


def _component_in_traceback(tb: TracebackType | None, blueprint: Blueprint) -> str | None:
    """The component whose code raised: the deepest frame inside one of its modules."""
    packages = {c.module: c.manifest.name for c in blueprint.resolution.order}
    packages.update({c.manifest.hooks.rsplit(".", 1)[0]: c.manifest.name for c in blueprint.resolution.order})
    found = None
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        for package, name in packages.items():
            if module == package or module.startswith(package + "."):
                found = name
        tb = tb.tb_next
    return found


def _locate(blueprint: Blueprint, text: str, message: str, parties: list[str], hint: str | None) -> Problem:
    """Point at the component to blame: the second party of "claimed by both a and b" (the
    newcomer; the first was there before), else the first named. A component the blueprint
    does not name itself is reached through the one that pulled it in."""
    try:
        located = _Located(blueprint.path, YAML().load(text))
    except Exception:
        located = _Located(blueprint.path, None)
    if not parties:
        return located.problem(("components",), message, key=True, hint=hint, setting="components")
    blamed = parties[-1] if " both " in message else parties[0]
    anchor = blamed
    written = set(blueprint.resolution.requested)
    if anchor not in written:
        chain = blueprint.resolution.pulled_in.get(anchor, ())
        anchor = chain[0] if chain and chain[0] in written else anchor
    return located.problem(("components", anchor), message, key=True, component=blamed, hint=hint, setting=f"components.{anchor}")


def describe(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as JSON for the studio: where, which component and setting, and the CLI text."""
    return [
        {"line": p.line, "column": p.column, "component": p.component, "setting": p.setting, "message": p.message, "hint": p.hint, "text": str(p)}
        for p in problems
    ]
