-- SPDX-License-Identifier: Apache-2.0
-- Issue 18: account emails (an outbox that survives restarts), remembered devices and
-- suspicious sign-ins.

-- Emails to account holders, sent by the AccountNotifier thread of whichever instance claims them
-- first (FOR UPDATE SKIP LOCKED, then a claim lease); retried with exponential back-off.
CREATE TABLE mail_outbox (
    id              bigserial PRIMARY KEY,
    source_event    bigint UNIQUE,         -- the audit_events row it tells about: one mail per event
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,         -- never a token, a code or a sign-in link
    created_at      bigint NOT NULL,
    next_attempt_at bigint NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    claimed_by      text,                  -- instance and attempt that is sending it
    claimed_until   bigint,                -- a claim older than this is abandoned (crashed sender)
    sent_at         bigint,
    failed_at       bigint,                -- gave up after SMTP_MAX_ATTEMPTS
    last_error      text
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- How far the AccountNotifier has read the audit log (one row per reader).
CREATE TABLE notification_cursor (
    name    text PRIMARY KEY,
    last_id bigint NOT NULL
);
INSERT INTO notification_cursor (name, last_id) SELECT 'account', COALESCE(MAX(id), 0) FROM audit_events;

-- Remembered devices: a device credential that satisfies the second factor until remembered_until.
ALTER TABLE device_credentials ADD COLUMN device_id text;          -- public id (API), set when remembered
ALTER TABLE device_credentials ADD COLUMN remembered_at bigint;
ALTER TABLE device_credentials ADD COLUMN remembered_until bigint;
ALTER TABLE device_credentials ADD COLUMN label text;              -- "Firefox on Linux (desktop)"
ALTER TABLE device_credentials ADD COLUMN remembered_ip text;
ALTER TABLE device_credentials ADD COLUMN remembered_place text;
CREATE UNIQUE INDEX device_credentials_device_id ON device_credentials (device_id);

-- The account event stream also reports suspicious sign-ins.
DROP INDEX audit_events_account_stream;
CREATE INDEX audit_events_account_stream ON audit_events (user_id, id)
    WHERE event IN ('login_success', 'session_renamed', 'session_revoked', 'logout', 'refresh_reuse_detected',
                    'sessions_revoked_all_others', 'sessions_ended', 'password_changed', 'mfa_enabled',
                    'mfa_disabled', 'mfa_reset', 'policy_changed', 'suspicious_login');
