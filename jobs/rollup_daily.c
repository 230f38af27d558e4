/*
 * rollup_daily: aggregate raw analytics_events into analytics_daily, one row
 * per (day, event_type) (SPEC section 5).  A day is the shop's business day:
 * a UTC day, or the business time zone's (common/bizday.h), which
 * --set-timezone sets.  With no day given it catches up: every complete day
 * not rolled up yet and every day whose events changed since.  --date or
 * --from/--to recompute exactly those days.
 */
#include <stdio.h>
#include <string.h>

#include "bizday.h"
#include "cli.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "progress.h"
#include "rollup.h"
#include "runlog.h"
#include "status.h"
#include "timefmt.h"

enum { OPT_DATE = 256, OPT_FROM, OPT_TO, OPT_ZONE };

struct rollup_args {
	int64_t from_ms, to_ms;		/* days asked; -1 if none */
	bool date, from, to;
	const char *zone;		/* --set-timezone, or NULL */
};

static const struct cli_option options[] = {
	{ "date", "YYYY-MM-DD", OPT_DATE, "recompute this day" },
	{ "from", "YYYY-MM-DD", OPT_FROM, "recompute from this day ... (with --set-timezone: its first day)" },
	{ "to", "YYYY-MM-DD", OPT_TO, "... through this day (inclusive)" },
	{ "set-timezone", "ZONE", OPT_ZONE, "days are ZONE's (e.g. Europe/Dublin) from --from on, then roll again" },
	{ NULL, NULL, 0, NULL },
};

static const char *reason_names[] = { "missing", "stale", "asked", "pruned" };

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct rollup_args *a = ctx;
	int64_t day;

	if (key == OPT_ZONE) {
		a->zone = arg;
		return 0;
	}
	if (ts_parse_day(arg, &day) != 0) {
		snprintf(err, size, "--%s: '%s' is not a valid day (YYYY-MM-DD)",
		    key == OPT_DATE ? "date" : key == OPT_FROM ? "from" : "to", arg);
		return J_USAGE;
	}
	if (key == OPT_DATE) {
		a->date = true;
		a->from_ms = a->to_ms = day;
	} else if (key == OPT_FROM) {
		a->from = true;
		a->from_ms = day;
	} else {
		a->to = true;
		a->to_ms = day;
	}
	return 0;
}

static int
check_args(const struct rollup_args *a)
{
	char from[11], to[11];

	if (a->zone != NULL) {
		if (!a->date && !a->to)
			return J_OK;
		log_error("--set-timezone takes --from (its first day), not --date or --to");
		return J_USAGE;
	}
	if (a->date && (a->from || a->to))
		log_error("--date cannot be combined with --from/--to");
	else if (a->from != a->to)
		log_error("--from and --to go together (for one day use --date)");
	else if (a->from && a->from_ms > a->to_ms) {
		ts_format_day(a->from_ms, from);
		ts_format_day(a->to_ms, to);
		log_error("--from %s is after --to %s", from, to);
	} else
		return J_OK;
	return J_USAGE;
}

/* Report a day that is never recomputed because its events were pruned. */
static void
report_frozen(const struct rollup_day *d)
{
	char day[11];

	ts_format_day(d->day_ms, day);
	if (d->reason == RR_FROZEN && d->late)
		log_warn("%s: events arrived or changed after the day was pruned; "
		    "they are not counted (its rollup is frozen) and prune_events "
		    "will archive them", day);
	else
		log_warn("%s: skipped, its events were already pruned (the rollup "
		    "is frozen)", day);
}

struct rollup_totals {
	size_t days;
	int64_t events, rows, unreadable;
};

/* Roll each listed day: claim, read, store.  *left counts days not reached
 * before --max-runtime. */
