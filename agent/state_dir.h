/* The agent's state directory (--state-dir): small JSON files it reads at start-up so that VRRP
 * runs without vigild (config.json, the last config received) and a move is never carried out
 * twice (moves.json, the moves done). Each file is replaced atomically. */
#ifndef VIGIL_STATE_DIR_H
#define VIGIL_STATE_DIR_H

#include <jansson.h>
#include <stddef.h>

/* Creates dir (mode 0700) unless it exists. Returns 0 or -1 with the reason in err. */
int state_dir_open(const char *dir, char *err, size_t errlen);

/* Writes data to dir/name: a temporary file, fsync, rename. Returns 0 or -1 (reason in err). */
int state_save(const char *dir, const char *name, const char *data, char *err, size_t errlen);

/* Writes j compactly to dir/name as state_save() does. */
int state_save_json(const char *dir, const char *name, const json_t *j, char *err, size_t errlen);

/* The JSON of dir/name (a new reference), or NULL when it is missing or unreadable. */
json_t *state_load(const char *dir, const char *name);

#endif
