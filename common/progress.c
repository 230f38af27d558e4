/*
 * Progress lines for runs on a terminal: see progress.h.
 */
#include <stdlib.h>

#include "cli.h"
#include "db.h"
#include "log.h"
#include "progress.h"

#define PROGRESS_EVERY_MS	500	/* milliseconds between two lines */

void
progress_start(struct progress *p, const char *unit, int64_t total)
{
	p->on = log_interactive();
	p->unit = unit;
	p->total = total;
	p->started = db_mono_ms();
	p->every = cli_test_knob("JOBS_TEST_PROGRESS_MS", PROGRESS_EVERY_MS);
	p->shown = p->started;	/* the first line after one interval */
}

void
progress_update(struct progress *p, int64_t done)
{
	int64_t now = db_mono_ms(), left;
	double secs, rate;

	if (!p->on || now - p->shown < p->every)
		return;
	p->shown = now;
	secs = (double)(now - p->started) / 1000;
	rate = secs > 0 ? (double)done / secs : 0;
	if (p->total > done && rate > 0) {
		left = (int64_t)((double)(p->total - done) / rate);
		log_progress("%lld of ~%lld %s, %.0f/s, ETA %lld:%02lld", (long long)done,
		    (long long)p->total, p->unit, rate, (long long)(left / 60),
		    (long long)(left % 60));
	} else {
		log_progress("%lld %s, %.0f/s", (long long)done, p->unit, rate);
	}
}

void
progress_end(struct progress *p)
{
	if (p->on)
		log_progress_clear();
}
