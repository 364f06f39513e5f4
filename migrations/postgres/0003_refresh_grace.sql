-- SPDX-License-Identifier: Apache-2.0
-- Random refresh tokens with a bounded lost-response grace (REFRESH_GRACE_SECONDS): the current
-- refresh token, sealed (AES-256-GCM) under its own derived key, kept only until the new pair is
-- used or the grace has passed, so that a retry can be answered with the same pair. The previous
-- token's hash (prev_refresh_token_hash) is now kept after the new pair is used: its return is
-- re-use. Mirrors sqlite/0003_refresh_grace.sql.
ALTER TABLE user_sessions ADD COLUMN refresh_retry_sealed text;
CREATE INDEX user_sessions_refresh_retry ON user_sessions (rotated_at) WHERE refresh_retry_sealed IS NOT NULL;
