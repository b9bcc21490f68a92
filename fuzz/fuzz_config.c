/*
 * Fuzz target: the configuration loader on arbitrary bytes.
 *
 * The first byte picks the layer (the committed .meshpush.ini, where
 * user-only keys and passwords in URLs are refused, or the user's file);
 * the rest is parsed as INI text by config_add_text(), then every read
 * accessor is exercised on what was accepted.
 */
#include "config/config.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void read_back(const struct config *cfg)
{
	struct strlist subs = STRLIST_INIT, all = STRLIST_INIT;

	for (size_t i = 0; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];

		(void)config_get(cfg, e->section, e->sub, e->key);
		(void)config_get_bool(cfg, e->section, e->sub, e->key);
		(void)config_get_int(cfg, e->section, e->sub, e->key);
		config_get_list(&all, cfg, e->section, e->sub, e->key);
		config_get_all(&all, cfg, e->section, e->sub, e->key);
		config_subsections(&subs, cfg, e->section);
	}
	strlist_release(&subs);
	strlist_release(&all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg = CONFIG_INIT;
	enum config_layer layer;
	char *text;

	if (size < 1)
		return 0;
	layer = (data[0] & 1) ? CONFIG_USER : CONFIG_REPO;
	/* An exact-size copy, so that ASan sees any read past the end. */
	text = malloc(size - 1 ? size - 1 : 1);
	memcpy(text, data + 1, size - 1);
	if (config_add_text(&cfg, "fuzz.ini", text, size - 1, layer) == 0)
		(void)mp_error_last();
	read_back(&cfg);
	config_release(&cfg);
	free(text);
	mp_error_clear();
	return 0;
}
