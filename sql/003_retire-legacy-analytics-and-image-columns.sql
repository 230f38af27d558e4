-- Migration 3: retire-legacy-analytics-and-image-columns.  The audit's "one source of truth
-- for images" and "remove legacy analytics" (SPEC section 2, version 3).  migrate runs this
-- file in one transaction, after refusing up front (exit 65, nothing changed) a database it
-- cannot migrate: products whose additional_images is not a readable JSON array (ids listed),
-- the legacy analytics table while it still holds rows (run `retire_table --table analytics`
-- first: it archives them) or while a view, a trigger or a foreign key still uses it.

-- 1. Images.  Every image a products row names gets an images row owned by that product:
-- the main image (cloudflare_image_id, else image_id; image_url) and each element of the
-- additional_images JSON array, skipping those an images row of the product already has (by
-- cloudflare_id, or by url for an image without one) and those the product names twice.
-- That is done by migrate's C follow-up of this migration, after this file and inside the
-- same transaction (common/schema.c, IMAGE_CANDIDATES and follow_up()): the same query
-- counts the images for --dry-run and --status, so it is kept in one place, there.  The
-- products columns stay: the app still reads them until its code changes, and dropping them
-- is a later migration.

-- 2. The legacy analytics table, empty by now (the precheck runs inside this transaction, so
-- no row can arrive in between).  Its indexes and triggers go with it.  IF EXISTS: a
-- database whose table was already dropped by hand migrates too.
DROP TABLE IF EXISTS analytics;
