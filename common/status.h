/*
 * Status codes shared by the library and the jobs.  They are the sysexits.h
 * subset of SPEC section 4, so a job's main() can return them unchanged; the
 * library returns them but never exits (only main() decides to exit).
 */
#ifndef JOBS_STATUS_H
#define JOBS_STATUS_H

enum jstatus {
	J_OK = 0,		/* done, nothing to do, or clean stop at --max-runtime */
	J_USAGE = 64,		/* bad command line */
	J_DATAERR = 65,		/* refused because of the data */
	J_NOINPUT = 66,		/* database missing or not a database */
	J_SOFTWARE = 70,	/* internal error: a bug */
	J_CANTCREAT = 73,	/* archive cannot be created */
	J_IOERR = 74,		/* I/O error (disk full, EIO) */
	J_TEMPFAIL = 75,	/* busy past the timeout, or another instance runs */
	J_CONFIG = 78,		/* schema not migrated */
};

#endif
