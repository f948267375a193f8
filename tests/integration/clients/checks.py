"""checks.py: the "ok: ..." / "FAIL: ..." lines the scenario clients print.

check() prints one line per check, flushed at once so that a crash later
keeps what was already proved; failed() says whether any check failed, for
the exit status.
"""

_failures = 0


def check(ok, what):
    global _failures
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        _failures += 1


def failed():
    return _failures > 0
