-- vigil store, version 2: refs indexed by target, then by referrer, so that "the VIPs of node
-- lb1" (a filtered list, its count, a node's config) reads only the matching refs, in name order,
-- instead of scanning every object of the kind. It also serves the delete check (who refers to
-- this?), which the old index on (to_kind, to_name) served.
CREATE INDEX refs_by_target ON refs (to_kind, to_name, kind, name);
DROP INDEX refs_to;
