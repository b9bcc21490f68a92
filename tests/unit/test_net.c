/* Unit tests of src/net/: messages, request bodies, classification, signatures. */
#include "unit.h"

#include "config/config.h"
#include "error.h"
#include "net/announce.h"
#include "net/http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <time.h>

static void load(struct config *cfg, const char *text)
{
	config_add_text(cfg, "test.ini", text, strlen(text), CONFIG_REPO);
}

static void announcement_message__push_form(void)
{
	struct announcement a = ANNOUNCEMENT_INIT;
	char *m;

	strlist_push(&a.files, "shared/voltagent/a.js");
	strlist_push(&a.files, "shared/voltagent/b.sh");
	a.from = xstrdup("sandman");
	strlist_push(&a.to, "oracle");
	strlist_push(&a.to, "oraclelocalbot");
	a.purpose = xstrdup("health checks");
	m = announcement_message(&a);
	is_str(m, "\xF0\x9F\x93\xA4 CODE PUSH: shared/voltagent/a.js, shared/voltagent/b.sh\nFrom: sandman\n"
		  "To: oracle, oraclelocalbot\nMethod: git\nPurpose: health checks",
	       "the protocol's form, method git by default");
	free(m);
	a.method = xstrdup("scp");
	a.details = xstrdup("more");
	m = announcement_message(&a);
	ok(strstr(m, "\nMethod: scp\n") != NULL, "the method given");
	ok(ends_with(m, "Purpose: health checks\n\nmore"), "details after a blank line");
	free(m);
	announcement_release(&a);
}

static void announcement_message__received_form(void)
{
	struct announcement a = ANNOUNCEMENT_INIT;
	char *m;

	a.kind = ANNOUNCE_RECEIVED;
	strlist_push(&a.files, "health.js");
	a.location = xstrdup("/root/clawd/voltagent/health.js");
	a.status = xstrdup("working");
	m = announcement_message(&a);
	is_str(m, "\xE2\x9C\x85 CODE RECEIVED: health.js\nLocation: /root/clawd/voltagent/health.js\nStatus: working",
	       "the protocol's form");
	free(m);
	announcement_release(&a);
}

static void announcement_message__quotes_odd_names(void)
{
	struct announcement a = ANNOUNCEMENT_INIT;
	char *m;

	strlist_push(&a.files, "a\nb\"c\\d\x01\xff.js");
	strlist_push(&a.files, "caf\xC3\xA9.js");
	a.from = xstrdup("s");
	strlist_push(&a.to, "o");
	a.purpose = xstrdup("bad \xC3 utf8");
	m = announcement_message(&a);
	ok(starts_with(m, "\xF0\x9F\x93\xA4 CODE PUSH: \"a\\nb\\\"c\\\\d\\001\\377.js\", caf\xC3\xA9.js\n"),
	   "control characters, quotes, backslashes and bad bytes quoted as git does; UTF-8 kept");
	ok(ends_with(m, "Purpose: bad \xEF\xBF\xBD utf8"), "invalid UTF-8 in free text becomes U+FFFD");
	free(m);
	announcement_release(&a);
}

static void announcement_check__what_each_kind_needs(void)
{
	struct announcement a = ANNOUNCEMENT_INIT;

	is_int(announcement_check(&a), MP_EUSAGE, "no file");
	strlist_push(&a.files, "a.js");
	is_int(announcement_check(&a), MP_EUSAGE, "push without purpose");
	a.purpose = xstrdup("p");
	is_int(announcement_check(&a), 0, "push with file and purpose");
	a.method = xstrdup("ftp");
	is_int(announcement_check(&a), MP_EUSAGE, "unknown method");
	a.kind = ANNOUNCE_RECEIVED;
	a.location = xstrdup("/x");
	a.status = xstrdup("fine");
	is_int(announcement_check(&a), MP_EUSAGE, "received status must be working|issues");
	free(a.status);
	a.status = xstrdup("issues");
	is_int(announcement_check(&a), 0, "received with location and status");
	a.id = xstrdup("has space");
	is_int(announcement_check(&a), MP_EUSAGE, "an id with a space");
	announcement_release(&a);
}

static void announce_new_id__format(void)
{
	char *a = announce_new_id(), *b = announce_new_id();

	is_int(strlen(a), 16 + 1 + 16, "YYYYMMDDTHHMMSSZ-<16 hex>");
	ok(a[8] == 'T' && a[15] == 'Z' && a[16] == '-', "timestamp shape");
	ok(strcmp(a, b) != 0, "two ids differ");
	free(a);
	free(b);
}

