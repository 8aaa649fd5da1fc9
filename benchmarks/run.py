#!/usr/bin/env python3
"""minicluster benchmarks: figures from one run, as ratios against plain Python.

    python benchmarks/run.py [--only w0,pipeline,w1,w1-failover,w2,w3] [--runs N] [--records N]
                             [--batch-size N] [--w2-runs N] [--data DIR] [--scale S]
                             [--kill-after-lines N]

Every figure is measured in this run, against a plain-Python baseline measured in this
same run: the machine is shared and noisy, so the commands of a benchmark run
interleaved (one of each per round, order rotated) and medians are reported. Each
benchmark prints a table; the ``RESULT <name> key=value ...`` lines at the end are for
pasting into notes. A benchmark is an entry of ``BENCHMARKS``: a function from the
parsed options to (table text, RESULT figures); W1-W3 of WORKLOADS.md go there too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from _measure import Measurement, interleave, peak_rss_probe
from _report import Summary, mb, result_line, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable

W0_TARGET_MEDIAN_S = 0.5
PIPELINE_TARGET_RATIO = 1.0


def _progress(name: str):
    def report(done: int, total: int) -> None:
        print(f"  {name}: round {done}/{total}", file=sys.stderr, flush=True)
    return report


def _walls(measurements: list[Measurement]) -> Summary:
    return Summary.of([m.wall_s for m in measurements])


def _peak_rss(measurements: list[Measurement]) -> float:
    return max(m.peak_rss_bytes for m in measurements)


# -- W0: start, a 10-record job, stop -------------------------------------------------

def bench_w0(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    commands = {
        "python -c pass": [PY, "-c", "pass"],
        "python -c 'import minicluster.datastream'": [PY, "-c", "import minicluster.datastream"],
        "python examples/trivial.py": [PY, "examples/trivial.py"],
    }
    runs = interleave(commands, args.runs, cwd=str(ROOT), progress=_progress("w0"))
    plain, imported, job = (_walls(runs[label]) for label in commands)
    # The TaskManagers live ~25 ms: too short for the 50 ms sampling of the timed runs.
    peak = peak_rss_probe(commands, cwd=str(ROOT))
    rows = []
    for label, summary in zip(commands, (plain, imported, job)):
        rows.append([
            label, summary.median, summary.low, summary.high,
            summary.median / plain.median, mb(peak[label]),
        ])
    text = table(
        ["process", "median s", "min s", "max s", "x plain start", "peak RSS MB"], rows
    )
    text += (
        f"\nimport cost (import - plain): {imported.median - plain.median:.3f} s;"
        f" cluster + job cost (trivial - import): {job.median - imported.median:.3f} s"
        f"\npeak RSS: process tree, one separate untimed run per command sampled every 2 ms"
        f"\ntarget: trivial.py median < {W0_TARGET_MEDIAN_S} s ->"
        f" {'met' if job.median < W0_TARGET_MEDIAN_S else 'NOT met'}"
    )
    figures = {
        "median_s": job.median,
        "min_s": job.low,
        "max_s": job.high,
        "plain_python_median_s": plain.median,
        "import_median_s": imported.median,
        "ratio_vs_plain": job.median / plain.median,
        "ratio_vs_import": job.median / imported.median,
        "peak_rss_mb": mb(peak["python examples/trivial.py"]),
        "runs": args.runs,
        "target_met": job.median < W0_TARGET_MEDIAN_S,
    }
    return text, figures


# -- pipeline: numbers -> map -> key_by -> sum -> discard, p=2 -------------------------

def bench_pipeline(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    n = args.records
    job = [PY, str(HERE / "pipeline_job.py")]
    batch = [str(args.batch_size)] if args.batch_size else []
    commands = {
        "plain Python, 1 process": [PY, str(HERE / "pipeline_baseline.py"), str(n)],
        "minicluster, p=2": [*job, str(n), *batch],
    }
    warmup = {
        "baseline": [PY, str(HERE / "pipeline_baseline.py"), "1000"],
        "cluster": [*job, "1000", *batch],
    }
    runs = interleave(commands, args.runs, cwd=str(ROOT), warmup=warmup,
                      progress=_progress("pipeline"))
    base_runs, cluster_runs = (runs[label] for label in commands)
    base, cluster = _walls(base_runs), _walls(cluster_runs)
    base_inner = Summary.of([m.reported("JOB_WALL_S") for m in base_runs])
    cluster_inner = Summary.of([m.reported("JOB_WALL_S") for m in cluster_runs])
    ratio = base.median / cluster.median
    rows = [
        [label, whole.median, whole.low, whole.high, n / whole.median,
         inner.median, n / inner.median, mb(_peak_rss(measured))]
        for label, whole, inner, measured in (
            ("plain Python, 1 process", base, base_inner, base_runs),
            ("minicluster, p=2", cluster, cluster_inner, cluster_runs),
        )
    ]
    text = table(
        ["run", "median s", "min s", "max s", "records/s",
         "inner median s", "inner records/s", "peak RSS MB"],
        rows,
    )
    text += (
        f"\nwhole process timed from outside; 'inner' = the time the script itself"
        f" reports (cluster: environment through execute(); plain: the loop)"
        f"\nratio = plain median / cluster median = {ratio:.3f}"
        f" (inner: {base_inner.median / cluster_inner.median:.3f});"
        f" target >= {PIPELINE_TARGET_RATIO} ->"
        f" {'met' if ratio >= PIPELINE_TARGET_RATIO else 'NOT met'}"
    )
    figures = {
        "records": n,
        "batch_size": args.batch_size or "default",
        "cluster_median_s": cluster.median,
        "cluster_records_per_s": n / cluster.median,
        "cluster_job_median_s": cluster_inner.median,
        "baseline_median_s": base.median,
        "baseline_records_per_s": n / base.median,
        "ratio": ratio,
        "ratio_inner": base_inner.median / cluster_inner.median,
        "cluster_peak_rss_mb": mb(_peak_rss(cluster_runs)),
        "baseline_peak_rss_mb": mb(_peak_rss(base_runs)),
        "runs": args.runs,
        "target_met": ratio >= PIPELINE_TARGET_RATIO,
    }
    return text, figures


# -- W2: event-time tumbling windows over events.csv, p=2 ------------------------------

W2_TARGET_RATIO = 1.0
W2_TARGET_PEAK_MB = 600
W1_TARGET_RATIO = 1.3  # issue 4 (BATCH word count)
W1_TARGET_PEAK_MB = 500
SHARED_BENCH = ROOT.parent / "shared" / "bench"


def ensure_bench_data(data_dir: Path, scale: float) -> Path:
    """Generate the workloads' inputs with ../shared/bench/gen.py unless present."""
    marker = data_dir / f".scale-{scale}"
    if not marker.exists():
        print(f"  generating bench data (scale {scale}) in {data_dir}", file=sys.stderr)
        subprocess.run([PY, str(SHARED_BENCH / "gen.py"), str(data_dir), "--scale", str(scale)],
                       check=True)
        marker.touch()
    return data_dir


