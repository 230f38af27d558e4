# ts_forms_sql: a created_at value from s (Unix seconds) and i (the row
# number), in the six timestamp forms of SPEC 3 in turn: seconds,
# milliseconds, space, T with fraction and Z, +05:30, -08:00.
ts_forms_sql() {
	cat <<'SQL'
CASE i % 6
        WHEN 0 THEN s
        WHEN 1 THEN s * 1000 + i % 1000
        WHEN 2 THEN strftime('%Y-%m-%d %H:%M:%S', s, 'unixepoch')
        WHEN 3 THEN strftime('%Y-%m-%dT%H:%M:%S', s, 'unixepoch') || printf('.%03dZ', i % 1000)
        WHEN 4 THEN strftime('%Y-%m-%dT%H:%M:%S', s + 19800, 'unixepoch') || '+05:30'
        ELSE strftime('%Y-%m-%dT%H:%M:%S', s - 28800, 'unixepoch') || '-08:00'
      END
SQL
}

# events_sql N START SPAN: SQL inserting N analytics_events, ids 1..N, at
# pseudo-random seconds in [START, START + SPAN), in the six timestamp forms
# of SPEC 3 in turn (seconds, milliseconds, space, T with fraction and Z,
# +05:30, -08:00), with user, session, product and a metadata object.  Shared
# by the tests (source it before tap.sh, which moves away).
events_sql() {
	cat <<SQL
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $1 - 1),
    t(i, s) AS (SELECT i, $2 + (i * 7919) % ($3) FROM c)
    INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at)
    SELECT 1 + i, 'e' || (i % 4), nullif(i % 13, 0), 's' || (i % 50), i % 30,
      '{"i":' || i || ',"t":"' || hex(randomblob(6)) || '"}',
      $(ts_forms_sql) FROM t;
SQL
}