static void net_build_body__fields(void)
{
	struct config cfg = CONFIG_INIT;
	char *body = NULL;
	json_t *j;

	load(&cfg, "[agent \"o\"]\nwebhook = http://127.0.0.1:1/hooks/agent\nchannel = tg\nto = room\nagent_id = main\n"
		   "[agent \"half\"]\nwebhook = http://127.0.0.1:1/\nchannel = tg\n");
	is_int(net_build_body(&body, &cfg, "o", "m \"q\"\n\x01"), 0, "builds");
	j = json_loads(body, 0, NULL);
	is_str(json_string_value(json_object_get(j, "message")), "m \"q\"\n\x01", "message round-trips");
	is_str(json_string_value(json_object_get(j, "name")), "meshpush", "name");
	ok(json_is_true(json_object_get(j, "deliver")), "deliver true");
	is_str(json_string_value(json_object_get(j, "channel")), "tg", "channel");
	is_str(json_string_value(json_object_get(j, "to")), "room", "to");
	is_str(json_string_value(json_object_get(j, "agentId")), "main", "agentId");
	ok(strstr(body, "\\u0001") != NULL, "control characters escaped");
	json_decref(j);
	free(body);
	is_int(net_build_body(&body, &cfg, "half", "m"), MP_ECONFIG, "channel without to");
	ok(strstr(mp_error_last(), "go together") != NULL, "says they go together");
	config_release(&cfg);
}

static void net_build_body__over_the_limit(void)
{
	struct config cfg = CONFIG_INIT;
	char *body = NULL, *big = xmalloc(WEBHOOK_MAX_BODY + 1);

	load(&cfg, "[agent \"o\"]\nwebhook = http://127.0.0.1:1/\n");
	memset(big, 'x', WEBHOOK_MAX_BODY);
	big[WEBHOOK_MAX_BODY] = '\0';
	is_int(net_build_body(&body, &cfg, "o", big), MP_EPOLICY, "refused");
	ok(strstr(mp_error_last(), "256 KiB") != NULL, "names the limit");
	ok(body == NULL, "no body");
	free(big);
	config_release(&cfg);
}

static void net_agent_url__default_from_host(void)
{
	struct config cfg = CONFIG_INIT;
	char *url = NULL;

	load(&cfg, "[agent \"h\"]\nhost = 127.0.0.1\n[agent \"six\"]\nhost = ::1\n[agent \"none\"]\nssh = r@h\n"
		   "[agent \"ftp\"]\nwebhook = ftp://127.0.0.1/\n");
	is_int(net_agent_url(&url, &cfg, "h"), 0, "host only");
	is_str(url, "http://127.0.0.1:18789/hooks/agent", "the gateway's default port and path");
	free(url);
	is_int(net_agent_url(&url, &cfg, "six"), 0, "IPv6 host");
	is_str(url, "http://[::1]:18789/hooks/agent", "bracketed");
	free(url);
	is_int(net_agent_url(&url, &cfg, "none"), MP_ECONFIG, "neither webhook nor host");
	is_int(net_agent_url(&url, &cfg, "ftp"), MP_ECONFIG, "not http(s)");
	is_int(net_agent_url(&url, &cfg, "ghost"), MP_ECONFIG, "unknown agent");
	config_release(&cfg);
}

static void net_classify__statuses_and_errors(void)
{
	int retry;

	is_int(net_classify(0, 200, &retry), NET_DELIVERED, "200");
	is_int(net_classify(0, 202, &retry), NET_DELIVERED, "202");
	is_int(net_classify(0, 401, &retry), NET_HOLD, "401 held");
	ok(!retry, "401 not retried");
	is_int(net_classify(0, 413, &retry), NET_FAILED, "413 failed");
	ok(!retry, "413 not retried");
	is_int(net_classify(0, 404, &retry), NET_FAILED, "404 failed");
	is_int(net_classify(0, 429, &retry), NET_QUEUE, "429 queued");
	ok(retry, "429 retried");
	is_int(net_classify(0, 503, &retry), NET_QUEUE, "503 queued");
	ok(retry, "503 retried");
	is_int(net_classify(CURLE_COULDNT_CONNECT, 0, &retry), NET_QUEUE, "refused");
	ok(retry, "refused retried");
	is_int(net_classify(CURLE_OPERATION_TIMEDOUT, 0, &retry), NET_QUEUE, "timeout");
	ok(retry, "timeout retried");
	is_int(net_classify(CURLE_PEER_FAILED_VERIFICATION, 0, &retry), NET_HOLD, "bad certificate held");
	ok(!retry, "bad certificate not retried");
}

