#include "net/http.h"

#include "error.h"
#include "net/webhook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define DEFAULT_GATEWAY_PORT 18789
#define MAX_RESPONSE (64 * 1024)
#define MAX_BACKOFF_MS 8000

void net_params_from_config(struct net_params *out, const struct config *cfg)
{
	const char *sk = config_get(cfg, "mesh", NULL, "signing_key");

	memset(out, 0, sizeof(*out));
	out->connect_timeout_ms = config_get_int(cfg, "mesh", NULL, "connect_timeout") * 1000;
	out->timeout_ms = config_get_int(cfg, "mesh", NULL, "timeout") * 1000;
	out->retries = (int)config_get_int(cfg, "mesh", NULL, "retries");
	out->retry_after_max_s = config_get_int(cfg, "mesh", NULL, "retry_after_max");
	out->backoff_ms = 250;
	out->ca_file = config_get(cfg, "mesh", NULL, "ca_file");
	out->max_parallel = 16;
	if (out->connect_timeout_ms <= 0)
		out->connect_timeout_ms = 1000;
	if (out->timeout_ms <= 0)
		out->timeout_ms = 1000;
	if (out->retries > 20)
		out->retries = 20;
	if (sk && *sk) {
		char *key = NULL;

		if (config_resolve_secret(&key, sk, "signing key") == 0)
			out->signing_key = key;
		else
			out->signing_problem = xstrdup(mp_error_last());
	}
}

void net_params_release(struct net_params *p)
{
	if (p->signing_key) {
		char *k = (char *)p->signing_key;

		memset(k, 0, strlen(k));
		free(k);
	}
	free((char *)p->signing_problem);
	p->signing_key = NULL;
	p->signing_problem = NULL;
}

void net_request_release(struct net_request *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	if (r->token) {
		memset(r->token, 0, strlen(r->token));
		free(r->token);
	}
	free(r->agent);
	free(r->url);
	free(r->body);
	free(r->id);
	free(r->token_source);
	free(r->problem);
	free(r->run_id);
	strbuf_release(&r->response);
	memset(r, 0, sizeof(*r));
}

static int agent_known(const struct config *cfg, const char *agent)
{
	struct strlist agents = STRLIST_INIT;
	int known;

	config_subsections(&agents, cfg, "agent");
	known = strlist_has(&agents, agent);
	strlist_release(&agents);
	return known;
}

int net_agent_url(char **out, const struct config *cfg, const char *agent)
{
	const char *url = config_get(cfg, "agent", agent, "webhook");
	const char *host = config_get(cfg, "agent", agent, "host");

	*out = NULL;
	if (!agent_known(cfg, agent))
		return mp_error_set(MP_ECONFIG, "unknown agent '%s': add an [agent \"%s\"] section with its webhook",
				    agent, agent);
	if (url && *url) {
		if (!starts_with(url, "http://") && !starts_with(url, "https://")) {
			char *shown = url_without_userinfo(url);

			mp_error_set(MP_ECONFIG, "agent '%s': webhook '%s' must be an http:// or https:// URL", agent,
				     shown);
			free(shown);
			return MP_ECONFIG;
		}
		*out = xstrdup(url);
		return 0;
	}
	if (host && *host) {
		*out = xasprintf(strchr(host, ':') ? "http://[%s]:%d/hooks/agent" : "http://%s:%d/hooks/agent", host,
				 DEFAULT_GATEWAY_PORT);
		return 0;
	}
	return mp_error_set(MP_ECONFIG, "agent '%s' has neither webhook nor host: set [agent \"%s\"] webhook", agent,
			    agent);
}

int net_build_body(char **out, const struct config *cfg, const char *agent, const char *message)
{
	const char *channel = config_get(cfg, "agent", agent, "channel");
	const char *to = config_get(cfg, "agent", agent, "to");
	const char *agent_id = config_get(cfg, "agent", agent, "agent_id");
	json_t *body = NULL, *msg;
	char *text = NULL;
	int ret = 0;

	*out = NULL;
	if ((channel && *channel) != (to && *to)) {
		return mp_error_set(MP_ECONFIG, "agent '%s': 'channel' and 'to' go together: set both or neither",
				    agent);
	}
	msg = json_string(message);
	if (!msg)
		return mp_error_set(MP_EGENERIC, "the message to '%s' is not valid UTF-8", agent);
	body = json_object();
	json_object_set_new(body, "message", msg);
	json_object_set_new(body, "name", json_string("meshpush"));
	json_object_set_new(body, "deliver", json_true());
	if (channel && *channel) {
		json_object_set_new(body, "channel", json_string(channel));
		json_object_set_new(body, "to", json_string(to));
	}
	if (agent_id && *agent_id)
		json_object_set_new(body, "agentId", json_string(agent_id));
	text = json_dumps(body, JSON_COMPACT);
	if (!text) {
		ret = mp_error_set(MP_EGENERIC, "cannot encode the message to '%s'", agent);
		goto cleanup;
	}
	if (strlen(text) > WEBHOOK_MAX_BODY) {
		ret = mp_error_set(MP_EPOLICY,
				   "the message to '%s' is %zu bytes, over the gateway's limit of 256 KiB (%d bytes)",
				   agent, strlen(text), WEBHOOK_MAX_BODY);
		free(text);
		goto cleanup;
	}
	*out = text;
cleanup:
	json_decref(body);
	return ret;
}

