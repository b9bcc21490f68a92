/*
 * Pruning backups: keep the newest [backup] keep installs and anything
 * younger than [backup] max_age_days; from older installs delete only
 * the backups of files that have a newer backup (never the last copy of
 * a file).  A record whose backups are all gone is deleted too.
 */
#include "deploy/internal.h"

#include "error.h"
#include "util/fs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The time of an install id "YYYYMMDDTHHMMSS...". */
static time_t id_time(const char *id)
{
	struct tm tm = { 0 };

	if (!strptime(id, "%Y%m%dT%H%M%S", &tm))
		return 0;
	return timegm(&tm);
}

/* Remove empty folders from `path`'s parent up to (not including) `stop`. */
static void remove_empty_parents(const char *path, const char *stop)
{
	char *p = xstrdup(path), *slash;

	while ((slash = strrchr(p, '/')) && slash > p) {
		*slash = '\0';
		if (!strcmp(p, stop) || rmdir(p) < 0)
			break;
	}
	free(p);
}

int deploy_prune(size_t *removed, const struct config *cfg)
{
	struct strlist recs = STRLIST_INIT;
	struct manifest seen = MANIFEST_INIT; /* "mapping:path" that have a newer backup (a set) */
	char *backups = deploy_state_path("backups"), *installs = deploy_state_path("installs");
	long keep = config_get_int(cfg, "backup", NULL, "keep");
	long days = config_get_int(cfg, "backup", NULL, "max_age_days");
	time_t now = time(NULL);
	size_t nr = 0;
	int ret = 0;

	*removed = 0;
	record_list_ids(&recs);
	nr = recs.nr;
	if (!((keep > 0 && (long)nr > keep) || (days > 0 && nr && id_time(recs.items[nr - 1]) > 0 &&
						 now - id_time(recs.items[nr - 1]) > days * 86400L)))
		goto cleanup; /* nothing is old enough */
	for (size_t i = 0; i < nr; i++) {
		json_t *h = NULL, *lines = NULL, *v;
		int prunable = (keep > 0 && (long)i >= keep) || (days > 0 && id_time(recs.items[i]) > 0 &&
								 now - id_time(recs.items[i]) > days * 86400L);
		size_t j, left = 0;

		if (record_read(&h, &lines, recs.items[i]) < 0) {
			mp_error_clear();
			json_decref(lines);
			continue;
		}
		json_array_foreach(lines, j, v) {
			const char *b = json_string_value(json_object_get(v, "backup"));
			const char *m = json_string_value(json_object_get(v, "mapping"));
			const char *p = json_string_value(json_object_get(v, "path"));
			char *key;

			if (!b || !m || !p || !fs_exists(b))
				continue;
			key = xasprintf("%s:%s", m, p);
			if (prunable && manifest_find(&seen, key)) {
				if (unlink(b) == 0) {
					(*removed)++;
					remove_empty_parents(b, backups);
				}
			} else {
				left++;
			}
			if (!manifest_find(&seen, key))
				manifest_set(&seen, key, 0, NULL, 0, NULL, NULL, NULL);
			free(key);
		}
		if (prunable && !left) {
			char *path = xasprintf("%s/%s.jsonl", installs, recs.items[i]);

			unlink(path);
			free(path);
		}
		json_decref(h);
		json_decref(lines);
	}
cleanup:
	strlist_release(&recs);
	manifest_release(&seen);
	free(backups);
	free(installs);
	return ret;
}
