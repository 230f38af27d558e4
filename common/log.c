/*
 * One-line log messages in text or JSON.  Every failure is reported as one
 * line naming what failed, so a job's output can be read by a person at 3 a.m.
 * and by a log collector alike.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_name = "jobs";
static enum log_format log_fmt = LOG_TEXT;
static int log_verbosity;	/* -1 quiet, 0 normal, 1 verbose */
static int progress_shown;	/* a progress line is on the terminal */

void
log_setup(const char *job, enum log_format format, int verbosity)
{
	log_name = job;
	log_fmt = format;
	log_verbosity = verbosity;
}



void
log_json_escape(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	for (; *s != '\0' && n + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
}

/*
 * Control bytes a message quotes (a path or a value with a newline in it)
 * are written as \n, \t or \xNN, so every message stays one line.
 */
static void
one_line(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in != '\0' && n + 5 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '\n' || c == '\t' || c == '\r')
			n += (size_t)snprintf(out + n, size - n, "\\%c",
			    c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
		else if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

static void
log_line(enum log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	FILE *out = level >= LOG_WARN ? stderr : stdout;
	char raw[4096], msg[4096];

	if (level == LOG_DEBUG && log_verbosity < 1)
		return;
	if (level == LOG_INFO && log_verbosity < 0)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	one_line(raw, msg, sizeof(msg));
	log_progress_clear();

	if (log_fmt == LOG_JSON) {
		char line[9000] = "";
		char ts[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(line, sizeof(line), "{\"ts\":\"%s.%03ldZ\",\"job\":\"", ts,
		    now.tv_nsec / 1000000);
		log_json_escape(line, sizeof(line), log_name);
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    "\",\"level\":\"%s\",\"msg\":\"", names[level]);
		log_json_escape(line, sizeof(line), msg);
		fprintf(out, "%s\"}\n", line);
	} else if (level >= LOG_WARN) {
		fprintf(out, "%s: %s%s\n", log_name,
		    level == LOG_WARN ? "warning: " : "", msg);
	} else {
		fprintf(out, "%s: %s\n", log_name, msg);
	}
	fflush(out);
}

#define LOG_FN(name, level)				\
	void name(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		va_start(ap, fmt);			\
		log_line(level, fmt, ap);		\
		va_end(ap);				\
	}

LOG_FN(log_debug, LOG_DEBUG)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_warn, LOG_WARN)
LOG_FN(log_error, LOG_ERROR)

bool
log_interactive(void)
{
	return log_fmt == LOG_TEXT && log_verbosity >= 0 && isatty(STDERR_FILENO);
}

void
log_progress(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log_interactive())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Carriage return and erase-line: the line is redrawn in place. */
	fprintf(stderr, "\r\033[K%s: %s", log_name, msg);
	fflush(stderr);
	progress_shown = 1;
}

void
log_progress_clear(void)
{
	if (!progress_shown)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	progress_shown = 0;
}
