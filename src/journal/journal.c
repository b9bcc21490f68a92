#include "journal/journal.h"

#include "error.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *journal_path(const char *gitdir)
{
	return xasprintf("%s%smeshpush/journal.jsonl", gitdir, ends_with(gitdir, "/") ? "" : "/");
}

void journal_timestamp(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int journal_append(const char *gitdir, const char *event, json_t *fields)
{
	char *path = journal_path(gitdir), *dir = NULL, *line = NULL, *dumped = NULL;
	json_t *obj = json_object();
	char ts[32];
	int fd = -1, ret = 0;
	size_t len;

	journal_timestamp(ts, sizeof(ts));
	json_object_set_new(obj, "time", json_string(ts));
	json_object_set_new(obj, "event", json_string(event));
	if (fields)
		json_object_update(obj, fields);
	dumped = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!dumped) {
		ret = mp_error_set(MP_EGENERIC, "cannot encode journal event '%s'", event);
		goto cleanup;
	}
	len = strlen(dumped);
	line = xmalloc(len + 1);
	memcpy(line, dumped, len);
	line[len++] = '\n';
	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	if ((ret = fs_mkdir_p(dir, 0700)) < 0 || (ret = fs_log_open(&fd, path)) < 0)
		goto cleanup;
	if (write(fd, line, len) != (ssize_t)len) {
		ret = mp_error_set(MP_EOS, "cannot write journal '%s': %s", path, strerror(errno));
		goto cleanup;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	free(line);
	free(dumped);
	free(dir);
	free(path);
	json_decref(obj);
	return ret;
}

int journal_foreach(const char *gitdir, journal_cb cb, void *payload, size_t *bad_lines)
{
	char *path = journal_path(gitdir), *text = NULL;
	size_t len = 0, bad = 0;
	int ret = fs_read_file(&text, &len, path);

	if (ret == MP_ENOTFOUND) {
		mp_error_clear();
		ret = 0;
		goto cleanup;
	}
	if (ret < 0)
		goto cleanup;
	for (char *p = text; p < text + len;) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		json_t *entry;

		if (n) {
			entry = json_loadb(p, n, 0, NULL);
			if (!json_is_object(entry)) {
				bad++;
			} else if ((ret = cb(entry, payload)) != 0) {
				json_decref(entry);
				break;
			}
			json_decref(entry);
		}
		p += n + 1;
	}
cleanup:
	if (bad_lines)
		*bad_lines = bad;
	free(text);
	free(path);
	return ret;
}
