-- vigil store, version 1: a revisioned document store. Every object is (kind, name) -> spec and
-- status JSON; refs and uniques carry the cross-object rules; changes is the /events feed.
CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('revision', 0), ('events_floor', 0);

CREATE TABLE objects (
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	spec TEXT NOT NULL,
	status TEXT,
	create_rev INTEGER NOT NULL,
	mod_rev INTEGER NOT NULL,
	modified_ms INTEGER NOT NULL,
	PRIMARY KEY (kind, name)
) WITHOUT ROWID;

-- An object's references: the target cannot be deleted while referenced.
CREATE TABLE refs (
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	to_kind TEXT NOT NULL,
	to_name TEXT NOT NULL,
	PRIMARY KEY (kind, name, to_kind, to_name),
	FOREIGN KEY (kind, name) REFERENCES objects (kind, name) ON DELETE CASCADE,
	FOREIGN KEY (to_kind, to_name) REFERENCES objects (kind, name) ON DELETE RESTRICT
) WITHOUT ROWID;
CREATE INDEX refs_to ON refs (to_kind, to_name);

-- Keys at most one object may hold at a time (e.g. a vrid on an interface).
CREATE TABLE uniques (
	key TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	FOREIGN KEY (kind, name) REFERENCES objects (kind, name) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX uniques_owner ON uniques (kind, name);

CREATE TABLE changes (
	rev INTEGER PRIMARY KEY,
	op TEXT NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	ts_ms INTEGER NOT NULL
);

CREATE TABLE kinds (
	kind TEXT PRIMARY KEY,
	modified_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- API tokens: only the SHA-256 of the secret is kept. prefix (its first 8 bytes) is the index.
CREATE TABLE tokens (
	id TEXT PRIMARY KEY,
	prefix INTEGER NOT NULL,
	digest BLOB NOT NULL UNIQUE,
	role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'agent')),
	node_kind TEXT CHECK (node_kind IS NULL OR node_kind = 'node'),
	node TEXT,
	description TEXT NOT NULL DEFAULT '',
	created_ms INTEGER NOT NULL,
	CHECK ((role = 'agent') = (node IS NOT NULL)),
	FOREIGN KEY (node_kind, node) REFERENCES objects (kind, name) ON DELETE CASCADE
);
CREATE INDEX tokens_prefix ON tokens (prefix);
