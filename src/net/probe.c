#include "net/probe.h"

#include "error.h"
#include "net/http.h"

#include <stdlib.h>
#include <string.h>

int agent_probe_all(struct agent_probe **out, const struct config *cfg, const char *const *agents, size_t n,
		    long timeout_ms)
{
	struct agent_probe *probes = xcalloc(n ? n : 1, sizeof(*probes));
	struct net_request *reqs = xcalloc(n ? n : 1, sizeof(*reqs));
	struct net_params params;
	int ret;

	net_params_from_config(&params, cfg);
	params.retries = 0;
	params.max_parallel = n ? n : 1;
	if (timeout_ms > 0)
		params.timeout_ms = timeout_ms;
	if (params.timeout_ms > 5000)
		params.timeout_ms = 5000;
	if (params.connect_timeout_ms > params.timeout_ms)
		params.connect_timeout_ms = params.timeout_ms;
	for (size_t i = 0; i < n; i++) {
		probes[i].agent = xstrdup(agents[i]);
		reqs[i].agent = xstrdup(agents[i]);
		reqs[i].probe = 1;
		if (net_agent_url(&reqs[i].url, cfg, agents[i]) < 0) {
			reqs[i].outcome = NET_HOLD;
			reqs[i].problem = xstrdup(mp_error_last());
		}
	}
	ret = net_run(reqs, n, &params);
	for (size_t i = 0; i < n; i++) {
		struct agent_probe *p = &probes[i];
		struct net_request *r = &reqs[i];

		p->url = r->url ? url_without_userinfo(r->url) : NULL;
		p->answered = r->outcome == NET_DELIVERED;
		p->status = r->http_status;
		p->ms = r->ms;
		if (!p->answered) {
			const char *msg = r->problem ? r->problem : "no answer";
			size_t alen = strlen(r->agent);

			/* the problem starts with "<agent>: ": the caller prints the name already */
			if (!strncmp(msg, r->agent, alen) && !strncmp(msg + alen, ": ", 2))
				msg += alen + 2;
			p->problem = xstrdup(msg);
		}
		net_request_release(r);
	}
	free(reqs);
	net_params_release(&params);
	*out = probes;
	return ret;
}

void agent_probes_free(struct agent_probe *probes, size_t n)
{
	for (size_t i = 0; probes && i < n; i++) {
		free(probes[i].agent);
		free(probes[i].url);
		free(probes[i].problem);
	}
	free(probes);
}

int agent_webhook_url(char **out, const struct config *cfg, const char *agent)
{
	char *url = NULL;
	int ret = net_agent_url(&url, cfg, agent);

	*out = url ? url_without_userinfo(url) : NULL;
	free(url);
	return ret;
}
