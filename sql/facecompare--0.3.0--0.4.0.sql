-- facecompare 0.4.0: photos prepared before the call, operations (statistics,
-- circuit breaker, spend cap, compare_rows) and the full FaceCompare surface.

\echo Use "ALTER EXTENSION facecompare UPDATE TO '0.4.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Photo preparation (prepare_image, image_info)
-- ---------------------------------------------------------------------------

-- What a comparison would send for this picture under the current settings
-- (facecompare.prepare_images and the limits): STABLE, it reads them.  A
-- preparation decodes and encodes a photo: 10-100 ms of CPU.
CREATE FUNCTION facecompare.prepare_image(image bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'facecompare_prepare_image'
LANGUAGE C STRICT STABLE PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION facecompare.prepare_image(bytea) IS
'The picture as compare() would send it under the current facecompare.prepare_images: as given, or upright, scaled to 720 px on its shorter side, re-encoded as a baseline JPEG without metadata; raises 22023 naming the rule a picture breaks';

-- What the header says; reads no pixel and no setting, so it may sit in a
-- CHECK constraint or an index.
CREATE FUNCTION facecompare.image_info(image bytea,
	OUT format text, OUT width integer, OUT height integer, OUT orientation integer,
	OUT bytes bigint, OUT has_metadata boolean, OUT acceptable boolean, OUT problems text[])
RETURNS record
AS 'MODULE_PATHNAME', 'facecompare_image_info'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE COST 100;

COMMENT ON FUNCTION facecompare.image_info(bytea) IS
'Format, stored width and height, EXIF orientation, size and metadata of a picture from its header, whether the service would take it as it is, and the problems in words';

-- The caller's facecompare.prepare_images, kept with a queued request so the
-- worker prepares it as the caller would have; NULL (queued before 0.4.0): off.
ALTER TABLE facecompare.request ADD COLUMN prepare_images text
	CHECK (prepare_images IN ('off', 'when_needed', 'always'));

-- ---------------------------------------------------------------------------
-- Operations: statistics, circuit breaker, spend cap
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- compare_rows and the FaceQualityCheck / ExtFaceInfo surface
-- ---------------------------------------------------------------------------
