#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Relay between the test guest's second serial port and QEMU's monitor.

run-guest.sh gives QEMU a QMP socket and a socket behind the guest's
ttyS1, and starts this relay on both.  It connects to the serial side at
once, but to the monitor only when the guest first writes: a tty that is
opened while bytes are already arriving echoes them back before the test
has set it raw, and a monitor that hears its own greeting loses its place
in the JSON stream.  So the guest hears nothing until it speaks; the
monitor's greeting is read and dropped, and from then on every byte goes
through both ways, QEMU's events included.

Usage: qmp-relay.py SERIAL_SOCKET QMP_SOCKET
Exits when either side closes (QEMU quits).
"""
import os
import select
import socket
import sys
import time


def connect(path, pid_alive):
    """Connect to a unix socket that QEMU is about to create."""
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if not pid_alive():
                sys.exit(0)
            time.sleep(0.05)


def main():
    serial_path, qmp_path = sys.argv[1], sys.argv[2]
    parent = os.getppid()

    def alive():
        return os.getppid() == parent

    guest = connect(serial_path, alive)
    first = guest.recv(65536)
    if not first:
        return
    qmp = connect(qmp_path, alive)
    # The greeting is one line.
    greeting = b""
    while b"\n" not in greeting:
        chunk = qmp.recv(65536)
        if not chunk:
            return
        greeting += chunk
    rest = greeting.split(b"\n", 1)[1]
    qmp.sendall(first)
    if rest:
        guest.sendall(rest)
    peer = {guest: qmp, qmp: guest}
    while True:
        ready, _, _ = select.select([guest, qmp], [], [])
        for s in ready:
            data = s.recv(65536)
            if not data:
                return
            peer[s].sendall(data)


if __name__ == "__main__":
    try:
        main()
    except (ConnectionError, OSError):
        # QEMU went away: the run is over.
        pass
