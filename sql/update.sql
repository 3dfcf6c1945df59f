--
-- Rule: ALTER EXTENSION facecompare UPDATE from every earlier version gives
-- what a fresh CREATE EXTENSION gives: the same objects, and the same
-- definitions where pg_describe_object() is too coarse (function signatures,
-- bodies, settings and security; view queries; columns, defaults,
-- constraints, indexes, triggers, policies; enum labels; grants; comments;
-- configuration tables).  Generic: it reads the versions, the current one
-- included, from pg_available_extension_versions.  Runs last: it drops the
-- extension.
--
SET client_min_messages = warning;
DROP EXTENSION facecompare CASCADE;
CREATE EXTENSION facecompare;
RESET client_min_messages;

-- One line per fact about the installed extension's objects.
CREATE FUNCTION pg_temp.fc_objects() RETURNS SETOF text LANGUAGE sql AS $$
WITH m AS (
	SELECT classid, objid, objsubid FROM pg_depend
	WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'facecompare')),
rel AS (
	SELECT c.oid FROM m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
	UNION
	SELECT t.typrelid FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
	WHERE t.typrelid <> 0)
SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM m
UNION ALL
SELECT format('function %s acl %s comment %s', pg_get_functiondef(p.oid), p.proacl,
			  obj_description(p.oid, 'pg_proc'))
FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
WHERE p.prokind IN ('f', 'p')
UNION ALL
SELECT format('schema %s acl %s comment %s', n.nspname, n.nspacl, obj_description(n.oid, 'pg_namespace'))
FROM m JOIN pg_namespace n ON m.classid = 'pg_namespace'::regclass AND n.oid = m.objid
UNION ALL
SELECT format('type %s labels %s comment %s', t.oid::regtype,
			  (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
			  obj_description(t.oid, 'pg_type'))
FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
UNION ALL
SELECT format('relation %s kind %s options %s rls %s force %s acl %s comment %s view %s',
			  c.oid::regclass, c.relkind, c.reloptions, c.relrowsecurity, c.relforcerowsecurity,
			  c.relacl, obj_description(c.oid, 'pg_class'),
			  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END)
FROM rel JOIN pg_class c ON c.oid = rel.oid
UNION ALL
SELECT format('column %s #%s %s %s not null %s default %s identity %s generated %s acl %s comment %s',
			  c.oid::regclass, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname,
			  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
			  a.attidentity, a.attgenerated, a.attacl, col_description(c.oid, a.attnum))
FROM rel JOIN pg_class c ON c.oid = rel.oid
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
UNION ALL
SELECT format('constraint %s on %s: %s', co.conname, co.conrelid::regclass, pg_get_constraintdef(co.oid))
FROM rel JOIN pg_constraint co ON co.conrelid = rel.oid
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
FROM rel JOIN pg_index i ON i.indrelid = rel.oid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(tg.oid)
FROM rel JOIN pg_trigger tg ON tg.tgrelid = rel.oid AND NOT tg.tgisinternal
UNION ALL
SELECT format('policy %s on %s %s %s to %s using %s check %s', po.polname, po.polrelid::regclass,
			  po.polpermissive, po.polcmd, po.polroles::regrole[], pg_get_expr(po.polqual, po.polrelid),
			  pg_get_expr(po.polwithcheck, po.polrelid))
FROM rel JOIN pg_policy po ON po.polrelid = rel.oid
UNION ALL
SELECT format('configuration %s where %s', cfg.tab::regclass, cfg.cond)
FROM pg_extension x, unnest(x.extconfig, x.extcondition) AS cfg(tab, cond)
WHERE x.extname = 'facecompare'
$$;

CREATE TEMP TABLE fresh AS SELECT fact FROM pg_temp.fc_objects() AS fact;
SELECT count(*) FILTER (WHERE fact LIKE 'member %') > 20 AS members,
	   count(*) FILTER (WHERE fact LIKE 'function %') > 10 AS functions,
	   count(*) FILTER (WHERE fact LIKE 'column %') > 20 AS columns
FROM fresh;

-- Each earlier version, installed and updated: what differs from fresh.
CREATE FUNCTION pg_temp.fc_update_differences(OUT from_version text, OUT side text, OUT difference text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
	current text := (SELECT default_version FROM pg_available_extensions WHERE name = 'facecompare');
BEGIN
	FOR from_version IN
		SELECT v.version FROM pg_available_extension_versions v
		WHERE v.name = 'facecompare' AND v.version <> current ORDER BY v.version
	LOOP
		DROP EXTENSION facecompare;
		EXECUTE format('CREATE EXTENSION facecompare VERSION %L', from_version);
		ALTER EXTENSION facecompare UPDATE;
		side := 'only in a fresh install';
		RETURN QUERY SELECT from_version, side, f.fact FROM (SELECT fact FROM fresh EXCEPT SELECT pg_temp.fc_objects()) f;
		side := 'only after the update';
		RETURN QUERY SELECT from_version, side, u.fact FROM (SELECT pg_temp.fc_objects() AS fact EXCEPT SELECT fact FROM fresh) u;
	END LOOP;
END
$$;
SET client_min_messages = warning;
SELECT * FROM pg_temp.fc_update_differences() ORDER BY 1, 2, 3;
RESET client_min_messages;

-- The check can fail: one function's definition changed in the snapshot
-- shows as one fact on each side, for each version.
UPDATE fresh SET fact = replace(fact, 'service_url', 'service_url_changed')
WHERE fact LIKE 'function %FUNCTION facecompare.service_url()%';
SET client_min_messages = warning;
SELECT count(*) FILTER (WHERE side = 'only in a fresh install') AS fresh_side,
	   count(*) FILTER (WHERE side = 'only after the update') AS update_side,
	   count(DISTINCT from_version) AS versions
INTO TEMP caught FROM pg_temp.fc_update_differences();
RESET client_min_messages;
SELECT fresh_side = versions AND update_side = versions AND versions >= 3 AS difference_caught FROM caught;

-- The versions it updated from: every earlier one, 0.1.0 to 0.3.0 at least.
SELECT count(*) >= 3 AS versions_checked
FROM pg_available_extension_versions
WHERE name = 'facecompare'
  AND version <> (SELECT default_version FROM pg_available_extensions WHERE name = 'facecompare');
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'facecompare') AS current
FROM pg_extension WHERE extname = 'facecompare';
