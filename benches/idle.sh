#!/usr/bin/env bash
# Idle cost of the console on the demo fleet: CPU time and bytes written to the terminal
# over one minute with nobody typing, and the time from start to the first frame.
#
# Usage: benches/idle.sh [SECONDS]   (builds the release binary first)
# Needs: python3 (the pty recorder below). Prints one line per figure.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
cargo build --release --quiet
exec python3 - "$secs" <<'PY'
import os, pty, select, sys, time

secs = float(sys.argv[1])
binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.abspath("target")), "release", "watchdeck")
env = dict(os.environ, TERM="xterm-256color", COLUMNS="160", LINES="48")
env.pop("NO_COLOR", None)
start = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.execve(binary, [binary, "--demo"], env)

import fcntl, struct, termios
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))

def drain(until):
    n = 0
    first = None
    while time.monotonic() < until:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if chunk and first is None:
                first = time.monotonic()
            n += len(chunk)
    return n, first

def cpu_ticks():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime

# The first frame: the first bytes after the alternate screen is entered.
_, first = drain(time.monotonic() + 5)
print(f"first output after start: {(first - start) * 1000:.0f} ms" if first else "no output")
# Let the first polls and rounds settle, then measure.
drain(time.monotonic() + 5)
t0, c0 = time.monotonic(), cpu_ticks()
written, _ = drain(t0 + secs)
t1, c1 = time.monotonic(), cpu_ticks()
hz = os.sysconf("SC_CLK_TCK")
cpu = (c1 - c0) / hz
print(f"idle for {t1 - t0:.0f} s: cpu {cpu:.2f} s ({100 * cpu / (t1 - t0):.2f}% of one core), "
      f"{written} bytes to the terminal ({written * 60 / (t1 - t0) / 1024:.1f} KiB/min)")
os.write(fd, b"q")
time.sleep(1)
try:
    os.kill(pid, 9)
except ProcessLookupError:
    pass
PY
