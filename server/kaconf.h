/* keepalived.conf, read the way keepalived 2.x reads it, into a tree of statements with their line
 * numbers: the syntax only (comments, quoting, blocks, '@ID' line prefixes).
 * What the keywords mean is the importer's business. */
#ifndef VIGIL_KACONF_H
#define VIGIL_KACONF_H

#include <stdbool.h>
#include <stddef.h>

/* One statement: a keyword with its words, and the block that follows it, if any. */
struct ka_stmt {
	int line;	     /* 1-based line of the keyword */
	int argc;	     /* words, argv[0] the keyword; quoted words without their quotes */
	char **argv;	     /* owned by the ka_conf's arena */
	bool has_block;	     /* a '{' ... '}' followed */
	int block_line;	     /* the line of its '{' */
	struct ka_stmt *sub; /* the block's first statement */
	struct ka_stmt *next;
};

struct ka_conf {
	struct ka_stmt *first;
	int lines;	    /* physical lines read */
	int other_node;	    /* lines dropped because their '@ID' named another node */
	struct ka_mem *mem; /* owned: everything the tree points into */
};

/* Where and why a file could not be read. */
struct ka_error {
	int line; /* 0: the file as a whole */
	char what[160];
};

/*
 * Reads text[0..len) into c. node is keepalived's config id (`-i`), matched against '@ID' and
 * '@^ID' line prefixes; NULL matches none. Returns 0, or -1 with e filled and c empty: a NUL byte
 * or invalid UTF-8, an unterminated quote, an unbalanced '{' or '}', a '{' with no keyword, and
 * what a request body cannot carry (include, $definitions, ~SEQ and ~LST). CR LF and a missing
 * final newline are fine.
 */
int ka_parse(const char *text, size_t len, const char *node, struct ka_conf *c, struct ka_error *e);
void ka_free(struct ka_conf *c);

#endif