int net_request_prepare(struct net_request *r, const struct config *cfg, const char *agent,
			const char *message, const char *id)
{
	const char *source = NULL;
	int ret;

	r->agent = xstrdup(agent);
	r->id = xstrdup(id);
	if ((ret = net_agent_url(&r->url, cfg, agent)) < 0)
		return ret;
	if ((ret = net_build_body(&r->body, cfg, agent, message)) < 0)
		return ret;
	ret = config_token(&r->token, &source, cfg, agent);
	if (source)
		r->token_source = xstrdup(source);
	if (ret == MP_ENOTFOUND) {
		mp_error_clear();
	} else if (ret < 0) {
		r->outcome = NET_HOLD;
		r->problem = xasprintf("%s: %s", agent, mp_error_last());
	}
	return 0;
}

void net_sign(char *out, const char *key, long long timestamp, const char *body, size_t body_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char prefix[32];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%lld.", timestamp);
	unsigned char *data = xmalloc(plen + body_len);

	memcpy(data, prefix, plen);
	memcpy(data + plen, body, body_len);
	HMAC(EVP_sha256(), key, (int)strlen(key), data, plen + body_len, mac, &mac_len);
	free(data);
	strcpy(out, "sha256=");
	hex_encode(out + 7, mac, mac_len);
}

enum net_outcome net_classify(int curl_code, long status, int *retry)
{
	*retry = 0;
	if (curl_code != CURLE_OK) {
		switch (curl_code) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			*retry = 1;
			return NET_QUEUE;
		default:
			/* TLS verification, malformed URL, unsupported protocol: the user must act */
			return NET_HOLD;
		}
	}
	if (status >= 200 && status < 300)
		return NET_DELIVERED;
	if (status == 401 || status == 403)
		return NET_HOLD;
	if (status == 408 || status == 425 || status == 429 || status >= 500) {
		*retry = 1;
		return NET_QUEUE;
	}
	return NET_FAILED;
}

long net_parse_retry_after(const char *value, time_t now)
{
	const char *p = value;
	time_t t;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p >= '0' && *p <= '9') {
		char *end;
		long v = strtol(p, &end, 10);

		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end)
			return -1;
		return v > NET_RETRY_AFTER_CAP ? NET_RETRY_AFTER_CAP : v; /* also strtol's LONG_MAX on overflow */
	}
	t = curl_getdate(p, NULL);
	if (t == (time_t)-1)
		return -1;
	if (t <= now)
		return 0;
	return t - now > NET_RETRY_AFTER_CAP ? NET_RETRY_AFTER_CAP : (long)(t - now);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *payload)
{
	struct net_request *r = payload;
	size_t n = size * nmemb;

	if (r->response.len + n <= MAX_RESPONSE)
		strbuf_add(&r->response, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *payload)
{
	struct net_request *r = payload;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1)) {
		size_t v = n - (sizeof(name) - 1);

		if (v >= sizeof(r->retry_after_hdr))
			v = sizeof(r->retry_after_hdr) - 1;
		memcpy(r->retry_after_hdr, data + sizeof(name) - 1, v);
		r->retry_after_hdr[v] = '\0';
	}
	return n;
}

static int global_ready;

static int net_global_init(void)
{
	if (!global_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return mp_error_set(MP_EGENERIC, "cannot initialise libcurl");
		global_ready = 1;
	}
	return 0;
}

