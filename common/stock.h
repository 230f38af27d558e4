/*
 * The stock ledger check of reconcile_stock (SPEC 5): every product's
 * stock_quantity against the sum of its stock_moves (no moves: 0), the
 * products that differ (drift), those below zero (oversold), and moves that
 * name no product (orphans).  With --fix each drifted product gets one
 * 'adjustment' move of the difference; stock_quantity is never changed.
 *
 * The pass walks the products in id order beside one aggregate of the
 * ledger in product order (idx_stock_moves_product_id), merging the two in
 * C: no temporary b-tree, memory bounded whatever the tables hold, and the
 * orphans come out of the same walk.  It reads STOCK_CHUNK products per
 * read transaction, so a product's stock and its ledger always come from
 * one snapshot (an app that changes both in one transaction never shows as
 * drift) and no snapshot is held for long (it would keep the WAL from
 * starting over).
 *
 * --fix books a chunk's drifted products after its read, in short BEGIN
 * IMMEDIATE transactions of --batch-size products.  Each adjustment is one
 * INSERT ... SELECT that reads the stock and the ledger again inside the
 * transaction and books exactly their difference, or nothing if they agree
 * by then.  So an app write between the read and the fix can never give a
 * wrong adjustment, and a run killed anywhere leaves every product either
 * adjusted once or not at all: the next run reads the ledger it left.
 */
#ifndef JOBS_STOCK_H
#define JOBS_STOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct job;

#define STOCK_CHUNK		10000	/* products per read transaction: ~0.3 s
					 * at 20 moves a product */
#define STOCK_DEFAULT_BATCH	500	/* adjustments per write transaction:
					 * 10-50 ms measured at 20 moves a
					 * product; fewer while they run slow */
#define STOCK_LIST_MAX		20	/* lines per list in text output */

/*
 * Test knob (cli.h's convention): JOBS_TEST_FIX_PAUSE_MS, milliseconds
 * --fix waits between a chunk's read and its first write transaction
 * (default 0), so that a test can put an app write there.
 */

/* What one pass found and did. */
struct stock_totals {
	int64_t products;	/* products checked */
	int64_t moves;		/* their moves */
	int64_t drifted;	/* products whose stock differs from their ledger */
	int64_t net;		/* sum of those differences (stock - ledger) */
	int64_t oversold;	/* products with stock below zero */
	int64_t orphan_moves;	/* moves whose product does not exist */
	int64_t orphan_products;	/* the missing products they name */
	int64_t booked;		/* --fix: adjustments booked */
	int64_t booked_units;	/* their sum */
	int64_t changed;	/* ... of them re-read as another difference */
	int64_t settled;	/* drift gone by the time of its fix: nothing booked */
	int64_t first, last;	/* product ids checked, first and last */
	bool complete;		/* every product was checked (no --max-runtime stop) */
};

/*
 * The whole pass: check every product (and, with fix, book the adjustments;
 * with fix under --dry-run, say what would be booked), reporting each drifted
 * product, oversold product and orphan group as it goes (in text at most
 * STOCK_LIST_MAX lines of each, then how many more; every one in JSON).
 * Records the run in job_runs (rows: adjustments booked).  Stops cleanly
 * at --max-runtime after the current chunk or batch (*stopped).  Returns
 * J_OK, or the status of the failure with j->db.err set.
 */
int stock_pass(struct job *j, bool fix, struct stock_totals *t, bool *stopped);

/* The one-line summary of a pass (for job_end()). */
void stock_summary(const struct stock_totals *t, bool fix, bool dry_run,
    bool stopped, double seconds, char *out, size_t size);

/*
 * Keep the pass's outcome for jobs_status in jobs_meta, key STOCK_STATE_KEY:
 * a JSON object {checked_at, complete, products, drifted, fixed, oversold,
 * orphan_moves, orphan_products}, fixed being the drifted products that
 * agree with their ledger after the run.  Its own short transaction.
 */
#define STOCK_STATE_KEY	"reconcile_stock.drift"
int stock_save_state(struct db *db, const struct stock_totals *t);

/*
 * --product: print product's ledger move by move (id, time, reason, qty,
 * running sum, order or reservation) and how far its stock is from the
 * sum, read in one snapshot.  The conclusion goes into summary.  J_OK, or
 * J_DATAERR when the product does not exist (summary says so, and counts
 * any moves that name it), or the status of a database failure.
 */
int stock_show(struct db *db, int64_t product, char *summary, size_t size);

#endif
