/*
 * reconcile_stock's pass over products and their ledger (see stock.h): a
 * merge of two ordered streams, chunk by chunk, each chunk one read
 * transaction, then (--fix) its adjustments in short write transactions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "cli.h"
#include "job.h"
#include "log.h"
#include "progress.h"
#include "runlog.h"
#include "status.h"
#include "stock.h"

/*
 * The two streams.  The ledger's GROUP BY walks idx_stock_moves_product_id
 * in order (INDEXED BY: were the index gone, the statement fails instead of
 * silently sorting two million moves in a temporary b-tree), and max(id)
 * makes created_at that of the product's last move (SQLite takes a bare
 * column from the row of the max()).  A moves' product_id that is not an
 * integer (text or real, only possible with foreign keys off) sorts after
 * or between the integer ids, like in the index, and is an orphan.
 */
static const char products_sql[] =
    "SELECT id, sku, stock_quantity FROM products WHERE id >= :from ORDER BY id";
static const char ledger_sql[] =
    "SELECT product_id, sum(qty_change), count(*), max(id), created_at "
    "FROM stock_moves INDEXED BY idx_stock_moves_product_id "
    "WHERE product_id >= :from GROUP BY product_id ORDER BY product_id";
/*
 * One adjustment, read and booked in the caller's write transaction: the
 * difference as it is now, or no row at all when stock and ledger agree
 * (or the product is gone) by then.
 */
static const char adjust_sql[] =
    "INSERT INTO stock_moves (product_id, qty_change, reason) "
    "SELECT p.id, p.stock_quantity - l.qty, 'adjustment' FROM products p, "
    "(SELECT coalesce(sum(qty_change), 0) AS qty FROM stock_moves "
    "WHERE product_id = :id) l WHERE p.id = :id AND p.stock_quantity <> l.qty "
    "RETURNING qty_change";

enum { L_DRIFT, L_OVERSOLD, L_ORPHAN, L_KINDS };

struct candidate {
	int64_t id, diff;	/* a drifted product and its difference when read */
};

struct stock {
	struct job *j;
	struct db *db;
	sqlite3_stmt *prod, *led, *adjust;
	bool fix, dry_run;
	int64_t from;		/* first product id of the next chunk */
	bool started;		/* from is set */
	struct candidate *cand;	/* one chunk's drifted products (--fix) */
	size_t ncand;
	long batch, batch_size;	/* adjustments per write transaction */
	bool adapt;		/* batch follows archive_next_batch() */
	int64_t pause_ms;	/* JOBS_TEST_FIX_PAUSE_MS */
	int64_t list_max;	/* lines per list, 0 for all */
	int64_t listed[L_KINDS];
};

/* Whether the next line of list kind is printed (text caps each list). */
static bool
listing(struct stock *s, int kind)
{
	return s->list_max == 0 || s->listed[kind]++ < s->list_max;
}

static const char *
text_or(sqlite3_stmt *st, int col, const char *dflt)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v != NULL ? (const char *)v : dflt;
}

/* <0: the ledger's group comes first (an orphan); 0: the same product. */
static int
key_cmp(sqlite3_stmt *led, int64_t product)
{
	int64_t k;
	double d;

	switch (sqlite3_column_type(led, 0)) {
	case SQLITE_INTEGER:
		k = sqlite3_column_int64(led, 0);
		return k < product ? -1 : k > product;
	case SQLITE_FLOAT:
		/* INTEGER affinity stores a whole number as an integer: a real
		 * is never a product's id. */
		d = sqlite3_column_double(led, 0);
		return d < (double)product ? -1 : 1;
	default:
		return 1;	/* text and blobs sort after every number */
	}
}

static void
orphan(struct stock *s, struct stock_totals *t)
{
	sqlite3_stmt *l = s->led;

	t->orphan_products++;
	t->orphan_moves += sqlite3_column_int64(l, 2);
	if (listing(s, L_ORPHAN))
		log_info("%lld stock moves (sum %+lld, last %s) name product %s, "
		    "which does not exist", (long long)sqlite3_column_int64(l, 2),
		    (long long)sqlite3_column_int64(l, 1), text_or(l, 4, "unknown"),
		    text_or(l, 0, "NULL"));
}

