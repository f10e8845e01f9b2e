/* The agent's state directory (state_dir.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_dir.h"

int
state_dir_open(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
state_save(const char *dir, const char *name, const char *data, char *err, size_t errlen)
{
	char path[1024], tmp[1040];
	size_t len = strlen(data);
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "cannot save %s: %s", path, strerror(errno));
		return -1;
	}
	ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot save %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
state_save_json(const char *dir, const char *name, const json_t *j, char *err, size_t errlen)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rc;

	if (s == NULL) {
		snprintf(err, errlen, "cannot save %s/%s: out of memory", dir, name);
		return -1;
	}
	rc = state_save(dir, name, s, err, errlen);
	free(s);
	return rc;
}

json_t *
state_load(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return json_load_file(path, 0, NULL);
}
