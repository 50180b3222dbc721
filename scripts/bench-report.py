#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console log of a `make bench` guest into its report.

Usage: bench-report.py LOG OUTDIR

Reads the VFIODEV-BENCH lines scripts/guest/bench printed and writes to
OUTDIR:
  table.md      the table (Markdown): one row per workload and door, ours
                against upstream's engine behind the same door and against
                the better of upstream's two engines, min/median/max
  results.csv   the same figures, one line per workload, door and side
  samples.json  every sample, for other tools
  count.dat, bulk.dat, *.gp   gnuplot's input; count.png and bulk.png
                when gnuplot is there
Exits non-zero when the guest reported a failure, did not finish, or its
kernel log holds a splat (oops, WARNING, BUG, lockdep...): a figure from a
broken run is not a figure.
"""
import collections
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verdict  # noqa: E402  (its splat scanner)

LINE_RE = re.compile(
    r"^VFIODEV-BENCH side=(\S+) door=(\S+) round=(\d+) kernel=(\S+) (ROW|NOTE) (.*)$")
KV_RE = re.compile(r"(\w+)=(\S+)")
# Which way is better, by unit.
HIGHER_IS_BETTER = {"GiB/s": True, "IOPS": True, "ns/op": False, "ns": False,
                    "entries": None}
ENGINE = {("upstream", "cdev"): "iommufd", ("upstream", "legacy"): "type1",
          ("ours", "cdev"): "ours/cdev", ("ours", "legacy"): "ours/legacy"}
TITLES = {
    "bulk-map": "map, one call", "bulk-unmap": "unmap, one call",
    "count-map": "4 KiB map, per op", "count-unmap": "4 KiB unmap, per op",
    "lat-msi": "MSI to eventfd", "lat-config-read": "config read (device fd)",
    "lat-bar-read": "BAR read (mmap)", "lat-open": "open to ready",
    "lat-null-ioctl": "an ioctl doing nothing (the floor)",
    "nvme-read": "NVMe 4 KiB reads, QD1 polled",
}
ORDER = ["bulk-map", "bulk-unmap", "count-map", "count-unmap", "pgsize-4k",
         "pgsize-2m", "pgsize-1g", "lat-null-ioctl", "lat-msi", "lat-config-read",
         "lat-bar-read", "lat-open", "nvme-read"]


BACKINGS = ["4k", "thp", "hugetlb"]


def param_key(p):
    """Sort params: backing (4k, thp, hugetlb), then size or count."""
    m = re.match(r"^(?:(\w+):)?(\d+)([MG]?)$", p)
    if not m:
        return (99, p, 0)
    n = int(m.group(2)) * (1024 if m.group(3) == "G" else 1)
    b = m.group(1) or ""
    return (BACKINGS.index(b) if b in BACKINGS else 98, b, n)


def fmt(v, unit):
    if v is None:
        return "–"
    if unit in ("ns", "ns/op"):
        return f"{v / 1000:.2f} µs" if v >= 10000 else f"{v:.0f} ns"
    if unit == "GiB/s":
        return f"{v:.2f} GiB/s"
    if unit == "IOPS":
        return f"{v:.0f}"
    return f"{v:g}"


def ratio(ours, theirs, unit):
    """> 1: ours is better."""
    if ours is None or theirs is None or ours == 0 or theirs == 0:
        return None
    hib = HIGHER_IS_BETTER.get(unit)
    if hib is None:
        return None
    return ours / theirs if hib else theirs / ours


def main():
    log, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(log, errors="replace") as f:
        lines = [ln.rstrip("\r\n") for ln in f]

    problems = []
    if not any(ln.startswith("VFIODEV-BENCH-END failed=0") for ln in lines):
        problems.append("the guest did not finish its rounds cleanly "
                        "(no 'VFIODEV-BENCH-END failed=0')")
    problems += [ln for ln in lines if ln.startswith("VFIODEV-BENCH-FAIL")]
    splats = verdict.scan(lines)
    problems += [f"kernel log: {s}" for s in splats]

    samples = collections.defaultdict(list)   # (test, param, side, door) -> values
    by_round = collections.defaultdict(list)  # (test, param, side, door, round) -> values
    units = {}
    notes = collections.defaultdict(set)      # (test, param, side, door) -> texts
    kernels = set()
    raw = []
    for ln in lines:
        m = LINE_RE.match(ln)
        if not m:
            continue
        side, door, rnd, kernel, kind, rest = m.groups()
        kernels.add(kernel)
        kv = dict(KV_RE.findall(rest))
        if kind == "ROW":
            key = (kv["test"], kv["param"], side, door)
            samples[key].append(float(kv["value"]))
            by_round[key + (int(rnd),)].append(float(kv["value"]))
            units[kv["test"]] = kv["unit"]
            raw.append({"side": side, "door": door, "round": int(rnd),
                        "kernel": kernel, "test": kv["test"],
                        "param": kv["param"], "rep": int(kv["rep"]),
                        "value": float(kv["value"]), "unit": kv["unit"]})
        else:
            text = re.sub(r"^test=\S+ param=\S+ ?", "", rest)
            notes[(kv.get("test"), kv.get("param"), side, door)].add(text)
    if not samples:
        problems.append("no figures in the log")

    def stat(key):
        v = samples.get(key)
        if not v:
            return None
        return (min(v), statistics.median(v), max(v), len(v))

    rounds = sorted({k[4] for k in by_round})

    def round_ratios(test, param, door, unit):
        """Ours against upstream round by round: the two ran minutes apart."""
        out = []
        for rnd in rounds:
            o = by_round.get((test, param, "ours", door, rnd))
            u = by_round.get((test, param, "upstream", door, rnd))
            r = ratio(statistics.median(o) if o else None,
                      statistics.median(u) if u else None, unit)
            if r:
                out.append(r)
        return out

    kernel = ",".join(sorted(kernels)) or "?"
    workloads = sorted({(t, p) for (t, p, _, _) in samples},
                       key=lambda tp: (ORDER.index(tp[0]) if tp[0] in ORDER else 99,
                                       param_key(tp[1])))
    csv_rows = []
    md = ["| workload | door | ours (median) | upstream, same door | ratio | "
          "best upstream | ratio to best | ratio, round by round | "
          "ours min/max | upstream min/max |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for test, param in workloads:
        unit = units[test]
        for door in ("cdev", "legacy"):
            o = stat((test, param, "ours", door))
            u = stat((test, param, "upstream", door))
            if o is None and u is None:
                continue
            best = None
            for d in ("cdev", "legacy"):
                s = stat((test, param, "upstream", d))
                if s is None:
                    continue
                if best is None or (ratio(s[1], best[1], unit) or 0) > 1:
                    best = s + (ENGINE[("upstream", d)],)
            un = notes.get(("count", param, "upstream", door)) if test.startswith("count") else None
            theirs = fmt(u[1], unit) if u else ("; ".join(sorted(un)) if un else "–")
            r = ratio(o[1] if o else None, u[1] if u else None, unit)
            rb = ratio(o[1] if o else None, best[1] if best else None, unit)
            name = f"{TITLES.get(test, test)} {param}"
            rr = round_ratios(test, param, door, unit)
            md.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                name, door, fmt(o[1], unit) if o else "–", theirs,
                f"{r:.2f}×" if r else "–",
                f"{fmt(best[1], unit)} ({best[4]})" if best else "–",
                f"{rb:.2f}×" if rb else "–",
                " / ".join(f"{x:.2f}×" for x in rr) if rr else "–",
                f"{fmt(o[0], unit)} / {fmt(o[2], unit)}" if o else "–",
                f"{fmt(u[0], unit)} / {fmt(u[2], unit)}" if u else "–"))
            for side, s in (("ours", o), ("upstream", u)):
                if s:
                    csv_rows.append([test, param, door, side, ENGINE[(side, door)],
                                     unit, s[0], s[1], s[2], s[3], kernel])

    # Our own cost growth with the number of mappings.
    growth = []
    for test in ("count-map", "count-unmap"):
        for side in ("ours", "upstream"):
            for door in ("cdev", "legacy"):
                lo = stat((test, "1000", side, door))
                hi = max((p for (t, p, s, d) in samples
                          if t == test and s == side and d == door),
                         key=param_key, default=None)
                hs = stat((test, hi, side, door)) if hi else None
                if lo and hs and hi != "1000":
                    growth.append(f"- {TITLES[test]}, {ENGINE[(side, door)]}: "
                                  f"{hs[1] / lo[1]:.2f}× the cost at 1k with {hi} mappings")
    refusals = [f"- {ENGINE[(s, d)]}: {p} mappings: {'; '.join(sorted(t))}"
                for (test, p, s, d), t in sorted(notes.items(), key=str)
                if test == "count"]
    other = [f"- {ENGINE[(s, d)]} {test} {p}: {'; '.join(sorted(t))}"
             for (test, p, s, d), t in sorted(notes.items(), key=str)
             if test != "count"]

    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(f"Kernel: {kernel} (TCG guest); ratios > 1 mean vfiodev is "
                "better (faster, or more per second).  Medians over every "
                "round and repetition; 'round by round' compares the medians "
                "of each round, where both sides ran minutes apart.\n\n")
        f.write("\n".join(md) + "\n")
        if growth:
            f.write("\nCost growth with the number of mappings:\n" + "\n".join(growth) + "\n")
        if refusals:
            f.write("\nRefusals:\n" + "\n".join(refusals) + "\n")
        if other:
            f.write("\nNotes:\n" + "\n".join(other) + "\n")
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["test", "param", "door", "side", "engine", "unit", "min",
                    "median", "max", "samples", "kernel"])
        w.writerows(csv_rows)
    with open(os.path.join(out, "samples.json"), "w") as f:
        json.dump({"kernel": kernel, "samples": raw, "problems": problems}, f, indent=1)

    plot(out, samples, stat)
    sys.stdout.write(open(os.path.join(out, "table.md")).read())
    if problems:
        print("\nbench: the run is not valid:")
        for p in problems:
            print(f"  {p}")
        return 1
    return 0


def plot(out, samples, stat):
    engines = [("ours", "cdev"), ("ours", "legacy"), ("upstream", "cdev"),
               ("upstream", "legacy")]
    with open(os.path.join(out, "count.dat"), "w") as f:
        f.write("# mappings " + " ".join(
            f"{ENGINE[e]}-{t}" for t in ("map", "unmap") for e in engines) + "\n")
        counts = sorted({p for (t, p, _, _) in samples if t == "count-map"}, key=param_key)
        for p in counts:
            vals = []
            for t in ("count-map", "count-unmap"):
                for e in engines:
                    s = stat((t, p, *e))
                    vals.append(f"{s[1]:.1f}" if s else "NaN")
            f.write(f"{p} {' '.join(vals)}\n")
    with open(os.path.join(out, "bulk.dat"), "w") as f:
        f.write("# backing MiB " + " ".join(
            f"{ENGINE[e]}-{t}" for t in ("map", "unmap") for e in engines) + "\n")
        params = sorted({p for (t, p, _, _) in samples if t == "bulk-map"}, key=param_key)
        for backing in ("4k", "thp", "hugetlb"):
            for p in params:
                if not p.startswith(backing + ":"):
                    continue
                vals = []
                for t in ("bulk-map", "bulk-unmap"):
                    for e in engines:
                        s = stat((t, p, *e))
                        vals.append(f"{s[1]:.3f}" if s else "NaN")
                f.write(f"{backing} {param_key(p)[2]} {' '.join(vals)}\n")
            f.write("\n\n")
    titles = [ENGINE[e] for e in engines]
    count_gp = ["set terminal pngcairo size 1200,480 font ',10'",
                f"set output '{out}/count.png'",
                "set multiplot layout 1,2 title 'Separate 4 KiB mappings: mean cost per operation'",
                "set logscale x", "set xrange [500:2000000]", "set yrange [0:*]",
                "set xlabel 'mappings'", "set ylabel 'ns per operation'",
                "set key bottom right", "set grid"]
    for i, what in enumerate(("map", "unmap")):
        count_gp.append(f"set title '{what}'")
        count_gp.append("plot " + ", ".join(
            f"'{out}/count.dat' using 1:{2 + i * 4 + j} with linespoints title '{t}'"
            for j, t in enumerate(titles)))
    count_gp.append("unset multiplot")
    bulk_gp = ["set terminal pngcairo size 1200,900 font ',10'",
               f"set output '{out}/bulk.png'",
               "set multiplot layout 3,2 title 'One buffer mapped and unmapped in one call: GiB/s'",
               "set logscale x 2", "set xrange [32:2048]", "set yrange [0:*]",
               "set xlabel 'MiB'", "set ylabel 'GiB/s'",
               "set key top left", "set grid"]
    for b, backing in enumerate(("4k", "thp", "hugetlb")):
        for i, what in enumerate(("map", "unmap")):
            bulk_gp.append(f"set title '{what}, {backing} pages'")
            bulk_gp.append("plot " + ", ".join(
                f"'{out}/bulk.dat' index {b} using 2:{3 + i * 4 + j} with linespoints title '{t}'"
                for j, t in enumerate(titles)))
    bulk_gp.append("unset multiplot")
    for name, gp in (("count", count_gp), ("bulk", bulk_gp)):
        if not any(t.startswith(name + "-") for (t, _, _, _) in samples):
            continue
        path = os.path.join(out, f"{name}.gp")
        with open(path, "w") as f:
            f.write("\n".join(gp) + "\n")
        if shutil.which("gnuplot"):
            r = subprocess.run(["gnuplot", path], capture_output=True, text=True)
            if r.returncode:
                sys.stderr.write(f"bench: gnuplot {path} failed:\n{r.stderr}")


if __name__ == "__main__":
    sys.exit(main())
