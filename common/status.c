/*
 * Names for the status codes of status.h, used in log lines and job_runs.
 */
#include "status.h"

const char *
status_name(int status)
{
	switch (status) {
	case J_OK:		return "ok";
	case J_USAGE:		return "usage";
	case J_DATAERR:		return "refused";
	case J_NOINPUT:		return "no-database";
	case J_SOFTWARE:	return "internal-error";
	case J_CANTCREAT:	return "cannot-create";
	case J_IOERR:		return "io-error";
	case J_TEMPFAIL:	return "busy";
	case J_CONFIG:		return "not-migrated";
	default:		return "unknown";
	}
}
