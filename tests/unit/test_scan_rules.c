/*
 * The scanner's rules and checks: every compiled-in rule against its own
 * examples (tp found, fp not found, fp_placeholder found only without the
 * placeholder filter), entropy, redaction, the placeholder filter,
 * fingerprints, allow comments, globs.
 */
#include "scan/internal.h"
#include "unit.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>

static struct scan_engine *engine;

static size_t count_rule(const struct scan_report *r, const char *rule)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nr; i++)
		n += !rule || !strcmp(r->findings[i].rule, rule);
	return n;
}

static int scan_text(struct scan_report *r, const char *text)
{
	struct scan_source src = { "example.txt", NULL, NULL, NULL, 0 };

	return scan_ctx_scan(engine->ctx, r, &src, text, strlen(text), 0, strlen(text));
}

static void scan_rules__every_rule_finds_its_examples(void)
{
	char what[512];

	ok(engine->nr >= 8, "there are rules");
	engine->ignore_path_rules = 1;
	for (size_t i = 0; i < engine->nr; i++) {
		const struct scan_rule *rule = &engine->rules[i];

		snprintf(what, sizeof(what), "rule '%s' has a true-positive example", rule->id);
		ok(rule->tp.nr > 0, what);
		snprintf(what, sizeof(what), "rule '%s' has a false-positive example", rule->id);
		ok(rule->fp.nr + rule->fp_placeholder.nr > 0, what);
		for (size_t k = 0; k < rule->tp.nr; k++) {
			struct scan_report r = SCAN_REPORT_INIT;

			scan_text(&r, rule->tp.items[k]);
			snprintf(what, sizeof(what), "rule '%s' finds tp #%zu", rule->id, k + 1);
			ok(count_rule(&r, rule->id) > 0, what);
			if (!count_rule(&r, rule->id))
				printf("#   tp: %s\n#   found %zu findings of other rules\n", rule->tp.items[k], r.nr);
			scan_report_release(&r);
		}
		for (size_t k = 0; k < rule->fp.nr; k++) {
			struct scan_report r = SCAN_REPORT_INIT;

			scan_text(&r, rule->fp.items[k]);
			snprintf(what, sizeof(what), "rule '%s' does not find fp #%zu", rule->id, k + 1);
			ok(count_rule(&r, rule->id) == 0, what);
			if (count_rule(&r, rule->id))
				printf("#   fp: %s\n", rule->fp.items[k]);
			scan_report_release(&r);
		}
		for (size_t k = 0; k < rule->fp_placeholder.nr; k++) {
			struct scan_report r = SCAN_REPORT_INIT;

			scan_text(&r, rule->fp_placeholder.items[k]);
			snprintf(what, sizeof(what), "rule '%s': placeholder #%zu gives no finding", rule->id, k + 1);
			ok(r.nr == 0, what);
			if (r.nr)
				printf("#   fp_placeholder: %s\n#   found by '%s'\n", rule->fp_placeholder.items[k],
				       r.findings[0].rule);
			scan_report_release(&r);
			/* the example must exercise the filter: the rule's regex matches it */
			engine->no_placeholder_filter = engine->no_entropy = 1;
			scan_text(&r, rule->fp_placeholder.items[k]);
			snprintf(what, sizeof(what), "rule '%s': placeholder #%zu is matched by the rule without the filter",
				 rule->id, k + 1);
			ok(count_rule(&r, rule->id) > 0, what);
			engine->no_placeholder_filter = engine->no_entropy = 0;
			scan_report_release(&r);
		}
	}
	engine->ignore_path_rules = 0;
}

static void scan_entropy__values(void)
{
	ok(scan_entropy("", 0) == 0, "empty is 0");
	ok(scan_entropy("aaaa", 4) == 0, "one symbol is 0");
	ok(fabs(scan_entropy("abcd", 4) - 2.0) < 1e-9, "four symbols are 2 bits");
	ok(scan_entropy("q9Xv2Lm7Rk4Tz8Wp", 16) > 3.9, "a random string is high");
}

static void scan_redact__keeps_four_and_the_length(void)
{
	char *s = scan_redact("ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi");

	is_str(s, "ghp_…(40 chars)", "long secret");
	free(s);
	s = scan_redact("hunter2");
	is_str(s, "…(7 chars)", "short secret shows nothing");
	free(s);
	s = scan_redact("abcdefghijk");
	is_str(s, "ab…(11 chars)", "medium secret shows two");
	free(s);
}