static int
roll_days(struct job *j, struct rollup *r, const struct day_list *days,
    struct rollup_totals *t, size_t *left)
{
	const struct job_opts *o = j->o;
	int64_t today = bizcal_day(&r->cal, o->now_ms);
	struct progress pr;
	char day[11];
	bool frozen = false;
	size_t i;
	int rc = J_OK;

	progress_start(&pr, "days", (int64_t)days->n);
	for (i = 0; rc == J_OK && i < days->n; i++) {
		const struct rollup_day *d = &days->v[i];
		struct rollup_result res;

		ts_format_day(d->day_ms, day);
		if (d->reason == RR_FROZEN) {
			report_frozen(d);
			continue;
		}
		if (o->max_runtime && job_seconds(j) >= (double)o->max_runtime) {
			*left = days->n - i;
			break;
		}
		if (d->day_ms >= today)
			log_warn("%s is not over yet: its rollup is partial until it "
			    "is rolled again", day);
		if ((rc = rollup_compute(r, d->day_ms, &res)) == J_OK && !o->dry_run)
			rc = rollup_store(r, d->day_ms, &res, &frozen);
		if (rc == J_OK && !frozen) {
			if (o->dry_run)
				log_info("would roll %s (%s): %lld events, %zu event "
				    "types", day, reason_names[d->reason],
				    (long long)res.events, res.n);
			else
				log_debug("rolled %s (%s): %lld events, %zu rows", day,
				    reason_names[d->reason], (long long)res.events, res.n);
			if (res.unreadable > 0)
				log_warn("%s: %lld events dated this day have an "
				    "unreadable created_at and are not counted", day,
				    (long long)res.unreadable);
			if (t->days++ == 0)
				ts_format_day(d->day_ms, j->run.window_start);
			ts_format_day(d->day_ms, j->run.window_end);
			t->events += res.events;
			t->rows += (int64_t)res.n;
			t->unreadable += res.unreadable;
			j->run.rows = t->events;
		}
		rollup_result_free(&res);
		progress_update(&pr, (int64_t)i + 1);
	}
	progress_end(&pr);
	return rc;
}

/*
 * --set-timezone: the new calendar (bizday.h), then the run rolls the days
 * it changed.  With --dry-run, only what would be rolled again.
 */
static int
set_zone(struct job *j, const struct rollup_args *a, char *summary, size_t size)
{
	const struct job_opts *o = j->o;
	struct bizcal c;
	int64_t redo, today;
	char err[1024], from[11], first[11], last[11];
	int rc;

	/* Checked first, changing nothing: a refusal records no run. */
	rc = bizcal_set(&j->db, a->zone, a->from ? a->from_ms : BIZ_FOREVER,
	    true, &redo, err, sizeof(err));
	if (rc == J_OK && !o->dry_run && (rc = runlog_start(&j->run)) != J_OK)
		snprintf(err, sizeof(err), "%s", j->db.err);
	else if (rc == J_OK && !o->dry_run)
		rc = bizcal_set(&j->db, a->zone, a->from ? a->from_ms : BIZ_FOREVER,
		    false, &redo, err, sizeof(err));
	if (rc != J_OK) {
		snprintf(summary, size, "%s", err);
		return rc;
	}
	if (redo == BIZ_FOREVER) {
		snprintf(summary, size, "%s days %s's from the beginning (nothing "
		    "was ever pruned): every day %s rolled again", o->dry_run ?
		    "would make" : "made", a->zone, o->dry_run ? "would be" : "is");
		return J_OK;
	}
	ts_format_day(redo + TS_MS_PER_DAY, from);
	ts_format_day(redo, first);
	/* The days rolled again end with yesterday in the new zone: that is
	 * the new calendar's, which only the real run has. */
	if ((rc = bizcal_load(&c, &j->db)) != J_OK) {
		snprintf(summary, size, "%s", j->db.err);
		return rc;
	}
	today = bizcal_day(&c, o->now_ms);
	bizcal_free(&c);
	ts_format_day(today - TS_MS_PER_DAY, last);
	snprintf(summary, size, "%s days %s's from %s on; %s (the last day "
	    "before, which %s where %s begins) and every later day %s rolled "
	    "again%s%s%s", o->dry_run ? "would make" : "made", a->zone, from,
	    first, o->dry_run ? "would end" : "now ends", from, o->dry_run ?
	    "would be" : "are", o->dry_run ? " (through " : "", o->dry_run ?
	    last : "", o->dry_run ? ")" : "");
	return J_OK;
}

