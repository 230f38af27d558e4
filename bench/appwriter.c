/*
 * appwriter: stands in for the shop's web app during a benchmark.  It inserts
 * one analytics event per transaction at a fixed rate, as the app does, and
 * records each insert's latency, so a run shows what a job (or the naive
 * SQL) does to the app.  Usage: appwriter DB RATE SECONDS OUT.csv
 * Output: one line per insert, "seconds_since_start,latency_ms,ok".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sqlite3.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;	/* finish the current insert, then write out and exit */
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	FILE *out;
	double rate, seconds, start, next;
	long n = 0, errors = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: appwriter DB RATE SECONDS OUT.csv\n");
		return 64;
	}
	rate = atof(argv[2]);
	seconds = atof(argv[3]);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK || (out = fopen(argv[4], "w")) == NULL) {
		fprintf(stderr, "appwriter: cannot open %s or %s\n", argv[1], argv[4]);
		return 66;
	}
	/* Like the app: WAL, default checkpointing, a 5 s busy timeout. */
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "INSERT INTO analytics_events (event_type, "
	    "user_id, session_id, product_id, metadata, created_at) VALUES "
	    "('page_view', ?1 % 5000 + 1, 'live-' || (?1 % 1000), NULL, '{}', "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "appwriter: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	signal(SIGTERM, on_term);
	start = next = now_s();
	while (!stop && now_s() - start < seconds) {
		double t0, t1;
		int rc;

		double wait = next - now_s();

		if (wait > 0) {
			struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };

			nanosleep(&ts, NULL);
		}
		next += 1.0 / rate;
		sqlite3_bind_int64(st, 1, n);
		t0 = now_s();
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		t1 = now_s();
		if (rc != SQLITE_DONE)
			errors++;
		fprintf(out, "%.4f,%.3f,%d\n", t0 - start, (t1 - t0) * 1000, rc == SQLITE_DONE);
		n++;
	}
	fclose(out);
	sqlite3_finalize(st);
	sqlite3_close(db);
	fprintf(stderr, "appwriter: %ld inserts, %ld errors\n", n, errors);
	return 0;
}
