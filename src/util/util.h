/*
 * Small helpers used everywhere: allocation that dies on exhaustion,
 * growable strings and string lists.
 */
#ifndef MP_UTIL_H
#define MP_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts with a message when memory is exhausted. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow `*p` (of `*alloc` elements of `size`) to hold at least `need` elements. */
void *xgrow(void *p, size_t size, size_t need, size_t *alloc);

/* A growable, always NUL-terminated byte buffer. */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void strbuf_reset(struct strbuf *sb);
/* Give up ownership of the buffer (never NULL) and reset `sb`. */
char *strbuf_detach(struct strbuf *sb);
/* The contents, "" when nothing was added yet. */
const char *strbuf_str(const struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

/* A growable list of owned strings. */
struct strlist {
	char **items;
	size_t nr;
	size_t alloc;
};
#define STRLIST_INIT { NULL, 0, 0 }

void strlist_push(struct strlist *l, const char *s);
void strlist_push_nodup(struct strlist *l, char *s);
/* Split `s` on whitespace (or on `sep` characters when not NULL), skipping empty fields. */
void strlist_split(struct strlist *l, const char *s, const char *sep);
int strlist_has(const struct strlist *l, const char *s);
void strlist_sort(struct strlist *l);
/* A NULL-terminated copy of the pointers, for argv use (free only the array). */
const char **strlist_argv(const struct strlist *l);
void strlist_release(struct strlist *l);

/* Length of the valid UTF-8 sequence at `p` (at most `left` bytes, left > 0), 0 when invalid. */
size_t utf8_seq(const unsigned char *p, size_t left);

/*
 * Append `path` as git shows paths: as it is, or in double quotes with C
 * escapes (\n, \t, \", \\, \ooo...) when it holds a control character,
 * '"', '\' or a byte above 0x7e.  With `keep_utf8`, valid UTF-8 is not a
 * reason to quote and is kept as it is (git's core.quotePath=false);
 * without, every non-ASCII byte is an octal escape (git's default).
 */
void strbuf_add_quoted_path(struct strbuf *sb, const char *path, int keep_utf8);

/* `n` bytes of `data` as 2n lowercase hex digits and a NUL, into `out` (2n + 1 bytes). */
void hex_encode(char *out, const void *data, size_t n);

/* String helpers. */
int starts_with(const char *s, const char *prefix);
int ends_with(const char *s, const char *suffix);
/*
 * The user information of a URL ("scheme://USERINFO@host/..."): its
 * start in `*start` and its length with the '@'; 0 when there is none
 * (no "://", or no '@' before the first '/', '?', '#' or blank).
 */
size_t url_userinfo(const char **start, const char *url);
/* `url` without its user information (it may hold a credential), for messages and logs.  Caller frees. */
char *url_without_userinfo(const char *url);

/* Milliseconds of a monotonic clock. */
double now_ms(void);

#endif
