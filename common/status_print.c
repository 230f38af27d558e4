/*
 * Printing jobs_status's report (see status_report.h): the table with the
 * stock ledger, the archives, the problems and a copy's leftovers under it,
 * or the same as one JSON object for a monitoring system.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "status_report.h"
#include "timefmt.h"

/*
 * What a day is: "Europe/Dublin from 2025-06-01 (UTC before)", the newest
 * zone first; "UTC (no business time zone set)" without one.
 */
static void
business_line(const struct bizcal *c, char *out, size_t size)
{
	size_t i, len;
	char day[11];

	if (!c->zoned) {
		snprintf(out, size, "UTC (no business time zone set)");
		return;
	}
	out[0] = '\0';
	for (i = c->n; i-- > 0; ) {
		len = strlen(out);
		if (c->p[i].from_day == BIZ_FOREVER) {
			snprintf(out + len, size - len, "%s%s", c->p[i].tz.name,
			    c->n == 1 ? " (from the beginning)" : " before)");
			break;
		}
		ts_format_day(c->p[i].from_day, day);
		snprintf(out + len, size - len, "%s from %s%s", c->p[i].tz.name, day,
		    i == c->n - 1 ? " (" : ", ");
	}
}

static void
json_str(const char *s)
{
	char buf[4096] = "";

	log_json_escape(buf, sizeof(buf), s);
	printf("\"%s\"", buf);
}

void
status_print_json(const struct status_report *r)
{
	const struct status_leftovers *l = &r->left;
	char iso[32], biz[512];
	size_t i;
	int64_t k;

	ts_format_iso(r->now, iso);
	printf("{\"database\":");
	json_str(r->db_path);
	business_line(r->cal, biz, sizeof(biz));
	printf(",\"business_day\":");
	json_str(biz);
	printf(",\"now\":\"%s\",\"healthy\":%s,\"jobs\":[", iso,
	    r->healthy ? "true" : "false");
	for (i = 0; i < r->n; i++) {
		const struct job_status *s = &r->jobs[i];

		printf("%s{\"job\":\"%s\",\"scheduled\":%s,", i ? "," : "", s->job,
		    s->scheduled ? "true" : "false");
		if (s->ran) {
			printf("\"last_run\":{\"at\":\"%s\",\"result\":\"%s\",\"exit_code\":%lld,"
			    "\"rows\":%lld,\"seconds\":%.3f,\"message\":", s->ended, s->result,
			    (long long)s->exit_code, (long long)s->rows, s->seconds);
			json_str(s->message);
			printf("},");
		} else {
			printf("\"last_run\":null,");
		}
		if (s->last_success[0])
			printf("\"last_success\":\"%s\",", s->last_success);
		else
			printf("\"last_success\":null,");
		if (s->behind >= 0) {
			printf("\"behind\":{\"count\":%lld,\"what\":", (long long)s->behind);
			json_str(s->behind_what);
			printf("},");
		} else {
			printf("\"behind\":null,");
		}
		if (s->drift.known) {
			printf("\"drift\":{\"checked_at\":");
			json_str(s->drift.checked_at);
			printf(",\"complete\":%s,"
			    "\"products\":%lld,\"drifted\":%lld,\"fixed\":%lld,"
			    "\"unfixed\":%lld,\"oversold\":%lld,\"orphan_moves\":%lld,"
			    "\"orphan_products\":%lld},",
			    s->drift.complete ? "true" : "false",
			    (long long)s->drift.products, (long long)s->drift.drifted,
			    (long long)s->drift.fixed,
			    (long long)(s->drift.drifted - s->drift.fixed),
			    (long long)s->drift.oversold, (long long)s->drift.orphan_moves,
			    (long long)s->drift.orphan_products);
		} else if (strcmp(s->job, "reconcile_stock") == 0) {
			printf("\"drift\":null,");
		}
		printf("\"problem\":");
		if (s->problem[0])
			json_str(s->problem);
		else
			printf("null");
		printf("}");
	}
	printf("],\"archives\":{\"files\":%lld,\"verified\":%s,\"read\":",
	    (long long)r->files, r->verified ? "true" : "false");
	if (r->verified)
		printf("%lld,\"damaged\":%lld", (long long)r->read,
		    (long long)r->damaged);
	else
		printf("null,\"damaged\":null");
	printf("},\"copy_of_another_file\":%s,\"left_alone\":{\"count\":%lld,"
	    "\"paths\":[", l->copied ? "true" : "false", (long long)l->n);
	for (k = 0; k < l->n && k < STATUS_LEFTOVERS_SHOWN; k++) {
		printf("%s", k ? "," : "");
		json_str(l->path[k]);
	}
	printf("]}}\n");
}

