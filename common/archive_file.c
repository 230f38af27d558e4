/*
 * Archive files on disk: see archive_file.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "archive_file.h"
#include "status.h"

#define GZ_LEVEL	"wb6"		/* gzip -6: SPEC 7 compares sizes against it */
#define GZ_BUFFER	((size_t)128 * 1024)	/* bytes: fewer write(2) calls */

int
afile_fail(struct archiver *a, int status, const char *what, const char *path)
{
	int e = errno;

	snprintf(a->err, sizeof(a->err), "cannot %s '%s%s%s': %s", what,
	    a->dir_abs[0] ? a->dir_abs : a->dir, path[0] ? "/" : "", path,
	    strerror(e));
	errno = e;
	return status;
}

/* Disk full and I/O errors are 74; anything else about files is 73. */
int
afile_io_status(int e)
{
	return (e == ENOSPC || e == EIO || e == EDQUOT || e == EFBIG || e == EROFS) ?
	    J_IOERR : J_CANTCREAT;
}

/*
 * Open (creating if asked) one directory level below dfd without following
 * a symlink.  A directory we create is made durable by fsync of its parent.
 */
int
afile_open_subdir(int dfd, const char *name, bool create)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	if (mkdirat(dfd, name, AFILE_DIR_MODE) != 0 && errno != EEXIST)
		return -1;
	if (fsync(dfd) != 0)
		return -1;
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* <root>/<table>/date=<day>, opened; -1 with errno on failure. */
int
afile_open_partition(int rootfd, const char *table, const char *day, bool create)
{
	char part[32];
	int tfd, pfd, e;

	if ((tfd = afile_open_subdir(rootfd, table, create)) < 0)
		return -1;
	snprintf(part, sizeof(part), "date=%s", day);
	pfd = afile_open_subdir(tfd, part, create);
	e = errno;
	close(tfd);
	errno = e;
	return pfd;
}

void
afile_random_hex(char *out, size_t size)
{
	unsigned char r[4];
	size_t i;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		unsigned v = (unsigned)getpid() ^ (unsigned)db_mono_ms();

		memcpy(r, &v, sizeof(r));
	}
	for (i = 0; i < sizeof(r) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/*
 * Write buf as gzip to <partition>/<name>, durably (archive.h step 3).  On
 * failure nothing is left behind under either name.
 */
int
afile_write(struct archiver *a, const char *day, const char *name,
    const struct jbuf *buf, int64_t *bytes)
{
	char tmp[256], rel[512];
	struct stat sb;
	gzFile gz = NULL;
	int pfd, fd = -1, gfd, status = J_OK, e;
	bool linked = false;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	snprintf(rel, sizeof(rel), "%s/date=%s/%s", a->table, day, tmp);
	if ((pfd = afile_open_partition(a->dirfd, a->table, day, true)) < 0)
		return afile_fail(a, afile_io_status(errno), "create directory for", rel);
	fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    AFILE_MODE);
	if (fd < 0) {
		status = afile_fail(a, afile_io_status(errno), "create", rel);
		close(pfd);
		return status;
	}
	/* gzclose() closes its descriptor; keep ours for the fsync. */
	if ((gfd = dup(fd)) < 0 || (gz = gzdopen(gfd, GZ_LEVEL)) == NULL) {
		e = errno;
		if (gfd >= 0)
			close(gfd);
		errno = e ? e : ENOMEM;
		status = afile_fail(a, afile_io_status(errno), "write", rel);
		goto out;
	}
	gzbuffer(gz, GZ_BUFFER);
	errno = 0;
	if (buf->len > 0 && gzwrite(gz, buf->p, (unsigned)buf->len) != (int)buf->len) {
		e = errno ? errno : EIO;
		gzclose(gz);
		errno = e;
		status = afile_fail(a, afile_io_status(e), "write", rel);
		goto out;
	}
	/* A full disk often shows only here, when the last block is flushed. */
	errno = 0;
	if (gzclose(gz) != Z_OK) {
		e = errno ? errno : EIO;
		errno = e;
		status = afile_fail(a, afile_io_status(e), "write", rel);
		goto out;
	}
	/* Never retry a failed fsync: the page cache may have dropped the data. */
	if (fsync(fd) != 0 || fstat(fd, &sb) != 0) {
		status = afile_fail(a, afile_io_status(errno), "sync", rel);
		goto out;
	}
	*bytes = sb.st_size;
	snprintf(rel, sizeof(rel), "%s/date=%s/%s", a->table, day, name);
	if (linkat(pfd, tmp, pfd, name, 0) != 0) {
		status = afile_fail(a, afile_io_status(errno), "create", rel);
		goto out;
	}
	linked = true;
	if (unlinkat(pfd, tmp, 0) != 0 || fsync(pfd) != 0) {
		status = afile_fail(a, afile_io_status(errno), "sync directory of", rel);
		goto out;
	}
out:
	if (status != J_OK) {
		e = errno;
		unlinkat(pfd, tmp, 0);
		if (linked)
			unlinkat(pfd, name, 0);
		errno = e;
	}
	if (fd >= 0)
		close(fd);
	close(pfd);
	return status;
}

