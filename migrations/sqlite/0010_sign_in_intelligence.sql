-- SPDX-License-Identifier: Apache-2.0
-- Issue 18. Mirrors postgres/0010_sign_in_intelligence.sql (SQLite serialises writers, so the
-- claim columns alone keep two senders apart).
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source_event    INTEGER UNIQUE,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    claimed_until   INTEGER,
    sent_at         INTEGER,
    failed_at       INTEGER,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE TABLE notification_cursor (
    name    TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);
INSERT INTO notification_cursor (name, last_id) SELECT 'account', COALESCE(MAX(id), 0) FROM audit_events;
ALTER TABLE device_credentials ADD COLUMN device_id TEXT;
ALTER TABLE device_credentials ADD COLUMN remembered_at INTEGER;
ALTER TABLE device_credentials ADD COLUMN remembered_until INTEGER;
ALTER TABLE device_credentials ADD COLUMN label TEXT;
ALTER TABLE device_credentials ADD COLUMN remembered_ip TEXT;
ALTER TABLE device_credentials ADD COLUMN remembered_place TEXT;
CREATE UNIQUE INDEX device_credentials_device_id ON device_credentials (device_id);
DROP INDEX audit_events_account_stream;
CREATE INDEX audit_events_account_stream ON audit_events (user_id, id)
    WHERE event IN ('login_success', 'session_renamed', 'session_revoked', 'logout', 'refresh_reuse_detected',
                    'sessions_revoked_all_others', 'sessions_ended', 'password_changed', 'mfa_enabled',
                    'mfa_disabled', 'mfa_reset', 'policy_changed', 'suspicious_login');
