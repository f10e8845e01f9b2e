// links: server/kaconf.c server/http.c server/validate.c
/* keepalived.conf syntax (server/kaconf.c): comments, quoting, blocks opened on the next line or
 * closed on the same one, '@ID' prefixes, a trailing backslash, CR LF, and every refusal with its
 * line; and every file of ../shared/keepalived-corpus read as keepalived reads it. */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kaconf.h"

/* Renders the tree as "line:word word {...}" lines, for comparing with what a test expects. */
static void
render(const struct ka_stmt *s, char *out, size_t len, size_t *o)
{
	for (; s != NULL; s = s->next) {
		*o += (size_t)snprintf(out + *o, *o < len ? len - *o : 0, "%d:", s->line);
		for (int i = 0; i < s->argc; i++)
			*o += (size_t)snprintf(out + *o, *o < len ? len - *o : 0, "%s%s",
					       i ? " " : "", s->argv[i]);
		if (s->has_block) {
			*o += (size_t)snprintf(out + *o, *o < len ? len - *o : 0, "{");
			render(s->sub, out, len, o);
			*o += (size_t)snprintf(out + *o, *o < len ? len - *o : 0, "}");
		}
		*o += (size_t)snprintf(out + *o, *o < len ? len - *o : 0, ";");
	}
}

static void
expect_tree(const char *text, const char *node, const char *want)
{
	struct ka_conf c;
	struct ka_error e;
	char got[4096];
	size_t o = 0;

	if (ka_parse(text, strlen(text), node, &c, &e) != 0)
		fail_msg("refused at line %d: %s\n%s", e.line, e.what, text);
	got[0] = '\0';
	render(c.first, got, sizeof(got), &o);
	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s\nfrom\n%s", got, want, text);
	ka_free(&c);
}

static void
expect_error(const char *text, size_t len, int line, const char *what)
{
	struct ka_conf c;
	struct ka_error e;

	if (ka_parse(text, len, "lb1", &c, &e) == 0)
		fail_msg("accepted:\n%s", text);
	if (e.line != line || strstr(e.what, what) == NULL)
		fail_msg("line %d \"%s\", want line %d with \"%s\"", e.line, e.what, line, what);
	assert_null(c.first);
}

static void
test_blocks_and_comments(void **state)
{
	(void)state;
	expect_tree("! Configuration File for keepalived\n"
		    "global_defs {\n"
		    "   router_id LVS_DEVEL   # inline\n"
		    "   notification_email {\n   }\n"
		    "}\n"
		    "vrrp_script chk\n"
		    "{\n"
		    "    script \"/usr/bin/killall -0 haproxy # not a comment\"  # a comment\n"
		    "    weight -20\n"
		    "}\n"
		    "vrrp_instance VI_1 { # after the brace\n"
		    "\tvirtual_ipaddress { 10.0.0.1/24 10.0.0.2 }\n"
		    "\ttrack_script {chk}\n"
		    "}",
		    NULL,
		    "2:global_defs{3:router_id LVS_DEVEL;4:notification_email{};};"
		    "7:vrrp_script chk{9:script /usr/bin/killall -0 haproxy # not a comment;"
		    "10:weight -20;};"
		    "12:vrrp_instance VI_1{13:virtual_ipaddress{13:10.0.0.1/24 10.0.0.2;};"
		    "14:track_script{14:chk;};};");
}

static void
test_line_endings_and_escapes(void **state)
{
	(void)state;
	expect_tree("vrrp_instance a {\r\n  priority 100\r\n}\r\n", NULL,
		    "1:vrrp_instance a{2:priority 100;};");
	expect_tree("a {\n b \\#1 c\\!2 \"d e\"f\n}", NULL, "1:a{2:b #1 c!2 d e f;};");
	/* a trailing backslash continues nothing (only $definitions, refused): it is a word */
	expect_tree("notify \"/x.sh\"MASTER \\\nnext 1\n", NULL,
		    "1:notify /x.sh MASTER \\;2:next 1;");
	expect_tree("  # only comments\n\n\t! here\n   \n", NULL, "");
	expect_tree("x 1 # \xe4\xb8\xbb\xe4\xbb\x8e\n", NULL, "1:x 1;");
}

static void
test_config_id_prefixes(void **state)
{
	const char *text = "vrrp_instance v {\n"
			   "@lb1 priority 101\n"
			   "@lb2 priority 100\n"
			   "@^lb1 state BACKUP\n"
			   "@lb1\n"
			   "}\n";

	(void)state;
	expect_tree(text, "lb1", "1:vrrp_instance v{2:priority 101;};");
	expect_tree(text, "lb2", "1:vrrp_instance v{3:priority 100;4:state BACKUP;};");
	expect_tree(text, NULL, "1:vrrp_instance v{4:state BACKUP;};");
}

static void
test_refusals(void **state)
{
	static const char nul[] = "a {\n b\0 c\n}\n";

	(void)state;
	expect_error("a {\n}\n}\n", 8, 3, "'}' with no open block");
	expect_error("a {\n b {\n}\n", 10, 3, "block of a opened at line 1 is not closed");
	expect_error("{\n}\n", 4, 1, "'{' with no keyword");
	expect_error("a {\n}\n{\n}\n", 10, 3, "'{' with no keyword");
	expect_error("include /etc/keepalived/conf.d/*.conf\n", 38, 1, "include");
	expect_error("x 1\n$IF=eth0\n", 12, 2, "$NAME");
	expect_error("x \"open\n", 8, 1, "quote");
	expect_error(nul, sizeof(nul) - 1, 2, "NUL");
	expect_error("a 1\nb \xff\n", 7, 2, "UTF-8");
	expect_error("a 1\nb \xc3\n", 7, 2, "UTF-8");
}

static void
test_nesting_bound(void **state)
{
	char deep[200] = "";

	(void)state;
	for (int i = 0; i < 17; i++)
		strcat(deep, "a {");
	expect_error(deep, strlen(deep), 1, "deeper than 16");
}

/* Every real file reads, but 20 (an include) and none of them needs the node to read. */
static void
test_the_corpus(void **state)
{
	const char *dir = getenv("KEEPALIVED_CORPUS");
	struct dirent *d;
	DIR *dh;
	int files = 0;

	(void)state;
	if (dir == NULL)
		dir = "../shared/keepalived-corpus";
	if ((dh = opendir(dir)) == NULL)
		fail_msg("cannot open the corpus at %s (set KEEPALIVED_CORPUS)", dir);
	while ((d = readdir(dh)) != NULL) {
		char path[512];
		static char text[1 << 20];
		struct ka_conf c;
		struct ka_error e;
		size_t n;
		FILE *f;
		int rc;

		if (strstr(d->d_name, ".conf") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		assert_non_null(f = fopen(path, "rb"));
		n = fread(text, 1, sizeof(text), f);
		fclose(f);
		rc = ka_parse(text, n, "lb1", &c, &e);
		if (strncmp(d->d_name, "20-", 3) == 0) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(e.what, "include"));
		} else if (rc != 0) {
			fail_msg("%s: line %d: %s", d->d_name, e.line, e.what);
		} else {
			assert_non_null(c.first);
			assert_true(c.lines > 5);
		}
		ka_free(&c);
		files++;
	}
	closedir(dh);
	assert_int_equal(files, 40);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocks_and_comments),
	    cmocka_unit_test(test_line_endings_and_escapes),
	    cmocka_unit_test(test_config_id_prefixes),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_nesting_bound),
	    cmocka_unit_test(test_the_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
