/*
 * Checks on an extracted secret that do not depend on the rule: entropy,
 * the global placeholder filter, redaction, fingerprints, path globs.
 */
#include "scan/internal.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

double scan_entropy(const char *s, size_t len)
{
	size_t count[256] = { 0 };
	double h = 0;

	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		count[(unsigned char)s[i]]++;
	for (int c = 0; c < 256; c++)
		if (count[c]) {
			double p = (double)count[c] / (double)len;

			h -= p * log2(p);
		}
	return h;
}

/*
 * Examples published in vendors' documentation: real formats, never real
 * keys.  Compared with the whole secret.
 */
static const char *const documented_examples[] = {
	"AKIAIOSFODNN7EXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"AKIAI44QH8DHBEXAMPLE",
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
	"ASIAIOSFODNN7EXAMPLE",
	"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
	"pk_test_TYooMQauvdEDq54NiTphI7jx",
	"sk_test_BQokikJOvBiI2HlWgH4olfQ2",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	"xoxb-not-a-real-token-this-will-not-work",
	"ghp_16C7e42F292c6912E7710c838347Ae178B4a",
	"AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
	/* the Azurite / Azure Storage Emulator's well-known account key */
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};

/* Whole words that make a value a placeholder (compared case-insensitively). */
static const char *const placeholder_words[] = {
	"your", "yours", "example", "examples", "placeholder", "dummy", "redacted", "changeme", "changeit",
	"replaceme", "fake", "sample", "insert", "xxx", "todo", "fixme", "none", "null", "nil", "undefined",
	"notasecret", "mytoken", "mysecret", "mypassword", "yourtoken", "secrethere", "tokenhere",
};

static int is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static int is_ident(int c)
{
	return isalnum(c) || c == '_';
}

