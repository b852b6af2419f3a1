"""Which committed paths are safe to write below a directory, and where a symlink points.

Git normally refuses ``..`` and ``.git`` path components, but a crafted tree object can still
carry them, and a symlink's target is arbitrary text. The gate never writes such a path and
reports it instead.
"""

from __future__ import annotations

import posixpath
import unicodedata


def path_problem(path: str) -> str | None:
    """Why ``path`` (repository-relative, "/"-separated) is unsafe, or None if it is fine."""
    if not path:
        return "empty path"
    if path.startswith("/"):
        return "absolute path"
    if "\\" in path:
        return "backslash in path (a directory separator on Windows)"
    if "\ufffd" in path:
        return "path is not valid UTF-8"
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in path):
        return "control or invisible character in path"
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return f"path component {part!r} can climb out of the folder"
        if part.lower() == ".git" or part.lower().startswith(".git~"):
            return "path component .git (git's own directory)"
    return None


def symlink_escapes(link_path: str, target: str, folder: str) -> bool:
    """Whether the symlink at ``link_path`` pointing to ``target`` resolves outside ``folder``."""
    if target.startswith("/") or "\\" in target:
        return True
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link_path), target))
    return not (resolved == folder or resolved.startswith(folder + "/"))
