/*
 * Internal to the database layer's .c files (db.c, db_write.c): what db.c
 * needs of the write side to open and close a connection.  db.h is the
 * API; nothing else includes this file.
 */
#ifndef JOBS_DB_IMPL_H
#define JOBS_DB_IMPL_H

#include <sqlite3.h>

#include "db.h"

/* db_write.c */

/* The WAL hook db_open() registers on a read-write connection: counts the
 * frames our commits leave in the WAL, for the bound (wal_make_room()) and
 * the checkpoints after each commit.  arg is the struct db. */
int db_wal_hook(void *arg, sqlite3 *h, const char *schema, int frames);

/* Stop the checkpoint thread, if it runs, after its last checkpoint; for
 * db_close(). */
void db_checkpointer_stop(struct db *db);

#endif
