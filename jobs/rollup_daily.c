/*
 * rollup_daily: aggregate raw analytics_events into analytics_daily, one row
 * per (UTC day, event_type) (SPEC section 5).  With no day given it catches
 * up: every complete day not rolled up yet and every day whose events changed
 * since.  --date or --from/--to recompute exactly those days.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "progress.h"
#include "rollup.h"
#include "runlog.h"
#include "status.h"
#include "timefmt.h"

enum { OPT_DATE = 256, OPT_FROM, OPT_TO };

struct rollup_args {
	int64_t from_ms, to_ms;		/* days asked, 00:00 UTC; -1 if none */
	bool date, from, to;
};

static const struct cli_option options[] = {
	{ "date", "YYYY-MM-DD", OPT_DATE, "recompute this UTC day" },
	{ "from", "YYYY-MM-DD", OPT_FROM, "recompute from this day ..." },
	{ "to", "YYYY-MM-DD", OPT_TO, "... through this day (inclusive)" },
	{ NULL, NULL, 0, NULL },
};

static const char *reason_names[] = { "missing", "stale", "asked", "pruned" };

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct rollup_args *a = ctx;
	int64_t day;

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
	int64_t today = ts_floor_day(o->now_ms);
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

int
main(int argc, char **argv)
{
	struct rollup_args args = { -1, -1, false, false, false };
	const struct cli_spec spec = {
		"rollup_daily", "[--db PATH] [--date D | --from D --to D] [options]",
		"Roll analytics_events up into analytics_daily, one row per UTC day and\n"
		"event_type.  Without a day: every complete day not rolled up yet, and\n"
		"every day whose events changed since.",
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
	ts_format_day(o.now_ms, today);

	rc = rollup_init(&r, &j.db);
	if (rc == J_OK && !o.dry_run)
		rc = rollup_forget_invalid(&r);
	if (rc == J_OK)
		rc = args.date || args.from ?
		    rollup_range_days(&r, args.from_ms, args.to_ms, &days) :
		    rollup_catchup_days(&r, ts_floor_day(o.now_ms), &days);
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
