-- The latest landed version of each LMS job profile (deletions kept: the staging
-- models drop them), read once for the two staging models that parse it.
{{ latest_versions(source('lms', 'job_profiles')) }}
