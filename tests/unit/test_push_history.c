/* Unit tests for src/push/history.c: pushes from the journal, matched with their confirmations. */
#include "error.h"
#include "journal/journal.h"
#include "push/push.h"
#include "unit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void add(const char *gitdir, const char *event, const char *json)
{
	json_t *f = json_loads(json, 0, NULL);

	journal_append(gitdir, event, f);
	json_decref(f);
}

static void push_list__git_push_confirmed_by_its_agents(void)
{
	char *dir = unit_tmpdir(), cmd[256];
	struct push_entry *e = NULL;
	size_t nr = 0;

	add(dir, "push", "{\"id\":\"p1\",\"method\":\"git\",\"outcome\":\"pushed\",\"commit\":\"abc\","
			 "\"files\":[{\"name\":\"a.js\",\"path\":\"shared/voltagent/a.js\"}],\"to\":[\"oracle\",\"bot\"]}");
	add(dir, "announce", "{\"id\":\"x\",\"kind\":\"received\",\"from\":\"oracle\",\"files\":[\"a.js\"],\"status\":\"working\"}");
	add(dir, "announce", "{\"id\":\"y\",\"kind\":\"received\",\"from\":\"stranger\",\"files\":[\"a.js\"]}");
	add(dir, "announce", "{\"id\":\"z\",\"kind\":\"received\",\"from\":\"bot\",\"files\":[\"other.js\"]}");
	is_int(push_list(&e, &nr, dir), 0, "reads the journal");
	is_int(nr, 1, "one push");
	is_str(e[0].id, "p1", "its id");
	is_str(e[0].commit, "abc", "its commit");
	is_int(e[0].confirmed.nr, 1, "one confirmation: not a stranger's, not another file's");
	is_str(e[0].confirmed.items[0], "oracle: working", "oracle confirmed");
	is_str(e[0].outcome, "confirmed by 1 of 2", "partly confirmed");
	push_entries_free(e, nr);

	add(dir, "announce", "{\"id\":\"w\",\"kind\":\"received\",\"from\":\"bot\",\"files\":[\"shared/voltagent/a.js\"],\"status\":\"issues\"}");
	push_list(&e, &nr, dir);
	is_str(e[0].outcome, "confirmed", "every agent confirmed");
	ok(strlist_has(&e[0].confirmed, "bot: issues"), "with the status it sent");
	push_entries_free(e, nr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(dir);
}

static void push_list__a_confirmation_goes_to_the_latest_push(void)
{
	char *dir = unit_tmpdir(), cmd[256];
	struct push_entry *e = NULL;
	size_t nr = 0;

	add(dir, "push", "{\"id\":\"p1\",\"method\":\"git\",\"outcome\":\"pushed\",\"files\":[{\"name\":\"a.js\"}],\"to\":[\"oracle\"]}");
	add(dir, "push", "{\"id\":\"p2\",\"method\":\"git\",\"outcome\":\"pushed\",\"files\":[{\"name\":\"a.js\"}],\"to\":[\"oracle\"]}");
	add(dir, "announce", "{\"kind\":\"received\",\"from\":\"oracle\",\"files\":[\"a.js\"],\"status\":\"working\"}");
	push_list(&e, &nr, dir);
	is_int(nr, 2, "two pushes");
	is_str(e[0].outcome, "pushed", "the first stays unconfirmed");
	is_str(e[1].outcome, "confirmed", "the latest is confirmed");
	push_entries_free(e, nr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(dir);
}

static void push_list__direct_push_carries_its_own_confirmations(void)
{
	char *dir = unit_tmpdir(), cmd[256];
	struct push_entry *e = NULL;
	size_t nr = 0;

	add(dir, "push", "{\"id\":\"p\",\"method\":\"scp\",\"outcome\":\"confirmed\",\"files\":[{\"name\":\"d.sh\"}],"
			 "\"to\":[\"oracle\"],\"confirmations\":[{\"agent\":\"oracle\",\"file\":\"d.sh\",\"status\":\"working\"}]}");
	add(dir, "push", "{\"id\":\"q\",\"method\":\"scp\",\"outcome\":\"failed at PREPARE\",\"files\":[{\"name\":\"d.sh\"}],\"to\":[\"oracle\"]}");
	push_list(&e, &nr, dir);
	is_int(nr, 2, "two pushes");
	is_str(e[0].confirmed.items[0], "oracle: working", "the sender's verified confirmation");
	is_str(e[1].outcome, "failed at PREPARE", "a failed push says where");
	push_entries_free(e, nr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(dir);
}

static void push_method_parse__names(void)
{
	enum push_method m;

	is_int(push_method_parse(&m, "scp"), 0, "scp");
	is_int(m, PUSH_SCP, "is scp");
	is_int(push_method_parse(&m, "sftp"), 0, "sftp is scp");
	is_int(m, PUSH_SCP, "is scp too");
	is_int(push_method_parse(&m, "ftp"), MP_EUSAGE, "unknown");
	ok(strstr(mp_error_last(), "use git, scp or webhook") != NULL, "says what exists");
}

int main(void)
{
	RUN(push_list__git_push_confirmed_by_its_agents);
	RUN(push_list__a_confirmation_goes_to_the_latest_push);
	RUN(push_list__direct_push_carries_its_own_confirmations);
	RUN(push_method_parse__names);
	return unit_done();
}
