#include "config/ini.h"

#include "error.h"
#include "util/util.h"

#include <ctype.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

struct mp_ini {
	const char *name;
	const char *p, *end;
	int line;
	int continued;    /* the current line starts with blank space */
	int too_long;     /* line number of the first over-long line */
	int failed;       /* the handler refused a line */
	mp_ini_handler handler;
	void *payload;
};

static char *reader(char *str, int num, void *stream)
{
	struct mp_ini *ini = stream;
	const char *nl;
	size_t n;

	if (ini->p >= ini->end)
		return NULL;
	nl = memchr(ini->p, '\n', (size_t)(ini->end - ini->p));
	n = nl ? (size_t)(nl - ini->p) + 1 : (size_t)(ini->end - ini->p);
	ini->line++;
	ini->continued = n > 0 && (ini->p[0] == ' ' || ini->p[0] == '\t');
	if (n > (size_t)num - 1) {
		if (!ini->too_long)
			ini->too_long = ini->line;
		n = (size_t)num - 1;
		memcpy(str, ini->p, n);
		str[n] = '\0';
		ini->p = nl ? nl + 1 : ini->end;
		return str;
	}
	memcpy(str, ini->p, n);
	str[n] = '\0';
	ini->p += n;
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct mp_ini *ini = user;

	if (ini->failed || ini->too_long)
		return 1; /* the first error is the one reported */
	if (!ini->handler(ini, section, name, value, ini->payload)) {
		ini->failed = ini->line;
		return 0;
	}
	return 1;
}

int mp_ini_parse(const char *name, const char *text, size_t len,
		 mp_ini_handler h, void *payload)
{
	struct mp_ini ini = { name, text, text + len, 0, 0, 0, 0, h, payload };
	int rc;

	if (memchr(text, '\0', len))
		return mp_error_set(MP_ECONFIG, "%s: contains a NUL byte, not an INI file", name);
	mp_error_clear();
	rc = ini_parse_stream(reader, &ini, handler, &ini);
	if (ini.too_long && (!ini.failed || ini.too_long <= ini.failed))
		return mp_error_set(MP_ECONFIG, "%s:%d: line longer than %d characters; continue a long value on indented lines",
				    name, ini.too_long, INI_MAX_LINE - 1);
	if (rc > 0 && (!ini.failed || rc < ini.failed))
		return mp_error_set(MP_ECONFIG, "%s:%d: syntax error (expected [section], name = value or a comment)", name, rc);
	if (ini.failed) {
		char *msg = xstrdup(mp_error_last());
		int r = mp_error_set(MP_ECONFIG, "%s:%d: %s", name, ini.failed, msg);

		free(msg);
		return r;
	}
	if (rc > 0)
		return mp_error_set(MP_ECONFIG, "%s:%d: syntax error (expected [section], name = value or a comment)", name, rc);
	if (rc < 0)
		return mp_error_set(MP_ECONFIG, "%s: cannot parse", name);
	return 0;
}

int mp_ini_line(const struct mp_ini *ini)
{
	return ini->line;
}

int mp_ini_continued(const struct mp_ini *ini)
{
	return ini->continued;
}

const char *mp_ini_name(const struct mp_ini *ini)
{
	return ini->name;
}

int mp_ini_split_section(char **section, char **sub, const char *raw)
{
	const char *sp = raw, *q, *end;

	*section = *sub = NULL;
	while (*sp && !isspace((unsigned char)*sp) && *sp != '"')
		sp++;
	if (!*sp) {
		*section = xstrdup(raw);
		return 0;
	}
	q = sp;
	while (isspace((unsigned char)*q))
		q++;
	end = strrchr(q, '"');
	if (*q != '"' || end == q || end[1] != '\0')
		return -1;
	*section = xstrndup(raw, (size_t)(sp - raw));
	*sub = xstrndup(q + 1, (size_t)(end - q - 1));
	return 0;
}