/* (Re)build the headers of one attempt: signature timestamps are fresh each time. */
static void build_headers(struct net_request *r, const struct net_params *p)
{
	char line[160];

	curl_slist_free_all(r->headers);
	r->headers = NULL;
	if (r->probe)
		return;
	r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
	r->headers = curl_slist_append(r->headers, "Expect:");
	if (r->id) {
		char *h = xasprintf("Idempotency-Key: %s", r->id);

		r->headers = curl_slist_append(r->headers, h);
		free(h);
	}
	if (p->signing_key && r->body) {
		long long ts = (long long)time(NULL);
		char sig[80];

		net_sign(sig, p->signing_key, ts, r->body, strlen(r->body));
		snprintf(line, sizeof(line), "X-Meshpush-Timestamp: %lld", ts);
		r->headers = curl_slist_append(r->headers, line);
		snprintf(line, sizeof(line), "X-Meshpush-Signature: %s", sig);
		r->headers = curl_slist_append(r->headers, line);
	}
}

static CURL *make_easy(struct net_request *r, const struct net_params *p)
{
	CURL *e = r->easy ? r->easy : curl_easy_init();

	if (!e)
		return NULL;
	r->easy = e;
	build_headers(r, p);
	strbuf_reset(&r->response);
	r->retry_after_hdr[0] = '\0';
	r->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_file && *p->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->probe && p->timeout_ms > 5000 ? 5000 : p->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "git-meshpush/" MP_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	if (r->probe) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
		if (r->token) {
			curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
			curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, r->token);
		}
	}
	return e;
}

static const char *status_text(long status)
{
	switch (status) {
	case 400: return "bad request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not found";
	case 405: return "method not allowed";
	case 408: return "request timeout";
	case 413: return "payload too large";
	case 429: return "too many requests";
	case 500: return "internal server error";
	case 502: return "bad gateway";
	case 503: return "service unavailable";
	case 504: return "gateway timeout";
	default: return status >= 500 ? "server error" : "error";
	}
}

static void set_problem(struct net_request *r, int code, const struct net_params *p)
{
	char tries[32] = "";

	if (!r->probe)
		snprintf(tries, sizeof(tries), " (%d attempt%s)", r->attempts, r->attempts == 1 ? "" : "s");
	free(r->problem);
	r->problem = NULL;
	if (code != CURLE_OK) {
		switch (code) {
		case CURLE_COULDNT_CONNECT:
			r->problem = xasprintf("%s: connection refused or unreachable%s", r->agent, tries);
			break;
		case CURLE_OPERATION_TIMEDOUT:
			r->problem = xasprintf("%s: no answer within %.3g s%s", r->agent,
					       (r->probe && p->timeout_ms > 5000 ? 5000 : p->timeout_ms) / 1000.0, tries);
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
			r->problem = xasprintf("%s: cannot resolve the host%s", r->agent, tries);
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CONNECT_ERROR:
			r->problem = xasprintf("%s: TLS certificate verification failed (%s): set [mesh] ca_file to the gateway's CA",
					       r->agent, r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
			break;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_WEIRD_SERVER_REPLY:
			if (code == CURLE_WEIRD_SERVER_REPLY || strstr(r->errbuf, "HTTP/0.9")) {
				/* libcurl's words for bytes that are not an HTTP answer */
				r->problem = xasprintf("%s: the answer is not HTTP (is something else listening on '%s'?)%s",
						       r->agent, r->url, tries);
				break;
			}
			/* fall through */
		default:
			r->problem = xasprintf("%s: %s%s", r->agent, r->errbuf[0] ? r->errbuf : curl_easy_strerror(code),
					       tries);
		}
		return;
	}
	switch (r->http_status) {
	case 401:
	case 403:
		if (r->token_source)
			r->problem = xasprintf("%s: %ld %s (token from %s)", r->agent, r->http_status,
					       status_text(r->http_status), r->token_source);
		else
			r->problem = xasprintf("%s: %ld %s (no token configured: add '%s = env:NAME' or "
					       "'%s = file:PATH' under [token] in ~/.config/meshpush/config.ini)",
					       r->agent, r->http_status, status_text(r->http_status), r->agent, r->agent);
		return;
	case 413:
		r->problem = xasprintf("%s: 413 payload too large: the request (%zu bytes) is over the receiver's limit of 256 KiB",
				       r->agent, r->body ? strlen(r->body) : (size_t)0);
		return;
	case 429:
	case 503:
		if (r->retry_after_s > 0) {
			r->problem = xasprintf("%s: %ld %s, retry after %ld s%s", r->agent, r->http_status,
					       status_text(r->http_status), r->retry_after_s, tries);
			return;
		}
		/* fall through */
	default:
		r->problem = xasprintf("%s: %ld %s%s", r->agent, r->http_status, status_text(r->http_status), tries);
	}
}

static void take_run_id(struct net_request *r)
{
	json_t *j = json_loadb(strbuf_str(&r->response), r->response.len, 0, NULL);
	json_t *id = json_object_get(j, "runId");

	if (json_is_string(id))
		r->run_id = xstrdup(json_string_value(id));
	json_decref(j);
}

static double jitter(long ms)
{
	unsigned int rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (unsigned int)rand();
	/* "equal jitter": between half and all of the delay */
	return ms / 2.0 + (ms / 2.0) * (rnd / (double)UINT32_MAX);
}

/* One attempt ended: decide the outcome, or when to try again. */
static void attempt_done(struct net_request *r, int code, const struct net_params *p, double now, double t0)
{
	int retry = 0;
	enum net_outcome o;

	r->http_status = 0;
	if (code == CURLE_OK)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->http_status);
	if (r->probe) {
		r->outcome = code == CURLE_OK ? NET_DELIVERED : NET_QUEUE;
		r->ms = now - r->started;
		if (code != CURLE_OK)
			set_problem(r, code, p);
		return;
	}
	o = net_classify(code, r->http_status, &retry);
	r->retry_after_s = 0;
	if (code == CURLE_OK && (r->http_status == 429 || r->http_status == 503) && r->retry_after_hdr[0]) {
		long s = net_parse_retry_after(r->retry_after_hdr, time(NULL));

		r->retry_after_s = s > 0 ? s : 0;
	}
	if (o == NET_DELIVERED) {
		r->outcome = NET_DELIVERED;
		r->ms = now - r->started;
		free(r->problem);
		r->problem = NULL;
		take_run_id(r);
		return;
	}
	set_problem(r, code, p);
	if (retry && r->attempts <= p->retries && r->retry_after_s <= p->retry_after_max_s) {
		double delay;

		if (r->retry_after_s > 0) {
			delay = r->retry_after_s * 1000.0;
		} else {
			long base = p->backoff_ms << (r->attempts - 1 < 10 ? r->attempts - 1 : 10);

			delay = jitter(base < MAX_BACKOFF_MS ? base : MAX_BACKOFF_MS);
		}
		if (!p->deadline_ms || now + delay < t0 + p->deadline_ms) {
			r->next_at = now + delay;
			return; /* still NET_PENDING */
		}
	}
	r->outcome = o;
	r->ms = now - r->started;
}

