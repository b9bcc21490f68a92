/*
 * libcurl, loaded when the first network call is made.
 *
 * Every git-meshpush run used to pay for loading libcurl and the ~20
 * libraries it needs (ldap, kerberos, rtmp, gnutls, nghttp2, ...) although
 * most runs — pre-commit, scan, install without a confirmation — never
 * touch the network: about 9 ms of the 15 ms start-up of a one-file scan.
 * So the binary does not link libcurl; this file defines the libcurl
 * functions the modules call, and each one loads libcurl.so.4 with
 * dlopen() on first use and forwards to the real function.  The modules
 * keep calling the plain libcurl API.
 *
 * The variadic setters are forwarded with the argument read by the type
 * libcurl's option number encodes (long, pointer, curl_off_t), which is
 * exactly how libcurl reads it itself.
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#define CURL_SONAME "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	time_t (*getdate)(const char *, const time_t *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
} real;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;

#define BIND(field, name)                                        \
	do {                                                     \
		*(void **)&real.field = dlsym(lib, name);        \
		if (!real.field)                                 \
			goto fail;                               \
	} while (0)

static void load(void)
{
	void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		goto fail;
	BIND(global_init, "curl_global_init");
	BIND(easy_init, "curl_easy_init");
	BIND(easy_setopt, "curl_easy_setopt");
	BIND(easy_perform, "curl_easy_perform");
	BIND(easy_getinfo, "curl_easy_getinfo");
	BIND(easy_cleanup, "curl_easy_cleanup");
	BIND(easy_strerror, "curl_easy_strerror");
	BIND(slist_append, "curl_slist_append");
	BIND(slist_free_all, "curl_slist_free_all");
	BIND(getdate, "curl_getdate");
	BIND(multi_init, "curl_multi_init");
	BIND(multi_setopt, "curl_multi_setopt");
	BIND(multi_add_handle, "curl_multi_add_handle");
	BIND(multi_remove_handle, "curl_multi_remove_handle");
	BIND(multi_perform, "curl_multi_perform");
	BIND(multi_poll, "curl_multi_poll");
	BIND(multi_info_read, "curl_multi_info_read");
	BIND(multi_cleanup, "curl_multi_cleanup");
	loaded = 1;
	return;
fail:
	fprintf(stderr, "error: cannot load %s: %s (install the libcurl4 package)\n", CURL_SONAME, dlerror());
}

static int ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

CURLcode curl_global_init(long flags)
{
	return ready() ? real.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return ready() ? real.easy_init() : NULL;
}

/* The option number says how libcurl reads the argument (curl.h's CURLOPTTYPE_*). */
CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	CURLcode rc;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = real.easy_setopt(h, opt, va_arg(ap, long));
	else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
		rc = real.easy_setopt(h, opt, va_arg(ap, curl_off_t));
	else
		rc = real.easy_setopt(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *h)
{
	return ready() ? real.easy_perform(h) : CURLE_FAILED_INIT;
}

/* Every CURLINFO_* is answered through a pointer. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	CURLcode rc;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = real.easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

void curl_easy_cleanup(CURL *h)
{
	if (ready())
		real.easy_cleanup(h);
}

const char *curl_easy_strerror(CURLcode code)
{
	return ready() ? real.easy_strerror(code) : "libcurl could not be loaded";
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return ready() ? real.slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (ready())
		real.slist_free_all(list);
}

time_t curl_getdate(const char *s, const time_t *unused)
{
	return ready() ? real.getdate(s, unused) : -1;
}

CURLM *curl_multi_init(void)
{
	return ready() ? real.multi_init() : NULL;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	CURLMcode rc;
	va_list ap;

	if (!ready())
		return CURLM_INTERNAL_ERROR;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = real.multi_setopt(m, opt, va_arg(ap, long));
	else if (opt >= CURLOPTTYPE_OFF_T)
		rc = real.multi_setopt(m, opt, va_arg(ap, curl_off_t));
	else
		rc = real.multi_setopt(m, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
	return ready() ? real.multi_add_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
	return ready() ? real.multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
	return ready() ? real.multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd fds[], unsigned int n, int timeout_ms, int *ret)
{
	return ready() ? real.multi_poll(m, fds, n, timeout_ms, ret) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	return ready() ? real.multi_info_read(m, left) : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	return ready() ? real.multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}
