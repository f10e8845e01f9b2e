-- vigil store, version 5: the reports of keepalived.conf imports (issue 11), kept so that
-- GET /imports/{id} shows later what an import did, and so that a conflicting import can name the
-- line of the file that made the VIP it clashes with. Reports are immutable once written.
CREATE TABLE imports (
	id INTEGER PRIMARY KEY,
	node TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	report TEXT NOT NULL
);

-- What imports made: a backend or check that node's import created (or that another node's import
-- owns and this one plans too). Re-importing a changed file deletes what only that node owned and
-- its file no longer has; what users made by hand is never owned. An object deleted by hand
-- takes its ownership with it, so a later hand-made one of the same name is the user's.
CREATE TABLE import_owned (
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	node TEXT NOT NULL,
	PRIMARY KEY (kind, name, node),
	FOREIGN KEY (kind, name) REFERENCES objects (kind, name) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX import_owned_by ON import_owned (node);