int
main(int argc, char **argv)
{
	struct rollup_args args = { -1, -1, false, false, false, NULL };
	const struct cli_spec spec = {
		"rollup_daily", "[--db PATH] [--date D | --from D --to D | --set-timezone ZONE [--from D]]\n"
		"       [options]",
		"Roll analytics_events up into analytics_daily, one row per day and\n"
		"event_type; a day is a UTC day, or the business time zone's once\n"
		"--set-timezone has set one.  Without a day: every complete day not\n"
		"rolled up yet, and every day whose events changed since.",
		CLI_NOW | CLI_RUNTIME | CLI_METRICS, 0, options, handle, &args,
	};
	struct job_opts o;
	struct job j;
	struct rollup r;
	struct day_list days = { NULL, 0, 0 };
	struct rollup_totals t = { 0, 0, 0, 0 };
	char summary[2048], today[11];
	bool stopped = false;
	size_t left = 0;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	if ((rc = check_args(&args)) != J_OK)
		return rc;
	if ((rc = job_begin(&j, spec.name, &o)) != J_OK)
		return rc;
	/* Rollups write no file: see db_relax_durability(). */
	if (!o.dry_run && (rc = db_relax_durability(&j.db)) != J_OK)
		return job_end(&j, rc, false, j.db.err);
	/* A dry run of --set-timezone says it all in its line: the calendar
	 * is the old one still, and so would be the days listed. */
	if (args.zone != NULL && ((rc = set_zone(&j, &args, summary,
	    sizeof(summary))) != J_OK || o.dry_run))
		return job_end(&j, rc, false, summary);
	if (args.zone != NULL)
		log_info("%s", summary);

	rc = rollup_init(&r, &j.db);
	ts_format_day(rc == J_OK ? bizcal_day(&r.cal, o.now_ms) : o.now_ms, today);
	if (rc == J_OK && !o.dry_run)
		rc = rollup_forget_invalid(&r);
	if (rc == J_OK)
		rc = (args.date || args.from) && args.zone == NULL ?
		    rollup_range_days(&r, args.from_ms, args.to_ms, &days) :
		    rollup_catchup_days(&r, bizcal_day(&r.cal, o.now_ms), &days);
	if (rc == J_OK && !o.dry_run && days.n > 0 &&
	    (rc = runlog_start(&j.run)) == J_OK)
		rc = rollup_claim(&r, &days);
	if (rc == J_OK)
		rc = roll_days(&j, &r, &days, &t, &left);
	stopped = left > 0;

	if (rc != J_OK)
		snprintf(summary, sizeof(summary), "%s (after %zu days rolled)",
		    j.db.err, t.days);
	else if (t.days == 0 && !stopped)
		snprintf(summary, sizeof(summary), "nothing to do: every day before "
		    "%s is rolled up", today);
	else
		snprintf(summary, sizeof(summary), "%s %zu days (%s..%s): %lld events, "
		    "%lld rows; %lld unreadable timestamps; %.2f s%s",
		    o.dry_run ? "would roll" : "rolled", t.days, j.run.window_start,
		    j.run.window_end, (long long)t.events, (long long)t.rows,
		    (long long)t.unreadable, job_seconds(&j), stopped ?
		    "; stopped at --max-runtime, the next run goes on" : "");
	day_list_free(&days);
	rollup_release(&r);
	return job_end(&j, rc, stopped, summary);
}
