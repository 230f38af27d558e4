/*
 * reconcile_stock: compare every product's stock_quantity with its stock
 * ledger (the sum of its stock_moves) and report the drift; --fix books one
 * 'adjustment' move per drifted product; --product ID shows one product's
 * ledger move by move (SPEC section 5; the pass is in common/stock.h).
 * Drift is the app's doing, not a failure of the job: it exits 0 either way.
 */
#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "job.h"
#include "log.h"
#include "status.h"
#include "stock.h"

enum { OPT_FIX = 256, OPT_PRODUCT };

struct reconcile_args {
	bool fix;
	bool show;		/* --product */
	long product;
};

static const struct cli_option options[] = {
	{ "fix", NULL, OPT_FIX, "book one adjustment move per drifted product" },
	{ "product", "ID", OPT_PRODUCT, "show that product's ledger, move by move" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct reconcile_args *a = ctx;

	if (key == OPT_FIX) {
		a->fix = true;
		return 0;
	}
	if (cli_number(arg, 0, LONG_MAX, &a->product) != 0) {
		snprintf(err, size, "--product: '%s' is not a product id (a whole "
		    "number)", arg);
		return J_USAGE;
	}
	a->show = true;
	return 0;
}

int
main(int argc, char **argv)
{
	struct reconcile_args args = { false, false, 0 };
	const struct cli_spec spec = {
		"reconcile_stock", "[--db PATH] [--fix | --product ID] [options]",
		"Compare every product's stock_quantity with its stock ledger (the sum\n"
		"of its stock_moves) and list the products that differ, those below\n"
		"zero and the moves of products that do not exist.  --fix books one\n"
		"'adjustment' move per drifted product, so that the ledger equals the\n"
		"stock again; the stock itself is never changed.  Drift found is not\n"
		"a failure: the exit status is 0 either way.",
		CLI_BATCH | CLI_RUNTIME | CLI_METRICS, STOCK_DEFAULT_BATCH,
		options, handle, &args,
	};
	struct stock_totals t;
	struct job_opts o;
	struct job j;
	char summary[2048];
	bool stopped = false;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	if (args.show && args.fix) {
		log_error("--product shows one product's ledger; it cannot be "
		    "combined with --fix");
		return J_USAGE;
	}
	/* --product only reads: like --dry-run it takes no lock and records
	 * no run, so looking never hides the nightly run's outcome. */
	o.dry_run |= args.show;
	if ((rc = job_begin(&j, spec.name, &o)) != J_OK)
		return rc;
	if (args.show) {
		rc = stock_show(&j.db, args.product, summary, sizeof(summary));
		return job_end(&j, rc, false, summary);
	}
	/* It writes no file: see db_relax_durability(). */
	if (!o.dry_run && (rc = db_relax_durability(&j.db)) != J_OK)
		return job_end(&j, rc, false, j.db.err);
	rc = stock_pass(&j, args.fix, &t, &stopped);
	if (rc == J_OK && !o.dry_run)
		rc = stock_save_state(&j.db, &t);
	if (rc != J_OK) {
		snprintf(summary, sizeof(summary), "%s", j.db.err);
		return job_end(&j, rc, false, summary);
	}
	stock_summary(&t, args.fix, o.dry_run, stopped, job_seconds(&j), summary,
	    sizeof(summary));
	job_gauge(&j, "stock_drifted_products", "Products whose stock differs "
	    "from their stock_moves ledger after the last run (drift it found "
	    "and did not fix).", (double)(t.drifted - t.booked - t.settled));
	job_gauge(&j, "stock_oversold_products", "Products whose stock was below "
	    "zero in the last run.", (double)t.oversold);
	job_gauge(&j, "stock_orphan_moves", "Stock moves whose product does not "
	    "exist, in the last run.", (double)t.orphan_moves);
	return job_end(&j, rc, stopped, summary);
}
