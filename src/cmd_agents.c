/* git meshpush agents: the mesh from the configuration, and whether each gateway answers. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "net/probe.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "env:MESH_TOKEN_ORACLE (resolves)"; never the token. */
static char *token_state(const struct config *cfg, const char *agent, int *resolves)
{
	const char *source = NULL;
	char *token = NULL, *s;
	int rc = config_token(&token, &source, cfg, agent);

	*resolves = rc == 0;
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	if (rc == MP_ENOTFOUND)
		s = xstrdup("none configured");
	else if (rc == 0)
		s = xasprintf("%s (resolves)", source);
	else
		s = xasprintf("%s (does not resolve: %s)", source, mp_error_last());
	mp_error_clear();
	return s;
}

static void print_field(const char *name, const char *value)
{
	if (value && *value)
		printf("    %-8s %s\n", name, value);
}

int cmd_agents(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strlist agents = STRLIST_INIT;
	struct agent_probe *probes = NULL;
	const char *self = config_get(&ctx->cfg, "self", NULL, "agent");
	int no_probe = 0, json = 0, timeout = 0, ret = 0, unreachable = 0;
	const struct opt_spec opts[] = {
		OPT_BOOL("no-probe", 0, &no_probe, "do not ask the gateways, only show the configuration"),
		OPT_BOOL("json", 0, &json, "one JSON object per agent"),
		OPT_INT("timeout", 0, &timeout, "SECONDS", "how long each gateway may take to answer (default [mesh] timeout, at most 5)"),
		OPT_END()
	};
	const struct opt_usage usage = { "agents", "[--no-probe] [--json] [--timeout SECONDS]",
					 "list the mesh's agents and whether their gateways answer", opts };

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	config_subsections(&agents, &ctx->cfg, "agent");
	if (!agents.nr) {
		ret = error_exit(MP_EXIT_USAGE, "no agent is configured: add [agent \"NAME\"] sections to .meshpush.ini");
		goto cleanup;
	}
	if (!no_probe && agent_probe_all(&probes, &ctx->cfg, (const char *const *)agents.items, agents.nr,
					 timeout * 1000L) < 0) {
		mp_error_print();
		ret = MP_EXIT_GIT;
		goto cleanup;
	}
	for (size_t i = 0; i < agents.nr; i++) {
		const char *name = agents.items[i];
		const struct agent_probe *p = probes ? &probes[i] : NULL;
		char *url = NULL, *token;
		int resolves;

		if (agent_webhook_url(&url, &ctx->cfg, name) < 0)
			mp_error_clear();
		token = token_state(&ctx->cfg, name, &resolves);
		if (p && !p->answered)
			unreachable = 1;
		if (json) {
			json_t *o = json_object();
			char *line;

			json_object_set_new(o, "name", json_string(name));
			json_object_set_new(o, "self", json_boolean(self && !strcmp(self, name)));
			json_object_set_new(o, "host", json_string(config_get(&ctx->cfg, "agent", name, "host") ?: ""));
			json_object_set_new(o, "webhook", url ? json_string(url) : json_null());
			json_object_set_new(o, "ssh", json_string(config_get(&ctx->cfg, "agent", name, "ssh") ?: ""));
			json_object_set_new(o, "token", json_string(token));
			json_object_set_new(o, "token_resolves", json_boolean(resolves));
			if (p) {
				json_object_set_new(o, "answers", json_boolean(p->answered));
				if (p->answered)
					json_object_set_new(o, "http", json_integer(p->status));
				json_object_set_new(o, "ms", json_integer((json_int_t)p->ms));
				if (p->problem)
					json_object_set_new(o, "problem", json_string(p->problem));
			}
			line = json_dumps(o, JSON_COMPACT);
			printf("%s\n", line);
			free(line);
			json_decref(o);
		} else {
			printf("%s%s\n", name, self && !strcmp(self, name) ? " (this agent)" : "");
			print_field("host", config_get(&ctx->cfg, "agent", name, "host"));
			print_field("webhook", url ? url : "(none: set webhook or host)");
			print_field("ssh", config_get(&ctx->cfg, "agent", name, "ssh"));
			print_field("dest", config_get(&ctx->cfg, "agent", name, "dest"));
			print_field("token", token);
			if (p && p->answered)
				printf("    %-8s answers: HTTP %ld in %.0f ms\n", "gateway", p->status, p->ms);
			else if (p)
				printf("    %-8s unreachable: %s\n", "gateway", p->problem ? p->problem : "no answer");
		}
		free(url);
		free(token);
	}
	if (unreachable)
		ret = MP_EXIT_UNREACHABLE;
cleanup:
	agent_probes_free(probes, agents.nr);
	strlist_release(&agents);
	return ret;
}
