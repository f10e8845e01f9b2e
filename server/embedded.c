/* Lookup in the table of embedded files generated at build time. */
#include <string.h>

#include "embedded.h"

const struct embedded_file *
embedded_find(const char *name)
{
	for (const struct embedded_file *f = embedded_files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}
