/*
 * The delivery engine of src/net/ (not for use outside it): many HTTP
 * requests to agents' gateways at once over one libcurl multi handle,
 * each with its own retries, exponential backoff with jitter and
 * Retry-After.
 *
 * Policy: https certificates are always verified ([mesh] ca_file adds a
 * private CA); redirects are not followed and proxies from the
 * environment are not used (either would hand the bearer token to a third
 * party); the token goes to libcurl as CURLOPT_XOAUTH2_BEARER, never to a
 * child process, never into a message.
 */
#ifndef MP_NET_HTTP_H
#define MP_NET_HTTP_H

#include "config/config.h"
#include "util/util.h"

#include <stddef.h>
#include <time.h>

struct net_params {
	long connect_timeout_ms;
	long timeout_ms;          /* one attempt */
	int retries;              /* attempts after the first */
	long retry_after_max_s;   /* a longer Retry-After queues instead of waiting */
	long backoff_ms;          /* first backoff; doubles each retry, with jitter */
	const char *ca_file;
	size_t max_parallel;      /* requests in flight at once */
	double deadline_ms;       /* no new attempt after this long (0: none) */
	const char *signing_key;  /* HMAC key for X-Meshpush-Signature, or NULL */
	const char *signing_problem; /* the signing key is configured but unreadable: why */
};

/*
 * Parameters from [mesh] connect_timeout, timeout, retries,
 * retry_after_max, ca_file; `signing_key` resolved from [mesh]
 * signing_key (free with net_params_release).
 */
void net_params_from_config(struct net_params *out, const struct config *cfg);
void net_params_release(struct net_params *p);

enum net_outcome {
	NET_PENDING = 0,
	NET_DELIVERED, /* 2xx */
	NET_QUEUE,     /* worth retrying later: unreachable, timeout, 5xx, 429 */
	NET_HOLD,      /* needs the user first: 401/403, unreadable token, bad URL, TLS */
	NET_FAILED     /* no retry would change it: 413, other 4xx */
};

struct net_request {
	/* what to send (owned) */
	char *agent;
	char *url;
	int probe;          /* HEAD without token, no retries: does the gateway answer? */
	char *body;         /* JSON (POST) */
	char *id;           /* Idempotency-Key */
	char *token;        /* bearer token, or NULL: none sent */
	char *token_source; /* where it comes from ("env:MESH_TOKEN_ORACLE"), or NULL */
	void *data;         /* the caller's */

	/* what happened */
	enum net_outcome outcome;
	long http_status;
	long retry_after_s; /* the last Retry-After, 0 when none */
	int attempts;
	double ms;          /* from the first attempt to the outcome */
	char *problem;      /* "oracle: connection refused (4 attempts)", or NULL */
	char *run_id;       /* a 2xx answer's runId */

	/* engine state */
	void *easy;
	struct curl_slist *headers;
	struct strbuf response;
	double started, next_at;
	char retry_after_hdr[64];
	char errbuf[256];
};

void net_request_release(struct net_request *r);

/*
 * Make the request of `message` to `agent` with `id`: URL ([agent] webhook,
 * else http://<host>:18789/hooks/agent), JSON body, token.  Returns 0;
 * MP_ECONFIG for an unknown agent, a missing webhook/host, channel without
 * to (static configuration: the caller stops); MP_EPOLICY for a body over
 * WEBHOOK_MAX_BODY.  A token that cannot be read is not an error here: the
 * request is marked NET_HOLD with the problem.
 */
int net_request_prepare(struct net_request *r, const struct config *cfg, const char *agent,
			const char *message, const char *id);

/* The URL of `agent`'s gateway into `*out`, or MP_ECONFIG. */
int net_agent_url(char **out, const struct config *cfg, const char *agent);

/* The JSON body for `agent` ({message, name, deliver, channel+to, agentId}).  MP_ECONFIG, MP_EPOLICY. */
int net_build_body(char **out, const struct config *cfg, const char *agent, const char *message);

/*
 * Run the `n` requests whose outcome is NET_PENDING until each has an
 * outcome.  Returns 0 (the outcomes say the rest) or MP_EGENERIC when
 * libcurl cannot start.
 */
int net_run(struct net_request *reqs, size_t n, const struct net_params *p);

/* "sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">" into `out` (>= 72 bytes). */
void net_sign(char *out, const char *key, long long timestamp, const char *body, size_t body_len);

/*
 * How to treat an answer: `curl_code` (a CURLcode, 0 when an HTTP status
 * was received) and `status`.  `*retry` is set when another attempt may
 * succeed.
 */
enum net_outcome net_classify(int curl_code, long status, int *retry);

/* The longest Retry-After believed (a week): a gateway controls the value. */
#define NET_RETRY_AFTER_CAP (7L * 24 * 3600)

/*
 * Seconds of a Retry-After value ("120" or an HTTP date), relative to `now`,
 * at most NET_RETRY_AFTER_CAP; -1 when unparsable.
 */
long net_parse_retry_after(const char *value, time_t now);

#endif
