/*
 * Every configuration key git-meshpush knows.  Add a row here when a
 * module needs a key; the man page's CONFIGURATION section lists them.
 */
#include "config/config.h"

#include <stddef.h>

#define SUB CFG_SUBSECTION
#define USER CFG_USER_ONLY

const struct config_key config_schema[] = {
	/* [mesh] */
	{ "mesh", "production", CFG_LIST, 0, "main", NULL, "branches whose pushes must be announced" },
	{ "mesh", "announce_failure", CFG_ENUM, 0, "queue", "queue|block", "when no agent can be told: queue the announcement and go on, or block the push" },
	{ "mesh", "shared", CFG_LIST, 0, "shared protocols scripts", NULL, "repository folders whose changes are announced and tested" },
	{ "mesh", "test", CFG_COMMAND, 0, NULL, NULL, "command run before a push that touches the shared folders" },
	{ "mesh", "test_timeout", CFG_INT, 0, "300", NULL, "seconds the test command may run" },
	{ "mesh", "signing_key", CFG_SECRET, USER, NULL, NULL, "source (env:NAME or file:PATH) of the shared key that signs announcements" },
	{ "mesh", "connect_timeout", CFG_INT, 0, "3", NULL, "seconds to connect to a gateway" },
	{ "mesh", "timeout", CFG_INT, 0, "10", NULL, "seconds one delivery may take" },
	{ "mesh", "retries", CFG_INT, 0, "3", NULL, "delivery attempts after the first" },
	{ "mesh", "ca_file", CFG_STR, 0, NULL, NULL, "CA bundle for https gateways (verification is always on)" },
	{ "mesh", "retry_after_max", CFG_INT, 0, "30", NULL, "longest Retry-After (seconds) a delivery waits for; a longer one leaves it queued" },
	{ "mesh", "auto_flush", CFG_BOOL, 0, "true", NULL, "every run first delivers what waits in the outbox (briefly, quietly)" },

	/* [self] */
	{ "self", "agent", CFG_STR, 0, NULL, NULL, "this machine's agent name" },

	/* [agent "name"] */
	{ "agent", "host", CFG_STR, SUB, NULL, NULL, "the agent's address" },
	{ "agent", "webhook", CFG_STR, SUB, NULL, NULL, "the agent gateway's hook URL" },
	{ "agent", "ssh", CFG_STR, SUB, NULL, NULL, "user@host for scp/sftp transfers" },
	{ "agent", "ssh_port", CFG_INT, SUB, "22", NULL, "ssh port" },
	{ "agent", "dest", CFG_STR, SUB, NULL, NULL, "remote folder for scp/sftp transfers" },
	{ "agent", "ssh_protocol", CFG_ENUM, SUB, "auto", "auto|sftp|scp", "sftp, scp, or auto: sftp, and scp when the agent has no sftp subsystem" },
	{ "agent", "channel", CFG_STR, SUB, NULL, NULL, "gateway delivery channel (with 'to')" },
	{ "agent", "to", CFG_STR, SUB, NULL, NULL, "gateway delivery recipient (with 'channel')" },
	{ "agent", "agent_id", CFG_STR, SUB, NULL, NULL, "gateway agentId" },

	/* [token] */
	{ "token", "*", CFG_SECRET, USER | CFG_ANYKEY, NULL, NULL, "agent = env:NAME or file:PATH: the agent gateway's bearer token" },

	/* [ssh] */
	{ "ssh", "known_hosts", CFG_STR, 0, "~/.ssh/known_hosts", NULL, "known host keys for scp/sftp (strict checking)" },
	{ "ssh", "identity", CFG_STR, USER, NULL, NULL, "private key file for scp/sftp (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)" },
	{ "ssh", "limit_rate", CFG_INT, 0, "0", NULL, "bytes per second an scp/sftp upload may use, 0: no limit" },

	/* [install "name"] */
	{ "install", "from", CFG_STR, SUB, "shared/voltagent", NULL, "repository folder to install from" },
	{ "install", "to", CFG_STR, SUB, NULL, NULL, "workspace folder to install into (~ expanded)" },
	{ "install", "executable", CFG_LIST, SUB, NULL, NULL, "globs of files installed with mode 755" },
	{ "install", "verify", CFG_COMMAND, SUB, NULL, NULL, "argv template run on each installed file ({} is the file)" },
	{ "install", "verify_files", CFG_LIST, SUB, NULL, NULL, "globs of the files the verify command runs on (default: every file)" },
	{ "install", "verify_timeout", CFG_INT, SUB, "30", NULL, "seconds a verify command may run" },

	/* [backup] */
	{ "backup", "keep", CFG_INT, 0, "20", NULL, "installs whose backups are kept" },
	{ "backup", "max_age_days", CFG_INT, 0, "90", NULL, "older backups are pruned (never the last copy of a file)" },

	/* [scan] */
	{ "scan", "allow_paths", CFG_LIST, 0, NULL, NULL, "path globs never scanned" },
	{ "scan", "disable", CFG_LIST, 0, NULL, NULL, "rule ids turned off" },
	{ "scan", "max_size", CFG_INT, 0, "10485760", NULL, "bytes; larger files are reported as not scanned" },
	{ "scan", "ignore_file", CFG_STR, 0, ".meshpushignore", NULL, "file of finding fingerprints to ignore" },
	{ "scan", "baseline", CFG_STR, 0, NULL, NULL, "JSON report of accepted findings" },

	/* [rule "id"]: rules of the user's own, same keys as src/scan/rules.ini */
	{ "rule", "description", CFG_STR, SUB, NULL, NULL, "what the rule finds" },
	{ "rule", "regex", CFG_REGEX, SUB, NULL, NULL, "PCRE2 pattern; the secret is capture group secret_group" },
	{ "rule", "secret_group", CFG_INT, SUB, "1", NULL, "capture group holding the secret" },
	{ "rule", "keywords", CFG_LIST, SUB, NULL, NULL, "lowercase words one of which must appear" },
	{ "rule", "entropy", CFG_STR, SUB, NULL, NULL, "minimum Shannon entropy (bits per character) of the secret" },
	{ "rule", "allow", CFG_REGEX, SUB | CFG_MULTI, NULL, NULL, "secrets matching this are not reported" },
	{ "rule", "path", CFG_REGEX, SUB, NULL, NULL, "the rule applies only to paths matching this" },
	{ "rule", "lines", CFG_INT, SUB, NULL, NULL, "a multi-line regex: the most lines one match spans" },
	{ "rule", "trigger", CFG_REGEX, SUB, NULL, NULL, "what Hyperscan looks for instead of regex (a prefix of it)" },
	{ "rule", "tp", CFG_STR, SUB | CFG_MULTI, NULL, NULL, "an example line the rule must find" },
	{ "rule", "fp", CFG_STR, SUB | CFG_MULTI, NULL, NULL, "an example line the rule must not find" },

	{ NULL, NULL, CFG_STR, 0, NULL, NULL, NULL }
};
