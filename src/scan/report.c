/*
 * Reports: the findings and what was not scanned, written as text, JSON
 * or SARIF 2.1.0.
 */
#include "scan/internal.h"

#include "error.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void scan_report_release(struct scan_report *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		struct scan_finding *f = &r->findings[i];

		free(f->rule);
		free(f->description);
		free(f->path);
		free(f->commit);
		free(f->secret);
		free(f->fingerprint);
	}
	free(r->findings);
	strlist_release(&r->skipped);
	memset(r, 0, sizeof(*r));
}

void scan_report_skip(struct scan_report *r, const char *path, int unscanned, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&sb, "%s: ", path ? path : "(buffer)");
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strlist_push_nodup(&r->skipped, strbuf_detach(&sb));
	if (unscanned)
		r->unscanned++;
}

void scan_report_merge(struct scan_report *to, struct scan_report *from)
{
	to->findings = xgrow(to->findings, sizeof(*to->findings), to->nr + from->nr, &to->alloc);
	if (from->nr)
		memcpy(to->findings + to->nr, from->findings, from->nr * sizeof(*from->findings));
	to->nr += from->nr;
	free(from->findings);
	from->findings = NULL;
	from->nr = from->alloc = 0;
	for (size_t i = 0; i < from->skipped.nr; i++) {
		strlist_push_nodup(&to->skipped, from->skipped.items[i]);
		from->skipped.items[i] = NULL;
	}
	from->skipped.nr = 0;
	to->files += from->files;
	to->bytes += from->bytes;
	to->unscanned += from->unscanned;
	to->allowed += from->allowed;
	to->commits += from->commits;
	to->blobs += from->blobs;
	to->corrupt += from->corrupt;
}

/* "path: reason" split at the last ": " (reasons never hold one). */
static void split_skip(const char *s, char **path, const char **reason)
{
	const char *sep = NULL;

	for (const char *p = strstr(s, ": "); p; p = strstr(p + 1, ": "))
		sep = p;
	if (!sep) {
		*path = xstrdup("");
		*reason = s;
		return;
	}
	*path = xstrndup(s, (size_t)(sep - s));
	*reason = sep + 2;
}

static char *shown_secret(const char *secret, int redact)
{
	return redact ? scan_redact(secret) : xstrdup(secret);
}

static int write_text(const struct scan_report *r, int redact, int color, FILE *out)
{
	const char *bold = color ? "\033[1m" : "", *red = color ? "\033[31m" : "", *yellow = color ? "\033[33m" : "",
		   *reset = color ? "\033[m" : "";

	for (size_t i = 0; i < r->nr; i++) {
		const struct scan_finding *f = &r->findings[i];
		char *s = shown_secret(f->secret, redact);

		/* a secret shown in full may hold newlines (a PEM block): keep one finding per line */
		for (char *p = s; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = redact ? ' ' : *p;
		fprintf(out, "%s%s:%zu:%zu:%s %s%s%s: %s: %s", bold, f->path, f->line, f->column, reset, red, f->rule,
			reset, f->description, s);
		if (f->commit)
			fprintf(out, " %s(commit %.12s)%s", yellow, f->commit, reset);
		fputc('\n', out);
		free(s);
	}
	return 0;
}

static json_t *stats_json(const struct scan_report *r)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "files", (json_int_t)r->files, "bytes", (json_int_t)r->bytes,
			 "findings", (json_int_t)r->nr, "skipped", (json_int_t)r->skipped.nr, "unscanned",
			 (json_int_t)r->unscanned, "allowed", (json_int_t)r->allowed, "commits", (json_int_t)r->commits);
}

static json_t *skipped_json(const struct scan_report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->skipped.nr; i++) {
		char *path;
		const char *reason;

		split_skip(r->skipped.items[i], &path, &reason);
		json_array_append_new(a, json_pack("{s:s%,s:s}", "path", path, strlen(path), "reason", reason));
		free(path);
	}
	return a;
}