/* `s` (n bytes) is exactly an identifier. */
static int all_ident(const char *s, size_t n)
{
	if (!n || !is_ident_start((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_ident((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A reference to a variable or the environment rather than a value. */
static int is_reference(const char *s, size_t n)
{
	static const char *const prefixes[] = {
		"process.env.", "process.env[", "os.environ[", "os.environ.get(", "os.getenv(", "getenv(",
		"env[", "ENV[", "ENV.fetch(", "System.getenv(", "Environment.GetEnvironmentVariable(",
		"secrets.", "vars.", "env.", "$env:", "import.meta.env.", "Deno.env.get(",
		/* LiteLLM's os.environ/NAME, Azure Container Apps' secretref:NAME */
		"os.environ/", "secretref:",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t k = strlen(prefixes[i]);

		if (n > k && !strncmp(s, prefixes[i], k))
			return 1;
	}
	/* $NAME, ${NAME}, ${NAME:-x}, $(cmd), %NAME%, %(name)s, @NAME@ */
	if (n >= 2 && s[0] == '$') {
		if (s[1] == '{' || s[1] == '(')
			return s[n - 1] == '}' || s[n - 1] == ')';
		return all_ident(s + 1, n - 1);
	}
	if (n >= 3 && s[0] == '%' && s[n - 1] == '%' && all_ident(s + 1, n - 2))
		return 1;
	if (n >= 4 && s[0] == '%' && s[1] == '(' && memchr(s, ')', n))
		return 1;
	if (n >= 3 && s[0] == '@' && s[n - 1] == '@' && all_ident(s + 1, n - 2))
		return 1;
	/* {{ x }}, {x}, <x>, [x] as the whole value */
	if (n >= 2 && ((s[0] == '{' && s[n - 1] == '}') || (s[0] == '<' && s[n - 1] == '>') ||
		       (s[0] == '[' && s[n - 1] == ']')))
		return 1;
	/* a dotted identifier chain (config.token, self.api_key), maybe called: getToken() */
	{
		size_t k = 0, dots = 0, digits = 0;

		while (k < n && (is_ident((unsigned char)s[k]) || s[k] == '.')) {
			dots += s[k] == '.';
			digits += isdigit((unsigned char)s[k]) != 0;
			k++;
		}
		if (k > 0 && is_ident_start((unsigned char)s[0]) && s[k - 1] != '.') {
			if (k == n && dots && !digits)
				return 1;
			if (k < n && s[k] == '(' && s[n - 1] == ')')
				return 1;
		}
	}
	return 0;
}

/* A run of `min` or more of the same mask character (x, X, *, #, ., •). */
static int has_mask_run(const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (strchr("xX*#.", c) && c && i && s[i - 1] == s[i])
			run++;
		else
			run = strchr("xX*#.", c) && c ? 1 : 0;
		if (run >= 6)
			return 1;
	}
	/* "•" (U+2022, e2 80 a2) repeated */
	return memmem(s, n, "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2", 9) != NULL;
}

/* At most 3 distinct characters once a vendor prefix ("sk-", "ghp_") is set aside. */
static int low_variety(const char *s, size_t n)
{
	unsigned char seen[256] = { 0 };
	size_t distinct = 0, i = 0;

	while (i < n && i < 8 && isalpha((unsigned char)s[i]))
		i++;
	if (i < n && i <= 8 && (s[i] == '_' || s[i] == '-'))
		i++;
	else
		i = 0;
	if (n - i < 6)
		return 0;
	for (; i < n; i++)
		if (!seen[(unsigned char)s[i]]++)
			distinct++;
	return distinct <= 3;
}

/*
 * A whole word of the value is a placeholder word.  Words are split on
 * anything not a letter or digit; at case changes too (yourApiKey) when
 * the value has no digit, because a random key's letters are no words.
 */
static int has_placeholder_word(const char *s, size_t n)
{
	int camel = 1;
	size_t i = 0;

	for (size_t k = 0; k < n; k++)
		if (isdigit((unsigned char)s[k]))
			camel = 0;
	while (i < n) {
		size_t j;

		while (i < n && !isalnum((unsigned char)s[i]))
			i++;
		j = i;
		while (j < n && isalnum((unsigned char)s[j]) &&
		       !(camel && j > i && islower((unsigned char)s[j - 1]) && isupper((unsigned char)s[j])))
			j++;
		for (size_t k = 0; j > i && k < ARRAY_SIZE(placeholder_words); k++)
			if (strlen(placeholder_words[k]) == j - i && !strncasecmp(s + i, placeholder_words[k], j - i))
				return 1;
		i = j;
	}
	return 0;
}

int scan_is_placeholder(const char *s, size_t n)
{
	size_t i;

	while (n && (s[0] == '"' || s[0] == '\'' || s[0] == '`'))
		s++, n--;
	while (n && (s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == '`'))
		n--;
	if (!n)
		return 1;
	for (i = 0; i < ARRAY_SIZE(documented_examples); i++)
		if (strlen(documented_examples[i]) == n && !memcmp(s, documented_examples[i], n))
			return 1;
	/* AWS-style documented keys end in EXAMPLE / EXAMPLEKEY */
	if ((n >= 7 && !memcmp(s + n - 7, "EXAMPLE", 7)) || (n >= 10 && !memcmp(s + n - 10, "EXAMPLEKEY", 10)))
		return 1;
	if (is_reference(s, n))
		return 1;
	/* <token>, <your-token> inside a value: "Bearer <token>" */
	{
		const char *lt = memchr(s, '<', n);

		if (lt && memchr(lt, '>', n - (size_t)(lt - s)))
			return 1;
	}
	if (memmem(s, n, "${", 2) || memmem(s, n, "{{", 2))
		return 1;
	if (has_mask_run(s, n) || low_variety(s, n))
		return 1;
	if (has_placeholder_word(s, n))
		return 1;
	return 0;
}

char *scan_redact(const char *secret)
{
	size_t n = strlen(secret), keep = n >= 16 ? 4 : n >= 10 ? 2 : 0;
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)secret[i];

		strbuf_addch(&sb, c >= 0x21 && c < 0x7f ? (char)c : '?');
	}
	strbuf_addf(&sb, "…(%zu chars)", n);
	return strbuf_detach(&sb);
}

char *scan_fingerprint(const char *rule, const char *path, const char *secret)
{
	unsigned char md[32];
	char hex[17];

	scan_sha256(md, secret, strlen(secret));
	hex_encode(hex, md, 8);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return xasprintf("%s:%s:%s", rule, path, hex);
}

/*
 * Failed (glob, path) positions already tried: globs come from the committed
 * .meshpush.ini and paths from commits, so "*" and "**" must not backtrack
 * exponentially ("**" "/" "*" repeated against a long path took minutes).
 * With this memo each position pair is tried once.
 */
struct glob_memo {
	const char *g0, *s0;
	size_t width;          /* strlen(s0) + 1 */
	unsigned char *failed; /* bit (g - g0) * width + (s - s0) */
};

static int memo_failed(const struct glob_memo *m, const char *g, const char *s)
{
	size_t bit = (size_t)(g - m->g0) * m->width + (size_t)(s - m->s0);

	return m->failed[bit / 8] & (1u << (bit % 8));
}

static void memo_fail(struct glob_memo *m, const char *g, const char *s)
{
	size_t bit = (size_t)(g - m->g0) * m->width + (size_t)(s - m->s0);

	m->failed[bit / 8] |= (unsigned char)(1u << (bit % 8));
}

static int glob_here_(struct glob_memo *m, const char *g, const char *s);

/* Match `g` against `s` (both NUL-terminated); '/' only matched by '/' or "**". */
static int glob_here(struct glob_memo *m, const char *g, const char *s)
{
	int ret;

	if (memo_failed(m, g, s))
		return 0;
	if (!(ret = glob_here_(m, g, s)))
		memo_fail(m, g, s);
	return ret;
}

static int glob_here_(struct glob_memo *m, const char *g, const char *s)
{
	for (;;) {
		if (!*g)
			return !*s;
		if (g[0] == '*' && g[1] == '*') {
			const char *rest = g + 2;

			if (*rest == '/') {
				/* "**" and a slash match zero or more whole directories */
				if (glob_here(m, rest + 1, s))
					return 1;
				for (const char *p = s; *p; p++)
					if (*p == '/' && glob_here(m, rest + 1, p + 1))
						return 1;
				return 0;
			}
			for (const char *p = s;; p++) {
				if (glob_here(m, rest, p))
					return 1;
				if (!*p)
					return 0;
			}
		}
		if (*g == '*') {
			for (const char *p = s;; p++) {
				if (glob_here(m, g + 1, p))
					return 1;
				if (!*p || *p == '/')
					return 0;
			}
		}
		if (!*s)
			return 0;
		if (*g == '?') {
			if (*s == '/')
				return 0;
		} else if (*g == '[') {
			const char *close = g[1] ? strchr(g + 2, ']') : NULL; /* a final '[' has nothing after it */
			char cls[128], one[2] = { *s, 0 };

			if (!close || (size_t)(close - g + 1) >= sizeof(cls)) {
				if (*s != '[')
					return 0;
			} else {
				memcpy(cls, g, (size_t)(close - g + 1));
				cls[close - g + 1] = '\0';
				if (*s == '/' || fnmatch(cls, one, 0) != 0)
					return 0;
				g = close;
			}
		} else if (*g == '\\' && g[1]) {
			g++;
			if (*g != *s)
				return 0;
		} else if (*g != *s) {
			return 0;
		}
		g++;
		s++;
	}
}

/* glob_here() over the whole of `g` and `s`, with a fresh memo. */
static int glob_match_whole(const char *g, const char *s)
{
	struct glob_memo m = { g, s, strlen(s) + 1, NULL };
	size_t bits = (strlen(g) + 1) * m.width;
	int ret;

	m.failed = xcalloc(bits / 8 + 1, 1);
	ret = glob_here(&m, g, s);
	free(m.failed);
	return ret;
}

int scan_glob_match(const char *glob, const char *path)
{
	size_t gl;
	int ret;

	while (glob[0] == '.' && glob[1] == '/')
		glob += 2;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (glob[0] == '/')
		glob++;
	gl = strlen(glob);
	if (!gl)
		return 0;
	if (!strchr(glob, '/')) {
		/* base name at any depth, or a directory name anywhere on the path */
		const char *p = path;

		for (;;) {
			const char *slash = strchr(p, '/');
			char *comp = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);

			ret = glob_match_whole(glob, comp);
			free(comp);
			if (ret)
				return 1;
			if (!slash)
				return 0;
			p = slash + 1;
		}
	}
	if (glob[gl - 1] == '/') {
		char *g = xasprintf("%s**", glob);

		ret = glob_match_whole(g, path);
		free(g);
		return ret;
	}
	if (glob_match_whole(glob, path))
		return 1;
	/* a glob naming a directory covers what is below it */
	{
		char *g = xasprintf("%s/**", glob);

		ret = glob_match_whole(g, path);
		free(g);
	}
	return ret;
}
