#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console log of one test guest into test results.

Usage: verdict.py LABEL LOG EXPECTED_TESTS_FILE

Prints one line per result, "PASS|FAIL|SKIP <label>: <name>", with the
reason under each failure.  Results:
  - every kselftest TAP result line ("ok N name", "not ok N name",
    "ok N name # SKIP ...") of every test program;
  - a failure for a program that never ended, that exited non-zero without
    a failing result, or that printed no TAP plan;
  - "guest finished": the guest reached its last marker (no hang, no panic);
  - "kernel log clean": no oops, WARNING, BUG, KASAN, lockdep, UBSAN,
    kmemleak, hung-task or stall report anywhere in the console or the
    kernel log dump.
"""
import re
import sys

SPLATS = [
    r"\bOops\b", r"\bWARNING:", r"\bBUG:", r"\bKASAN\b", r"\bUBSAN\b",
    r"kernel BUG at", r"general protection fault", r"Kernel panic",
    r"possible circular locking dependency", r"possible recursive locking",
    r"inconsistent lock state", r"suspicious RCU usage",
    r"INFO: task .* blocked for more than", r"rcu_.*detected stall",
    r"unreferenced object 0x", r"\bCall Trace:",
    r"refcount_t: ", r"list_(add|del) corruption",
]
SPLAT_RE = re.compile("|".join(SPLATS))
# A test that makes the kernel print a stack on purpose announces it first
# in the kernel log (see kmsg_expect_dup() in the selftests); only the
# sysfs duplicate-name dump it names is then let through, once.
EXPECT_RE = re.compile(r"vfiodev-selftest: expect sysfs duplicate '([^']+)'")
DUP_RE = re.compile(r"sysfs: cannot create duplicate filename '([^']+)'")


def scan(lines):
    """Kernel splats in one view of the log (console or dmesg dump)."""
    splats = []
    expected = {}
    excused = 0         # lines left in an excused dump_stack
    for line in lines:
        m = EXPECT_RE.search(line)
        if m:
            expected[m.group(1)] = expected.get(m.group(1), 0) + 1
            continue
        m = DUP_RE.search(line)
        if m and expected.get(m.group(1), 0) > 0:
            expected[m.group(1)] -= 1
            excused = 8
            continue
        if excused and "Call Trace:" in line:
            excused = 0
            continue
        excused = max(0, excused - 1)
        if SPLAT_RE.search(line):
            splats.append(line)
    return splats
TAP_RE = re.compile(r"^(not )?ok (\d+) (.*?)(?: # (SKIP|XFAIL|TODO)\b(.*))?$")


def main():
    label, log_path, expected_path = sys.argv[1:4]
    with open(expected_path) as f:
        expected = [line.strip() for line in f if line.strip()]
    with open(log_path, errors="replace") as f:
        lines = [line.rstrip("\r\n").replace("\r", "") for line in f]

    results = []  # (status, name, reason)

    def add(status, name, reason=""):
        results.append((status, f"{label}: {name}", reason))

    cur = None          # program being run
    diag = []           # harness diagnostics of the test running now
    seen_plan = False
    failed_in_cur = 0
    ended = set()
    done = False
    guest_facts = ""
    in_dmesg = False
    console, dmesg = [], []

    for line in lines:
        (dmesg if in_dmesg else console).append(line)
        if line.startswith("VFIODEV-GUEST "):
            guest_facts = line[len("VFIODEV-GUEST "):]
            continue
        if line.startswith("VFIODEV-FATAL"):
            add("FAIL", "guest set-up", line)
            continue
        if line == "VFIODEV-DMESG-BEGIN":
            in_dmesg = True
            continue
        if line == "VFIODEV-DMESG-END":
            in_dmesg = False
            continue
        if line == "VFIODEV-DONE":
            done = True
            continue
        if in_dmesg:
            continue
        m = re.match(r"^VFIODEV-BEGIN (\S+)$", line)
        if m:
            cur, seen_plan, failed_in_cur = m.group(1), False, 0
            continue
        m = re.match(r"^VFIODEV-END (\S+) rc=(\d+)$", line)
        if m and cur == m.group(1):
            rc = int(m.group(2))
            ended.add(cur)
            if not seen_plan:
                add("FAIL", f"{cur}", f"printed no TAP plan (rc={rc})")
            elif rc != 0 and failed_in_cur == 0:
                add("FAIL", f"{cur}", f"exited with {rc} without a failing test")
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
    add("PASS" if done else "FAIL", "guest finished",
        "" if done else "no VFIODEV-DONE marker: hang, panic or timeout")
    splats = scan(console) + scan(dmesg)
    if splats:
        add("FAIL", "kernel log clean", "\n".join(splats[:20]))
    else:
        add("PASS", "kernel log clean")

    if guest_facts:
        print(f"# {label}: {guest_facts}")
    for status, name, reason in results:
        print(f"{status} {name}")
        if status != "PASS" and reason:
            for r in reason.splitlines():
                print(f"#   {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
