"""How quickly the command line starts: `promoflow --help` and `promoflow promotions list`.

uv run python benchmarks/cli_start.py [--runs 15] [--target 1.5] [--baseline PATH]

Each run is a new process of the installed console script, as a user types it; the
list reads an empty database of its own (created and migrated by an untimed first
run). Python's bytecode caches are written by an untimed warm-up, as on any machine
after the first command: PYTHONDONTWRITEBYTECODE is dropped for the children. Prints
the median and p90 wall seconds, the median CPU seconds (what a busy machine
inflates least) and the peak RSS of each command, and exits 1 when
a p90 misses the target.

On a machine others share, a figure depends on their load more than on the code;
`--baseline /other/checkout/.venv/bin/promoflow` runs that script's command in turn
with this one's (one run each, alternately, each on a database of its own), so both
are measured under the same load. The baseline's bytecode caches go to a folder under
the temporary directory, leaving its checkout as it is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMOFLOW = str(Path(sys.executable).with_name("promoflow"))
COMMANDS = {"promoflow --help": ["--help"], "promoflow promotions list": ["promotions", "list"]}


def run_once(
    args: list[str], env: dict[str, str], script: str = PROMOFLOW
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one `promoflow <args>` process."""
    began = time.perf_counter()
    process = subprocess.Popen(
        [script, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        stderr = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"promoflow {' '.join(args)} exited {process.returncode}: {stderr}")
    if process.stderr:
        process.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KiB on Linux


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def environment(prefix: str) -> dict[str, str]:
    """The caller's environment without PROMOFLOW_ settings, on an empty data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOFLOW_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PROMOFLOW_DATA_DIR"] = tempfile.mkdtemp(prefix=prefix)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    parser.add_argument("--target", type=float, default=1.5, help="p90 seconds to stay under")
    parser.add_argument("--baseline", help="another promoflow script, run alternately with this")
    options = parser.parse_args()
    scripts = {"": (PROMOFLOW, environment("promoflow-cli-start-"))}
    if options.baseline:
        baseline_env = environment("promoflow-cli-start-baseline-")
        baseline_env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="promoflow-pycache-")
        scripts = {"baseline ": (options.baseline, baseline_env), "this ": scripts[""]}
    missed = False
    print(f"{options.runs} runs each; load average {os.getloadavg()[0]:.1f} at start")
    print(f"(machine: {os.cpu_count()} cores, Python {sys.version.split()[0]})")
    for label, args in COMMANDS.items():
        for script, env in scripts.values():
            run_once(args, env, script)  # untimed: bytecode caches, the database migrated
        timed: dict[str, list[tuple[float, float, float]]] = {name: [] for name in scripts}
        for _ in range(options.runs):
            for name, (script, env) in scripts.items():
                timed[name].append(run_once(args, env, script))
        for name, runs in timed.items():
            walls, cpus, peaks = zip(*runs, strict=True)
            median, high = statistics.median(walls), p90(list(walls))
            verdict = "ok" if high < options.target else f"OVER the {options.target} s target"
            missed |= high >= options.target and name != "baseline "
            cpu = statistics.median(cpus)
            print(
                f"{name + label:<37} median {median:.2f} s  p90 {high:.2f} s  "
                f"(CPU median {cpu:.2f} s)  peak RSS {max(peaks):.0f} MiB  {verdict}"
            )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
