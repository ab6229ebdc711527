"""``python bench/profil_cpu.py OUT.prof -m module args...``: cProfile with a CPU-time clock.

On a shared machine cProfile's default wall clock counts the time this process waits for a core; with
``time.process_time`` each function is charged only the CPU it used, so profiles taken under load stay
comparable (issue 16 bench)."""

import cProfile
import runpy
import sys
import time

if __name__ == "__main__":
    out, flag, module, *args = sys.argv[1:]
    assert flag == "-m", "usage: profil_cpu.py OUT.prof -m module args..."
    sys.argv = [module, *args]
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    finally:
        prof.disable()
        prof.dump_stats(out)
    sys.exit(code)
