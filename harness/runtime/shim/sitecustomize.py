# golf-check audit shim: loaded by every Python process of an audited run (via PYTHONPATH).
# It only records; it never changes what the candidate computes, except that it refuses
# network calls and writes to protected paths when golf-check could not sandbox the run.
import os

if os.environ.get("GOLF_CHECK_TRACE_FD") or os.environ.get("GOLF_CHECK_TRACE_DIR"):
    try:
        import golf_check_shim

        golf_check_shim.install()
    except Exception as exc:  # the audit must never crash the candidate
        import sys

        print(f"golf-check shim: not installed: {exc!r}", file=sys.stderr)

# A sitecustomize of the environment that this one shadows still runs.
_next = os.environ.get("GOLF_CHECK_NEXT_SITECUSTOMIZE")
if _next:
    import runpy

    runpy.run_path(_next, run_name="sitecustomize")
