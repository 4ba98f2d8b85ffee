"""Blueprint files as the studio edits them: round-trip YAML, merges, diffs, edit detection.

The browser edits a plain JSON copy of the blueprint (``model``); :func:`render` writes it
back *into the text it came from* with ruamel's round-trip mode, so comments, key order,
quoting and flow style of everything the consultant did not touch stay as they were — the
file still reads as a person wrote it. A file is identified by the hash of its bytes when it
was opened; :class:`Folder.save` refuses to overwrite a file whose hash moved meanwhile (an
edit in another editor), rather than silently losing that edit.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

# A blueprint lives directly in the studio's folder: no separators, no dot-files, no "..".
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.ya?ml$")


class StudioError(Exception):
    """A request the studio refuses; ``code`` is stable for the browser, ``status`` for HTTP."""

    def __init__(self, code: str, message: str, status: int = 400, **details: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the consultant wrote
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse(text: str) -> Any:
    try:
        return _yaml().load(text) if text.strip() else CommentedMap()
    except Exception as exc:  # ruamel's errors carry their own position in the message
        raise StudioError("YAML_UNREADABLE", f"the YAML cannot be read: {exc}") from None


def to_plain(node: Any) -> Any:
    """The JSON the browser edits (ruamel's scalar subclasses become plain values)."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def merge(node: Any, value: Any) -> Any:
    """``value`` written over ``node`` in place where both are mappings or lists, keeping the
    comments and order of the keys that stay; new keys go at the end, dropped keys go."""
    if isinstance(node, CommentedMap) and isinstance(value, dict):
        if not node and value:
            node.fa.set_block_style()  # `components: {}` grows into a block, one per line
        for key in [k for k in node if k not in value]:
            del node[key]
        for key, item in value.items():
            node[key] = merge(node[key], item) if key in node else _fresh(item)
        return node
    if isinstance(node, CommentedSeq) and isinstance(value, list):
        del node[len(value) :]
        for i, item in enumerate(value):
            if i < len(node):
                node[i] = merge(node[i], item)
            else:
                node.append(_fresh(item))
        return node
    if _same_scalar(node, value):
        return node  # keeps quoting and the exact spelling ("0x10", '30m')
    return _fresh(value)


def _same_scalar(node: Any, value: Any) -> bool:
    if isinstance(node, (dict, list)) or isinstance(value, (dict, list)):
        return False
    if isinstance(node, bool) or isinstance(value, bool):
        return isinstance(node, bool) and isinstance(value, bool) and node == value
    return type(to_plain(node)) is type(value) and to_plain(node) == value


def _fresh(value: Any) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _fresh(item)
        if not value:
            node.fa.set_flow_style()  # `catalog: {}` rather than `catalog:` (null)
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_fresh(v) for v in value)
        if not value:
            seq.fa.set_flow_style()
        return seq
    return value


def render(base_text: str, model: Any) -> str:
    """``model`` as YAML text, written into ``base_text`` (which may be empty)."""
    if not isinstance(model, dict):
        raise StudioError("MODEL_INVALID", "the blueprint must be a mapping")
    root = parse(base_text)
    if not isinstance(root, CommentedMap):
        root = CommentedMap()
    merge(root, model)
    out = io.StringIO()
    _yaml().dump(root, out)
    return out.getvalue()


def diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"{name} (saved)", f"{name} (studio)"))


@dataclass(frozen=True)
class Opened:
    name: str
    text: str  # "" for a file that does not exist yet
    hash: str | None  # None when it does not exist


class Folder:
    """The folder of blueprints ``dougong studio`` serves; nothing outside it is reachable."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, name: str) -> Path:
        if not isinstance(name, str) or not _FILE_NAME.match(name):
            raise StudioError("FILE_NAME_INVALID", f"{name!r} is not a blueprint file name: letters, digits, '.', '-', '_', ending in .yaml")
        return self.root / name

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_file() and _FILE_NAME.match(p.name))

    def open(self, name: str) -> Opened:
        path = self.path(name)
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return Opened(name, "", None)
        except (OSError, UnicodeDecodeError) as exc:
            raise StudioError("FILE_UNREADABLE", f"{name} cannot be read: {exc}") from None
        return Opened(name, text, digest(text))

    def save(self, name: str, text: str, base_hash: str | None) -> str:
        """Write ``text`` if the file is still what the studio opened (``base_hash``)."""
        current = self.open(name)
        if current.hash != base_hash:
            what = "was created" if base_hash is None else ("was deleted" if current.hash is None else "was changed")
            raise StudioError(
                "FILE_CHANGED_ON_DISK",
                f"{name} {what} outside the studio since you opened it; "
                "reload it (your edits are shown against the new version) or save under another name",
                status=409,
                current_hash=current.hash,
                diff=diff(current.text, text, name),
            )
        path = self.path(name)
        temporary = path.with_name(f".{name}.studio-tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)  # atomic: an editor never sees half a file
        return digest(text) or ""