int net_run(struct net_request *reqs, size_t n, const struct net_params *p)
{
	CURLM *multi = NULL;
	size_t active = 0, left = 0;
	double t0 = now_ms();
	int ret = 0;

	if ((ret = net_global_init()) < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (reqs[i].outcome == NET_PENDING) {
			reqs[i].next_at = t0;
			left++;
		}
	if (!left)
		return 0;
	multi = curl_multi_init();
	if (!multi)
		return mp_error_set(MP_EGENERIC, "cannot initialise libcurl");
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)p->max_parallel);

	while (left) {
		double now = now_ms(), wait_ms = 1000;
		int running = 0, msgs;
		CURLMsg *m;

		for (size_t i = 0; i < n && active < p->max_parallel; i++) {
			struct net_request *r = &reqs[i];

			if (r->outcome != NET_PENDING || r->next_at < 0 || r->next_at > now)
				continue;
			if (p->deadline_ms && now > t0 + p->deadline_ms) {
				/* out of time: stays queued (a retried one's problem says why its last attempt failed) */
				r->outcome = NET_QUEUE;
				left--;
				continue;
			}
			if (!make_easy(r, p)) {
				r->outcome = NET_QUEUE;
				r->problem = xasprintf("%s: cannot create a request", r->agent);
				left--;
				continue;
			}
			if (!r->attempts)
				r->started = now;
			r->attempts++;
			r->next_at = -1; /* in flight */
			curl_multi_add_handle(multi, r->easy);
			active++;
		}
		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &msgs))) {
			struct net_request *r = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			curl_multi_remove_handle(multi, m->easy_handle);
			active--;
			attempt_done(r, m->data.result, p, now_ms(), t0);
			if (r->outcome != NET_PENDING)
				left--;
		}
		if (!left)
			break;
		now = now_ms();
		for (size_t i = 0; i < n; i++) {
			const struct net_request *r = &reqs[i];

			if (r->outcome == NET_PENDING && r->next_at >= 0 && r->next_at - now < wait_ms)
				wait_ms = r->next_at - now;
		}
		if (wait_ms < 0)
			wait_ms = 0;
		curl_multi_poll(multi, NULL, 0, (int)(wait_ms + 1), NULL);
	}
	curl_multi_cleanup(multi);
	return 0;
}

void webhook_response_release(struct webhook_response *r)
{
	free(r->run_id);
	free(r->problem);
	memset(r, 0, sizeof(*r));
}
