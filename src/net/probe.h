/*
 * Whether agents' gateways answer: one HEAD request to each webhook URL,
 * all at once, no token sent, no retry.  Any HTTP answer (even 401/404/405)
 * means the gateway is up.
 */
#ifndef MP_NET_PROBE_H
#define MP_NET_PROBE_H

#include "config/config.h"

struct agent_probe {
	char *agent;
	char *url;      /* the webhook URL without user information, or NULL when none is configured */
	int answered;   /* 1: an HTTP answer came back */
	long status;    /* its status */
	double ms;      /* time to the answer or the failure */
	char *problem;  /* why not ("connection refused or unreachable"), or NULL */
};

/*
 * Probe `agents` (n names) with `timeout_ms` per request (0: [mesh]
 * timeout, at most 5 s).  Fills a new array `*out` of n probes (free with
 * agent_probes_free).  Returns 0 or MP_EGENERIC.
 */
int agent_probe_all(struct agent_probe **out, const struct config *cfg, const char *const *agents, size_t n,
		    long timeout_ms);

void agent_probes_free(struct agent_probe *probes, size_t n);

/*
 * The URL of `agent`'s gateway, to show: [agent "x"] webhook, else
 * http://<host>:18789/hooks/agent, without user information (it may hold
 * a credential).  0, or MP_ECONFIG (unknown agent, neither webhook nor
 * host, not http(s)).
 */
int agent_webhook_url(char **out, const struct config *cfg, const char *agent);

#endif