/* One product; led is its ledger group, or NULL if it has no moves. */
static void
product(struct stock *s, struct stock_totals *t, sqlite3_stmt *led)
{
	sqlite3_stmt *p = s->prod;
	int64_t id = sqlite3_column_int64(p, 0);
	int64_t stock = sqlite3_column_int64(p, 2);
	int64_t ledger = led ? sqlite3_column_int64(led, 1) : 0;
	int64_t moves = led ? sqlite3_column_int64(led, 2) : 0;
	const char *sku = text_or(p, 1, "");
	char would[64] = "";

	if (t->products++ == 0)
		t->first = id;
	t->last = id;
	t->moves += moves;
	t->oversold += stock < 0;
	if (stock == ledger) {
		if (stock < 0 && listing(s, L_OVERSOLD))
			log_info("product %lld (sku '%s'): oversold, stock %lld "
			    "(its ledger agrees)", (long long)id, sku, (long long)stock);
		return;
	}
	t->drifted++;
	t->net += stock - ledger;
	if (listing(s, L_DRIFT)) {
		if (s->fix && s->dry_run)
			snprintf(would, sizeof(would), "; --fix would book %+lld",
			    (long long)(stock - ledger));
		log_info("product %lld (sku '%s'): stock %lld, ledger %lld, "
		    "difference %+lld, last move %s (%lld moves)%s%s", (long long)id,
		    sku, (long long)stock, (long long)ledger,
		    (long long)(stock - ledger), led ? text_or(led, 4, "unknown") :
		    "none", (long long)moves, stock < 0 ? ", oversold" : "", would);
	}
	/* A chunk holds STOCK_CHUNK products at most: cand has room. */
	if (s->fix && !s->dry_run)
		s->cand[s->ncand++] = (struct candidate){ id, stock - ledger };
}

/*
 * Read one chunk in one snapshot: up to STOCK_CHUNK products from s->from,
 * and the ledger groups before the next product (every group left, once
 * the products end).  *done when both streams are at their end.
 */
static int
read_chunk(struct stock *s, struct stock_totals *t, bool *done)
{
	bool prow = false, lrow = false;
	int64_t n = 0;
	int rc, c;

	s->ncand = 0;
	rc = db_exec(s->db, "BEGIN");
	if (rc == J_OK)
		rc = db_bind_int64(s->db, s->prod, ":from", s->started ? s->from : INT64_MIN);
	if (rc == J_OK)
		rc = db_bind_int64(s->db, s->led, ":from", s->started ? s->from : INT64_MIN);
	if (rc == J_OK)
		rc = db_step(s->db, s->prod, &prow);
	if (rc == J_OK)
		rc = db_step(s->db, s->led, &lrow);
	while (rc == J_OK && (prow || lrow)) {
		c = !prow ? -1 : !lrow ? 1 : key_cmp(s->led, sqlite3_column_int64(s->prod, 0));
		if (c < 0) {
			orphan(s, t);
			rc = db_step(s->db, s->led, &lrow);
			continue;
		}
		if (n++ == STOCK_CHUNK) {
			/* The next chunk starts at this product: the orphans
			 * before it are done, those after it are not. */
			s->from = sqlite3_column_int64(s->prod, 0);
			s->started = true;
			break;
		}
		product(s, t, c == 0 ? s->led : NULL);
		rc = db_step(s->db, s->prod, &prow);
		if (rc == J_OK && c == 0)
			rc = db_step(s->db, s->led, &lrow);
	}
	*done = rc == J_OK && !prow && !lrow;
	sqlite3_reset(s->prod);
	sqlite3_reset(s->led);
	if (rc == J_OK)
		rc = db_exec(s->db, "COMMIT");
	if (rc != J_OK)
		db_rollback(s->db);
	return rc;
}