/* The stock ledger line under the table (reconcile_stock only). */
static void
print_drift(const struct job_status *s)
{
	const struct status_drift *d = &s->drift;

	if (strcmp(s->job, "reconcile_stock") != 0)
		return;
	if (!d->known) {
		printf("\nstock ledger: never checked (reconcile_stock)\n");
		return;
	}
	printf("\nstock ledger: checked %lld products%s at %s:\n  %lld drifted "
	    "from the ledger (%lld fixed, %lld not), %lld oversold, %lld orphan "
	    "moves naming %lld missing products\n", (long long)d->products,
	    d->complete ? "" : " (stopped before the end)", d->checked_at,
	    (long long)d->drifted, (long long)d->fixed,
	    (long long)(d->drifted - d->fixed), (long long)d->oversold,
	    (long long)d->orphan_moves, (long long)d->orphan_products);
}

void
status_print_text(const struct status_report *r)
{
	const struct status_leftovers *l = &r->left;
	char iso[32], when[32], rows[24], secs[24], biz[512];
	size_t i;
	int64_t k;
	int problems = 0;

	ts_format_iso(r->now, iso);
	business_line(r->cal, biz, sizeof(biz));
	printf("database %s, now %s\nbusiness day: %s\n\n", r->db_path, iso, biz);
	printf("%-20s %-20s %-8s %10s %9s  %s\n", "job", "last run (UTC)", "result",
	    "rows", "time", "behind");
	for (i = 0; i < r->n; i++) {
		const struct job_status *s = &r->jobs[i];

		snprintf(when, sizeof(when), "%.19s", s->ran ? s->ended : "never");
		if (s->ran && strlen(when) > 10)
			when[10] = ' ';
		snprintf(rows, sizeof(rows), "%lld", (long long)s->rows);
		snprintf(secs, sizeof(secs), "%.1f s", s->seconds);
		printf("%-20s %-20s %-8s %10s %9s  ", s->job, when, s->ran ? s->result : "-",
		    s->ran ? rows : "-", s->ran && strcmp(s->result, "running") != 0 &&
		    strcmp(s->result, "died") != 0 ? secs : "-");
		if (s->behind >= 0)
			printf("%lld %s\n", (long long)s->behind, s->behind_what);
		else
			printf("-\n");
	}
	for (i = 0; i < r->n; i++)
		print_drift(&r->jobs[i]);
	printf("\narchives: %lld files in the manifest", (long long)r->files);
	if (r->verified)
		printf(", %lld damaged", (long long)r->damaged);
	if (r->verified && r->read < r->files)
		printf(", %lld not read (their table was dropped)",
		    (long long)(r->files - r->read));
	printf("\n");
	for (i = 0; i < r->n; i++)
		if (r->jobs[i].problem[0]) {
			if (problems++ == 0)
				printf("\nproblems:\n");
			printf("  %s: %s\n", r->jobs[i].job, r->jobs[i].problem);
		}
	if (r->verified && r->damaged > 0)
		printf("%s  archives: %lld damaged files (named above)\n",
		    problems++ ? "" : "\nproblems:\n", (long long)r->damaged);
	if (problems == 0)
		printf("\nno problems\n");
	if (l->copied)
		printf("\nnote: this file is not the one its archive id was made in "
		    "(a copy, or moved): its next job run takes a new id\n");
	if (l->n > 0)
		printf("\nleft alone: %lld unfinished archives named with another "
		    "database id (a copy's inheritance; delete each, and its "
		    "archive_manifest row, once no database with that id uses it):\n",
		    (long long)l->n);
	for (k = 0; k < l->n && k < STATUS_LEFTOVERS_SHOWN; k++)
		printf("  %s\n", l->path[k]);
	if (l->n > STATUS_LEFTOVERS_SHOWN)
		printf("  ... and %lld more\n", (long long)(l->n - STATUS_LEFTOVERS_SHOWN));
}
