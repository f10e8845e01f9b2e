/* keepalived.conf syntax (see kaconf.h), following keepalived 2.x's reader: a comment starts at
 * '!' or '#' outside double quotes ("\#" and "\!" are the characters themselves); a line starting
 * "@ID " is kept only when ID is this node ("@^ID " only when it is not); '{' and '}' outside
 * quotes end a statement wherever they are, so a block may open on the keyword's line or the
 * next and may close on the same line; a word in double quotes may hold spaces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "kaconf.h"

#define KA_MAX_DEPTH 16
#define KA_MAX_WORDS 256

/* An arena: chunks freed together. */
struct ka_mem {
	struct ka_mem *next;
	size_t used, cap;
	char data[];
};

static void *
mem_alloc(struct ka_conf *c, size_t n)
{
	struct ka_mem *m = c->mem;

	n = (n + 15) & ~(size_t)15;
	if (m == NULL || m->cap - m->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		if ((m = malloc(sizeof(*m) + cap)) == NULL)
			return NULL;
		m->next = c->mem, m->used = 0, m->cap = cap;
		c->mem = m;
	}
	m->used += n;
	return m->data + m->used - n;
}

void
ka_free(struct ka_conf *c)
{
	while (c->mem != NULL) {
		struct ka_mem *next = c->mem->next;
		free(c->mem);
		c->mem = next;
	}
	c->first = NULL;
}

static int
fail(struct ka_error *e, int line, const char *what)
{
	e->line = line;
	snprintf(e->what, sizeof(e->what), "%s", what);
	return -1;
}

/*
 * Removes the comment, leading and trailing blanks from the NUL-terminated s, in place, and the
 * escaping of comment characters outside quotes. Returns 0, or -1 for an unterminated quote. (A
 * trailing '\' continues only keepalived's multi-line $definitions, which are refused: here it is
 * a character like any other.)
 */
static int
decomment(char *s)
{
	char *w = s, *r = s + strspn(s, " \t");
	bool quote = false;

	for (; *r; r++) {
		if (*r == '"') {
			quote = !quote;
		} else if (*r == '\\' && r[1] != '\0') {
			if (!quote && (r[1] == '#' || r[1] == '!')) {
				*w++ = *++r;
				continue;
			}
			*w++ = *r++; /* the escaped character goes with it */
		} else if (!quote && (*r == '!' || *r == '#')) {
			break;
		}
		*w++ = *r;
	}
	while (w > s && (w[-1] == ' ' || w[-1] == '\t'))
		w--;
	*w = '\0';
	return quote ? -1 : 0;
}

/* The reader's state: the open blocks, innermost last. */
struct reader {
	struct ka_conf *c;
	struct ka_error *e;
	struct ka_stmt **tail[KA_MAX_DEPTH + 1]; /* where the next statement of each level goes */
	struct ka_stmt *owner[KA_MAX_DEPTH + 1]; /* the statement whose block each level is */
	int depth;
	struct ka_stmt *last; /* the statement a '{' now would open, NULL after a brace */
};

/* Splits s[0..n) into words (blank-separated; a double-quoted word without its quotes) and adds
 * them as a statement at the current level. */
static int
add_statement(struct reader *rd, const char *s, size_t n, int line)
{
	const char *w[KA_MAX_WORDS];
	size_t wl[KA_MAX_WORDS];
	int argc = 0;
	struct ka_stmt *st;

	for (size_t i = 0; i < n;) {
		size_t j;
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\f' || s[i] == '\v') {
			i++;
			continue;
		}
		if (argc == KA_MAX_WORDS)
			return fail(rd->e, line, "more than 256 words on one line");
		if (s[i] == '"') {
			for (j = i + 1; j < n && s[j] != '"'; j++)
				;
			w[argc] = s + i + 1, wl[argc++] = j - i - 1;
			i = j + 1;
			continue;
		}
		for (j = i; j < n && s[j] != ' ' && s[j] != '\t' && s[j] != '\f' && s[j] != '\v' &&
			    s[j] != '"';
		     j++)
			;
		w[argc] = s + i, wl[argc++] = j - i;
		i = j;
	}
	if (argc == 0)
		return 0;
	if ((st = mem_alloc(rd->c, sizeof(*st))) == NULL ||
	    (st->argv = mem_alloc(rd->c, sizeof(char *) * (size_t)argc)) == NULL)
		return fail(rd->e, line, "out of memory");
	st->line = line, st->argc = argc, st->has_block = false, st->block_line = 0;
	st->sub = st->next = NULL;
	for (int k = 0; k < argc; k++) {
		if ((st->argv[k] = mem_alloc(rd->c, wl[k] + 1)) == NULL)
			return fail(rd->e, line, "out of memory");
		memcpy(st->argv[k], w[k], wl[k]);
		st->argv[k][wl[k]] = '\0';
	}
	*rd->tail[rd->depth] = st;
	rd->tail[rd->depth] = &st->next;
	rd->last = st;
	return 0;
}

