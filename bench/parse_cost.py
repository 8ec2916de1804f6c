"""CPU per post of the collector's parse (``posts.parse_file``), one source tree against another.

    python bench/parse_cost.py --before /tmp/old-checkout [--after .] [-n 2000] [--rounds 4]

Each round starts a fresh process per tree (alternating, so both see the
same load), warms it on 100 posts, then parses every other post of a
generated corpus once, as a collect does, and prints the CPU time per post.
A second pass over the same posts would flatter the old Markdown path: its
paragraph cache would serve every line from memory. Compare the ratio, not
the microseconds: the host is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_MEASURE = r"""
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from syndicate.collect import posts as P
from syndicate.config import load
cfg = load(Path(sys.argv[1]) / "schedule.yaml")
src = next(s for s in cfg.sources if hasattr(s, "clean"))
entries = [e for e in P.scan(src) if isinstance(e, P.FileEntry)]
ctx = P.context(cfg.site, src, datetime.now(UTC), {})
for e in entries[:100]:
    P.parse_file(e, ctx)
rest = entries[100:]
t0 = time.process_time()
for e in rest:
    P.parse_file(e, ctx)
print((time.process_time() - t0) / len(rest) * 1e6)
"""


def _once(tree: Path, site: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(site)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the old code")
    ap.add_argument("--after", type=Path, default=ROOT, help="default: this checkout")
    ap.add_argument("-n", type=int, default=2000, help="posts (default 2000)")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args(argv)
    if args.n <= 100:
        ap.error("-n must be over 100 (the first 100 posts warm the process up)")
    sys.path.insert(0, str(ROOT / "bench"))
    import corpus

    with tempfile.TemporaryDirectory(prefix="syndicate-parse-") as tmp:
        site = Path(tmp)
        corpus.write(site, args.n)
        trees = {"before": args.before.resolve(), "after": args.after.resolve()}
        times: dict[str, list[float]] = {name: [] for name in trees}
        for i in range(args.rounds):
            for name, tree in trees.items():
                times[name].append(_once(tree, site))
            print(
                f"round {i + 1}/{args.rounds}: "
                + ", ".join(f"{name} {xs[-1]:.0f} µs" for name, xs in times.items()),
                file=sys.stderr,
            )
    med = {name: statistics.median(xs) for name, xs in times.items()}
    for name, xs in times.items():
        runs = ", ".join(f"{x:.0f}" for x in xs)
        print(f"{name}: median {med[name]:.0f} µs of CPU per post ({runs})")
    print(f"after ÷ before: {med['after'] / med['before']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
