"""What frontends will see: the draft's SDL, and how it differs from the saved blueprint's."""

from __future__ import annotations

from typing import Any, Callable

from core.dry_run import describe
from core.schema_diff import compare

Boot = Callable[[str], tuple[list[Any], Any, Any]]  # text -> (problems, blueprint, dry kernel)


def preview(text: str, saved_text: str, boot: Boot) -> dict[str, Any]:
    """``{"sdl", "problems", "against", "changes"}``; ``against`` is ``"saved"`` when the saved
    file boots (the changes are against it) and ``None`` for a new or broken file."""
    problems, _, kernel = boot(text)
    if kernel is None:
        return {"sdl": None, "problems": describe(problems), "against": None, "changes": None}
    sdl = kernel.schema.as_str() + "\n"
    saved_kernel = boot(saved_text)[2] if saved_text.strip() else None
    changes = compare(saved_kernel.schema.as_str(), sdl).as_dict() if saved_kernel is not None else None
    return {"sdl": sdl, "problems": [], "against": "saved" if saved_kernel is not None else None, "changes": changes}
