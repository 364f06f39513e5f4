-- SPDX-License-Identifier: Apache-2.0
-- Device credentials. Mirrors postgres/0004_device_credentials.sql.
CREATE TABLE device_credentials (
    credential_hash TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    revoked_at      INTEGER
);
CREATE INDEX device_credentials_user ON device_credentials (user_id, last_used_at);
