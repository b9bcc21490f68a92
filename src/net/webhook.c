#include "net/webhook.h"

#include "error.h"
#include "net/announce.h"
#include "net/http.h"

#include <stdlib.h>
#include <string.h>

int webhook_post(const struct config *cfg, const char *agent, const char *message,
		 const char *idempotency_key, struct webhook_response *out)
{
	struct net_request req = { 0 };
	struct net_params params;
	char *id = idempotency_key ? xstrdup(idempotency_key) : announce_new_id();
	int ret;

	net_params_from_config(&params, cfg);
	params.max_parallel = 1;
	if ((ret = net_request_prepare(&req, cfg, agent, message, id)) < 0)
		goto cleanup;
	if (req.outcome == NET_PENDING && params.signing_problem) {
		req.outcome = NET_HOLD;
		req.problem = xasprintf("%s: %s", agent, params.signing_problem);
	}
	if ((ret = net_run(&req, 1, &params)) < 0)
		goto cleanup;
	switch (req.outcome) {
	case NET_DELIVERED:
		ret = 0;
		break;
	case NET_QUEUE:
		ret = mp_error_set(MP_ENET, "%s", req.problem ? req.problem : agent);
		break;
	case NET_HOLD:
		ret = mp_error_set(MP_ECONFIG, "%s", req.problem ? req.problem : agent);
		break;
	default:
		ret = mp_error_set(req.http_status == 413 ? MP_EPOLICY : MP_EGENERIC, "%s",
				   req.problem ? req.problem : agent);
	}
cleanup:
	if (out) {
		out->status = req.http_status;
		out->attempts = req.attempts;
		out->ms = req.ms;
		out->run_id = req.run_id;
		req.run_id = NULL;
		out->problem = ret < 0 ? xstrdup(mp_error_last()) : NULL;
	}
	net_request_release(&req);
	net_params_release(&params);
	free(id);
	return ret;
}
