/* Files compiled into the binary by scripts/embed.sh: migrations, the OpenAPI spec, docs.
 * The table ends with a NULL name; every data array is NUL-terminated (not counted in len). */
#ifndef VIGIL_EMBEDDED_H
#define VIGIL_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const unsigned char *data;
	size_t len;
};

extern const struct embedded_file embedded_files[];

/* Returns the embedded file with this path (as given to embed.sh), or NULL. */
const struct embedded_file *embedded_find(const char *name);

#endif
