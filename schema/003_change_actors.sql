-- vigil store, version 3: who caused each change. Every change records the actor of its write
-- transaction: a token (type 'token': its id, role, description as they were then, and for an
-- agent token its node), or vigild itself (type 'system': id names the part, such as
-- 'liveness-sweep' or 'bootstrap'). Changes stored before this version have no actor (NULL).
-- Indexed for /events?actor=: by token or system actor, and by the node of agent tokens.
ALTER TABLE changes ADD COLUMN actor_type TEXT CHECK (actor_type IN ('token', 'system'));
ALTER TABLE changes ADD COLUMN actor_id TEXT;
ALTER TABLE changes ADD COLUMN actor_role TEXT;
ALTER TABLE changes ADD COLUMN actor_node TEXT;
ALTER TABLE changes ADD COLUMN actor_description TEXT;
CREATE INDEX changes_by_actor ON changes (actor_type, actor_id, rev);
CREATE INDEX changes_by_actor_node ON changes (actor_node, rev) WHERE actor_node IS NOT NULL;
