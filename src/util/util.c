#include "util/util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die_oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die_oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb);
}

void *xgrow(void *p, size_t size, size_t need, size_t *alloc)
{
	size_t n;

	if (need <= *alloc)
		return p;
	if (!size)
		size = 1;
	if (need > SIZE_MAX / size)
		die_oom(SIZE_MAX);
	n = *alloc ? *alloc : 8;
	while (n < need)
		n = n <= SIZE_MAX / size / 2 ? n * 2 : need;
	*alloc = n;
	return xrealloc(p, n * size);
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (extra >= SIZE_MAX - sb->len)
		die_oom(SIZE_MAX);
	sb->buf = xgrow(sb->buf, 1, sb->len + extra + 1, &sb->alloc);
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	if (len) /* data may be NULL then: memcpy's arguments must not */
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;

	strbuf_add(sb, &ch, 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	strbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

char *strbuf_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

void strlist_push_nodup(struct strlist *l, char *s)
{
	l->items = xgrow(l->items, sizeof(*l->items), l->nr + 1, &l->alloc);
	l->items[l->nr++] = s;
}

void strlist_push(struct strlist *l, const char *s)
{
	strlist_push_nodup(l, xstrdup(s));
}

void strlist_split(struct strlist *l, const char *s, const char *sep)
{
	const char *p = s;

	while (p && *p) {
		const char *start;

		while (*p && (sep ? !!strchr(sep, *p) : !!isspace((unsigned char)*p)))
			p++;
		start = p;
		while (*p && !(sep ? !!strchr(sep, *p) : !!isspace((unsigned char)*p)))
			p++;
		if (p > start) {
			const char *end = p;

			if (sep) { /* trim blanks around separated fields */
				while (start < end && isspace((unsigned char)*start))
					start++;
				while (end > start && isspace((unsigned char)end[-1]))
					end--;
			}
			if (end > start)
				strlist_push_nodup(l, xstrndup(start, (size_t)(end - start)));
		}
	}
}

int strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->items[i], s))
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort(struct strlist *l)
{
	if (l->nr)
		qsort(l->items, l->nr, sizeof(*l->items), cmp_str);
}

const char **strlist_argv(const struct strlist *l)
{
	const char **argv = xcalloc(l->nr + 1, sizeof(*argv));

	for (size_t i = 0; i < l->nr; i++)
		argv[i] = l->items[i];
	return argv;
}

void strlist_release(struct strlist *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->nr = l->alloc = 0;
}

size_t utf8_seq(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0)
		n = 2, cp = p[0] & 0x1F;
	else if ((p[0] & 0xF0) == 0xE0)
		n = 3, cp = p[0] & 0x0F;
	else if ((p[0] & 0xF8) == 0xF0)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static int needs_quote(const unsigned char *p, size_t left, size_t *n, int keep_utf8)
{
	*n = keep_utf8 ? utf8_seq(p, left) : 1;
	if (!*n) {
		*n = 1;
		return 1;
	}
	return *n == 1 && (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\');
}

void strbuf_add_quoted_path(struct strbuf *sb, const char *path, int keep_utf8)
{
	const unsigned char *p = (const unsigned char *)path;
	size_t left = strlen(path), n;
	int quote = 0;

	for (size_t i = 0; i < left && !quote; i += n)
		quote = needs_quote(p + i, left - i, &n, keep_utf8);
	if (!quote) {
		strbuf_addstr(sb, path);
		return;
	}
	strbuf_addch(sb, '"');
	for (; left; p += n, left -= n) {
		if (!needs_quote(p, left, &n, keep_utf8)) {
			strbuf_add(sb, p, n);
			continue;
		}
		switch (*p) {
		case '\a': strbuf_addstr(sb, "\\a"); break;
		case '\b': strbuf_addstr(sb, "\\b"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\v': strbuf_addstr(sb, "\\v"); break;
		case '\f': strbuf_addstr(sb, "\\f"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		default: strbuf_addf(sb, "\\%03o", *p);
		}
	}
	strbuf_addch(sb, '"');
}

void hex_encode(char *out, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

size_t url_userinfo(const char **start, const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at;

	*start = NULL;
	if (!scheme)
		return 0;
	host = scheme + 3;
	at = memchr(host, '@', strcspn(host, "/?# \t"));
	if (!at)
		return 0;
	*start = host;
	return (size_t)(at + 1 - host);
}

char *url_without_userinfo(const char *url)
{
	const char *start;
	size_t n = url_userinfo(&start, url);

	if (!n)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(start - url), url, start + n);
}

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}
