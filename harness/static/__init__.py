"""Static analysis of candidate scripts: read, unwrap, model and check them, never run them.

Public entry points:

* ``load_script(path) -> LoadedScript``: decode and unwrap a script (``loader``);
* ``needed_code_files(script) -> CodeFiles``: the script plus helper files its run needs
  (``codefiles``);
* ``check_paths(paths, select=None, ignore=None, strict=False) -> Report``: the
  ``golf-check check`` engine (``checker``);
* ``ProgramModel``: the per-script facts every static detector asks about (``model``), with
  settings defaults (``settings``) and the validation-adaptation analysis (``adaptation``);
* the ``check`` click command (``command``). Suppression comments are read by a rule module
  (``rules/suppressions.py``), a reviewer the checker runs after the detectors.
"""

from __future__ import annotations

from golf_check.harness.static.codefiles import CodeFiles, needed_code_files
from golf_check.harness.static.loader import LoadedScript, load_script

__all__ = [
    "CodeFiles",
    "LoadedScript",
    "ProgramModel",
    "check_paths",
    "load_script",
    "needed_code_files",
]


def __getattr__(name: str):
    # Imported lazily: the checker pulls in the rule catalogue.
    if name == "check_paths":
        from golf_check.harness.static.checker import check_paths

        return check_paths
    if name == "ProgramModel":
        from golf_check.harness.static.model import ProgramModel

        return ProgramModel
    raise AttributeError(name)
