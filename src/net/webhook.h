/*
 * One message to one agent's gateway, outside the outbox: what the
 * webhook transfer method uses for its "DEPLOY:" message (it must know at
 * once whether the agent got it, and must not be delivered later).
 *
 * Same request as an announcement (net/announce.h): POST JSON {message,
 * name "meshpush", deliver true, channel+to | agentId} to [agent "x"]
 * webhook with the bearer token, Idempotency-Key, the signature headers
 * when [mesh] signing_key is set; same timeouts, retries and backoff.
 */
#ifndef MP_NET_WEBHOOK_H
#define MP_NET_WEBHOOK_H

#include "config/config.h"

/* The gateway's limit on a request body; larger payloads are refused before sending. */
#define WEBHOOK_MAX_BODY (256 * 1024)

struct webhook_response {
	long status;    /* last HTTP status, 0 when none was received */
	char *run_id;   /* the gateway's runId from a 2xx answer, or NULL */
	char *problem;  /* what went wrong ("oracle: 413 payload too large ..."), or NULL */
	int attempts;   /* requests made */
	double ms;      /* total time */
};
#define WEBHOOK_RESPONSE_INIT { 0, NULL, NULL, 0, 0 }

void webhook_response_release(struct webhook_response *r);

/*
 * POST `message` to `agent`'s gateway with `idempotency_key` (NULL: a new
 * id), retrying per [mesh] retries.  `out` (may be NULL) receives the
 * outcome.  Returns 0 on a 2xx answer; MP_ENET when the gateway could not
 * be reached or kept failing (5xx, 429, timeouts); MP_EPOLICY when the
 * body is over WEBHOOK_MAX_BODY (checked before sending) or the gateway
 * answered 413; MP_ECONFIG for a 401/403 (the message names the token
 * source, never the token), an unknown agent, a token that cannot be read,
 * or a bad [agent] section; MP_EGENERIC for another 4xx.  The error
 * message is set whenever it returns < 0.  Nothing is journaled or queued.
 */
int webhook_post(const struct config *cfg, const char *agent, const char *message,
		 const char *idempotency_key, struct webhook_response *out);

#endif
