// links: server/kaconf.c server/http.c server/validate.c
/* Fuzzes the keepalived.conf reader (server/kaconf.c). Input: a file's bytes; the config id is
 * "lb1". Oracles: a file that reads gives statements of at least one word, valid UTF-8 without
 * NUL, blocks at most 16 deep, and line numbers within the file that never go back in document
 * order; a refused file names a line within it and leaves nothing behind (ASan's leak check). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http.h"
#include "kaconf.h"

static void
walk(const struct ka_stmt *s, int depth, int lines, int *last_line)
{
	CHECK(depth <= 16);
	for (; s != NULL; s = s->next) {
		CHECK(s->argc >= 1 && s->argv != NULL);
		CHECK(s->line >= *last_line && s->line >= 1 && s->line <= lines);
		*last_line = s->line;
		for (int i = 0; i < s->argc; i++)
			CHECK(http_utf8_prefix(s->argv[i], strlen(s->argv[i])) ==
			      strlen(s->argv[i]));
		CHECK(s->has_block || s->sub == NULL);
		if (s->has_block) {
			CHECK(s->block_line >= s->line);
			walk(s->sub, depth + 1, lines, last_line);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ka_conf c;
	struct ka_error e;
	int lines = 1, last = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (ka_parse((const char *)data, size, "lb1", &c, &e) == 0) {
		CHECK(c.lines <= lines);
		walk(c.first, 0, c.lines, &last);
		ka_free(&c);
	} else {
		CHECK(c.first == NULL && c.mem == NULL);
		CHECK(e.line >= 0 && e.line <= lines && e.what[0] != '\0');
	}
	return 0;
}