static void scan_placeholder__filter(void)
{
	static const char *const yes[] = {
		"<token>", "<your-token>", "${TOKEN}", "$TOKEN", "{{ token }}", "process.env.GITHUB_TOKEN",
		"os.environ[\"TOKEN\"]", "os.getenv('TOKEN')", "ENV['TOKEN']", "xxxxxxxxxxxxxxxx", "XXXXXXXXXXXX",
		"****************", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "aaaaaaaaaaaa", "", "changeme",
		"your_api_key_here", "YOUR_API_KEY", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"config.apiKey", "getToken()", "%API_KEY%", "yourSecretToken", "sk-REDACTED", "dummy-password",
		"\"${DB_PASSWORD}\"", "placeholder", "os.environ/ANTHROPIC_API_KEY", "secretref:openai-key",
	};
	static const char *const no[] = {
		"ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi", "q9Xv2Lm7Rk4Tz8Wp", "AKIAZ3MSJV4QWERT7ABC",
		"xoxb-2817364510-4718263541-Zq8Rk2vLmN4pX1sT9wYc3bH6", "sk_live_51Hx9Yz2eZvKYlo2C8xQ7wR4t",
		"9fK2mQ7xLp4Rz8Vt1Wn6Bs3Hd5Jc0Ya", "Vq7Lm2Xz9Rk4", "npm_4fH7kL2mN9pQ3rS6tV8wX1yZ5aB0cD2eF4gH",
		"sk-ant-api03-Yx7Kq2Lm9Rt4Vw8Zp3Nb6Hd1Jf5Gs0Ac", "yOuR8fK2mQ7xLp4Rz8Vt1Wn6",
	};
	char what[256];

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		snprintf(what, sizeof(what), "'%s' is a placeholder", yes[i]);
		ok(scan_is_placeholder(yes[i], strlen(yes[i])), what);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		snprintf(what, sizeof(what), "'%s' is not a placeholder", no[i]);
		ok(!scan_is_placeholder(no[i], strlen(no[i])), what);
	}
}

static void scan_fingerprint__stable_and_line_independent(void)
{
	struct scan_report a = SCAN_REPORT_INIT, b = SCAN_REPORT_INIT;
	char *fp = scan_fingerprint("github-pat", "./src/a.js", "ghp_x");

	is_str(fp, "github-pat:src/a.js:9d8b0c156f7015e9", "rule:path:sha256 prefix, ./ dropped");
	free(fp);
	scan_text(&a, "t = \"ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi\"\n");
	scan_text(&b, "\n\n\n   other = 1; t = \"ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi\"\n");
	ok(a.nr == 1 && b.nr == 1, "both found");
	if (a.nr == 1 && b.nr == 1) {
		is_str(a.findings[0].fingerprint, b.findings[0].fingerprint, "moving the line keeps the fingerprint");
		is_int(b.findings[0].line, 4, "line");
		is_int(b.findings[0].column, 20, "column");
	}
	scan_report_release(&a);
	scan_report_release(&b);
}

static void scan_allow__inline_comment(void)
{
	struct scan_report r = SCAN_REPORT_INIT;

	scan_text(&r, "t = \"ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi\" // meshpush:allow\n"
		      "u = \"ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi\" # gitleaks:allow\n"
		      "v = \"ghp_8Rk2vQz7LmN4pX1sT9wYc3bH6dJ0fA5eGuKi\"\n");
	is_int(r.nr, 1, "only the line without an allow comment");
	is_int(r.allowed, 2, "two allowed");
	if (r.nr)
		is_int(r.findings[0].line, 3, "the third line");
	scan_report_release(&r);
}

static void scan_crlf__secret_without_cr(void)
{
	struct scan_report r = SCAN_REPORT_INIT;

	scan_text(&r, "a\r\nb\r\ndb_password = \"q9Xv2Lm7Rk4Tz8Wp\"\r\n");
	is_int(r.nr, 1, "found");
	if (r.nr) {
		is_int(r.findings[0].line, 3, "line 3");
		is_str(r.findings[0].secret, "q9Xv2Lm7Rk4Tz8Wp", "no CR");
	}
	scan_report_release(&r);
}

static void scan_glob__allow_paths(void)
{
	ok(scan_glob_match("docs/examples/**", "docs/examples/a/b.md"), "** across directories");
	ok(!scan_glob_match("docs/examples/**", "docs/other.md"), "other directory");
	ok(scan_glob_match("*.pem", "keys/test/a.pem"), "base name at any depth");
	ok(!scan_glob_match("*.pem", "keys/test/a.pem.txt"), "not a suffix");
	ok(scan_glob_match("test/fixtures", "test/fixtures/x/y.js"), "a directory covers what is below");
	ok(scan_glob_match("**/fixtures/*.json", "a/b/fixtures/k.json"), "**/ prefix");
	ok(scan_glob_match("**/fixtures/*.json", "fixtures/k.json"), "**/ matches zero directories");
	ok(!scan_glob_match("src/*.js", "src/a/b.js"), "* stops at /");
	ok(scan_glob_match("src/[ab].js", "src/a.js"), "class");
}

int main(void)
{
	setenv("XDG_CACHE_HOME", "/nonexistent-meshpush-cache", 1);
	scan_keep_examples = 1;
	if (scan_engine_new(&engine, NULL) < 0) {
		printf("Bail out! %s\n", mp_error_last());
		return 1;
	}
	RUN(scan_rules__every_rule_finds_its_examples);
	RUN(scan_entropy__values);
	RUN(scan_redact__keeps_four_and_the_length);
	RUN(scan_placeholder__filter);
	RUN(scan_fingerprint__stable_and_line_independent);
	RUN(scan_allow__inline_comment);
	RUN(scan_crlf__secret_without_cr);
	RUN(scan_glob__allow_paths);
	scan_engine_free(engine);
	return unit_done();
}