static int
open_block(struct reader *rd, int line)
{
	char what[160];

	if (rd->last == NULL)
		return fail(rd->e, line, "'{' with no keyword before it");
	if (rd->depth == KA_MAX_DEPTH) {
		snprintf(what, sizeof(what), "blocks nested deeper than %d", KA_MAX_DEPTH);
		return fail(rd->e, line, what);
	}
	rd->last->has_block = true;
	rd->last->block_line = line;
	rd->depth++;
	rd->owner[rd->depth] = rd->last;
	rd->tail[rd->depth] = &rd->last->sub;
	rd->last = NULL;
	return 0;
}

static int
close_block(struct reader *rd, int line)
{
	if (rd->depth == 0)
		return fail(rd->e, line, "'}' with no open block");
	rd->depth--;
	rd->last = NULL;
	return 0;
}

/* One logical line (decommented, '@' prefix handled): statements and braces. */
static int
read_logical(struct reader *rd, char *s, int line)
{
	size_t start = 0, i = 0;
	bool quote = false;

	if (s[0] == '$')
		return fail(rd->e, line, "parameter definitions ($NAME=...) are not supported");
	if (strncmp(s, "~SEQ", 4) == 0 || strncmp(s, "~LST", 4) == 0)
		return fail(rd->e, line, "~SEQ and ~LST are not supported");
	if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t' || s[7] == '\0'))
		return fail(rd->e, line,
			    "include cannot be followed from a request body: import each file");
	for (;; i++) {
		if (s[i] == '"') {
			quote = !quote;
			continue;
		}
		if (s[i] != '\0' && (quote || (s[i] != '{' && s[i] != '}')))
			continue;
		if (add_statement(rd, s + start, i - start, line) != 0)
			return -1;
		if (s[i] == '\0')
			return 0;
		if ((s[i] == '{' ? open_block(rd, line) : close_block(rd, line)) != 0)
			return -1;
		start = i + 1;
	}
}

/* Applies the "@ID " / "@^ID " prefix: returns the rest of the line, or NULL to drop it. */
static char *
for_this_node(char *s, const char *node, struct ka_conf *c)
{
	bool negate = s[1] == '^';
	char *id = s + 1 + negate, *sp = id + strcspn(id, " \t");
	bool match;

	if (*sp == '\0')
		return NULL; /* nothing after the id: keepalived drops it too */
	match = node != NULL && (size_t)(sp - id) == strlen(node) &&
		strncmp(id, node, (size_t)(sp - id)) == 0;
	if (match == negate) {
		c->other_node++;
		return NULL;
	}
	return sp + strspn(sp, " \t");
}

int
ka_parse(const char *text, size_t len, const char *node, struct ka_conf *c, struct ka_error *e)
{
	struct reader rd = {.c = c, .e = e};
	char *buf = malloc(len + 1), *logical;
	size_t ok;
	int line = 0, rc = -1;
	const char *p = text, *end = text + len;

	memset(c, 0, sizeof(*c));
	memset(e, 0, sizeof(*e));
	rd.tail[0] = &c->first;
	if (buf == NULL)
		return fail(e, 0, "out of memory");
	if ((ok = http_utf8_prefix(text, len)) != len || memchr(text, '\0', len) != NULL) {
		const char *bad = memchr(text, '\0', len);
		if (bad == NULL || (size_t)(bad - text) > ok)
			bad = text + ok;
		line = 1;
		for (const char *q = text; q < bad; q++)
			line += *q == '\n';
		fail(e, line, bad < end && *bad == '\0' ? "a NUL byte" : "invalid UTF-8");
		goto out;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = nl ? nl + 1 : end;
		if (decomment(buf) < 0) {
			fail(e, line, "a quote is not closed on its line");
			goto out;
		}
		logical = buf;
		if (logical[0] == '@' && (logical = for_this_node(logical, node, c)) == NULL)
			continue;
		if (logical[0] != '\0' && read_logical(&rd, logical, line) != 0)
			goto out;
	}
	if (rd.depth > 0) {
		char what[160];
		snprintf(what, sizeof(what), "the block of %.64s opened at line %d is not closed",
			 rd.owner[rd.depth]->argv[0], rd.owner[rd.depth]->block_line);
		fail(e, line, what);
		goto out;
	}
	c->lines = line;
	rc = 0;
out:
	free(buf);
	if (rc != 0)
		ka_free(c);
	return rc;
}
