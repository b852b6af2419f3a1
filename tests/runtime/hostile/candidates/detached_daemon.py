"""After scoring, leaves a daemon behind: fork, setsid, exec Python with an empty
environment (no run token, no shim); it waits, then tries to rewrite the run's report and
leaves a marker file where the test looks for it."""

import os
import sys

from _base import tiny_lm

DAEMON = """
import sys, time
time.sleep(3)
for path in ("../report.json", "../../report.json"):
    try:
        open(path, "w").write("{}")
    except OSError:
        pass
open(sys.argv[1], "w").write("outlived the run")
"""

tiny_lm.main()
marker = os.environ["DAEMON_MARKER"]
if os.fork() == 0:
    os.setsid()
    os.execve(sys.executable, [sys.executable, "-c", DAEMON, marker], {})
