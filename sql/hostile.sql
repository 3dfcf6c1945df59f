--
-- Odd and hostile input: each gets a clear answer, never a crash, a hang or
-- a request signed wrongly.
--
\x on
SET facecompare.max_retries = 0;

-- bytea of 0, 1 and 100 MB: refused before any traffic, without copying the
-- 100 MB (the base64 size is computed, not produced).
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(''::bytea, fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('\xff'::bytea, fctest.img('person-a.jpg'))$$);
SELECT state, message
FROM fctest.outcome($$SELECT facecompare.compare('\xffd8ff'::bytea || convert_to(repeat('x', 100 * 1024 * 1024), 'UTF8'), fctest.img('person-a.jpg'))$$);

-- A magic number followed by garbage passes our check and is refused by
-- the service as unreadable.
SELECT state, message
FROM fctest.outcome($$SELECT facecompare.compare('\xffd8ffe000104a464946'::bytea, fctest.img('person-a.jpg'))$$);

-- MerchantBizIds that could break a query string or a log line.
SELECT left(id, 12) AS id, o.state, o.detail
FROM unnest(ARRAY['a&b=c', 'a%20b', E'a\nb', 'a b', '../etc', repeat('9', 1000), '', '中文']) AS id,
	 LATERAL fctest.outcome(format($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), %L)$$, id)) AS o;

-- Non-ASCII and reserved characters in a URL are percent-encoded and signed
-- correctly: the service accepts the signature and reports the missing file.
SELECT state, regexp_replace(message, '127\.0\.0\.1:[0-9]+', '127.0.0.1:PORT', 'g') AS message
FROM fctest.outcome(format($$SELECT facecompare.compare(%L::text, fctest.img('person-a.jpg'))$$,
						   (SELECT emulator FROM fctest.config) || '/static/p' || chr(233) || 'rson a&b=c+d%2F.jpg'));
-- An 8 kB URL, near the longest taken, travels and is answered the same way.
SELECT state, left(message, 80) AS message
FROM fctest.outcome(format($$SELECT facecompare.compare(%L::text, fctest.img('person-a.jpg'))$$,
						   (SELECT emulator FROM fctest.config) || '/static/' || repeat('a', 8100) || '.jpg'));
-- A 200 kB URL is refused before it is sent (and before it is queued).
SELECT state, regexp_replace(message, '127\.0\.0\.1:[0-9]+', '127.0.0.1:PORT', 'g') AS message
FROM fctest.outcome(format($$SELECT facecompare.compare(%L::text, fctest.img('person-a.jpg'))$$,
						   'http://example.com/' || repeat('a', 200000) || '.jpg'));
RESET facecompare.max_retries;
\x off