/* Book the adjustments of n candidates in one write transaction. */
static int
book(struct stock *s, struct stock_totals *t, const struct candidate *c, size_t n)
{
	int64_t booked = 0, units = 0, changed = 0, settled = 0, q;
	bool row;
	size_t i;
	int rc = db_begin(s->db);

	for (i = 0; rc == J_OK && i < n; i++) {
		rc = db_bind_int64(s->db, s->adjust, ":id", c[i].id);
		if (rc == J_OK)
			rc = db_step(s->db, s->adjust, &row);
		if (rc != J_OK)
			break;
		if (!row) {
			settled++;
			log_debug("product %lld: its difference of %+lld was gone "
			    "in the fix's transaction (an app write in between): "
			    "nothing to book", (long long)c[i].id, (long long)c[i].diff);
		} else {
			q = sqlite3_column_int64(s->adjust, 0);
			booked++;
			units += q;
			if (q != c[i].diff) {
				changed++;
				log_debug("product %lld: difference %+lld when read, "
				    "%+lld in the fix's transaction (an app write in "
				    "between): booking %+lld", (long long)c[i].id,
				    (long long)c[i].diff, (long long)q, (long long)q);
			}
		}
		sqlite3_reset(s->adjust);
	}
	if (rc != J_OK) {
		db_rollback(s->db);
		return rc;
	}
	rc = db_commit(s->db);
	if (rc != J_OK && !s->db->committed)
		return rc;
	t->booked += booked;
	t->booked_units += units;
	t->changed += changed;
	t->settled += settled;
	s->j->run.rows += booked;
	return rc;
}

static bool
out_of_time(const struct job *j)
{
	return j->o->max_runtime > 0 && job_seconds(j) >= (double)j->o->max_runtime;
}

