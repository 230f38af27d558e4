/*
 * Stock compensation for expired reservations (see expire.h).  The amount
 * given back is what the reservation's 'reserved' moves took (their negated
 * sum), not its current quantity: the ledger is the truth about stock.
 */
#include <stdio.h>
#include <string.h>

#include "expire.h"
#include "log.h"
#include "status.h"

#define LIST_MAX 10	/* ids named in one warning */

static int
on_row(struct archiver *a, sqlite3_stmt *row)
{
	struct expire_ctx *c = a->hooks.ctx;
	int64_t id, product, taken = 0;
	bool moved = false;
	int rc, i;

	if (c->product_col < 0) {	/* once: where the columns are */
		for (i = 0; i < a->ncols; i++) {
			if (strcmp(a->names[i], "id") == 0)
				c->id_col = i;
			else if (strcmp(a->names[i], "product_id") == 0)
				c->product_col = i;
		}
		if (c->id_col < 0 || c->product_col < 0)
			return J_SOFTWARE;
	}
	id = sqlite3_column_int64(row, c->id_col);
	product = sqlite3_column_int64(row, c->product_col);

	/* One statement reads what the 'reserved' moves took and books it
	 * back; it inserts nothing if they took nothing (HAVING) or if this
	 * reservation was given back before (DO NOTHING): then the stock must
	 * not rise.  RETURNING says which, and how much. */
	rc = db_bind_int64(a->db, c->move, ":product", product);
	if (rc == J_OK)
		rc = db_bind_int64(a->db, c->move, ":id", id);
	if (rc == J_OK && (rc = db_step(a->db, c->move, &moved)) == J_OK && moved)
		taken = sqlite3_column_int64(c->move, 0);
	if (rc == J_OK && moved)
		rc = db_run(a->db, c->move);	/* step to the end, then reset */
	else
		sqlite3_reset(c->move);
	if (rc != J_OK || !moved)
		return rc;	/* an error is never swallowed: no delete follows */
	rc = db_bind_int64(a->db, c->stock, ":qty", taken);
	if (rc == J_OK)
		rc = db_bind_int64(a->db, c->stock, ":product", product);
	if (rc == J_OK)
		rc = db_run(a->db, c->stock);
	if (rc == J_OK && sqlite3_changes(a->db->h) != 1) {
		snprintf(a->db->err, sizeof(a->db->err), "internal error: product "
		    "%lld of reservation %lld vanished", (long long)product, (long long)id);
		return J_SOFTWARE;
	}
	c->compensated++;
	c->units += taken;
	return rc;
}

int
expire_hooks(struct archive_hooks *h, struct expire_ctx *c, struct db *db)
{
	int rc;

	memset(h, 0, sizeof(*h));
	memset(c, 0, sizeof(*c));
	c->id_col = c->product_col = -1;
	h->on_row = on_row;
	h->ctx = c;
	rc = db_prepare(db, &c->move, "INSERT INTO stock_moves (product_id, "
	    "reservation_id, qty_change, reason) SELECT :product, :id, "
	    "-sum(qty_change), 'reservation_expired' FROM stock_moves WHERE "
	    "reservation_id = :id AND reason = 'reserved' HAVING count(*) > 0 "
	    "AND sum(qty_change) <> 0 ON CONFLICT (reservation_id) WHERE "
	    "reason = 'reservation_expired' DO NOTHING RETURNING qty_change");
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
