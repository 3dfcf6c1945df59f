--
-- Photo preparation (issue 13): facecompare.prepare_images, the header rules
-- checked before any network traffic, prepare_image() and image_info().
-- The fixtures are test/fixtures/photos (make-photo-fixtures.py).
--
\getenv fixtures FC_FIXTURES
CREATE TABLE fctest.photo (name text PRIMARY KEY, image bytea NOT NULL);
INSERT INTO fctest.photo
SELECT name, pg_read_binary_file(:'fixtures' || '/photos/' || name)
FROM unnest(ARRAY['baseline.jpg', 'bomb-30000.jpg', 'bomb-30000.png', 'cmyk-adobe.jpg',
				  'garbage-after-header.jpg', 'grey.jpg', 'orient-1.jpg', 'orient-2.jpg',
				  'orient-3.jpg', 'orient-4.jpg', 'orient-5.jpg', 'orient-6.jpg', 'orient-7.jpg',
				  'orient-8.jpg', 'orient6.webp', 'phone-12mp-orient6.jpg', 'progressive.jpg',
				  'rgba16.png', 'rotated.heic', 'strip-1x10000.png', 'truncated.jpg',
				  'unsupported.bmp', 'unsupported.gif', 'unsupported.tiff']) AS name;
CREATE FUNCTION fctest.photo(name text) RETURNS bytea
LANGUAGE sql STABLE AS $$ SELECT image FROM fctest.photo p WHERE p.name = photo.name $$;

-- The settings and their defaults: setup.sql turned preparation off for the
-- older suites; this one runs with the built-in defaults (when_needed).
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET facecompare.prepare_images', current_database()); END $$;
\c
SELECT name, setting, boot_val, context FROM pg_settings
WHERE name IN ('facecompare.prepare_images', 'facecompare.max_image_pixels', 'facecompare.max_image_bytes')
ORDER BY name;

-- image_info(): what the header says, settings-free, for every fixture.
SELECT p.name, i.format, i.width, i.height, i.orientation, i.has_metadata, i.acceptable, i.problems
FROM fctest.photo p, facecompare.image_info(p.image) i ORDER BY p.name;
SELECT * FROM facecompare.image_info('\x'::bytea);
SELECT * FROM facecompare.image_info('not an image'::bytea);
-- It can guard a table: IMMUTABLE, so usable in a CHECK constraint.
CREATE TABLE fctest.checked_uploads (photo bytea CHECK ((facecompare.image_info(photo)).acceptable));
INSERT INTO fctest.checked_uploads VALUES (fctest.photo('baseline.jpg'));
SELECT * FROM fctest.outcome($$INSERT INTO fctest.checked_uploads VALUES (fctest.photo('orient-6.jpg'))$$);
SELECT provolatile, proparallel, procost FROM pg_proc
WHERE oid IN ('facecompare.image_info(bytea)'::regprocedure, 'facecompare.prepare_image(bytea)'::regprocedure)
ORDER BY proname;

-- Rule: every orientation comes out upright (600x800, orientation 1) and
-- without metadata; the emulator, which judges a picture as stored, finds
-- each the same person as the upright ID photo (it would not sideways).
SELECT p.name, i.format, i.width, i.height, i.orientation, i.has_metadata, i.acceptable,
	   (facecompare.compare(facecompare.prepare_image(p.image), fctest.img('person-a.jpg'))).passed
FROM fctest.photo p, facecompare.image_info(facecompare.prepare_image(p.image)) i
WHERE p.name LIKE 'orient%' ORDER BY p.name;

-- Rule: each decodable format is prepared to a 720-px JPEG with no metadata
-- (always: the ones that need no preparation too).
SET facecompare.prepare_images = always;
SELECT p.name, i.format, i.width, i.height, i.has_metadata, i.bytes <= 750000 AS within_cap,
	   position('Exif'::bytea IN o) = 0 AND position('http://ns.adobe.com'::bytea IN o) = 0
	   AND position('ICC_PROFILE'::bytea IN o) = 0 AS no_metadata_bytes
FROM fctest.photo p,
	 LATERAL (SELECT facecompare.prepare_image(p.image) AS o) prepared,
	 facecompare.image_info(o) i
WHERE p.name IN ('baseline.jpg', 'progressive.jpg', 'grey.jpg', 'cmyk-adobe.jpg', 'rgba16.png',
				 'orient6.webp', 'rotated.heic', 'phone-12mp-orient6.jpg')
ORDER BY p.name;
RESET facecompare.prepare_images;