def bench_workload(
    args: argparse.Namespace,
    workload: str,
    job_script: str,
    input_file: str,
    target_ratio: float,
    target_peak_mb: float,
) -> tuple[str, dict[str, object]]:
    """A W workload: the cluster job (whole process, p=2) against
    ``baseline_single.py <workload>`` in the same run; the job's part files must equal
    the reference's output (check.py)."""
    data = ensure_bench_data(Path(args.data), args.scale)
    work = Path(tempfile.mkdtemp(prefix=f"{workload.lower()}-"))
    reference, out_dir = work / "reference.txt", work / "cluster"
    commands = {
        "plain Python reference": [PY, str(SHARED_BENCH / "baseline_single.py"), workload,
                                   str(data), str(reference)],
        "minicluster, p=2": [PY, str(HERE / job_script), str(data), str(out_dir), "2"],
    }
    runs = interleave(commands, args.w2_runs, cwd=str(ROOT), progress=_progress(workload))
    base_runs, cluster_runs = (runs[label] for label in commands)
    base, cluster = _walls(base_runs), _walls(cluster_runs)
    combined = work / "cluster.txt"
    with open(combined, "w") as out:
        for part in sorted(out_dir.glob("part-*")):
            out.write(part.read_text())
    check = subprocess.run([PY, str(SHARED_BENCH / "check.py"), str(combined), str(reference)],
                           capture_output=True, text=True)
    shutil.rmtree(work, ignore_errors=True)
    records = sum(1 for _ in open(data / input_file))
    ratio = base.median / cluster.median
    peak = _peak_rss(cluster_runs) / 2**20
    rows = [
        [label, whole.median, whole.low, whole.high, records / whole.median, mb(_peak_rss(m))]
        for label, whole, m in (("plain Python reference", base, base_runs),
                                ("minicluster, p=2", cluster, cluster_runs))
    ]
    text = table(["run", "median s", "min s", "max s", "input lines/s", "peak RSS MB"], rows)
    met = ratio >= target_ratio and peak < target_peak_mb and check.returncode == 0
    text += (
        f"\noutput check: {check.stdout.strip()}"
        f"\nratio = reference median / cluster median = {ratio:.3f}; target >= {target_ratio}"
        f" -> {'met' if ratio >= target_ratio else 'NOT met'}"
        f"\npeak RSS of the cluster's process tree {peak:.1f} MB; target < {target_peak_mb} MB"
    )
    figures = {
        "input_lines": records,
        "cluster_median_s": cluster.median,
        "reference_median_s": base.median,
        "ratio": ratio,
        "cluster_peak_rss_mb": round(peak, 1),
        "output_identical": check.returncode == 0,
        "runs": args.w2_runs,
        "target_met": met,
    }
    return text, figures