static void net_parse_retry_after__seconds_and_dates(void)
{
	time_t now = 1700000000;

	is_int(net_parse_retry_after(" 120\r\n", now), 120, "seconds");
	is_int(net_parse_retry_after("Tue, 14 Nov 2023 22:15:20 GMT\r\n", now), 120, "an HTTP date");
	is_int(net_parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), 0, "a past date");
	is_int(net_parse_retry_after("soon", now), -1, "nonsense");
	is_int(net_parse_retry_after("12abc", now), -1, "trailing junk");
	/* a gateway controls the value: no overflow of now + value later */
	is_int(net_parse_retry_after("99999999999999999999", now), NET_RETRY_AFTER_CAP, "a huge number is capped");
	is_int(net_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), NET_RETRY_AFTER_CAP, "a far date is capped");
}

static void net_sign__hmac_sha256_of_timestamp_dot_body(void)
{
	char sig[80];
	const char *body = "{\"message\":\"hi\"}";

	net_sign(sig, "k3y", 1700000000LL, body, strlen(body));
	/* python3: hmac.new(b"k3y", b"1700000000." + body, hashlib.sha256).hexdigest() */
	is_str(sig, "sha256=85d98df594d58bbda757dc1b923295f453bba40e1c994043e84125bab8a6fd8f", "known vector");
}

static void announce_recipients__defaults_and_unknowns(void)
{
	struct config cfg = CONFIG_INIT;
	struct announcement a = ANNOUNCEMENT_INIT;
	struct strlist to = STRLIST_INIT;

	is_int(announce_recipients(&to, &cfg, &a), MP_ECONFIG, "no agents configured");
	load(&cfg, "[self]\nagent = me\n[agent \"me\"]\nhost = h\n[agent \"b\"]\nhost = h\n[agent \"a\"]\nhost = h\n");
	is_int(announce_recipients(&to, &cfg, &a), 0, "default recipients");
	is_int(to.nr, 2, "every agent but self");
	is_str(to.items[0], "a", "sorted");
	strlist_release(&to);
	strlist_push(&a.to, "b");
	strlist_push(&a.to, "b");
	is_int(announce_recipients(&to, &cfg, &a), 0, "named");
	is_int(to.nr, 1, "each once");
	strlist_release(&to);
	strlist_push(&a.to, "zed");
	is_int(announce_recipients(&to, &cfg, &a), MP_ECONFIG, "unknown agent");
	ok(strstr(mp_error_last(), "configured agents are a, b, me") != NULL, "lists the configured agents");
	strlist_release(&to);
	announcement_release(&a);
	config_release(&cfg);
}

static void url_without_userinfo__strips_credentials_only(void)
{
	static const char *const cases[][2] = {
		{ "http://mesh:tok@127.0.0.1:1/hooks/agent", "http://127.0.0.1:1/hooks/agent" },
		{ "https://ghp_token@github.com/o/r.git", "https://github.com/o/r.git" },
		{ "http://127.0.0.1/a@b", "http://127.0.0.1/a@b" },
		{ "http://127.0.0.1?q=a@b", "http://127.0.0.1?q=a@b" },
		{ "origin", "origin" },
		{ "root@127.0.0.1:repo.git", "root@127.0.0.1:repo.git" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = url_without_userinfo(cases[i][0]);

		is_str(got, cases[i][1], cases[i][0]);
		free(got);
	}
}

int main(void)
{
	RUN(announcement_message__push_form);
	RUN(announcement_message__received_form);
	RUN(announcement_message__quotes_odd_names);
	RUN(announcement_check__what_each_kind_needs);
	RUN(announce_new_id__format);
	RUN(net_build_body__fields);
	RUN(net_build_body__over_the_limit);
	RUN(net_agent_url__default_from_host);
	RUN(net_classify__statuses_and_errors);
	RUN(net_parse_retry_after__seconds_and_dates);
	RUN(net_sign__hmac_sha256_of_timestamp_dot_body);
	RUN(announce_recipients__defaults_and_unknowns);
	RUN(url_without_userinfo__strips_credentials_only);
	return unit_done();
}
