"""Wall time and peak memory of `promoflow demo` (default retailer, fresh database).

uv run python benchmarks/demo_memory.py [-- extra demo options]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time


def main() -> None:
    data_dir = tempfile.mkdtemp()
    command = [sys.executable, "-m", "promoflow.cli.main", "demo", *sys.argv[1:]]
    began = time.monotonic()
    result = subprocess.run(
        command,
        env={"PROMOFLOW_DATA_DIR": data_dir, "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - began
    # ru_maxrss of the children is in KiB on Linux: the demo process's peak.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    last = [line for line in result.stdout.splitlines() if line.strip()][-1:]
    print(f"demo exit={result.returncode} wall={wall:.1f}s peak_rss={peak_mib:.0f} MiB")
    print("last line:", *last)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])


if __name__ == "__main__":
    main()
