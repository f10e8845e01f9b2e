-- vigil store, version 5: the reports of keepalived.conf imports (issue 11), kept so that
-- GET /imports/{id} shows later what an import did, and so that a conflicting import can name the
-- line of the file that made the VIP it clashes with. Reports are immutable once written.
CREATE TABLE imports (
	id INTEGER PRIMARY KEY,
	node TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	report TEXT NOT NULL
);
