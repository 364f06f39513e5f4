-- SPDX-License-Identifier: Apache-2.0
-- The sealed current refresh token for the lost-response grace. Mirrors postgres/0003_refresh_grace.sql.
ALTER TABLE user_sessions ADD COLUMN refresh_retry_sealed TEXT;
CREATE INDEX user_sessions_refresh_retry ON user_sessions (rotated_at) WHERE refresh_retry_sealed IS NOT NULL;
