-- vigil store, version 4: a VIP (one VRRP instance) carries a list of addresses and the instance
-- settings keepalived fleets use (issue 10). Stored VIPs move from "address" to "addresses" and
-- get every new field's default, so that what GET shows and the node config carry is complete.
UPDATE objects
SET spec = json_insert(
	json_remove(json_set(spec, '$.addresses', json_array(json_extract(spec, '$.address'))),
		    '$.address'),
	'$.excluded_addresses', json_array(),
	'$.unicast', json('false'),
	'$.peers', json_array(),
	'$.group', json('null'),
	'$.track_interfaces', json_array(),
	'$.notify', json('null'),
	'$.garp_repeat', 5,
	'$.garp_delay_s', 5,
	'$.garp_refresh_s', 0,
	'$.vmac', json('false'))
WHERE kind = 'vip' AND json_type(spec, '$.address') = 'text';

-- Tags: what an object is listed under that is not an object of its own (a VIP's sync group),
-- so refs, whose targets must exist, cannot hold it. Keyed by tag first: "the VIPs of group web"
-- reads only its matches, in name order, as refs_by_target does for refs. No VIP has a group yet.
CREATE TABLE tags (
	tag_kind TEXT NOT NULL,
	tag TEXT NOT NULL,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (tag_kind, tag, kind, name),
	FOREIGN KEY (kind, name) REFERENCES objects (kind, name) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX tags_of ON tags (kind, name);
