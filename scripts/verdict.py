#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console log of one test guest into test results.

Usage: verdict.py LABEL LOG EXPECTED_TESTS_FILE

Prints one line per result, "PASS|FAIL|SKIP <label>: <name>", with the
reason under each failure.  Results:
  - every kselftest TAP result ("ok N name", "not ok N name", "# SKIP") of
    every test program, and a failure for a program that never ended, that
    exited non-zero without a failing result, or that printed no TAP plan;
  - every KUnit case of every vfiodev suite, and a failure for a KUnit
    module that did not load or a suite without results;
  - "kmemleak": no leaked object allocated by our modules (debug kernel);
  - "guest finished": the guest reached its last marker (no hang, panic);
  - "kernel log clean": no oops, WARNING, BUG, KASAN, lockdep, UBSAN,
    hung-task, stall or other stack dump in the console or kernel log.  A
    splat raised before our modules were first loaded is reported as such.
"""
import re
import sys

SPLATS = [
    r"\bOops\b", r"\bWARNING:", r"\bBUG:", r"\bKASAN\b", r"\bUBSAN\b",
    r"kernel BUG at", r"general protection fault", r"Kernel panic",
    r"possible circular locking dependency", r"possible recursive locking",
    r"inconsistent lock state", r"suspicious RCU usage",
    r"INFO: task .* blocked for more than", r"rcu_.*detected stall",
    r"\bCall Trace:", r"refcount_t: ", r"list_(add|del) corruption",
]
SPLAT_RE = re.compile("|".join(SPLATS))
# Inside a fault-injection sweep (the selftest frames it in the kernel
# log), the allocator's own report of an injected failure and its stack
# dump are expected; every other report still counts.
INJECT_RE = re.compile(r"vfiodev-selftest: fault injection (on|off)")
ALLOC_FAIL_RE = re.compile(r"page allocation failure:|vmalloc error: ")
TAP_RE = re.compile(r"^(not )?ok (\d+) (.*?)(?: # (SKIP|XFAIL|TODO)\b(.*))?$")
KUNIT_CASE_RE = re.compile(r"^    (not )?ok \d+ (\S+)(?: # (SKIP)\b(.*))?")
# Our modules as a backtrace names them: upstream's names (iommufd, vfio,
# vfio_pci_core, vfio_pci, <name>_vfio_pci) and the test modules.  In a run
# on upstream's stack the same names are upstream's: such a run is a
# reference, not a verdict.
OUR_MODULES_RE = re.compile(
    r"\[(iommufd|vfio|vfio_pci_core|vfio_pci|\w+_vfio_pci|vfiodev\w*|vdiommu\w*)\]")
FIRST_LOAD_RE = re.compile(r"\b(iommufd|vfio): loading out-of-tree module")


def scan(lines):
    """Kernel splats in one view of the log (console or dmesg dump)."""
    splats = []
    excused = 0         # lines left in an excused dump_stack
    ours_loaded = False
    injecting = False
    lines = list(lines)
    for i, line in enumerate(lines):
        if FIRST_LOAD_RE.search(line) or "VFIODEV-GUEST" in line:
            ours_loaded = True
        m = INJECT_RE.search(line)
        if m:
            injecting = m.group(1) == "on"
            continue
        if injecting and ALLOC_FAIL_RE.search(line):
            excused = 8
            continue
        if excused and "Call Trace:" in line:
            excused = 0
            continue
        excused = max(0, excused - 1)
        if SPLAT_RE.search(line):
            # A dmesg dump may have lost the lines before; a trace through
            # our modules settles it.
            ours = ours_loaded or any(OUR_MODULES_RE.search(x)
                                      for x in lines[i:i + 80])
            where = "" if ours else " (during boot, before our modules)"
            splats.append(line + where)
    return splats


def kmemleak_ours(lines):
    """The kmemleak reports whose backtrace goes through our modules."""
    blocks, cur = [], []
    for line in lines:
        if "unreferenced object" in line and cur:
            blocks.append(cur)
            cur = []
        cur.append(line)
    if cur:
        blocks.append(cur)
    ours = [b for b in blocks if any(OUR_MODULES_RE.search(x) for x in b)]
    return ours, len([b for b in blocks if "unreferenced object" in b[0]])


def main():
    label, log_path, expected_path = sys.argv[1:4]
    with open(expected_path) as f:
        expected = [line.strip() for line in f if line.strip()]
    with open(log_path, errors="replace") as f:
        lines = [line.rstrip("\r\n").replace("\r", "") for line in f]

    results = []  # (status, name, reason)

    def add(status, name, reason=""):
        results.append((status, f"{label}: {name}", reason))

    section = "console"
    views = {"console": [], "dmesg": [], "kmemleak": None}
    cur = None          # test program being run
    diag = []           # harness diagnostics of the test running now
    seen_plan = False
    failed_in_cur = 0
    ended = set()
    seconds = []        # "test N" as the guest timed each
    suite = None
    suite_cases = 0
    done = False
    guest_facts = ""

    for line in lines:
        if line == "VFIODEV-DMESG-BEGIN":
            section = "dmesg"
            continue
        if line == "VFIODEV-KMEMLEAK-BEGIN":
            section = "kmemleak"
            views["kmemleak"] = []
            continue
        if line in ("VFIODEV-DMESG-END", "VFIODEV-KMEMLEAK-END"):
            section = "console"
            continue
        if section != "console":
            views[section].append(line)
            continue
        views["console"].append(line)

        if line.startswith("VFIODEV-GUEST "):
            guest_facts = line[len("VFIODEV-GUEST "):]
            continue
        if line.startswith("VFIODEV-FATAL"):
            add("FAIL", "guest set-up", line)
            continue
        if line == "VFIODEV-DONE":
            done = True
            continue
        m = re.match(r"^VFIODEV-KUNIT-MODULE (\S+) rc=(\d+)$", line)
        if m:
            if m.group(2) != "0":
                add("FAIL", f"kunit: {m.group(1)}", f"insmod failed: rc={m.group(2)}")
            continue
        m = re.match(r"^VFIODEV-KUNIT-BEGIN (\S+)$", line)
        if m:
            suite, suite_cases, diag = m.group(1), 0, []
            continue
        m = re.match(r"^VFIODEV-KUNIT-END (\S+)$", line)
        if m:
            if suite_cases == 0:
                add("FAIL", f"kunit: {suite}", "the suite reported no case")
            suite = None
            continue
        if suite:
            m = KUNIT_CASE_RE.match(line)
            if m:
                suite_cases += 1
                name = f"kunit: {suite}.{m.group(2)}"
                if m.group(1):
                    add("FAIL", name, "\n".join(diag[-10:]))
                elif m.group(3):
                    add("SKIP", name, (m.group(4) or "").strip())
                else:
                    add("PASS", name)
                diag = []
            elif line.strip().startswith("#"):
                diag.append(line.strip())
            continue

        m = re.match(r"^VFIODEV-BEGIN (\S+)$", line)
        if m:
            cur, seen_plan, failed_in_cur = m.group(1), False, 0
            continue
        m = re.match(r"^VFIODEV-END (\S+) rc=(\d+)(?: seconds=(\d+))?$", line)
        if m and cur == m.group(1):
            rc = int(m.group(2))
            ended.add(cur)
            if m.group(3):
                seconds.append(f"{cur} {m.group(3)}")
            if not seen_plan:
                add("FAIL", cur, f"printed no TAP plan (rc={rc})")
            elif rc != 0 and failed_in_cur == 0:
                add("FAIL", cur, f"exited with {rc} without a failing test")
            cur = None
            continue
        if cur is None:
            continue
        if re.match(r"^1\.\.\d+$", line):
            seen_plan = True
            continue
        if line.startswith("#  RUN "):
            diag = []
            continue
        if line.startswith("# "):
            diag.append(line[2:])
            continue
        m = TAP_RE.match(line)
        if m:
            name = f"{cur}: {m.group(3)}"
            if m.group(1):
                failed_in_cur += 1
                add("FAIL", name, "\n".join(diag[-10:]))
            elif m.group(4) == "SKIP":
                add("SKIP", name, (m.group(5) or "").strip())
            else:
                add("PASS", name)

    for t in expected:
        if t not in ended:
            add("FAIL", t, "never finished (guest hung, crashed or timed out)")
    if views["kmemleak"] is not None:
        ours, total = kmemleak_ours(views["kmemleak"])
        if ours:
            add("FAIL", "kmemleak: no leak from our modules",
                "\n".join(line for b in ours[:3] for line in b[:16]))
        else:
            add("PASS", "kmemleak: no leak from our modules")
        if total:
            print(f"# {label}: kmemleak lists {total} object(s), none from our modules"
                  if not ours else f"# {label}: kmemleak lists {total} object(s)")
    add("PASS" if done else "FAIL", "guest finished",
        "" if done else "no VFIODEV-DONE marker: hang, panic or timeout")
    splats = scan(views["console"]) + scan(views["dmesg"])
    if splats:
        add("FAIL", "kernel log clean", "\n".join(splats[:20]))
    else:
        add("PASS", "kernel log clean")

    if guest_facts:
        print(f"# {label}: {guest_facts}")
    if seconds:
        print(f"# {label}: seconds per test: {', '.join(seconds)}")
    for status, name, reason in results:
        print(f"{status} {name}")
        if status != "PASS" and reason:
            for r in reason.splitlines():
                print(f"#   {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
