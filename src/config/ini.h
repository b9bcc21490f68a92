/*
 * inih, with line numbers and without silent truncation.
 *
 * Debian's libinih is built with INI_HANDLER_LINENO=0 and INI_MAX_LINE=200,
 * and the handler signature cannot be changed from our side without
 * breaking its ABI.  So we feed inih through ini_parse_stream() with our
 * own reader, which counts lines (inih reads exactly one line per call) and
 * refuses a line longer than inih's buffer instead of letting inih cut it.
 * Values may continue on indented lines (inih's multi-line values): the
 * handler is then called again with the same name.
 */
#ifndef MP_INI_H
#define MP_INI_H

#include <stddef.h>

struct mp_ini;

/*
 * Called for each name=value; `ini` gives the line (mp_ini_line()).
 * Return 1 to go on, 0 for an error (set with mp_error_set(); the parse
 * stops reporting at that line).
 */
typedef int (*mp_ini_handler)(struct mp_ini *ini, const char *section,
			      const char *name, const char *value, void *payload);

/*
 * Parse `len` bytes of `text`, named `name` in messages.  Returns 0, or
 * MP_ECONFIG with an error "NAME:LINE: what" set (the handler's own
 * message when it refused the line).
 */
int mp_ini_parse(const char *name, const char *text, size_t len,
		 mp_ini_handler handler, void *payload);

/* The line number being handled (1-based). */
int mp_ini_line(const struct mp_ini *ini);

/* 1 when the line being handled continues the previous value (indented). */
int mp_ini_continued(const struct mp_ini *ini);

/* The name given to mp_ini_parse(). */
const char *mp_ini_name(const struct mp_ini *ini);

/*
 * Split a section header value `agent "oracle"` (what inih reports for
 * [agent "oracle"]) into `*section` and `*sub` (NULL when there is none).
 * Both are freshly allocated.  Returns 0 or -1 when malformed.
 */
int mp_ini_split_section(char **section, char **sub, const char *raw);

#endif