/* Remove an unfinished archive file (both names); ENOENT is fine. */
int
afile_remove(struct archiver *a, const char *archive_dir, const char *path)
{
	char dirpart[512], tmp[300], *slash;
	const char *name;
	int rootfd, tfd, pfd, status = J_OK;

	snprintf(dirpart, sizeof(dirpart), "%s", path);
	if ((slash = strrchr(dirpart, '/')) == NULL)
		return J_SOFTWARE;
	*slash = '\0';
	name = slash + 1;
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if ((rootfd = open(archive_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(a->err, sizeof(a->err), "cannot clean up after an "
		    "interrupted run: archive directory '%s': %s (its unfinished file "
		    "%s must go before its rows are archived again; if that directory "
		    "is gone for good, delete the archive_manifest row with state "
		    "'writing' and this path)", archive_dir, strerror(errno), path);
		return J_CANTCREAT;
	}
	/* dirpart is "<table>/date=<day>": walk it without following links. */
	slash = strchr(dirpart, '/');
	if (slash == NULL) {
		close(rootfd);
		return J_SOFTWARE;
	}
	*slash = '\0';
	tfd = afile_open_subdir(rootfd, dirpart, false);
	pfd = tfd >= 0 ? afile_open_subdir(tfd, slash + 1, false) : -1;
	if (pfd < 0 && errno != ENOENT) {
		snprintf(a->err, sizeof(a->err), "cannot clean up '%s/%s': %s",
		    archive_dir, path, strerror(errno));
		status = J_CANTCREAT;
	} else if (pfd >= 0) {
		if ((unlinkat(pfd, name, 0) != 0 && errno != ENOENT) ||
		    (unlinkat(pfd, tmp, 0) != 0 && errno != ENOENT) || fsync(pfd) != 0) {
			snprintf(a->err, sizeof(a->err), "cannot remove unfinished "
			    "archive '%s/%s': %s", archive_dir, path, strerror(errno));
			status = afile_io_status(errno);
		}
		close(pfd);
	}
	if (tfd >= 0)
		close(tfd);
	close(rootfd);
	return status;
}


int
afile_restored_path(const char *path, char *out, size_t size)
{
	const char *slash = strchr(path, '/');
	int n;

	if (slash == NULL || strncmp(slash + 1, "date=", 5) != 0)
		return J_SOFTWARE;
	n = snprintf(out, size, "%.*s/_restored/%s", (int)(slash - path), path, slash + 1);
	return n > 0 && (size_t)n < size ? J_OK : J_SOFTWARE;
}

/* "<table>/date=<day>/<name>": its three parts, copied into p. */
static int
split_path(const char *path, char *p, size_t size, char **table, char **part,
    char **name)
{
	snprintf(p, size, "%s", path);
	*table = p;
	if ((*part = strchr(p, '/')) == NULL)
		return -1;
	*(*part)++ = '\0';
	if ((*name = strchr(*part, '/')) == NULL)
		return -1;
	*(*name)++ = '\0';
	return strchr(*name, '/') == NULL && strncmp(*part, "date=", 5) == 0 ? 0 : -1;
}

int
afile_move_restored(struct archiver *a, const char *archive_dir,
    const char *path, bool *missing)
{
	char buf[1024], *table, *part, *name;
	struct stat from, to;
	int rootfd = -1, tfd = -1, pfd = -1, rfd = -1, rpfd = -1;
	int status = J_OK;
	bool have_from, have_to;

	*missing = false;
	if (split_path(path, buf, sizeof(buf), &table, &part, &name) != 0)
		return J_SOFTWARE;
	if ((rootfd = open(archive_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (tfd = afile_open_subdir(rootfd, table, false)) < 0 ||
	    (rfd = afile_open_subdir(tfd, "_restored", true)) < 0 ||
	    (rpfd = afile_open_subdir(rfd, part, true)) < 0) {
		snprintf(a->err, sizeof(a->err), "cannot move restored archive "
		    "'%s/%s' to _restored/: %s", archive_dir, path, strerror(errno));
		status = afile_io_status(errno);
		goto out;
	}
	pfd = afile_open_subdir(tfd, part, false);
	have_from = pfd >= 0 && fstatat(pfd, name, &from, AT_SYMLINK_NOFOLLOW) == 0;
	have_to = fstatat(rpfd, name, &to, AT_SYMLINK_NOFOLLOW) == 0;
	if (have_from && have_to && (from.st_ino != to.st_ino || from.st_dev != to.st_dev)) {
		/* Not the same file: never replace one with the other. */
		snprintf(a->err, sizeof(a->err), "cannot move restored archive "
		    "'%s/%s': a different file already has its name under _restored/",
		    archive_dir, path);
		status = J_CANTCREAT;
		goto out;
	}
	if (!have_from && !have_to) {
		*missing = true;
		goto out;
	}
	if (have_from && !have_to && linkat(pfd, name, rpfd, name, 0) != 0)
		goto fail;
	if (fsync(rpfd) != 0)
		goto fail;
	if (have_from && (unlinkat(pfd, name, 0) != 0 || fsync(pfd) != 0))
		goto fail;
	goto out;
fail:
	snprintf(a->err, sizeof(a->err), "cannot move restored archive '%s/%s' "
	    "to _restored/: %s", archive_dir, path, strerror(errno));
	status = afile_io_status(errno);
out:
	if (rpfd >= 0)
		close(rpfd);
	if (rfd >= 0)
		close(rfd);
	if (pfd >= 0)
		close(pfd);
	if (tfd >= 0)
		close(tfd);
	if (rootfd >= 0)
		close(rootfd);
	return status;
}

/*
 * Open the file archive_dir/path read-only, every directory level and the
 * file itself without following a symlink.  -1 with errno on failure.
 */
static int
open_below(const char *archive_dir, const char *path)
{
	char buf[1024], *p, *slash;
	int dfd, next, fd, e;

	if ((dfd = open(archive_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		*slash = '\0';
		next = afile_open_subdir(dfd, p, false);
		e = errno;
		close(dfd);
		if (next < 0) {
			errno = e;
			return -1;
		}
		dfd = next;
	}
	fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	e = errno;
	close(dfd);
	errno = e;
	return fd;
}

int
afile_read(struct archiver *a, const char *archive_dir, const char *path,
    struct jbuf *out, int64_t *bytes)
{
	const char *msg;
	struct stat sb;
	gzFile gz = NULL;
	int fd, zerr, n = 0, status = J_OK;

	out->len = 0;
	if ((fd = open_below(archive_dir, path)) < 0 || fstat(fd, &sb) != 0) {
		snprintf(a->err, sizeof(a->err), "cannot open archive '%s/%s': %s",
		    archive_dir, path, strerror(errno));
		status = J_DATAERR;
		goto out;
	}
	*bytes = sb.st_size;
	if ((gz = gzdopen(fd, "rb")) == NULL) {
		snprintf(a->err, sizeof(a->err), "cannot read archive '%s/%s': %s",
		    archive_dir, path, strerror(errno));
		status = J_DATAERR;
		goto out;
	}
	fd = -1;	/* gzclose_r() closes it */
	for (;;) {
		if (out->len + GZ_BUFFER > out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 4 * GZ_BUFFER;
			char *p = realloc(out->p, cap);

			if (p == NULL) {
				snprintf(a->err, sizeof(a->err), "out of memory reading '%s'", path);
				status = J_SOFTWARE;
				goto out;
			}
			out->p = p;
			out->cap = cap;
		}
		n = gzread(gz, out->p + out->len, GZ_BUFFER);
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
	msg = gzerror(gz, &zerr);
	if (n < 0 || zerr != Z_OK) {
		/* zlib names the file "<fd:N>: ": we name it ourselves. */
		if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ") != NULL)
			msg = strstr(msg, ": ") + 2;
		snprintf(a->err, sizeof(a->err), "archive '%s/%s' is damaged: %s",
		    archive_dir, path, zerr == Z_ERRNO ? strerror(errno) : msg);
		status = J_DATAERR;
	}
out:
	if (gz != NULL && gzclose_r(gz) != Z_OK && status == J_OK) {
		snprintf(a->err, sizeof(a->err), "archive '%s/%s' is damaged: "
		    "bad gzip trailer", archive_dir, path);
		status = J_DATAERR;
	}
	if (fd >= 0)
		close(fd);
	return status;
}