/* jansson refuses invalid UTF-8: such bytes become U+FFFD. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	struct strbuf sb = STRBUF_INIT;

	if (j)
		return j;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x80)
			strbuf_addch(&sb, (char)*p);
		else
			strbuf_addstr(&sb, "\xef\xbf\xbd");
	j = json_string(strbuf_str(&sb));
	strbuf_release(&sb);
	return j ? j : json_string("");
}

static int write_json(const struct scan_report *r, int redact, FILE *out)
{
	json_t *root = json_object(), *findings = json_array();
	int ret;

	for (size_t i = 0; i < r->nr; i++) {
		const struct scan_finding *f = &r->findings[i];
		json_t *o = json_object();
		char *shown;

		json_object_set_new(o, "rule", json_text(f->rule));
		json_object_set_new(o, "description", json_text(f->description));
		json_object_set_new(o, "path", json_text(f->path));
		json_object_set_new(o, "line", json_integer((json_int_t)f->line));
		json_object_set_new(o, "column", json_integer((json_int_t)f->column));
		json_object_set_new(o, "commit", f->commit ? json_string(f->commit) : json_null());
		shown = shown_secret(f->secret, redact);
		json_object_set_new(o, "secret", json_text(shown));
		free(shown);
		json_object_set_new(o, "fingerprint", json_text(f->fingerprint));
		json_array_append_new(findings, o);
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "findings", findings);
	json_object_set_new(root, "skipped", skipped_json(r));
	json_object_set_new(root, "stats", stats_json(r));
	ret = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return ret < 0 ? mp_error_set(MP_EOS, "cannot write the report") : 0;
}

/* A path as a relative URI reference: RFC 3986 unreserved and '/' kept, the rest %XX. */
static char *uri_path(const char *p)
{
	struct strbuf sb = STRBUF_INIT;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr("-._~/", *c))
			strbuf_addch(&sb, (char)*c);
		else
			strbuf_addf(&sb, "%%%02X", *c);
	}
	return strbuf_detach(&sb);
}

static int write_sarif(const struct scan_report *r, int redact, FILE *out)
{
	json_t *rules = json_array(), *results = json_array(), *root;
	struct strlist ids = STRLIST_INIT;
	int ret;

	for (size_t i = 0; i < r->nr; i++) {
		const struct scan_finding *f = &r->findings[i];
		size_t idx;
		char *shown = shown_secret(f->secret, redact), *msg, *uri;
		json_t *res, *loc, *props;

		for (idx = 0; idx < ids.nr && strcmp(ids.items[idx], f->rule); idx++)
			;
		if (idx == ids.nr) {
			strlist_push(&ids, f->rule);
			json_array_append_new(rules, json_pack("{s:o,s:o,s:{s:o},s:{s:s},s:{s:[s]}}", "id", json_text(f->rule),
								"name", json_text(f->rule), "shortDescription", "text",
								json_text(f->description), "defaultConfiguration",
								"level", "error", "properties", "tags", "security"));
		}
		msg = xasprintf("%s: %s", f->description, shown);
		uri = uri_path(f->path);
		loc = json_pack("{s:{s:{s:s,s:s},s:{s:I,s:I}}}", "physicalLocation", "artifactLocation", "uri", uri,
				"uriBaseId", "%SRCROOT%", "region", "startLine", (json_int_t)(f->line ? f->line : 1),
				"startColumn", (json_int_t)(f->column ? f->column : 1));
		res = json_pack("{s:o,s:I,s:s,s:{s:o},s:[o],s:{s:o}}", "ruleId", json_text(f->rule), "ruleIndex",
				(json_int_t)idx, "level", "error", "message", "text", json_text(msg), "locations", loc,
				"partialFingerprints", "meshpushFingerprint/v1", json_text(f->fingerprint));
		if (f->commit) {
			props = json_pack("{s:s}", "commit", f->commit);
			json_object_set_new(res, "properties", props);
		}
		json_array_append_new(results, res);
		free(shown);
		free(msg);
		free(uri);
	}
	root = json_pack("{s:s,s:s,s:[{s:{s:{s:s,s:s,s:s,s:o}},s:o}]}", "$schema",
			 "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs", "tool", "driver",
			 "name", "git-meshpush", "semanticVersion", MP_VERSION, "version", MP_VERSION, "rules", rules,
			 "results", results);
	strlist_release(&ids);
	if (!root)
		return mp_error_set(MP_EGENERIC, "cannot build the SARIF report");
	ret = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return ret < 0 ? mp_error_set(MP_EOS, "cannot write the report") : 0;
}

int scan_report_write(const struct scan_report *r, enum scan_format f, int redact, int color, FILE *out)
{
	switch (f) {
	case SCAN_FORMAT_JSON:
		return write_json(r, redact, out);
	case SCAN_FORMAT_SARIF:
		return write_sarif(r, redact, out);
	case SCAN_FORMAT_TEXT:
	default:
		return write_text(r, redact, color, out);
	}
}