-- Rule: what needs no preparation is sent as it is with when_needed, and
-- re-encoded with always; off sends everything as given.
SELECT facecompare.prepare_image(fctest.photo('baseline.jpg')) = fctest.photo('baseline.jpg') AS unchanged;
SET facecompare.prepare_images = always;
SELECT facecompare.prepare_image(fctest.photo('baseline.jpg')) = fctest.photo('baseline.jpg') AS unchanged,
	   (facecompare.image_info(facecompare.prepare_image(fctest.photo('baseline.jpg')))).width;
SET facecompare.prepare_images = off;
SELECT facecompare.prepare_image(fctest.photo('orient-6.jpg')) = fctest.photo('orient-6.jpg') AS unchanged;
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('phone-12mp-orient6.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('orient6.webp'))$$);
RESET facecompare.prepare_images;

-- Rules checked on the header, before decoding: a side over 16,384 px (a
-- bomb costs nothing), facecompare.max_image_pixels, max_image_bytes.
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('bomb-30000.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('bomb-30000.png'))$$);
SET facecompare.max_image_pixels = 1000000;
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('phone-12mp-orient6.jpg'))$$);
RESET facecompare.max_image_pixels;
SET facecompare.max_image_bytes = '1MB';
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('phone-12mp-orient6.jpg'))$$);
RESET facecompare.max_image_bytes;
-- ... a picture under 640x480 once upright, which the service would refuse.
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('strip-1x10000.png'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.img('tiny.jpg'))$$);
-- ... an unsupported format, named.
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('unsupported.gif'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('unsupported.bmp'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('unsupported.tiff'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image('\x3c3f786d6c'::bytea)$$);

-- Rule: an image that cannot be decoded is refused with the decoder's
-- reason in DETAIL (a decoder warning is an error), even one that would be
-- sent as it is: when_needed decodes it (JPEG at 1/8 scale) to be sure.
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('truncated.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(fctest.photo('garbage-after-header.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(substr(fctest.photo('rgba16.png'), 1, 20000))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(substr(fctest.photo('orient6.webp'), 1, 5000))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.prepare_image(substr(fctest.photo('rotated.heic'), 1, 20000))$$);

-- The same rules hold for compare(), before any request is sent.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.photo('bomb-30000.jpg'), fctest.img('person-a.jpg'), 'photoBomb')$$);
SELECT fctest.requests_logged('photoBomb') AS requests_sent;

-- The issue's "done": a rotated 12 MP phone selfie with GPS, stored as
-- bytea, passes against its upright ID photo with the default settings
-- (and what is sent is prepare_image()'s output: no metadata, above); with off it
-- is refused as too large, and its small sideways copy compares sideways.
SELECT passed, score > 0.9 AS high_score, error_code, error_message
FROM facecompare.compare(fctest.photo('phone-12mp-orient6.jpg'), fctest.img('person-a.jpg'));
SET facecompare.prepare_images = off;
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.photo('phone-12mp-orient6.jpg'), fctest.img('person-a.jpg'))$$);
SELECT passed FROM facecompare.compare(fctest.photo('orient-6.jpg'), fctest.img('person-a.jpg'));
RESET facecompare.prepare_images;
SELECT passed FROM facecompare.compare(fctest.photo('orient-6.jpg'), fctest.img('person-a.jpg'));

-- compare_many() prepares each pair's pictures, each pair failing on its own.
SELECT ordinal, passed, error_sqlstate, error_message
FROM facecompare.compare_many(
	ARRAY[fctest.photo('orient-8.jpg'), fctest.photo('rotated.heic'), fctest.photo('truncated.jpg'), fctest.photo('orient6.webp')],
	ARRAY[fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), fctest.img('person-a.jpg')]);

-- enqueue() and the trigger apply the header rules and keep the original
-- with the caller's mode, for the worker (test/t/005_photo.pl runs it).
SELECT facecompare.enqueue(fctest.photo('phone-12mp-orient6.jpg'), fctest.img('person-a.jpg'), 'photoQueued') > 0 AS queued;
SELECT prepare_images, octet_length(source_image) = octet_length(fctest.photo('phone-12mp-orient6.jpg')) AS original_kept
FROM facecompare.request WHERE merchant_biz_id = 'photoQueued';
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue(fctest.photo('bomb-30000.png'), fctest.img('person-a.jpg'))$$);
DELETE FROM facecompare.request WHERE merchant_biz_id = 'photoQueued';
DROP TABLE fctest.checked_uploads;

-- Later suites, like the older ones, send pictures as given.
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET facecompare.prepare_images = off', current_database()); END $$;
