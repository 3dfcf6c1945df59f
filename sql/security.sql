--
-- The AccessKey secret and STS token are never shown: not by SHOW,
-- current_setting() or pg_settings, to anyone, and not in error messages.
--
SET facecompare.security_token = 'sts-token-value';

-- A superuser sees a mask.
SHOW facecompare.access_key_secret;
SELECT current_setting('facecompare.access_key_secret'), current_setting('facecompare.security_token');
-- The key id is not a secret.
SHOW facecompare.access_key_id;
-- pg_settings does not list the secrets at all (its reset_val would show them).
SELECT name FROM pg_settings WHERE name IN ('facecompare.access_key_secret', 'facecompare.security_token');
SELECT count(*) FROM pg_show_all_settings() WHERE setting LIKE '%emulator-key-secret%' OR reset_val LIKE '%emulator-key-secret%';

-- A plain role may not read them at all.
CREATE ROLE fc_reader;
SET ROLE fc_reader;
SHOW facecompare.access_key_secret;
SELECT current_setting('facecompare.security_token');
SELECT current_setting('facecompare.access_key_secret', true);
SELECT count(*) FROM pg_settings WHERE name LIKE 'facecompare.%secret%' OR name LIKE 'facecompare.%token%';
RESET ROLE;

-- A member of pg_read_all_settings sees the mask.
GRANT pg_read_all_settings TO fc_reader;
SET ROLE fc_reader;
SHOW facecompare.access_key_secret;
SHOW facecompare.security_token;
RESET ROLE;
DROP ROLE fc_reader;

-- A rejected signature does not echo the secret or the token.
RESET facecompare.security_token;
SET facecompare.access_key_secret = 'Wrong-Secret-9f8e7d';
SELECT state,
	   concat_ws(' ', message, detail, hint) LIKE '%Wrong-Secret-9f8e7d%' AS secret_in_error
FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.access_key_secret;
SET facecompare.security_token = 'Wrong-Token-1a2b3c';
SELECT state,
	   concat_ws(' ', message, detail, hint) LIKE '%Wrong-Token-1a2b3c%' AS token_in_error
FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.security_token;
-- A failing call's statement, which may hold image bytes, is kept out of the
-- server log.
SELECT facecompare.compare('\xffd8ffe0deadbeefcafe'::bytea, ''::bytea);
-- ... and the server log has no secret, token or image bytes
-- (test/regress/with-emulators finds the log and exports FC_SERVER_LOG).
\getenv server_log FC_SERVER_LOG
SELECT count(*) AS log_lines_with_secrets
FROM regexp_split_to_table(pg_read_file(:'server_log'), E'\n') AS line
WHERE line ~ '(Wrong-Secret-9f8e7d|Wrong-Token-1a2b3c|emulator-key-secret|sts-token-value|deadbeefcafe)';
