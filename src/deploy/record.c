/*
 * Install records: installs/<id>.jsonl, a header line then one line per
 * file, appended as each file is done (so a killed install still says
 * what it changed).  rollback reads them.
 */
#include "deploy/internal.h"

#include "error.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

char *record_new_id(void)
{
	struct timeval tv;
	struct tm tm;
	unsigned char rnd[3] = { 0 };
	char ts[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		rnd[0] = (unsigned char)getpid();
		rnd[1] = (unsigned char)(getpid() >> 8);
		rnd[2] = (unsigned char)tv.tv_usec;
	}
	return xasprintf("%s.%03dZ-%02x%02x%02x", ts, (int)(tv.tv_usec / 1000), rnd[0], rnd[1], rnd[2]);
}

static int write_line(int fd, json_t *o, const char *what)
{
	char *line = json_dumps(o, JSON_COMPACT);
	size_t len = strlen(line);
	int ret = 0;

	line[len++] = '\n';
	if (write(fd, line, len) != (ssize_t)len)
		ret = mp_error_set(MP_EOS, "cannot write '%s': %s", what, strerror(errno));
	free(line);
	return ret;
}

int record_open(struct record_writer *w, const char *id, json_t *header)
{
	char *dir = deploy_state_path("installs");
	int ret;

	w->id = xstrdup(id);
	w->path = xasprintf("%s/%s.jsonl", dir, id);
	if ((ret = fs_mkdir_p(dir, 0700)) < 0)
		goto cleanup;
	w->fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		ret = mp_error_set(MP_EOS, "cannot create '%s': %s", w->path, strerror(errno));
		goto cleanup;
	}
	ret = write_line(w->fd, header, w->path);
cleanup:
	free(dir);
	return ret;
}

int record_append(struct record_writer *w, json_t *line)
{
	return write_line(w->fd, line, w->path);
}

int record_close(struct record_writer *w)
{
	int ret = 0;

	if (w->fd >= 0) {
		if (fsync(w->fd) < 0)
			ret = mp_error_set(MP_EOS, "cannot write '%s': %s", w->path, strerror(errno));
		close(w->fd);
		w->fd = -1;
	}
	free(w->id);
	free(w->path);
	w->id = w->path = NULL;
	return ret;
}

int record_read(json_t **header, json_t **lines, const char *id)
{
	char *dir = deploy_state_path("installs"), *path = xasprintf("%s/%s.jsonl", dir, id), *text = NULL;
	size_t len;
	int ret;

	*header = NULL;
	*lines = json_array();
	if ((ret = fs_read_file(&text, &len, path)) < 0)
		goto cleanup;
	for (char *line = text, *nl; *line; line = nl + 1) {
		json_t *v;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		v = json_loads(line, 0, NULL);
		if (!json_is_object(v)) {
			json_decref(v);
			continue;
		}
		if (!*header)
			*header = v;
		else
			json_array_append_new(*lines, v);
	}
	if (!*header)
		ret = mp_error_set(MP_EOS, "install record '%s' is empty", path);
cleanup:
	free(text);
	free(path);
	free(dir);
	return ret;
}

static int cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

void record_list_ids(struct strlist *out)
{
	char *dir = deploy_state_path("installs");
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (ends_with(de->d_name, ".jsonl") && de->d_name[0] != '.')
			strlist_push_nodup(out, xstrndup(de->d_name, strlen(de->d_name) - 6));
	}
	if (d)
		closedir(d);
	if (out->nr)
		qsort(out->items, out->nr, sizeof(*out->items), cmp_desc);
	free(dir);
}

char *record_last_id(void)
{
	struct strlist ids = STRLIST_INIT;
	char *ret = NULL;

	record_list_ids(&ids);
	if (ids.nr)
		ret = xstrdup(ids.items[0]);
	strlist_release(&ids);
	return ret;
}

int record_resolve(char **out, const char *prefix)
{
	struct strlist ids = STRLIST_INIT;
	size_t n = strlen(prefix), found = 0;
	int ret = 0;

	*out = NULL;
	record_list_ids(&ids);
	for (size_t i = 0; i < ids.nr; i++) {
		if (!strncmp(ids.items[i], prefix, n)) {
			if (!found++)
				*out = xstrdup(ids.items[i]);
			if (!strcmp(ids.items[i], prefix)) {
				found = 1;
				free(*out);
				*out = xstrdup(ids.items[i]);
				break;
			}
		}
	}
	if (!found)
		ret = MP_ENOTFOUND;
	else if (found > 1) {
		free(*out);
		*out = NULL;
		ret = mp_error_set(MP_EUSAGE, "install id '%s' is ambiguous (see 'git meshpush rollback --list')", prefix);
	}
	strlist_release(&ids);
	return ret;
}

void deploy_record_release(struct deploy_record *r)
{
	free(r->id);
	free(r->time);
	free(r->kind);
	free(r->commit);
	free(r->trigger);
	strlist_release(&r->files);
}

void deploy_records_free(struct deploy_record *recs, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		deploy_record_release(&recs[i]);
	free(recs);
}

int deploy_records_list(struct deploy_record **out, size_t *nr)
{
	struct strlist ids = STRLIST_INIT;

	*out = NULL;
	*nr = 0;
	record_list_ids(&ids);
	if (ids.nr)
		*out = xcalloc(ids.nr, sizeof(**out));
	for (size_t i = 0; i < ids.nr; i++) {
		json_t *h = NULL, *lines = NULL, *v;
		struct deploy_record *r = &(*out)[*nr];
		size_t j;

		if (record_read(&h, &lines, ids.items[i]) < 0) {
			mp_error_clear();
			json_decref(lines);
			continue;
		}
		r->id = xstrdup(ids.items[i]);
#define D(k) (json_string_value(json_object_get(h, k)) ? xstrdup(json_string_value(json_object_get(h, k))) : NULL)
		r->time = D("time");
		r->kind = D("kind");
		r->commit = D("commit");
		r->trigger = D("trigger");
#undef D
		json_array_foreach(lines, j, v) {
			const char *m = json_string_value(json_object_get(v, "mapping"));
			const char *p = json_string_value(json_object_get(v, "path"));

			if (m && p) {
				char *f = xasprintf("%s:%s", m, p);

				/* a file has one line, or two when its verification failed */
				if (r->files.nr && !strcmp(r->files.items[r->files.nr - 1], f))
					free(f);
				else
					strlist_push_nodup(&r->files, f);
			}
		}
		(*nr)++;
		json_decref(h);
		json_decref(lines);
	}
	strlist_release(&ids);
	return 0;
}
