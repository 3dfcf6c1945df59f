--
-- Rules checked before any network traffic, each with SQLSTATE 22023.
-- The endpoint points at a closed port: a call that got past the checks
-- would fail to connect (08001) instead, so every 22023 below proves that
-- nothing was sent.
--
SET facecompare.endpoint = 'http://127.0.0.1:9';
SET facecompare.max_retries = 0;
\x on

-- An image must not be empty.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(''::bytea, fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), ''::bytea)$$);

-- An image must be JPEG or PNG by its magic bytes.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('not-an-image.txt'), fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), convert_to('GIF89a....', 'UTF8'))$$);
-- ... and base64 text of a JPEG is recognised and explained.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(convert_to(encode(fctest.img('person-a.jpg'), 'base64'), 'UTF8'), fctest.img('person-a.jpg'))$$);

-- The encoded picture must fit the service's 1 MB (1048576 bytes of base64):
-- 786432 bytes encode to exactly that and are sent (so the connection fails),
-- one byte more is refused.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('\xffd8ff'::bytea || convert_to(repeat('x', 786429), 'UTF8'), fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), '\xffd8ff'::bytea || convert_to(repeat('x', 786430), 'UTF8'))$$);

-- A URL must be http or https, and not empty or with control characters.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('ftp://example.com/a.jpg'::text, fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), 'file:///etc/passwd'::text)$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(''::text, 'https://example.com/a.jpg'::text)$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('https://example.com/a.jpg', E'https://example.com/\nb.jpg')$$);
-- ... an untyped literal is a URL, and bytea text passed that way is explained.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('\xffd8ff00', 'https://example.com/a.jpg')$$);
-- ... scheme letters may be upper case, as in any URL.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('HTTPS://example.com/a.jpg', fctest.img('person-a.jpg'))$$);

-- Each side needs exactly one form: a NULL image is neither.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(NULL::bytea, fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), NULL::text)$$);

-- merchant_biz_id: 1 to 32 ASCII letters or digits.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), '')$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), repeat('a', 33))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'order-42')$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'caf' || chr(233))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'ab c')$$);
-- ... 32 is allowed (and so the call goes out).
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), repeat('Z9', 16))$$);

-- One order of checks for compare(), compare_many() and enqueue(): a missing
-- image, then each image's rules, then merchant_biz_id.  So one bad input
-- gets one error from each (compare() used to name the id first).
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('\x00'::bytea, fctest.img('person-a.jpg'), 'bad id!')$$);
SELECT error_sqlstate, error_message FROM facecompare.compare_many(ARRAY['\x00'::bytea], ARRAY[fctest.img('person-a.jpg')], ARRAY['bad id!']);
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue('\x00'::bytea, fctest.img('person-a.jpg'), 'bad id!')$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.compare('\x00'::bytea, NULL::bytea, 'bad id!')$$);
SELECT error_sqlstate, error_message FROM facecompare.compare_many(ARRAY['\x00'::bytea], ARRAY[NULL::bytea], ARRAY['bad id!']);

\x off
RESET facecompare.endpoint;
RESET facecompare.max_retries;
