-- facecompare 0.4.0: photos prepared before the call, operations (statistics,
-- circuit breaker, spend cap, compare_rows) and the full FaceCompare surface.

\echo Use "ALTER EXTENSION facecompare UPDATE TO '0.4.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Photo preparation (prepare_image, image_info)
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Operations: statistics, circuit breaker, spend cap
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- compare_rows and the FaceQualityCheck / ExtFaceInfo surface
-- ---------------------------------------------------------------------------
