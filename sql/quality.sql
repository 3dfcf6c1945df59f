--
-- FaceQualityCheck and Result.ExtFaceInfo: facecompare.face_quality_check
-- (or compare_rows' argument) asks for the face-quality scores, which come
-- back as five numeric columns, NULL when not asked for.
--

-- Off by default: not asked, so every score is NULL.
SELECT passed, face_quality_score, illumination_score, occlusion_score, ka_occlusion_score, sharpness_score
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'));

-- On: the scores the emulator derives from the source picture
-- (test/emulator/README.md), the same for the same picture every time.
SET facecompare.face_quality_check = on;
SELECT passed, face_quality_score, illumination_score, occlusion_score, ka_occlusion_score, sharpness_score
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'));
SELECT (a).sharpness_score = (b).sharpness_score AS same_source_same_scores
FROM (SELECT facecompare.compare(fctest.img('person-b.jpg'), fctest.img('person-a.jpg')) AS a,
			 facecompare.compare(fctest.img('person-b.jpg'), fctest.img('person-b.jpg')) AS b) AS s;
-- Every form takes it: a URL source, the expanded row, compare_many.
SELECT passed, face_quality_score IS NOT NULL AS scored
FROM facecompare.compare(fctest.url('person-a.jpg'), fctest.img('person-a.jpg'));
SELECT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'QualityStar1')).*
\gset q_
SELECT :'q_passed' AS passed, :'q_face_quality_score' AS face_quality_score, :'q_sharpness_score' AS sharpness_score;
SELECT ordinal, passed, face_quality_score, ka_occlusion_score, error_code
FROM facecompare.compare_many(ARRAY[fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), fctest.img('blank.png')],
							  ARRAY[fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), fctest.img('person-a.jpg')]);
-- A failed call has no scores.
SET facecompare.raise_on_error = off;
SELECT error_code, face_quality_score FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUNoFaceDetected1');
RESET facecompare.raise_on_error;

-- compare_rows: the argument, when given, wins over the setting.
SELECT key, face_quality_score IS NOT NULL AS scored
FROM facecompare.compare_rows($$SELECT 'setting', fctest.img('person-a.jpg'), fctest.img('person-a.jpg')$$)
UNION ALL
SELECT key, face_quality_score IS NOT NULL
FROM facecompare.compare_rows($$SELECT 'argument off', fctest.img('person-a.jpg'), fctest.img('person-a.jpg')$$, false);
RESET facecompare.face_quality_check;
SELECT key, face_quality_score, illumination_score, occlusion_score, ka_occlusion_score, sharpness_score
FROM facecompare.compare_rows($$SELECT 'argument on', fctest.img('person-a.jpg'), fctest.img('person-a.jpg')$$,
							  face_quality_check => true);

-- The columns of compare_many and compare_rows end with the five scores.
SELECT DISTINCT p.proname, p.proargnames[array_length(p.proargnames, 1) - 4:] AS last_columns
FROM pg_proc p WHERE p.pronamespace = 'facecompare'::regnamespace
  AND p.proname IN ('compare_many', 'compare_rows')
ORDER BY p.proname;