/* --fix: the chunk's candidates, --batch-size at a time. */
static int
fix_chunk(struct stock *s, struct stock_totals *t, bool *stopped)
{
	struct timespec ts;
	size_t i = 0, n;
	int rc = J_OK;

	if (s->ncand > 0 && s->pause_ms > 0) {
		ts.tv_sec = (time_t)(s->pause_ms / 1000);
		ts.tv_nsec = (long)(s->pause_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
	while (rc == J_OK && i < s->ncand) {
		if (out_of_time(s->j)) {
			*stopped = true;
			break;
		}
		n = s->ncand - i < (size_t)s->batch ? s->ncand - i : (size_t)s->batch;
		rc = book(s, t, s->cand + i, n);
		if (rc == J_OK && s->adapt)
			s->batch = archive_next_batch(s->batch, s->batch_size,
			    s->db->last_write);
		i += n;
	}
	return rc;
}

static void
list_more(const struct stock *s)
{
	static const char *const what[L_KINDS] = {
		"drifted products", "oversold products whose ledger agrees",
		"missing products named by stock moves",
	};
	int k;

	for (k = 0; k < L_KINDS; k++)
		if (s->list_max > 0 && s->listed[k] > s->list_max)
			log_info("... and %lld more %s (--log-format json lists "
			    "every one)", (long long)(s->listed[k] - s->list_max),
			    what[k]);
}

int
stock_pass(struct job *j, bool fix, struct stock_totals *t, bool *stopped)
{
	const struct job_opts *o = j->o;
	struct stock s;
	struct progress pr;
	int64_t total = 0;
	bool done = false;
	int rc;

	memset(t, 0, sizeof(*t));
	memset(&s, 0, sizeof(s));
	s.j = j;
	s.db = &j->db;
	s.fix = fix;
	s.dry_run = o->dry_run;
	s.batch_size = s.batch = o->batch_size;
	s.adapt = !o->batch_given;
	s.list_max = o->log_format == LOG_JSON ? 0 : STOCK_LIST_MAX;
	s.pause_ms = cli_test_knob("JOBS_TEST_FIX_PAUSE_MS", 0);
	*stopped = false;
	if (fix && !o->dry_run && (s.cand = malloc(STOCK_CHUNK * sizeof(*s.cand))) == NULL) {
		snprintf(j->db.err, sizeof(j->db.err), "out of memory");
		return J_SOFTWARE;
	}
	rc = db_prepare(s.db, &s.prod, products_sql);
	if (rc == J_OK)
		rc = db_prepare(s.db, &s.led, ledger_sql);
	if (rc == J_OK && fix && !o->dry_run)
		rc = db_prepare(s.db, &s.adjust, adjust_sql);
	progress_start(&pr, "products", 0);
	if (rc == J_OK && pr.on)
		rc = db_query_int64(s.db, "SELECT count(*) FROM products", &total, NULL);
	pr.total = total;
	/* The check writes its outcome (stock_save_state): a run. */
	if (rc == J_OK && !o->dry_run)
		rc = runlog_start(&j->run);
	while (rc == J_OK && !done) {
		if (s.started && out_of_time(j)) {
			*stopped = true;
			break;
		}
		rc = read_chunk(&s, t, &done);
		if (rc == J_OK && fix && !o->dry_run)
			rc = fix_chunk(&s, t, stopped);
		progress_update(&pr, t->products);
		if (*stopped)
			break;
	}
	progress_end(&pr);
	t->complete = rc == J_OK && done;
	if (t->products > 0) {
		snprintf(j->run.window_start, sizeof(j->run.window_start), "%lld",
		    (long long)t->first);
		snprintf(j->run.window_end, sizeof(j->run.window_end), "%lld",
		    (long long)t->last);
	}
	if (rc == J_OK)
		list_more(&s);
	db_finalize(&s.prod);
	db_finalize(&s.led);
	db_finalize(&s.adjust);
	free(s.cand);
	return rc;
}

void
stock_summary(const struct stock_totals *t, bool fix, bool dry_run, bool stopped,
    double seconds, char *out, size_t size)
{
	int64_t raced = t->changed + t->settled;
	size_t n;

	n = (size_t)snprintf(out, size, "checked %lld products and %lld moves: "
	    "%lld drifted from the ledger (net %+lld units), %lld oversold, %lld "
	    "orphan moves naming %lld missing products", (long long)t->products,
	    (long long)t->moves, (long long)t->drifted, (long long)t->net,
	    (long long)t->oversold, (long long)t->orphan_moves,
	    (long long)t->orphan_products);
	if (fix && dry_run && n < size)
		n += (size_t)snprintf(out + n, size - n, "; --fix would book %lld "
		    "adjustments (net %+lld units)", (long long)t->drifted,
		    (long long)t->net);
	else if (fix && n < size)
		n += (size_t)snprintf(out + n, size - n, "; booked %lld adjustments "
		    "(net %+lld units)", (long long)t->booked,
		    (long long)t->booked_units);
	if (fix && !dry_run && raced > 0 && n < size)
		n += (size_t)snprintf(out + n, size - n, "; the app changed %lld of "
		    "them between the check and the fix: %lld booked as re-read, "
		    "%lld needed none by then", (long long)raced,
		    (long long)t->changed, (long long)t->settled);
	if (stopped && fix && !dry_run && n < size)
		n += (size_t)snprintf(out + n, size - n, "; stopped at --max-runtime "
		    "after checking up to product %lld, %lld drifted products left "
		    "unfixed (the next run starts over)", (long long)t->last,
		    (long long)(t->drifted - t->booked - t->settled));
	else if (stopped && n < size)
		n += (size_t)snprintf(out + n, size - n, "; stopped at --max-runtime "
		    "after checking up to product %lld (the next run starts over)",
		    (long long)t->last);
	if (n < size)
		snprintf(out + n, size - n, "; %.2f s", seconds);
}

int
stock_save_state(struct db *db, const struct stock_totals *t)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int rc;

	runlog_clock(now);
	rc = db_prepare(db, &st, "INSERT INTO jobs_meta (key, value) VALUES (:key, "
	    "json_object('checked_at', :at, 'complete', json(:complete), "
	    "'products', :products, 'drifted', :drifted, 'fixed', :fixed, "
	    "'oversold', :oversold, 'orphan_moves', :om, 'orphan_products', :op)) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":key", STOCK_STATE_KEY);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":at", now);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":complete", t->complete ? "true" : "false");
	if (rc == J_OK)
		rc = db_bind_int64(db, st, ":products", t->products);
	if (rc == J_OK)
		rc = db_bind_int64(db, st, ":drifted", t->drifted);
	if (rc == J_OK)
		rc = db_bind_int64(db, st, ":fixed", t->booked + t->settled);
	if (rc == J_OK)
		rc = db_bind_int64(db, st, ":oversold", t->oversold);
	if (rc == J_OK)
		rc = db_bind_int64(db, st, ":om", t->orphan_moves);
	if (rc == J_OK)
		rc = db_bind_int64(db, st, ":op", t->orphan_products);
	if (rc == J_OK)
		rc = db_run_alone(db, st, NULL);
	db_finalize(&st);
	return rc;
}

int
stock_show(struct db *db, int64_t product, char *summary, size_t size)
{
	sqlite3_stmt *p = NULL, *m = NULL;
	int64_t stock = 0, sum = 0, n = 0, q;
	char sku[256] = "", ref[64];
	bool row = false, found = false;
	int rc;

	/* One snapshot: the stock and the moves as they were together. */
	rc = db_exec(db, "BEGIN");
	if (rc == J_OK)
		rc = db_prepare(db, &p, "SELECT sku, stock_quantity FROM products "
		    "WHERE id = :id");
	if (rc == J_OK)
		rc = db_bind_int64(db, p, ":id", product);
	if (rc == J_OK)
		rc = db_step(db, p, &found);
	if (rc == J_OK && found) {
		snprintf(sku, sizeof(sku), "%s", text_or(p, 0, ""));
		stock = sqlite3_column_int64(p, 1);
	}
	if (rc == J_OK)
		rc = db_prepare(db, &m, "SELECT id, created_at, reason, qty_change, "
		    "order_id, reservation_id FROM stock_moves WHERE product_id = :id "
		    "ORDER BY id");
	if (rc == J_OK)
		rc = db_bind_int64(db, m, ":id", product);
	while (rc == J_OK && (rc = db_step(db, m, &row)) == J_OK && row) {
		q = sqlite3_column_int64(m, 3);
		sum += q;
		if (!found) {
			n++;	/* an orphan's moves: counted, not listed */
			continue;
		}
		if (n++ == 0) {
			log_info("product %lld (sku '%s'), its ledger oldest first:",
			    (long long)product, sku);
			log_info("%10s  %-19s  %-19s  %6s  %7s  %s", "move", "time",
			    "reason", "qty", "sum", "order or reservation");
		}
		ref[0] = '\0';
		if (sqlite3_column_type(m, 4) != SQLITE_NULL)
			snprintf(ref, sizeof(ref), "  order %s", text_or(m, 4, ""));
		else if (sqlite3_column_type(m, 5) != SQLITE_NULL)
			snprintf(ref, sizeof(ref), "  reservation %s", text_or(m, 5, ""));
		log_info("%10lld  %-19s  %-19s  %+6lld  %7lld%s",
		    (long long)sqlite3_column_int64(m, 0), text_or(m, 1, "unknown"),
		    text_or(m, 2, ""), (long long)q, (long long)sum, ref);
	}
	db_finalize(&p);
	db_finalize(&m);
	if (rc == J_OK)
		rc = db_exec(db, "COMMIT");
	if (rc != J_OK) {
		db_rollback(db);
		snprintf(summary, size, "%s", db->err);
		return rc;
	}
	if (!found && n == 0) {
		snprintf(summary, size, "product %lld does not exist (and no stock "
		    "move names it)", (long long)product);
		return J_DATAERR;
	}
	if (!found) {
		snprintf(summary, size, "product %lld does not exist, but %lld "
		    "stock moves (sum %+lld) name it: orphan moves", (long long)product,
		    (long long)n, (long long)sum);
		return J_DATAERR;
	}
	if (n == 0)
		log_info("product %lld (sku '%s') has no stock moves: its ledger is 0",
		    (long long)product, sku);
	if (stock == sum)
		snprintf(summary, size, "product %lld: stock %lld, ledger %lld "
		    "(%lld moves): in step%s", (long long)product, (long long)stock,
		    (long long)sum, (long long)n, stock < 0 ? "; oversold" : "");
	else
		snprintf(summary, size, "product %lld: stock %lld, ledger %lld "
		    "(%lld moves): the stock is %lld %s its ledger, changed without "
		    "a move (reconcile_stock --fix books the difference)%s",
		    (long long)product, (long long)stock, (long long)sum,
		    (long long)n, (long long)(stock > sum ? stock - sum : sum - stock),
		    stock > sum ? "above" : "below", stock < 0 ? "; oversold" : "");
	return J_OK;
}
