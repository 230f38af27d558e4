/*
 * What expire_reservations adds to the archiver: each expired reservation
 * that took stock (a 'reserved' move in stock_moves for its id) gets one
 * 'reservation_expired' move giving back what its reserved moves took, and
 * its product's stock_quantity rises by the same amount, in the transaction
 * that deletes it.  The unique index idx_stock_moves_one_expiry makes a second
 * compensation impossible, whatever crashes or reruns happen.
 */
#ifndef JOBS_EXPIRE_H
#define JOBS_EXPIRE_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"

/* Only reservations whose product exists are expired; the rest are reported. */
#define EXPIRE_ROW_FILTER "EXISTS (SELECT 1 FROM products WHERE products.id = product_id)"

struct expire_ctx {
	sqlite3_stmt *move, *stock;
	struct { int64_t product, qty; } *give;	/* one batch's stock to give back */
	size_t n, cap;
	int64_t compensated;	/* reservations given back */
	int64_t units;		/* stock units given back */
};

/* Prepare the hooks' statements on db; expire_release() frees them. */
int expire_hooks(struct archive_hooks *h, struct expire_ctx *ctx, struct db *db);
void expire_release(struct expire_ctx *ctx);

/*
 * Report (warnings) reservations due by now_ms that are left alone: those
 * whose product no longer exists, and those whose expires_at is unreadable.
 */
int expire_report_skipped(struct db *db, int64_t now_ms);

/* --dry-run: print the stock each product would get back. */
int expire_report_stock(struct db *db, int64_t now_ms);

#endif