def bench_w1(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    return bench_workload(args, "W1", "w1_job.py", "words.txt", W1_TARGET_RATIO, W1_TARGET_PEAK_MB)


W1_FAILOVER_TARGET_RATIO = 1.6  # issue 4: a killed TaskManager costs < 1.6x


def bench_w1_failover(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    """W1 with one TaskManager SIGKILLed mid-job (``w1_job.py --kill-after-lines``,
    fixed-delay restarts) against the failure-free W1, interleaved; both outputs must
    equal the reference's."""
    data = ensure_bench_data(Path(args.data), args.scale)
    lines = sum(1 for _ in open(data / "words.txt"))
    # each of the 2 splitter subtasks reads about half the lines: die half-way through
    kill_after = args.kill_after_lines or max(1, lines // 4)
    work = Path(tempfile.mkdtemp(prefix="w1-failover-"))
    reference = work / "reference.txt"
    subprocess.run([PY, str(SHARED_BENCH / "baseline_single.py"), "W1", str(data),
                    str(reference)], check=True)
    job = [PY, str(HERE / "w1_job.py"), str(data)]
    out = {"free": work / "free", "killed": work / "killed"}
    commands = {
        "minicluster, p=2, failure-free": [*job, str(out["free"]), "2"],
        "minicluster, p=2, one TaskManager killed": [
            *job, str(out["killed"]), "2", "--kill-after-lines", str(kill_after)],
    }
    runs = interleave(commands, args.w2_runs, cwd=str(ROOT), progress=_progress("w1-failover"))
    free_runs, killed_runs = (runs[label] for label in commands)
    free, killed = _walls(free_runs), _walls(killed_runs)
    checks = {}
    for name, out_dir in out.items():  # the last run of each command left its parts
        combined = work / f"{name}.txt"
        with open(combined, "w") as sink:
            for part in sorted(out_dir.glob("part-*")):
                sink.write(part.read_text())
        checks[name] = subprocess.run(
            [PY, str(SHARED_BENCH / "check.py"), str(combined), str(reference)],
            capture_output=True, text=True)
    shutil.rmtree(work, ignore_errors=True)
    ratio = killed.median / free.median
    identical = all(check.returncode == 0 for check in checks.values())
    rows = [
        [label, whole.median, whole.low, whole.high, mb(_peak_rss(m))]
        for label, whole, m in ((label, summary, runs[label]) for label, summary
                                in zip(commands, (free, killed)))
    ]
    text = table(["run", "median s", "min s", "max s", "peak RSS MB"], rows)
    met = ratio < W1_FAILOVER_TARGET_RATIO and identical
    text += (
        f"\nkilled: the first splitter subtask to reach its line {kill_after} SIGKILLs its"
        f" TaskManager (once); restart-strategy fixed-delay, 3 attempts, 0 ms"
        f"\noutput check: failure-free {checks['free'].stdout.strip()};"
        f" killed {checks['killed'].stdout.strip()}"
        f"\nratio = killed median / failure-free median = {ratio:.3f};"
        f" target < {W1_FAILOVER_TARGET_RATIO} -> {'met' if met else 'NOT met'}"
    )
    figures = {
        "kill_after_lines": kill_after,
        "failure_free_median_s": free.median,
        "killed_median_s": killed.median,
        "ratio": ratio,
        "failover_cost_s": killed.median - free.median,
        "killed_peak_rss_mb": mb(_peak_rss(killed_runs)),
        "output_identical": identical,
        "runs": args.w2_runs,
        "target_met": met,
    }
    return text, figures


def bench_w2(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    return bench_workload(args, "W2", "w2_job.py", "events.csv", W2_TARGET_RATIO, W2_TARGET_PEAK_MB)


def bench_w3(args: argparse.Namespace) -> tuple[str, dict[str, object]]:
    return bench_workload(args, "W3", "w3_job.py", "orders.csv", 1.0, 600)


BENCHMARKS: dict[str, tuple[str, Callable[[argparse.Namespace], tuple[str, dict[str, object]]]]] = {
    "w0": ("W0: start, a 10-record job, stop (whole process)", bench_w0),
    "pipeline": ("pipeline: numbers -> map -> key_by -> sum -> discard, p=2", bench_pipeline),
    "w1": ("W1: word count over words.txt in BATCH mode (whole process), p=2", bench_w1),
    "w1-failover": ("W1 with one TaskManager killed mid-job, against failure-free W1, p=2",
                    bench_w1_failover),
    "w2": ("W2: event-time tumbling windows over events.csv (whole process), p=2", bench_w2),
    "w3": ("W3: join orders to customers, sum per country, BATCH (whole process), p=2",
           bench_w3),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated benchmarks (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each command (default 7)")
    parser.add_argument("--records", type=int, default=5_000_000,
                        help="pipeline: source records (default 5,000,000)")
    parser.add_argument("--w2-runs", type=int, default=3,
                        help="measured runs of each command of the W workloads (default 3)")
    parser.add_argument("--data", default=str(ROOT / "bench-data"),
                        help="where the generated workload inputs live (default bench-data/)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="gen.py scale of the workload inputs (default 1.0, the reference)")
    parser.add_argument("--kill-after-lines", type=int, default=None,
                        help="w1-failover: the splitter line at which a TaskManager dies"
                             " (default: a quarter of words.txt, half a subtask's share)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="pipeline: minicluster.batch-size (default: the engine's)")
    args = parser.parse_args(argv)
    names = [name.strip().lower() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or not names:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    if args.runs < 1 or args.records < 1 or (args.batch_size is not None and args.batch_size < 1):
        parser.error("--runs, --records and --batch-size must be >= 1")

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    results = []
    for name in names:
        title, bench = BENCHMARKS[name]
        print(f"\n== {title}  ({args.runs} interleaved runs, medians)", flush=True)
        text, figures = bench(args)
        print(text, flush=True)
        results.append(result_line(name, figures))
    print()
    print("\n".join(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
