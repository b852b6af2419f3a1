"""Does the whole work in a child ``python -I``, which never loads the audit shim."""

import subprocess
import sys

from _base import TINY_LM

subprocess.run([sys.executable, "-I", TINY_LM], check=True)
