#!/usr/bin/env python3
"""Hold a job's lock on a database the way the programs take it (common/lock.c):
an open file description lock on one byte of the database file, past SQLite's
lock bytes, plus the holder's byte beside it.  Used by the tests to play
"another instance is running".

usage: holdlock.py DB JOB HOLDER READY-FILE
Creates READY-FILE once the lock is held, then holds it until killed."""
import fcntl, os, struct, sys, time

# Keep in step with common/lock.c: the programs in slot order, the base and
# the stride.  A drift makes the lock tests fail, never pass by accident.
PROGRAMS = ["migrate", "rollup_daily", "prune_events", "archive_logs",
            "expire_reservations", "restore_archive", "reconcile_stock",
            "retire_table"]
BASE, STRIDE = 0x60000000, 64

def lock(fd, at):
    # struct flock on x86-64/aarch64 Linux: short, short, off_t, off_t, pid_t
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK,
                struct.pack("hh4xqqi4x", fcntl.F_WRLCK, os.SEEK_SET, at, 1, 0))

db, job, holder, ready = sys.argv[1:5]
fd = os.open(db, os.O_RDWR)
at = BASE + PROGRAMS.index(job) * STRIDE
lock(fd, at)
lock(fd, at + 1 + PROGRAMS.index(holder))
open(ready, "w").close()
while True:
    time.sleep(60)
