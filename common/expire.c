/*
 * Stock compensation for expired reservations (see expire.h).  The amount
 * given back is what the reservation's 'reserved' moves took (their negated
 * sum), not its current quantity: the ledger is the truth about stock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expire.h"
#include "log.h"
#include "status.h"

#define LIST_MAX 10	/* ids named in one warning */

/* Add qty to product in c's list (a batch touches a few hundred products). */
static int
give_back(struct expire_ctx *c, int64_t product, int64_t qty)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->give[i].product == product) {
			c->give[i].qty += qty;
			return J_OK;
		}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		void *p = realloc(c->give, cap * sizeof(*c->give));

		if (p == NULL)
			return J_SOFTWARE;
		c->give = p;
		c->cap = cap;
	}
	c->give[c->n].product = product;
	c->give[c->n++].qty = qty;
	return J_OK;
}

/*
 * One statement books back, for every reservation of the batch that the
 * DELETE will remove, what its 'reserved' moves took.  It inserts nothing for
 * one whose moves took nothing (HAVING) or that was given back before (DO
 * NOTHING on the unique index): then the stock must not rise.  RETURNING
 * says which, and how much; each product's stock then rises once.
 */
static int
on_batch(struct archiver *a, const char *ids, int64_t lo, int64_t hi)
{
	struct expire_ctx *c = a->hooks.ctx;
	bool row;
	size_t i;
	int rc;

	c->n = 0;
	rc = db_bind_text(a->db, c->move, ":ids", ids);
	if (rc == J_OK)
		rc = db_bind_int64(a->db, c->move, ":lo", lo);
	if (rc == J_OK)
		rc = db_bind_int64(a->db, c->move, ":hi", hi);
	while (rc == J_OK && (rc = db_step(a->db, c->move, &row)) == J_OK && row) {
		rc = give_back(c, sqlite3_column_int64(c->move, 0),
		    sqlite3_column_int64(c->move, 1));
		c->compensated++;
		c->units += sqlite3_column_int64(c->move, 1);
	}
	sqlite3_reset(c->move);
	for (i = 0; rc == J_OK && i < c->n; i++) {
		rc = db_bind_int64(a->db, c->stock, ":qty", c->give[i].qty);
		if (rc == J_OK)
			rc = db_bind_int64(a->db, c->stock, ":product", c->give[i].product);
		if (rc == J_OK)
			rc = db_run(a->db, c->stock);
		if (rc == J_OK && sqlite3_changes(a->db->h) != 1) {
			snprintf(a->db->err, sizeof(a->db->err), "internal error: "
			    "product %lld vanished", (long long)c->give[i].product);
			rc = J_SOFTWARE;
		}
	}
	return rc;
}

int
expire_hooks(struct archive_hooks *h, struct expire_ctx *c, struct db *db)
{
	int rc;

	memset(h, 0, sizeof(*h));
	memset(c, 0, sizeof(*c));
	h->on_batch = on_batch;
	h->ctx = c;
	/* The same rows as the archiver's DELETE: ids of the batch still due
	 * and still with their product (EXPIRE_ROW_FILTER). */
	rc = db_prepare(db, &c->move, "INSERT INTO stock_moves (product_id, "
	    "reservation_id, qty_change, reason) SELECT r.product_id, r.id, "
	    "-sum(m.qty_change), 'reservation_expired' FROM product_reservations r "
	    "JOIN stock_moves m ON m.reservation_id = r.id AND m.reason = 'reserved' "
	    "WHERE r.id IN (SELECT value FROM json_each(:ids)) AND "
	    "ts_ms(r.expires_at) >= :lo AND ts_ms(r.expires_at) < :hi AND "
	    "EXISTS (SELECT 1 FROM products WHERE products.id = r.product_id) "
	    "GROUP BY r.id HAVING sum(m.qty_change) <> 0 "
	    "ON CONFLICT (reservation_id) WHERE reason = 'reservation_expired' "
	    "DO NOTHING RETURNING product_id, qty_change");
	if (rc == J_OK)
		rc = db_prepare(db, &c->stock, "UPDATE products SET stock_quantity = "
		    "stock_quantity + :qty WHERE id = :product");
	return rc;
}

void
expire_release(struct expire_ctx *c)
{
	db_finalize(&c->move);
	db_finalize(&c->stock);
	free(c->give);
	c->give = NULL;
}

/* Warn about the ids one query returns, if any. */
static int
warn_ids(struct db *db, const char *sql, int64_t now_ms, const char *what)
{
	sqlite3_stmt *st;
	char list[512] = "";
	size_t len = 0;
	int rc, n = 0;
	bool row;

	rc = db_prepare(db, &st, sql);
	if (rc == J_OK && sqlite3_bind_parameter_index(st, ":now") > 0)
		rc = db_bind_int64(db, st, ":now", now_ms);
	while (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row)
		if (n++ < LIST_MAX && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%lld",
			    n > 1 ? ", " : "", (long long)sqlite3_column_int64(st, 0));
	db_finalize(&st);
	if (rc == J_OK && n > 0)
		log_warn("%d reservations %s, left alone: ids %s%s", n, what, list,
		    n > LIST_MAX ? " ..." : "");
	return rc;
}

int
expire_report_skipped(struct db *db, int64_t now_ms)
{
	/* Reservations are few (carts), so a scan here is cheap. */
	int rc = warn_ids(db, "SELECT id FROM product_reservations WHERE "
	    "ts_ms(expires_at) <= :now AND product_id NOT IN (SELECT id FROM "
	    "products) ORDER BY id", now_ms, "are due but their product no longer exists");

	if (rc == J_OK)
		rc = warn_ids(db, "SELECT id FROM product_reservations WHERE "
		    "ts_ms(expires_at) IS NULL ORDER BY id", now_ms,
		    "have an unreadable expires_at");
	return rc;
}

int
expire_report_stock(struct db *db, int64_t now_ms)
{
	sqlite3_stmt *st;
	bool row;
	int rc;

	rc = db_prepare(db, &st, "SELECT r.product_id, count(DISTINCT r.id), "
	    "-sum(m.qty_change) FROM product_reservations r JOIN stock_moves m "
	    "ON m.reservation_id = r.id AND m.reason = 'reserved' "
	    "WHERE ts_ms(r.expires_at) <= :now AND r.product_id IN (SELECT id FROM products) "
	    "AND NOT EXISTS (SELECT 1 FROM stock_moves e WHERE e.reservation_id = r.id "
	    "AND e.reason = 'reservation_expired') GROUP BY r.product_id ORDER BY 1");
	if (rc == J_OK)
		rc = db_bind_int64(db, st, ":now", now_ms);
	while (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row)
		log_info("would give back %lld to product %lld (%lld reservations)",
		    (long long)sqlite3_column_int64(st, 2),
		    (long long)sqlite3_column_int64(st, 0),
		    (long long)sqlite3_column_int64(st, 1));
	db_finalize(&st);
	return rc;
}
