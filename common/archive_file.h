/*
 * Archive files on disk, made durable the way Redis's rdbSave() makes its
 * file: a temporary name, fsync, a link to the final name (link never
 * replaces a file), then an fsync of the directory; one error path removes
 * whatever was made.  Directories are walked with O_NOFOLLOW, so a planted
 * symlink can never redirect an archive.  Used by the archiver's files
 * (archive*.c) and restore.c only.
 */
#ifndef JOBS_ARCHIVE_FILE_H
#define JOBS_ARCHIVE_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "archive.h"

#define AFILE_DIR_MODE	0750	/* archive directories: not world-readable */
#define AFILE_MODE	0600	/* archive files hold personal data */

/* Set a->err to "cannot <what> '<dir>/<path>': <errno text>"; returns status. */
int afile_fail(struct archiver *a, int status, const char *what, const char *path);

/* Disk full and I/O errors are J_IOERR (74); anything else J_CANTCREAT (73). */
int afile_io_status(int e);

/* One directory level below dfd, created (mode 0750, parent fsynced) if
 * asked; never follows a symlink.  -1 with errno on failure. */
int afile_open_subdir(int dfd, const char *name, bool create);

/* <root>/<table>/date=<day>, opened; -1 with errno on failure. */
int afile_open_partition(int rootfd, const char *table, const char *day, bool create);

/* 8 random hex digits (size >= 9). */
void afile_random_hex(char *out, size_t size);

/*
 * Write buf gzip-compressed (level 6) as <a->dir>/<table>/date=<day>/<name>,
 * durably, mode 0600; *bytes gets the file's size.  On failure nothing is
 * left under either name and a->err says why (J_IOERR or J_CANTCREAT).
 */
int afile_write(struct archiver *a, const char *day, const char *name,
    const struct jbuf *buf, int64_t *bytes);

/* Remove an unfinished archive (its name and its temporary name) below
 * archive_dir; a missing file is fine.  J_OK or a status with a->err set. */
int afile_remove(struct archiver *a, const char *archive_dir, const char *path);

/*
 * Restored files leave the live tree (SPEC 6): <table>/date=<day>/<name>
 * moves to <table>/_restored/date=<day>/<name>, which Hive-style readers skip.
 * afile_restored_path() gives the new relative path (J_SOFTWARE if path is
 * not a live archive path).  afile_move_restored() moves the file under
 * archive_dir by link + unlink (never replacing a file) and fsyncs both
 * directories; it finishes a move a crash interrupted at any point.  *missing
 * is set if the file is under neither name.
 */
/*
 * Read archive_dir/path (walked without following symlinks) and decompress it
 * whole into out; *bytes gets the file's size.  A truncated or corrupt gzip
 * stream (bad CRC, unexpected end) or a file that cannot be opened is
 * J_DATAERR with a->err set.
 */
int afile_read(struct archiver *a, const char *archive_dir, const char *path,
    struct jbuf *out, int64_t *bytes);

int afile_restored_path(const char *path, char *out, size_t size);
int afile_move_restored(struct archiver *a, const char *archive_dir,
    const char *path, bool *missing);

#endif
