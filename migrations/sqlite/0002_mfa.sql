-- SPDX-License-Identifier: Apache-2.0
-- TOTP enrolment state and single-use backup codes. Mirrors postgres/0002_mfa.sql.
ALTER TABLE users ADD COLUMN totp_pending_secret_enc TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

CREATE TABLE user_backup_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
