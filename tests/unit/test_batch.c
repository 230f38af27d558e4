/*
 * Unit tests for archive_next_batch(): batches shrink in proportion when a
 * transaction runs past ARCHIVE_TX_SLOW_MS, grow back by an eighth under
 * ARCHIVE_TX_FAST_MS, never pass --batch-size, never reach 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "archive.h"

static void
test_steady(void **state)
{
	(void)state;
	/* between the two thresholds: unchanged */
	assert_int_equal(archive_next_batch(2000, 2000, ARCHIVE_TX_FAST_MS), 2000);
	assert_int_equal(archive_next_batch(2000, 2000, ARCHIVE_TX_SLOW_MS), 2000);
	assert_int_equal(archive_next_batch(1500, 2000, 50), 1500);
}

static void
test_shrink(void **state)
{
	(void)state;
	/* 2000 rows in 100 ms: aim at 50 ms, 1000 rows */
	assert_int_equal(archive_next_batch(2000, 2000, 100), 1000);
	assert_int_equal(archive_next_batch(2000, 2000, ARCHIVE_TX_SLOW_MS + 1), 2000 * 50 / 71);
	/* rows of a second each: down to one at once */
	assert_int_equal(archive_next_batch(2000, 2000, 2000 * 1000), 1);
	assert_int_equal(archive_next_batch(1, 2000, 5000), 1);
}

static void
test_grow(void **state)
{
	(void)state;
	assert_int_equal(archive_next_batch(1000, 2000, 10), 1126);
	assert_int_equal(archive_next_batch(1, 2000, 0), 2);
	/* never past --batch-size */
	assert_int_equal(archive_next_batch(1900, 2000, 10), 2000);
	assert_int_equal(archive_next_batch(2000, 2000, 0), 2000);
	assert_int_equal(archive_next_batch(1, 1, 0), 1);
}

static void
test_recovers(void **state)
{
	long b = 2000;
	int i;

	(void)state;
	/* one slow transaction, then fast ones: back to the full size */
	b = archive_next_batch(b, 2000, 110);
	assert_true(b < 1000);
	for (i = 0; i < 10 && b < 2000; i++)
		b = archive_next_batch(b, 2000, 20);
	assert_int_equal(b, 2000);
	assert_true(i <= 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_recovers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
