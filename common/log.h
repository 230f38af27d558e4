/*
 * Logging for the jobs: one line per message, text or JSON (--log-format).
 * Informational lines (the run summary, dry-run plans) go to stdout so cron
 * mails them only when wanted; warnings and errors go to stderr.  -q keeps
 * only warnings and errors, -v adds debug lines.
 */
#ifndef JOBS_LOG_H
#define JOBS_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* Set once by cli_parse(); job is the program name used as line prefix. */
void log_setup(const char *job, enum log_format format, int verbosity);

/* Lines are printed as "job: message" (text) or one JSON object. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Progress on a terminal (SPEC 4): true when stderr is a TTY, the format is
 * text and -q was not given; never under cron.  log_progress() redraws one
 * line in place; any other log line (and log_progress_clear()) erases it.
 */
bool log_interactive(void);
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_progress_clear(void);

/* Append s to the JSON string being built in buf (escaped, no quotes). */
void log_json_escape(char *buf, size_t size, const char *s);

#endif
