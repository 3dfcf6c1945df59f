--
-- The facecompare.* settings: defaults, where calls go, validation, who may
-- set what.
--
-- Defaults, units and who may set each (the secrets are not listed at all).
SELECT name, boot_val, unit, context, vartype
FROM pg_settings WHERE name LIKE 'facecompare.%' ORDER BY name;

-- Where calls go: the region's public host, or its -vpc host.
CREATE FUNCTION fctest.url_for(region text, vpc boolean) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('facecompare.region', region, true);
	PERFORM set_config('facecompare.use_internal_endpoint', vpc::text, true);
	RETURN facecompare.service_url();
END $$;
SET facecompare.endpoint = '';
SELECT region, vpc, fctest.url_for(region, vpc) AS url
FROM unnest(ARRAY['ap-southeast-1', 'ap-southeast-5', 'ap-southeast-3', 'cn-hongkong']) AS region,
	 unnest(ARRAY[false, true]) AS vpc
ORDER BY 1, 2;
-- The region must be one the API serves.
SET facecompare.region = 'us-east-1';

-- facecompare.endpoint overrides the region: a base URL, trailing slash optional.
SET facecompare.endpoint = 'https://cloudauth-intl.ap-southeast-1.aliyuncs.com/';
SELECT facecompare.service_url();
SET facecompare.endpoint = 'http://127.0.0.1:8089';
SELECT facecompare.service_url();
-- ... and must be an http(s) URL with a host and nothing after it.
SET facecompare.endpoint = 'ftp://127.0.0.1:8089';
SET facecompare.endpoint = 'http://';
SET facecompare.endpoint = 'https://example.com/v1/';
SET facecompare.endpoint = 'https://example.com?x=1';
SET facecompare.endpoint = 'https://user@example.com';
RESET facecompare.endpoint;
RESET facecompare.region;

-- Timeouts are milliseconds and take units.
SET facecompare.timeout = '2s';
SHOW facecompare.timeout;
SET facecompare.connect_timeout = 750;
SHOW facecompare.connect_timeout;
SET facecompare.timeout = 0;
RESET facecompare.timeout;
RESET facecompare.connect_timeout;

-- The prefix is reserved: a misspelt setting is an error, not a silent no-op.
SET facecompare.acess_key_id = 'x';

-- Calls are granted through facecompare_user, not to PUBLIC.
CREATE ROLE fc_plain;
SET ROLE fc_plain;
SELECT facecompare.service_url();
RESET ROLE;
SELECT has_function_privilege('public', 'facecompare.compare(bytea, bytea, text)', 'EXECUTE') AS public_may_call,
	   has_function_privilege('facecompare_user', 'facecompare.compare(bytea, bytea, text)', 'EXECUTE') AS facecompare_user_may_call;
GRANT facecompare_user TO fc_plain;

-- A plain role may tune its timeouts, but not change where signed requests go
-- or with which key.
SET ROLE fc_plain;
SET facecompare.timeout = '3s';
SHOW facecompare.timeout;
SET facecompare.endpoint = 'http://attacker.example';
SET facecompare.region = 'cn-hongkong';
SET facecompare.use_internal_endpoint = on;
SET facecompare.access_key_id = 'mine';
SET facecompare.access_key_secret = 'mine';
SET facecompare.security_token = 'mine';
SET facecompare.ca_file = '/tmp/my-ca.pem';
SELECT set_config('facecompare.endpoint', 'http://attacker.example', false);
SELECT facecompare.service_url() = (SELECT emulator FROM fctest.config) AS still_the_emulator;
RESET ROLE;
DROP ROLE fc_plain;
