/*
 * Fault and regression tests for src/journal (issue 8): a journal whose
 * last write was cut short by a crash, and damaged lines.
 */
#include "error.h"
#include "journal/journal.h"
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct seen {
	int n;
	char events[8][32];
};

static int remember(json_t *entry, void *payload)
{
	struct seen *s = payload;
	const char *ev = json_string_value(json_object_get(entry, "event"));

	if (s->n < 8)
		snprintf(s->events[s->n], sizeof(s->events[0]), "%s", ev ? ev : "-");
	s->n++;
	return 0;
}

static void write_raw(const char *gitdir, const char *text)
{
	char *path = journal_path(gitdir);
	char *dir = strdup(path);
	int fd;

	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0700);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		(void)!write(fd, text, strlen(text));
		close(fd);
	}
	free(dir);
	free(path);
}

static void journal_append__after_a_write_cut_short(void)
{
	char *dir = unit_tmpdir();
	struct seen s = { 0 };
	size_t bad = 99;
	char cmd[256];

	/* A crash left the last line without its end. */
	write_raw(dir, "{\"time\":\"2026-11-26T13:00:00Z\",\"event\":\"first\"}\n"
		       "{\"time\":\"2026-11-26T13:00:01Z\",\"ev");
	is_int(journal_append(dir, "second", NULL), 0, "an event is appended after the damaged line");
	is_int(journal_foreach(dir, remember, &s, &bad), 0, "the journal is read");
	is_int(s.n, 2, "both whole events are read");
	is_str(s.events[0], "first", "the event before the damage");
	is_str(s.events[1], "second", "the event appended after the damage is intact");
	is_int(bad, 1, "the damaged line is counted");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(dir);
}

static void journal_foreach__damaged_lines_are_skipped(void)
{
	char *dir = unit_tmpdir();
	struct seen s = { 0 };
	size_t bad = 99;
	char cmd[256];

	write_raw(dir, "\n[1]\n\"str\"\nnull\n{\"event\":\"ok\"}\n\r\n{\"a\":}\n{bad\n{\"event\":\"last\"}");
	is_int(journal_foreach(dir, remember, &s, &bad), 0, "a damaged journal is read");
	is_int(s.n, 2, "every whole object is read");
	is_str(s.events[1], "last", "a last line without its newline is read");
	is_int(bad, 6, "non-objects and broken lines are counted, empty lines are not");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(dir);
}

static void journal_foreach__missing_journal_has_no_events(void)
{
	struct seen s = { 0 };
	size_t bad = 99;

	is_int(journal_foreach("/nonexistent/meshpush-unit", remember, &s, &bad), 0, "no journal is no error");
	is_int(s.n, 0, "no events");
	is_int(bad, 0, "no damage");
}

int main(void)
{
	RUN(journal_append__after_a_write_cut_short);
	RUN(journal_foreach__damaged_lines_are_skipped);
	RUN(journal_foreach__missing_journal_has_no_events);
	return unit_done();
}
